"""Read models several dashboard pages share: the merchant, its channels and locations, search patterns."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import Channel, ChannelLocation, Merchant, StockLocation


def merchant(merchant_id: int) -> Merchant:
    """The merchant, or NotFound."""
    row = db.session.get(Merchant, merchant_id)
    if row is None:
        raise NotFound("That merchant does not exist.")
    return row


def channels(merchant_id: int) -> list[Channel]:
    """The merchant's channels, oldest first."""
    return list(db.session.scalars(select(Channel).where(Channel.merchant_id == merchant_id)
                                   .order_by(Channel.id)))


def stock_locations(merchant_id: int, *, active_only: bool = False) -> list[StockLocation]:
    """The merchant's stock locations by name."""
    stmt = select(StockLocation).where(StockLocation.merchant_id == merchant_id)
    if active_only:
        stmt = stmt.where(StockLocation.active.is_(True))
    return list(db.session.scalars(stmt.order_by(StockLocation.name, StockLocation.id)))


def like_pattern(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere, its wildcards escaped by a backslash."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def channel_locations(merchant_id: int) -> list[ChannelLocation]:
    """Every platform location of the merchant's channels (mapped or not)."""
    return list(db.session.scalars(
        select(ChannelLocation).where(ChannelLocation.merchant_id == merchant_id)
        .order_by(ChannelLocation.channel_id, ChannelLocation.name, ChannelLocation.id)
        .options(selectinload(ChannelLocation.channel))))
