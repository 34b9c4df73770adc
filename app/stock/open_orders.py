"""Units of open orders the stores hold: what every inventory push subtracts (a store's own
orders' units, and its sister stores' units at the same stock location) and what the
Inventory page shows as Committed (one definition for both)."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from app.extensions import db
from app.models import (Channel, ChannelListing, ChannelLocation, FulfillmentOrder,
                        FulfillmentOrderLine, Order, OrderLine, Platform)

#: Fulfillment-order statuses whose remaining units Shopify counts as committed.
HOLDING = ("OPEN", "IN_PROGRESS", "ON_HOLD", "SCHEDULED", "INCOMPLETE")


def held_by_fulfillment_orders(channel_id: int, listing_ids: set[int] | None = None
                               ) -> dict[tuple[int, int], int]:
    """(channel location id, listing id) -> remaining units of the channel's open
    fulfillment orders assigned there (Shopify holds them committed)."""
    stmt = (select(ChannelLocation.id, ChannelListing.id,
                   func.sum(FulfillmentOrderLine.remaining_quantity))
            .join(FulfillmentOrder, FulfillmentOrder.id == FulfillmentOrderLine.fulfillment_order_id)
            .join(OrderLine, OrderLine.id == FulfillmentOrderLine.order_line_id)
            .join(ChannelLocation, (ChannelLocation.channel_id == FulfillmentOrder.channel_id)
                  & (ChannelLocation.remote_id == FulfillmentOrder.assigned_location_remote_id))
            .join(ChannelListing, (ChannelListing.channel_id == FulfillmentOrder.channel_id)
                  & (ChannelListing.inventory_item_id == OrderLine.inventory_item_id))
            .where(FulfillmentOrder.channel_id == channel_id,
                   FulfillmentOrder.status.in_(HOLDING))
            .group_by(ChannelLocation.id, ChannelListing.id))
    if listing_ids is not None:
        stmt = stmt.where(ChannelListing.id.in_(listing_ids))
    return {(cl, li): int(total or 0) for cl, li, total in db.session.execute(stmt)}


def held_by_open_orders(channel_id: int, listing_ids: set[int] | None = None
                        ) -> dict[int, int]:
    """listing id -> units of the store's open (not canceled) orders not yet fulfilled
    (WooCommerce took them off its stock when the order was paid)."""
    stmt = (select(ChannelListing.id, func.sum(OrderLine.quantity - OrderLine.fulfilled_quantity))
            .join(OrderLine, OrderLine.inventory_item_id == ChannelListing.inventory_item_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(ChannelListing.channel_id == channel_id, Order.channel_id == channel_id,
                   Order.cancelled_at.is_(None))
            .group_by(ChannelListing.id))
    if listing_ids is not None:
        stmt = stmt.where(ChannelListing.id.in_(listing_ids))
    return {li: int(total or 0) for li, total in db.session.execute(stmt)}


def committed_by_location(merchant_id: int, item_ids: list[int], *,
                          except_channel_id: int | None = None) -> dict[tuple[int, int], int]:
    """(item id, stock location id) -> the open-order units the pushes subtract there: each
    channel's held units at its platform locations mapped onto that stock location (every
    channel but ``except_channel_id`` when given)."""
    if not item_ids:
        return {}
    totals: dict[tuple[int, int], int] = defaultdict(int)
    mapped = db.session.execute(
        select(ChannelLocation.id, ChannelLocation.channel_id, ChannelLocation.stock_location_id)
        .where(ChannelLocation.merchant_id == merchant_id,
               ChannelLocation.stock_location_id.is_not(None))).all()
    if not mapped:
        return {}
    listing_item = dict(db.session.execute(
        select(ChannelListing.id, ChannelListing.inventory_item_id)
        .where(ChannelListing.merchant_id == merchant_id,
               ChannelListing.inventory_item_id.in_(item_ids))).all())
    platforms = dict(db.session.execute(select(Channel.id, Channel.platform).where(
        Channel.merchant_id == merchant_id)).all())
    by_channel: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for cl_id, channel_id, stock_location_id in mapped:
        by_channel[channel_id].append((cl_id, stock_location_id))
    listing_ids = set(listing_item)
    for channel_id, locations in by_channel.items():
        if channel_id == except_channel_id:
            continue
        stock_of = dict(locations)
        if platforms.get(channel_id) == Platform.SHOPIFY:
            for (cl_id, listing_id), units in held_by_fulfillment_orders(
                    channel_id, listing_ids).items():
                if cl_id in stock_of and listing_id in listing_item:
                    totals[(listing_item[listing_id], stock_of[cl_id])] += units
        else:  # a store is one location: its open orders are held there
            for listing_id, units in held_by_open_orders(channel_id, listing_ids).items():
                if listing_id in listing_item:
                    for _, stock_location_id in locations:
                        totals[(listing_item[listing_id], stock_location_id)] += units
    return dict(totals)


def held_by_other_stores(channel_id: int, rows) -> dict[tuple[int, int], int]:
    """(channel location id, listing id) of each pending push -> the units the merchant's
    OTHER stores hold for their open orders at the stock location that platform location is
    mapped to. One stock, many stores: a unit promised to one store's order is not
    available to sell on another, so every push subtracts them (a platform subtracts only
    its own orders' units by itself)."""
    if not rows:
        return {}
    cl_ids = {r.channel_location_id for r in rows}
    listing_ids = {r.listing_id for r in rows}
    stock_of = dict(db.session.execute(select(ChannelLocation.id, ChannelLocation.stock_location_id)
                                       .where(ChannelLocation.id.in_(cl_ids))).all())
    item_of = dict(db.session.execute(select(ChannelListing.id, ChannelListing.inventory_item_id)
                                      .where(ChannelListing.id.in_(listing_ids))).all())
    merchant_id = db.session.scalar(select(Channel.merchant_id).where(Channel.id == channel_id))
    items = sorted({i for i in item_of.values() if i is not None})
    totals = committed_by_location(merchant_id, items, except_channel_id=channel_id)
    return {(r.channel_location_id, r.listing_id):
            totals.get((item_of.get(r.listing_id), stock_of.get(r.channel_location_id)), 0)
            for r in rows}
