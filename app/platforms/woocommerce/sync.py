"""Reading from a store into Stockroom: orders (with store completions), webhooks upkeep.

Listings and their stock are read in catalog.py (the import's steps in imports.py).

Each function fetches over HTTP first and writes afterwards, so no database transaction
(on SQLite: the write lock) is held while the store answers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.fulfillment import Tracking
from app.models import Channel, Fulfillment, FulfillmentStatus, Order, Origin
from app.orders.upsert import upsert_order
from app.platforms.woocommerce.client import TRACKING_API, StoreClient, WooError
from app.platforms.woocommerce.refunds import queue_new_refunds
from app.platforms.woocommerce.mapping import (CANCELED_STATUSES, OPEN_STATUSES, completed_by_us,
                                               order_data, store_completion,
                                               tracking_from_entries)
from app.platforms.woocommerce.settings import WEBHOOK_TOPICS
from app.sync.commands import CancelFulfillment, apply_commands
from app.sync.topics import Topic

RECONCILE_TOPIC = Topic.CHANNEL_RECONCILE_REQUESTED


# --- shipment tracking ---------------------------------------------------------------

def tracking_entries(client: StoreClient, order_id: str) -> list[dict] | None:
    """The order's Shipment Tracking entries; None when the extension is not installed."""
    try:
        return client.get(f"orders/{order_id}/shipment-trackings", version=TRACKING_API,
                          what=f"reading the tracking of order {order_id}")
    except WooError as exc:
        if exc.status == 404 and exc.code == "rest_no_route":
            return None
        raise


# --- orders --------------------------------------------------------------------------

@dataclass
class RemoteOrder:
    """An order as just read from the store, with its tracking when it was completed."""

    data: dict
    tracking: Tracking = field(default_factory=Tracking)


def fetch_order(client: StoreClient, order_id: str) -> RemoteOrder | None:
    """GET orders/{id} (None when it no longer exists), plus tracking if completed."""
    try:
        data = client.get(f"orders/{order_id}", what=f"reading order {order_id}")
    except WooError as exc:
        if exc.status in (400, 404) and exc.code.endswith("invalid_id"):
            return None
        raise
    return with_tracking(client, data)


def with_tracking(client: StoreClient, data: dict) -> RemoteOrder:
    """Attach the Shipment Tracking entry to a completed order we did not complete."""
    if data.get("status") == "completed" and not completed_by_us(data):
        entries = tracking_entries(client, str(data["id"]))
        return RemoteOrder(data, tracking_from_entries(entries or []))
    return RemoteOrder(data)


def find_order(channel_id: int, remote_id: str) -> Order | None:
    """The channel's order with this remote id."""
    return db.session.scalar(select(Order).where(Order.channel_id == channel_id,
                                                 Order.remote_id == str(remote_id)))


def apply_order(merchant_id: int, channel_id: int, remote: RemoteOrder) -> str:
    """Bring Stockroom's copy of a store order up to the store's current state. Flushes.

    New orders are imported once paid (processing, on-hold) or completed; a completion on
    the store with units still unshipped here becomes a platform fulfillment of what is
    left (once per completion: its remote id carries date_completed); a cancel or full
    refund reverses the store's own fulfillments (each at most once).
    """
    data = remote.data
    status = data.get("status")
    existing = find_order(channel_id, str(data["id"]))
    if existing is None and status not in OPEN_STATUSES + ("completed",):
        return f"order #{data.get('number')} is {status}: not imported"
    order = upsert_order(merchant_id, channel_id, order_data(data))
    if status == "completed":
        note = _record_store_completion(order, data, remote.tracking)
    elif status in CANCELED_STATUSES:
        note = _reverse_store_fulfillments(order, status)
    else:
        note = f"order {order.name} upserted ({status})"
    # After the reversal above: a refund then puts back only what is still out (refunds.py).
    return note + queue_new_refunds(order, data)


