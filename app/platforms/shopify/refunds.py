"""Shopify refunds (refunds/create): units returned to a mapped location go back in stock, once."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Order, Platform, Refund
from app.orders.refunds import UnmappedRestockLocation, record_refund
from app.platforms.shopify.inbound import _order_gid_of_refund, _payload
from app.platforms.shopify.mapping import refund_data, refund_data_from_node
from app.platforms.shopify.paging import read_refund
from app.platforms.shopify.payload_checks import _objects, _positive_int, _resource_ids, _show
from app.platforms.shopify.sync import ShopifyCall, pull_order
from app.sync.errors import PermanentError, Rejected
from app.sync.handlers import Delivery
from app.sync.lock import defer_while_pushing
from app.sync.transactions import end_read

SHOPIFY = Platform.SHOPIFY


def check_refund(delivery: Delivery) -> None:
    """The REST Refund resource: its ids, its order's, and well-formed refund line items."""
    payload = delivery.payload
    _resource_ids(payload, "Refund")
    _positive_int(payload, "order_id")
    for item in _objects(payload, "refund_line_items", "a refund line item is {}, not an object"):
        _positive_int(item, "line_item_id")
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise Rejected(f"a refund line item's quantity is {_show(quantity)}")
        if item.get("location_id") is not None:
            _positive_int(item, "location_id")


def apply_refund(job) -> str:
    """Re-read the order (its current quantities; the order itself if it was missed), then
    record the refund once: RETURN units go back at the mapped location of theirs."""
    payload = _payload(job)
    data = refund_data(payload)
    order_gid = _order_gid_of_refund(payload)
    order = db.session.scalar(select(Order).where(Order.channel_id == job.channel_id,
                                                  Order.remote_id == order_gid))
    defer_while_pushing(order)
    known = db.session.scalar(select(Refund.summary).where(
        Refund.channel_id == job.channel_id, Refund.remote_id == data.remote_id))
    if known is not None:
        end_read()
        return f"already recorded, nothing changed again. {known}"
    end_read()
    order = pull_order(ShopifyCall(job.channel_id), job.merchant_id, job.channel_id, order_gid)
    if order is None:
        return "the order no longer exists on Shopify: nothing to restock"
    try:
        return record_refund(job.merchant_id, order.id, data).summary
    except UnmappedRestockLocation as exc:
        raise PermanentError(exc.message) from None


def reconcile_refunds(call: ShopifyCall, merchant_id: int, order: Order, refund_ids: list[str]
                      ) -> list[str]:
    """Record the order's refunds a refunds/create missed (the reconciliation); a refund
    that can't be applied yet (an unmapped location) is left for the next run and noted."""
    known = set(db.session.scalars(select(Refund.remote_id).where(
        Refund.channel_id == order.channel_id, Refund.remote_id.in_(refund_ids or [""]))))
    notes = []
    for refund_gid in refund_ids:
        if refund_gid in known:
            continue
        node = read_refund(call, refund_gid)
        if node is None:
            continue
        try:
            with db.session.begin_nested():
                notes.append(record_refund(merchant_id, order.id,
                                           refund_data_from_node(node)).summary)
        except UnmappedRestockLocation as exc:
            notes.append(f"{refund_gid}: {exc.message}")
    return notes
