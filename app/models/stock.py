"""Stock aggregate: locations, items (SKUs), levels per (location, item) and the ledger."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (Boolean, CheckConstraint, ForeignKey, Index, Integer, String,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk, utcnow


class StockLocation(db.Model):
    """A place where the merchant keeps stock (warehouse, shop, 3PL)."""

    __tablename__ = "stock_locations"
    __table_args__ = (UniqueConstraint("merchant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    name: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Per location, because a dropship or made-to-order location legitimately sells ahead.
    allow_negative_stock: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=text("false"))
    created_at: Mapped[dt.datetime] = created_at_column()


def sku_key(sku: str) -> str:
    """The form of a SKU two SKUs are compared in: case-folded, spacing collapsed.

    Two items whose SKUs differ only in case or spacing ("ab-1" and "AB-1 ") can't both
    exist (they would be told apart by nobody in a warehouse); a listing whose SKU equals an
    item's only in this form is offered for review, never matched silently.
    """
    return " ".join((sku or "").split()).casefold()


class InventoryItem(db.Model):
    """A stock-keeping unit of the merchant, identified by its SKU."""

    __tablename__ = "inventory_items"
    __table_args__ = (UniqueConstraint("merchant_id", "sku"),
                      UniqueConstraint("merchant_id", "sku_key"),
                      Index("ix_inventory_items_merchant_barcode", "merchant_id", "barcode"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    sku: Mapped[str] = mapped_column(String(255))
    # sku_key(sku), kept by the validator below and, for bulk inserts, the column default
    # (what uniqueness and matching compare).
    sku_key: Mapped[str] = mapped_column(String(255), default=lambda ctx: sku_key(
        ctx.get_current_parameters().get("sku", "")))
    title: Mapped[str] = mapped_column(String(512), default="")
    # GTIN/UPC/EAN/ISBN as the store gave it ("" when none): the second way to match.
    barcode: Mapped[str] = mapped_column(String(64), default="", server_default=text("''"))
    image_url: Mapped[str] = mapped_column(String(2048), default="", server_default=text("''"))
    # The listing it was created from (None: created by hand or before onboarding existed).
    source_channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL"))
    source_remote_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = created_at_column()

    @validates("sku")
    def _keep_sku_key(self, _key: str, value: str) -> str:
        self.sku_key = sku_key(value)
        return value


class InventoryLevel(db.Model):
    """Quantities of one item at one location; on_hand always equals its ledger's sum."""

    __tablename__ = "inventory_levels"
    __table_args__ = (
        UniqueConstraint("location_id", "item_id"),
        CheckConstraint("committed >= 0", name="committed_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id", ondelete="CASCADE"),
                                             index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id", ondelete="CASCADE"),
                                         index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Reserved for unfulfilled demand (reservations); nothing reserves yet.
    committed: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                    onupdate=utcnow)

    location: Mapped[StockLocation] = relationship()
    item: Mapped[InventoryItem] = relationship()

    @property
    def available(self) -> int:
        """What can still be promised: on hand minus committed."""
        return self.on_hand - self.committed


class InventoryMovement(db.Model):
    """Append-only ledger entry: one change of on_hand at one (location, item)."""

    __tablename__ = "inventory_movements"
    __table_args__ = (
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_inventory_movements_reference", "reference_type", "reference_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    level_id: Mapped[int] = mapped_column(ForeignKey("inventory_levels.id", ondelete="CASCADE"),
                                          index=True)
    delta: Mapped[int] = mapped_column(Integer)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    reference_type: Mapped[str | None] = mapped_column(String(32))
    reference_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = created_at_column()

    level: Mapped[InventoryLevel] = relationship()