def _record_store_completion(order: Order, data: dict, tracking: Tracking) -> str:
    if completed_by_us(data):
        # Only we set this marker, and only with every line fulfilled here: units open now
        # belong to a Stockroom cancel whose push (reopening the order) is still to come.
        return f"echo of our own completion of {order.name}: ignored"
    [applied] = apply_commands([store_completion(order.id, data, _usable(tracking))],
                               merchant_id=order.merchant_id, channel_id=order.channel_id)
    if applied.changed:
        return (f"{order.name} completed on the store: recorded as fulfillment "
                f"{applied.fulfillment.name}")
    if applied.fulfillment is not None:  # this completion's, recorded by an earlier delivery
        return f"completion of {order.name} already recorded"
    return f"{order.name} completed on the store: nothing left to fulfill here"


def _usable(tracking: Tracking) -> Tracking:
    """The store's tracking, trimmed; a link that is not a web URL is dropped, not fatal."""
    trimmed = Tracking(tracking.number[:255], tracking.company[:255], tracking.url[:2048])
    try:
        return trimmed.validated()
    except InvalidInput:
        return Tracking(trimmed.number, trimmed.company).validated()


def _reverse_store_fulfillments(order: Order, status: str) -> str:
    live = db.session.scalars(select(Fulfillment.id).where(
        Fulfillment.order_id == order.id, Fulfillment.origin == Origin.PLATFORM,
        Fulfillment.status.in_((FulfillmentStatus.PENDING, FulfillmentStatus.SHIPPED)))).all()
    applied = apply_commands([CancelFulfillment(fid) for fid in live],
                             merchant_id=order.merchant_id, channel_id=order.channel_id)
    if reversed_ := sum(a.changed for a in applied):
        return (f"{order.name} {status} on the store: {reversed_} store fulfillment(s) "
                "reversed, stock restored")
    return f"{order.name} {status} on the store: nothing to release"


# --- webhooks ------------------------------------------------------------------------

def ensure_webhooks(client: StoreClient, delivery_url: str, secret: str, *,
                    replace: bool = False) -> dict[str, int]:
    """Our webhooks on the store: created when missing, re-enabled when disabled/paused.

    ``replace`` deletes ours first (a new connection has a new secret). WooCommerce
    disables a webhook after repeated failed deliveries and never retries them, so the
    scheduled reconciliation calls this too.
    """
    counts = {"created": 0, "reenabled": 0, "deleted": 0}
    hooks = [h for h in client.pages("webhooks", params={"status": "all"},
                                     what="listing webhooks")
             if h.get("delivery_url") == delivery_url]
    if replace:
        for hook in hooks:
            client.delete(f"webhooks/{hook['id']}", params={"force": "true"},
                          what=f"deleting old webhook {hook['id']}")
            counts["deleted"] += 1
        hooks = []
    for topic in WEBHOOK_TOPICS:
        mine = [h for h in hooks if h.get("topic") == topic]
        if not mine:
            client.post("webhooks", {"name": f"Stockroom {topic}", "topic": topic,
                                     "delivery_url": delivery_url, "secret": secret,
                                     "status": "active"}, what=f"creating the {topic} webhook")
            counts["created"] += 1
        for hook in mine:
            if hook.get("status") != "active":
                client.put(f"webhooks/{hook['id']}", {"status": "active"},
                           what=f"re-enabling the {topic} webhook")
                counts["reenabled"] += 1
    return counts


# --- reconciliation ------------------------------------------------------------------

def request_reconcile(channel: Channel) -> bool:
    """Queue a reconciliation of the store now (unless one is queued already). Flushes."""
    from app.sync.schedule import enqueue_once

    return enqueue_once(channel.id, RECONCILE_TOPIC, {"requested": True})


def reconcile_due(channel: Channel, interval: float, now: dt.datetime) -> bool:
    """True once the connect import is done and the last sync is ``interval`` old."""
    synced = (channel.sync_cursors or {}).get("orders_synced_at")
    if not synced:
        return False  # the connect import is still bringing everything in
    return (now - dt.datetime.fromisoformat(synced)).total_seconds() >= interval
