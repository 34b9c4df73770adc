"""Scheduled reconciliation: pull what changed on Shopify since the last sync (with overlap).

Webhooks are at-least-once at best: Shopify gives up on a delivery after 8 retries over
4 hours. A ``shopify.reconcile`` job (queued by the scheduler every
``reconcile_interval_seconds``, or by ``flask shopify reconcile``) repairs what was
missed, applying exactly what the webhook handlers apply:

1. orders updated since the last high-water mark minus ``reconcile_overlap_seconds``
   (Shopify's clock: the mark is the newest ``updatedAt`` seen), oldest first; each is
   re-read and upserted with its fulfillment orders, and its fulfillments are recorded
   (unknown ones, stock taken at the mapped location) or brought up to date;
2. the fulfillments Stockroom holds as live (pending or shipped): tracking and delivery
   changes don't move an order's ``updatedAt``, so they are re-read by id;
3. the shop's locations (lifecycle.reconcile_locations): missed locations/* webhooks.

Everything is keyed by Shopify ids, so re-reading the overlap (or a webhook arriving
late for something already repaired) changes nothing twice. Orders with a push in
flight (the sync lock: app/sync/lock.py) are left for the next run, which starts no later than them.
The page cursor is checkpointed in ``Channel.sync_cursors["reconcile"]``: a failed run
resumes where it stopped.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelStatus, Fulfillment, FulfillmentStatus, Order
from app.models._common import utcnow
from app.platforms.shopify.inbound import apply_fulfillment_changes, record_platform_fulfillment
from app.platforms.shopify.imports import UNINSTALLED_NOTE, match_unmatched_listings
from app.platforms.shopify.lifecycle import reconcile_locations
from app.platforms.shopify.mapping import parse_time
from app.platforms.shopify.paging import read_order_fulfillments
from app.platforms.shopify.refunds import reconcile_refunds
from app.platforms.shopify.sync import ShopifyCall, pull_order, settings
from app.sync.cursors import save_cursors
from app.sync.lock import orders_with_push_in_flight
from app.sync.queue import Job
from app.sync.transactions import commit_step, end_read

#: How many live fulfillments one FulfillmentsByIds call re-reads.
FULFILLMENT_BATCH = 25
#: Live fulfillments older than this are no longer re-read (carriers stop updating).
LIVE_FULFILLMENT_DAYS = 60


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _earliest(*values: str | None) -> str:
    """The earliest of some _iso() strings (one format, so they sort as text)."""
    return min(v for v in values if v)


def _save(channel_id: int, state: dict) -> None:
    save_cursors(channel_id, {"reconcile": state})


def _start_mark(channel: Channel) -> dt.datetime:
    """Where the first run starts: when the install's import began (else a day back)."""
    started = ((channel.sync_cursors or {}).get("import") or {}).get("started_at")
    return parse_time(started) if started else utcnow() - dt.timedelta(days=1)


