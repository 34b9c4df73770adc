"""Inventory push state: which platform quantities are out of date, and what each one shows."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import UTCDateTime, merchant_fk, utcnow


class InventoryPushState(db.Model):
    """One platform quantity (a listing at a channel location) and whether it needs a push.

    ``generation`` goes up each time Stockroom's stock behind it changes; a push records the
    generation it sent as ``pushed_generation``. Dirty means generation > pushed_generation,
    so a change that lands while a push is in flight is never lost: it stays dirty.
    """

    __tablename__ = "inventory_push_states"
    __table_args__ = (
        UniqueConstraint("channel_location_id", "listing_id"),
        # The dirty rows of a channel in id order (what pending_pushes walks, 250 at a time):
        # a partial index stays small, and after a burst it is walked, never sorted.
        Index("ix_inventory_push_states_dirty_id", "channel_id", "id",
              postgresql_where=text("generation > pushed_generation"),
              sqlite_where=text("generation > pushed_generation")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    channel_location_id: Mapped[int] = mapped_column(
        ForeignKey("channel_locations.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("channel_listings.id", ondelete="CASCADE"), index=True)
    generation: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    pushed_generation: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # What the platform showed when we last set or read it (Shopify's changeFromQuantity).
    remote_quantity: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                    onupdate=utcnow)
