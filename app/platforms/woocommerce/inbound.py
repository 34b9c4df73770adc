"""WooCommerce adapter: outbox pushes (fulfillments, stock) and inbox applies (order and
product webhooks); the reconciliation. The connect import and the catalog refresh are in
imports.py."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from app.extensions import db
from app.fulfillment import Tracking
from app.models import Channel, ChannelListing, FulfillmentStatus, Platform, WebhookInbox
from app.models._common import utcnow
from app.platforms.base import FulfillmentPlan, PushResult, Skip
from app.platforms.woocommerce.client import StoreClient
from app.platforms.woocommerce.connect import client_for, delivery_url, settings, webhook_secret
from app.platforms.woocommerce.mapping import (CANCELED_STATUSES, COMPLETED_META, OPEN_STATUSES,
                                               cancel_note, completed_by_us, gmt_string,
                                               parse_gmt, shipment_note, tracking_note,
                                               tracking_payload)
from app.platforms.woocommerce.catalog import product_page, refresh_product
from app.platforms.woocommerce.sync import (RemoteOrder, apply_order, ensure_webhooks, fetch_order,
                                            find_order, tracking_entries, with_tracking)
from app.stock.push import mark_dirty
from app.sync.cursors import set_cursors
from app.sync.errors import PermanentError
from app.sync.lock import defer_while_pushing, push_in_flight
from app.sync.push import read_plan, run_push
from app.sync.queue import Job

WOO = Platform.WOOCOMMERCE


# --- remote ids of our pushed fulfillments -------------------------------------------

def remote_parts(remote_id: str | None) -> dict[str, str]:
    """"note:12:tracking:ab12" -> {"note": "12", "tracking": "ab12"} (our pushed shipments)."""
    parts = (remote_id or "").split(":")
    if len(parts) % 2 or parts[0] != "note":
        return {}
    return dict(zip(parts[::2], parts[1::2]))


def remote_id_of(note_id: str | int, tracking_id: str | None) -> str:
    """The remote id recording what a push created on the store."""
    return f"note:{note_id}" + (f":tracking:{tracking_id}" if tracking_id else "")


# --- outbox: the reconciliation ------------------------------------------------------

def _webhook_setup(channel_id: int) -> tuple[str, str]:
    channel = db.session.get(Channel, channel_id)
    secret = webhook_secret(channel)
    url = delivery_url(channel)
    db.session.commit()
    if not secret:
        raise PermanentError("The store has no webhook secret: reconnect it.")
    return url, secret


def _finish_sync(channel_id: int, started: dt.datetime, *, cursor: dt.datetime | None = None
                 ) -> Channel:
    channel = db.session.get(Channel, channel_id, with_for_update=True)
    set_cursors(channel, {"orders_synced_at": (cursor or started).isoformat()})
    channel.last_synced_at = utcnow()
    db.session.flush()
    return channel


def reconcile(job: Job) -> str:
    """Repair what webhooks missed: orders and products modified since the last sync (with
    overlap), disabled webhooks re-enabled. Queued every WOOCOMMERCE_RECONCILE_SECONDS
    (scheduled.py). WP-Cron runs Action Scheduler only when the site has visitors, so a
    product webhook may come late, or never (a disabled webhook)."""
    started = utcnow()
    channel = db.session.get(Channel, job.channel_id)
    since = parse_gmt((channel.sync_cursors or {}).get("orders_synced_at")) if channel else None
    products_since = parse_gmt((channel.sync_cursors or {}).get("products_synced_at")) \
        if channel else None
    url, secret = _webhook_setup(job.channel_id)
    client = client_for(job.channel_id)
    hooks = ensure_webhooks(client, url, secret)
    params = {"orderby": "modified", "order": "asc"}
    if since is not None:
        after = since - dt.timedelta(seconds=settings().reconcile_overlap_seconds)
        params.update(modified_after=gmt_string(after), dates_are_gmt="true")
    else:
        params["status"] = ",".join(OPEN_STATUSES)
    orders = [with_tracking(client, o) for o in client.pages("orders", params=params,
                                                             what="reconciling orders")]
    applied, held = 0, []
    for remote in orders:
        existing = find_order(job.channel_id, str(remote.data["id"]))
        if existing is not None and push_in_flight(existing.id):
            held.append(parse_gmt(remote.data.get("date_modified_gmt")) or started)
            continue  # a push is in flight: the next run sees the order again
        apply_order(job.merchant_id, job.channel_id, remote)
        applied += 1
    cursor = min([started, *(h - dt.timedelta(seconds=1) for h in held)])
    db.session.commit()  # the orders' changes, before the products are read
    products = reconcile_products(client, job.merchant_id, job.channel_id, products_since)
    channel = _finish_sync(job.channel_id, started, cursor=cursor)
    if products_since is not None or products:
        set_cursors(channel, {"products_synced_at": started.isoformat()})
    return (f"{applied} orders reconciled, {len(held)} held by a push in flight; "
            f"{products} products re-read; "
            f"webhooks: {hooks['reenabled']} re-enabled, {hooks['created']} recreated")


def reconcile_products(client: StoreClient, merchant_id: int, channel_id: int,
                       since: dt.datetime | None) -> int:
    """Re-read products modified since ``since`` (minus the overlap), oldest change first.

    A variation's save also saves its parent (``date_modified`` bumped), so a variable
    product whose variations changed is found here too; its variations are re-read with it.
    Nothing is read before the connect import finished (it reads everything). Returns how
    many products were re-read. Commits after each product.
    """
    if since is None:
        return 0
    after = since - dt.timedelta(seconds=settings().reconcile_overlap_seconds)
    params = {"modified_after": gmt_string(after), "dates_are_gmt": "true",
              "orderby": "modified", "order": "asc"}
    count, page, pages = 0, 1, 1
    while page <= pages:
        products, pages, _ = product_page(client, page, params=params)
        for product in products:
            if isinstance(product, dict) and isinstance(product.get("id"), int):
                refresh_product(client, merchant_id, channel_id, str(product["id"]), product)
                db.session.commit()
                count += 1
        if not products:
            break
        page += 1
    return count


# --- outbox: Stockroom -> WooCommerce fulfillments ------------------------------------

def _add_tracking(client: StoreClient, order: str, tracking: Tracking) -> str | None:
    """The tracking entry (reused when a retried push already made it); None without the
    extension or a tracking number."""
    if not tracking.number:
        return None
    entries = tracking_entries(client, order)
    if entries is None:
        return None
    for entry in entries:
        if entry.get("tracking_number") == tracking.number:
            return str(entry["tracking_id"])
    created = client.post(f"orders/{order}/shipment-trackings", tracking_payload(tracking),
                          version="wc-shipment-tracking/v3",
                          what=f"adding tracking {tracking.number}")
    return str(created["tracking_id"])


def _add_note(client: StoreClient, order: str, text: str, *, known: frozenset[str],
              after: int = 0) -> int:
    """A customer-visible note; a retried push reuses its own identical note."""
    claimed = {remote_parts(r).get("note") for r in known}
    for note in client.get(f"orders/{order}/notes", params={"type": "customer"},
                           what=f"reading the notes of order {order}"):
        if note.get("note") == text and str(note["id"]) not in claimed and note["id"] > after:
            return int(note["id"])
    created = client.post(f"orders/{order}/notes", {"note": text, "customer_note": True},
                          what="adding the customer note")
    return int(created["id"])


def _set_status(client: StoreClient, order: str, status: str, marker: str) -> None:
    client.put(f"orders/{order}", {"status": status, "meta_data": [
        {"key": COMPLETED_META, "value": marker}]}, what=f"setting order {order} to {status}")


def push_fulfillment(job: Job) -> str:
    """Tracking entry (when the extension is there), a customer note, and `completed` once
    every line is fulfilled here."""
    return run_push(job, elsewhere="made on the store: nothing to push", plan=_create_plan,
                    send=_create)


def _create_plan(job: Job) -> FulfillmentPlan | Skip:
    plan = read_plan(job)
    if plan.remote_id:
        return Skip(f"already on the store ({plan.remote_id})")
    if plan.status == FulfillmentStatus.CANCELED:
        return Skip("canceled before it reached the store: nothing to push")
    return plan


def _create(job: Job, plan: FulfillmentPlan) -> PushResult:
    client = client_for(job.channel_id)
    order, tracking = plan.order_remote_id, plan.tracking
    tracking_id = _add_tracking(client, order, tracking)
    text = shipment_note(units=plan.units, total_units=plan.order_units, tracking=tracking,
                         all_shipped=plan.order_fulfilled)
    note_id = _add_note(client, order, text, known=plan.known_remote_ids)
    completed = ""
    if plan.order_fulfilled:
        current = client.get(f"orders/{order}", what=f"reading order {order}")
        if current["status"] not in ("completed", *CANCELED_STATUSES):
            _set_status(client, order, "completed", "yes")
            completed = "; order completed"
    return PushResult(f"note {note_id} added to {plan.order_name}"
                      + (f", tracking {tracking.number}" if tracking_id else "") + completed,
                      remote_id_of(note_id, tracking_id))


def _pushed(not_there: str, made_there: str | None = None):
    """A plan step for pushes to a fulfillment an earlier push made on the store."""
    def plan(job: Job) -> FulfillmentPlan | Skip:
        planned = read_plan(job)
        if not remote_parts(planned.remote_id):
            return Skip(made_there if planned.remote_id and made_there else not_there)
        return planned
    return plan


def push_cancel(job: Job) -> str:
    """Remove our tracking entry, tell the customer, and reopen (processing) an order we
    had completed."""
    return run_push(job, elsewhere="canceled on the store: nothing to push",
                    plan=_pushed("never reached the store: nothing to cancel there",
                                 "made on the store: canceled in Stockroom only"),
                    send=_cancel)


def _cancel(job: Job, plan: FulfillmentPlan) -> PushResult:
    parts = remote_parts(plan.remote_id)
    client = client_for(job.channel_id)
    order = plan.order_remote_id
    if parts.get("tracking"):
        _delete_tracking(client, order, parts["tracking"])
    _add_note(client, order, cancel_note(units=plan.units, tracking=plan.tracking),
              known=plan.known_remote_ids, after=int(parts["note"]))
    current = client.get(f"orders/{order}", what=f"reading order {order}")
    reopened = ""
    if current["status"] == "completed" and completed_by_us(current):
        _set_status(client, order, "processing", "")
        reopened = "; order back to processing"
    return PushResult(f"cancel noted on {plan.order_name}" + reopened)


def _delete_tracking(client: StoreClient, order: str, tracking_id: str) -> None:
    from app.platforms.woocommerce.client import WooError

    try:
        client.delete(f"orders/{order}/shipment-trackings/{tracking_id}",
                      version="wc-shipment-tracking/v3", what="removing the tracking entry")
    except WooError as exc:
        if exc.status != 404:
            raise  # gone already (or the extension removed): nothing left to delete


def push_tracking(job: Job) -> str:
    """Replace our tracking entry and tell the customer the new tracking details."""
    return run_push(job, elsewhere="changed on the store: nothing to push",
                    plan=_pushed("not on the store yet: the create push carries the tracking"),
                    send=_update_tracking)


def _update_tracking(job: Job, plan: FulfillmentPlan) -> PushResult:
    parts = remote_parts(plan.remote_id)
    client = client_for(job.channel_id)
    order, tracking = plan.order_remote_id, plan.tracking
    if parts.get("tracking"):
        _delete_tracking(client, order, parts["tracking"])
    tracking_id = _add_tracking(client, order, tracking)
    _add_note(client, order, tracking_note(tracking), known=plan.known_remote_ids,
              after=int(parts["note"]))
    return PushResult(f"tracking of {plan.order_name} updated",
                      remote_id_of(parts["note"], tracking_id))


def push_shipment_state(job: Job) -> str:
    """WooCommerce orders have no shipment states: nothing to push."""
    return "WooCommerce has no shipment states: nothing to push"


# --- inbox: WooCommerce -> Stockroom --------------------------------------------------

def _delivered_id(job: Job) -> str:
    body = db.session.scalar(select(WebhookInbox.body).where(WebhookInbox.id == job.id))
    return str(json.loads(body)["id"])  # checked first (payload_checks)


def apply_product_webhook(job: Job) -> str:
    """Re-read the product (or variation) and, for a variable product, its variations: new
    listings are matched or queued for matching, a changed SKU is matched again, levels are
    recorded, variations gone from the store are removed."""
    post_id = _delivered_id(job)
    client = client_for(job.channel_id)  # ends the read transaction
    note = refresh_product(client, job.merchant_id, job.channel_id, post_id)
    if job.topic == "product.restored":
        # Back from the trash: what Stockroom holds now is pushed there again (changes made
        # while it was trashed were not pushed to it).
        items = set(db.session.scalars(select(ChannelListing.inventory_item_id).where(
            ChannelListing.merchant_id == job.merchant_id,
            ChannelListing.channel_id == job.channel_id,
            ChannelListing.remote_product_id == post_id, ChannelListing.deleted_at.is_(None),
            ChannelListing.inventory_item_id.is_not(None))))
        if items:
            mark_dirty(job.merchant_id, channel_id=job.channel_id, item_ids=items)
    return note


def apply_product_deleted(job: Job) -> str:
    """A product moved to the trash: its listings are marked deleted, never pushed to again.

    Re-read first: a product restored since (its ``product.restored`` may come later, or
    was missed) is kept.
    """
    post_id = _delivered_id(job)
    client = client_for(job.channel_id)
    return refresh_product(client, job.merchant_id, job.channel_id, post_id)

def apply_order_webhook(job: Job) -> str:
    """Re-read the order from the store (payloads may arrive in any order) and apply it."""
    body = db.session.scalar(select(WebhookInbox.body).where(WebhookInbox.id == job.id))
    order_id = json.loads(body)["id"]  # checked first (payload_checks.check_order)
    existing = find_order(job.channel_id, str(order_id))
    defer_while_pushing(existing)
    db.session.commit()
    client = client_for(job.channel_id)
    remote: RemoteOrder | None = fetch_order(client, str(order_id))
    if remote is None:
        return f"order {order_id} no longer exists on the store"
    return apply_order(job.merchant_id, job.channel_id, remote)