def reconcile_channel(job: Job) -> str:
    """Pull orders and fulfillments changed since the last sync (see the module doc)."""
    cfg = settings()
    channel = db.session.get(Channel, job.channel_id, populate_existing=True)
    if channel.status != ChannelStatus.ACTIVE:
        end_read()
        return UNINSTALLED_NOTE
    state = dict((channel.sync_cursors or {}).get("reconcile") or {})
    mark = parse_time(state["mark"]) if state.get("mark") else _start_mark(channel)
    end_read()
    if state.get("window") is None:  # a new run; else resume the interrupted one's pages
        state.update(window=_iso(mark - dt.timedelta(seconds=cfg.reconcile_overlap_seconds)),
                     after=None, newest=state.get("mark"), held=None)
    call = ShopifyCall(job.channel_id)
    orders = changed = 0
    while True:
        page = call("OrderPage", {"first": cfg.import_page_size, "after": state["after"],
                                  "query": f"updated_at:>='{state['window']}'",
                                  "sortKey": "UPDATED_AT"})["orders"]
        locked = orders_with_push_in_flight(job.channel_id)
        for node in page["nodes"]:
            updated = _iso(parse_time(node["updatedAt"]))
            local = db.session.scalar(select(Order.id).where(
                Order.channel_id == job.channel_id, Order.remote_id == node["id"]))
            if local in locked:  # its push is in flight: the next run looks again
                state["held"] = _earliest(state.get("held"), updated)
            else:
                changed += reconcile_order(call, job.merchant_id, job.channel_id, node["id"])
                orders += 1
            state["newest"] = max(filter(None, (state.get("newest"), updated)))  # same format
            commit_step()
        if not page["pageInfo"]["hasNextPage"]:
            break
        state["after"] = page["pageInfo"]["endCursor"]
        _save(job.channel_id, state)
        commit_step()
    changed += reconcile_live_fulfillments(call, job.merchant_id, job.channel_id)
    locations = reconcile_locations(call, job.merchant_id, job.channel_id)
    matched = match_unmatched_listings(job.merchant_id, job.channel_id)
    mark = _earliest(state.get("held"), state.get("newest") or _iso(mark))
    _save(job.channel_id, {"mark": mark, "ran_at": _iso(utcnow())})
    db.session.get(Channel, job.channel_id).last_synced_at = utcnow()
    return (f"reconciled {orders} orders updated since {state['window']}; {changed} "
            f"fulfillment changes; {matched} listings newly matched; {locations} locations "
            "changed")


def reconcile_order(call: ShopifyCall, merchant_id: int, channel_id: int, order_gid: str) -> int:
    """Re-read one order and its fulfillments; returns how many fulfillments changed. Flushes."""
    order = pull_order(call, merchant_id, channel_id, order_gid)
    if order is None:
        return 0
    node = read_order_fulfillments(call, "OrderFulfillmentsForSync", order_gid) or {}
    changed = sum(_apply(merchant_id, channel_id, order, current)
                  for current in node.get("fulfillments") or [])
    # Refunds whose refunds/create never arrived (recorded once: refunds.py).
    reconcile_refunds(call, merchant_id, order,
                      [r["id"] for r in node.get("refunds") or []])
    return changed


def _apply(merchant_id: int, channel_id: int, order: Order, current: dict) -> int:
    existing = db.session.scalar(select(Fulfillment).where(
        Fulfillment.channel_id == channel_id, Fulfillment.remote_id == current["id"]))
    if existing is not None:
        return int(any(a.changed for a in apply_fulfillment_changes(existing, current)))
    if current["status"] != "SUCCESS" or order.cancelled_at is not None:
        return 0
    return int(record_platform_fulfillment(merchant_id, channel_id, order, current).changed)


def reconcile_live_fulfillments(call: ShopifyCall, merchant_id: int, channel_id: int) -> int:
    """Re-read the channel's live fulfillments (tracking, delivered, canceled). Commits."""
    since = utcnow() - dt.timedelta(days=LIVE_FULFILLMENT_DAYS)
    rows = db.session.execute(select(Fulfillment.id, Fulfillment.remote_id, Fulfillment.order_id)
                              .where(Fulfillment.channel_id == channel_id,
                                     Fulfillment.merchant_id == merchant_id,
                                     Fulfillment.remote_id.is_not(None),
                                     Fulfillment.status.in_((FulfillmentStatus.PENDING,
                                                             FulfillmentStatus.SHIPPED)),
                                     Fulfillment.created_at >= since)
                              .order_by(Fulfillment.id)).all()
    locked = orders_with_push_in_flight(channel_id)
    end_read()
    rows = [r for r in rows if r.order_id not in locked]
    changed = 0
    for start in range(0, len(rows), FULFILLMENT_BATCH):
        batch = rows[start:start + FULFILLMENT_BATCH]
        nodes = call("FulfillmentsByIds", {"ids": [r.remote_id for r in batch]})["nodes"]
        for row, current in zip(batch, nodes):
            if not current:
                continue
            applied = apply_fulfillment_changes(db.session.get(Fulfillment, row.id), current)
            changed += any(a.changed for a in applied)
        commit_step()
    return changed

