"""Upsert orders from any platform, described by plain dataclasses (no platform payloads here)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from app.extensions import db
from app.locking import orders_for_update
from app.models import ChannelListing, InventoryItem, Order, OrderLine
from app.stock.push import mark_dirty


@dataclass(frozen=True)
class LineData:
    """One order line as the platform reports it."""

    remote_id: str
    quantity: int
    sku: str = ""
    title: str = ""
    remote_variant_id: str | None = None


@dataclass(frozen=True)
class OrderData:
    """An order as the platform reports it now."""

    remote_id: str
    name: str
    placed_at: dt.datetime
    lines: list[LineData] = field(default_factory=list)
    customer_name: str = ""
    customer_email: str = ""
    currency: str = "USD"
    total_price: str = "0.00"
    cancelled_at: dt.datetime | None = None
    remote_updated_at: dt.datetime | None = None


def upsert_order(merchant_id: int, channel_id: int, data: OrderData) -> Order:
    """Create or update the channel's order; lines matched to items by listing, then SKU.

    Stale data (older ``remote_updated_at`` than what we have) changes nothing, so
    out-of-order webhooks can't roll an order back. A line's quantity never drops below
    what is already fulfilled. Flushes.
    """
    order = db.session.scalar(select(Order).where(Order.channel_id == channel_id,
                                                  Order.remote_id == data.remote_id))
    if order is None:
        held_before: dict[int, int] = {}
        order = Order(merchant_id=merchant_id, channel_id=channel_id, remote_id=data.remote_id,
                      name=data.name, placed_at=data.placed_at)
        db.session.add(order)
    else:
        order = orders_for_update(merchant_id, [order.id])[order.id]
        held_before = _held(order)  # under the lock: the lines re-read, not a stale copy
        if (order.remote_updated_at and data.remote_updated_at
                and data.remote_updated_at < order.remote_updated_at):
            return order
    order.name = data.name
    order.placed_at = data.placed_at
    order.customer_name, order.customer_email = data.customer_name, data.customer_email
    order.currency, order.total_price = data.currency, data.total_price
    order.cancelled_at = data.cancelled_at
    order.remote_updated_at = data.remote_updated_at
    existing = {line.remote_id: line for line in order.lines}
    for line_data in data.lines:
        line = existing.get(line_data.remote_id)
        if line is None:
            line = OrderLine(merchant_id=merchant_id, remote_id=line_data.remote_id,
                             fulfilled_quantity=0)
            order.lines.append(line)
        line.sku, line.title = line_data.sku, line_data.title
        line.quantity = max(line_data.quantity, line.fulfilled_quantity or 0)
        line.inventory_item_id = _match_item(merchant_id, channel_id, line_data)
    db.session.flush()
    held_after = _held(order)
    changed = {item for item in held_before.keys() | held_after.keys()
               if held_before.get(item, 0) != held_after.get(item, 0)}
    if changed:
        # What this store holds for the order changed (new, edited, canceled): its sister
        # stores subtract those units from what they are told (app/stock/open_orders.py).
        mark_dirty(merchant_id, item_ids=changed, except_channel_id=channel_id)
    return order


def _held(order: Order) -> dict[int, int]:
    """Item id -> units of the order not shipped yet (nothing when canceled)."""
    held: dict[int, int] = defaultdict(int)
    if order.cancelled_at is None:
        for line in order.lines:
            if line.inventory_item_id is not None:
                held[line.inventory_item_id] += max(line.not_shipped_quantity, 0)
    return held


def _match_item(merchant_id: int, channel_id: int, line: LineData) -> int | None:
    """The listing's item when the variant is listed, else the merchant's item with that SKU."""
    if line.remote_variant_id:
        item_id = db.session.scalar(select(ChannelListing.inventory_item_id).where(
            ChannelListing.channel_id == channel_id,
            ChannelListing.remote_variant_id == line.remote_variant_id))
        if item_id is not None:
            return item_id
    if not line.sku:
        return None
    return db.session.scalar(select(InventoryItem.id).where(
        InventoryItem.merchant_id == merchant_id, InventoryItem.sku == line.sku))
