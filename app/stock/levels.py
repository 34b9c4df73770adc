"""Stock levels and their ledger: every on_hand change is one InventoryMovement."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from app.errors import InsufficientStock, InvalidInput, NotFound, Shortfall
from app.extensions import db
from app.locking import inventory_levels_for_update
from app.models import InventoryItem, InventoryLevel, InventoryMovement, OutboxEvent, StockLocation
from app.sync.topics import Topic

#: Reasons a merchant can give for a manual adjustment.
ADJUST_REASONS = ("correction", "received", "recount", "damaged", "returned", "other")
#: Reasons the system writes itself.
SYSTEM_REASONS = ("fulfillment", "fulfillment_canceled", "opening_balance")


@dataclass(frozen=True)
class Reference:
    """What caused a movement (e.g. ("fulfillment", 12))."""

    type: str
    id: int


def require_location(merchant_id: int, location_id: int, *, for_stock_out: bool = False
                     ) -> StockLocation:
    """The merchant's location with this id, or NotFound; inactive ones can't ship stock."""
    location = db.session.scalar(select(StockLocation).where(
        StockLocation.merchant_id == merchant_id, StockLocation.id == location_id))
    if location is None:
        raise NotFound("That stock location does not exist.")
    if for_stock_out and not location.active:
        raise InvalidInput(f"{location.name} is deactivated: choose an active location.",
                           field="location")
    return location


def apply_movements(merchant_id: int, location: StockLocation, deltas: Mapping[int, int], *,
                    reason: str, reference: Reference | None = None, note: str = "",
                    check_stock: bool = True) -> dict[int, InventoryLevel]:
    """Change on_hand of several items at one location, all or nothing.

    ``deltas`` maps item id -> signed change. Levels are locked in id order, every item is
    checked before anything changes, and all shortfalls are raised together as
    InsufficientStock (unless the location allows negative stock or ``check_stock`` is
    False, as when restoring what a cancel gives back).
    """
    deltas = {item_id: d for item_id, d in deltas.items() if d != 0}
    if not deltas:
        return {}
    levels = inventory_levels_for_update(merchant_id, location.id, deltas)
    if check_stock and not location.allow_negative_stock:
        shortfalls = [_shortfall(merchant_id, levels[i], location, -d)
                      for i, d in sorted(deltas.items()) if d < 0 and levels[i].available + d < 0]
        if shortfalls:
            raise InsufficientStock(shortfalls, location.name)
    for item_id, delta in sorted(deltas.items()):
        level = levels[item_id]
        level.on_hand += delta
        db.session.add(InventoryMovement(
            merchant_id=merchant_id, level_id=level.id, delta=delta,
            on_hand_after=level.on_hand, reason=reason, note=note,
            reference_type=reference.type if reference else None,
            reference_id=reference.id if reference else None))
    _mark_levels_changed(merchant_id, location.id, sorted(deltas))
    db.session.flush()
    return levels


def _shortfall(merchant_id: int, level: InventoryLevel, location: StockLocation,
               requested: int) -> Shortfall:
    sku = db.session.scalar(select(InventoryItem.sku).where(
        InventoryItem.merchant_id == merchant_id, InventoryItem.id == level.item_id)) or ""
    return Shortfall(item_id=level.item_id, sku=sku, location_id=location.id,
                     requested=requested, available=level.available)


def _mark_levels_changed(merchant_id: int, location_id: int, item_ids: list[int]) -> None:
    # The inventory push to the platforms reads these (coalesced by the worker).
    db.session.add(OutboxEvent(merchant_id=merchant_id, topic=Topic.INVENTORY_LEVELS_CHANGED,
                               payload={"location_id": location_id, "item_ids": item_ids}))


def adjust_stock(merchant_id: int, location_id: int, item_id: int, *, delta: int | None = None,
                 absolute: int | None = None, reason: str, note: str = "") -> InventoryLevel:
    """Manual correction of one item at one location, by a delta or to an absolute count.

    Exactly one of ``delta`` / ``absolute`` is given. A result below zero is refused
    unless the location allows negative stock. Returns the updated level.
    """
    if (delta is None) == (absolute is None):
        raise InvalidInput("Give either a change or a new on-hand count, not both.",
                           field="quantity")
    if reason not in ADJUST_REASONS:
        raise InvalidInput(f"Choose a reason: {', '.join(ADJUST_REASONS)}.", field="reason")
    if len(note) > 500:
        raise InvalidInput("The note is too long (500 characters at most).", field="note")
    for value in (delta, absolute):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput("The quantity must be a whole number.", field="quantity")
    if absolute is not None and absolute < 0:
        raise InvalidInput("A count can't be negative.", field="quantity")
    location = require_location(merchant_id, location_id)
    item = db.session.scalar(select(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id, InventoryItem.id == item_id))
    if item is None:
        raise NotFound("That item does not exist.")
    if absolute is not None:
        level = inventory_levels_for_update(merchant_id, location.id, [item.id])[item.id]
        delta = absolute - level.on_hand
    if delta == 0:
        return inventory_levels_for_update(merchant_id, location.id, [item.id])[item.id]
    levels = apply_movements(merchant_id, location, {item.id: delta}, reason=reason, note=note)
    return levels[item.id]


def ledger_sum(level_id: int) -> int:
    """Sum of the ledger of one level (equals its on_hand: tests check it)."""
    return db.session.scalar(select(func.coalesce(func.sum(InventoryMovement.delta), 0))
                             .where(InventoryMovement.level_id == level_id))
