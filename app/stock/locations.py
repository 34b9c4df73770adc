"""Stock locations: create, rename, (de)activate, allow negative stock; map platform locations."""
from __future__ import annotations

from sqlalchemy import func, select

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import ChannelLocation, StockLocation
from app.stock.levels import require_location


def _valid_name(merchant_id: int, name: str, *, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Enter a name for the location.", field="name")
    if len(name) > 255:
        raise InvalidInput("The name is too long (255 characters at most).", field="name")
    stmt = select(StockLocation.id).where(StockLocation.merchant_id == merchant_id,
                                          func.lower(StockLocation.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(StockLocation.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise InvalidInput(f"There is already a location named {name}.", field="name")
    return name


def create_location(merchant_id: int, name: str, *, allow_negative_stock: bool = False
                    ) -> StockLocation:
    """A new active stock location with a unique name. Flushes."""
    location = StockLocation(merchant_id=merchant_id, name=_valid_name(merchant_id, name),
                             active=True, allow_negative_stock=allow_negative_stock)
    db.session.add(location)
    db.session.flush()
    return location


def update_location(merchant_id: int, location_id: int, *, name: str | None = None,
                    active: bool | None = None, allow_negative_stock: bool | None = None
                    ) -> StockLocation:
    """Rename, (de)activate, or allow/forbid negative stock at one location. Flushes.

    A deactivated location keeps its stock and history; it just can't ship anything.
    """
    location = require_location(merchant_id, location_id)
    if name is not None:
        location.name = _valid_name(merchant_id, name, exclude_id=location.id)
    if active is not None:
        location.active = active
    if allow_negative_stock is not None:
        location.allow_negative_stock = allow_negative_stock
    db.session.flush()
    return location


def map_channel_location(merchant_id: int, channel_location_id: int,
                         stock_location_id: int | None) -> ChannelLocation:
    """Point a platform location at one of the merchant's stock locations (None: unmap)."""
    channel_location = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.merchant_id == merchant_id, ChannelLocation.id == channel_location_id))
    if channel_location is None:
        raise NotFound("That platform location does not exist.")
    if stock_location_id is not None:
        require_location(merchant_id, stock_location_id)
    changed = channel_location.stock_location_id != stock_location_id
    channel_location.stock_location_id = stock_location_id
    if changed:
        # A new pair: whose counts are right is the merchant's to confirm again (until then
        # nothing is pushed there: app/catalog/opening.py).
        channel_location.stock_truth = channel_location.stock_confirmed_at = None
    db.session.flush()
    if changed and stock_location_id is not None:
        # From now on the platform shows this stock location's quantities.
        from app.stock.push import mark_dirty
        mark_dirty(merchant_id, channel_location_id=channel_location.id)
    return channel_location
