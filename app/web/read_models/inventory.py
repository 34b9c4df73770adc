"""Read models of the inventory pages: the stock matrix, one item's levels, ledger, listings and source."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import (Channel, ChannelListing, Fulfillment, InventoryItem, InventoryLevel,
                        InventoryMovement, Order, StockLocation)
from app.models.fulfillment import fulfillment_name
from app.stock.open_orders import committed_by_location
from app.web.read_models.common import like_pattern, stock_locations


def stock_matrix(merchant_id: int, q: str = "", *, limit: int = 500) -> dict:
    """Items (optionally searched by SKU/title) and their levels per location."""
    stmt = select(InventoryItem).where(InventoryItem.merchant_id == merchant_id)
    if q.strip():
        pattern = like_pattern(q.strip())
        stmt = stmt.where(or_(func.lower(InventoryItem.sku).like(pattern, escape="\\"),
                              func.lower(InventoryItem.title).like(pattern, escape="\\")))
    items = list(db.session.scalars(stmt.order_by(InventoryItem.sku).limit(limit)))
    levels = {}
    if items:
        for level in db.session.scalars(select(InventoryLevel).where(
                InventoryLevel.merchant_id == merchant_id,
                InventoryLevel.item_id.in_([i.id for i in items]))):
            levels[(level.item_id, level.location_id)] = level
    # Committed as the pushes count it (app/stock/open_orders.py), so Available here is
    # what the platforms are sent.
    held = committed_by_location(merchant_id, [i.id for i in items])
    return {"items": items, "levels": levels, "held": held,
            "locations": stock_locations(merchant_id)}


def item_count(merchant_id: int) -> int:
    """How many items the merchant has (0: the inventory page says how to get some)."""
    return db.session.scalar(select(func.count()).select_from(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id)) or 0


def inventory_item(merchant_id: int, item_id: int) -> InventoryItem:
    """The merchant's item, or NotFound."""
    row = db.session.scalar(select(InventoryItem).where(InventoryItem.merchant_id == merchant_id,
                                                        InventoryItem.id == item_id))
    if row is None:
        raise NotFound("That item does not exist.")
    return row


def item_levels(merchant_id: int, item_id: int) -> list[InventoryLevel]:
    """The item's level at each location that has one."""
    return list(db.session.scalars(
        select(InventoryLevel).join(StockLocation, StockLocation.id == InventoryLevel.location_id)
        .where(InventoryLevel.merchant_id == merchant_id, InventoryLevel.item_id == item_id)
        .order_by(StockLocation.name).options(selectinload(InventoryLevel.location))))


def item_ledger(merchant_id: int, item_id: int, *, limit: int = 100) -> list[InventoryMovement]:
    """The item's latest ledger entries at every location, newest first."""
    return list(db.session.scalars(
        select(InventoryMovement).join(InventoryLevel, InventoryLevel.id == InventoryMovement.level_id)
        .where(InventoryMovement.merchant_id == merchant_id, InventoryLevel.item_id == item_id)
        .order_by(InventoryMovement.id.desc()).limit(limit)
        .options(selectinload(InventoryMovement.level).selectinload(InventoryLevel.location))))


def fulfillment_refs(merchant_id: int, movements: list[InventoryMovement]
                     ) -> dict[int, tuple[str, int]]:
    """Fulfillment id -> (its name "#1001-F2", its order's id) for the ledger entries that
    reference one (the merchant's only)."""
    ids = {m.reference_id for m in movements if m.reference_type == "fulfillment"}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Fulfillment.id, Order.name, Fulfillment.number, Order.id)
        .join(Order, Order.id == Fulfillment.order_id)
        .where(Fulfillment.merchant_id == merchant_id, Fulfillment.id.in_(ids)))
    return {fid: (fulfillment_name(order_name, number), order_id)
            for fid, order_name, number, order_id in rows}


def item_listings(merchant_id: int, item_id: int) -> list[tuple[ChannelListing, Channel]]:
    """The listings matched to an item (which stores sell it), with their store."""
    return [tuple(r) for r in db.session.execute(
        select(ChannelListing, Channel).join(Channel, Channel.id == ChannelListing.channel_id)
        .where(ChannelListing.merchant_id == merchant_id,
               ChannelListing.inventory_item_id == item_id)
        .order_by(Channel.id, ChannelListing.id))]


def item_source(merchant_id: int, item: InventoryItem
                ) -> tuple[Channel | None, ChannelListing | None]:
    """The store and listing an item was created from (None, None: made by hand)."""
    if item.source_channel_id is None:
        return None, None
    channel = db.session.scalar(select(Channel).where(
        Channel.merchant_id == merchant_id, Channel.id == item.source_channel_id))
    listing = db.session.scalar(select(ChannelListing).where(
        ChannelListing.merchant_id == merchant_id,
        ChannelListing.channel_id == item.source_channel_id,
        ChannelListing.remote_variant_id == item.source_remote_id)) if channel else None
    return channel, listing
