"""Warehouse aggregates: transfers between stock locations and CSV stock imports."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk
from app.models.stock import InventoryItem, StockLocation


class TransferStatus(enum.StrEnum):
    """draft -> in_transit -> partially_received -> received; canceled from all but received."""

    DRAFT = "draft"
    IN_TRANSIT = "in_transit"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELED = "canceled"


class Transfer(db.Model):
    """Units of some items moved from one stock location to another of the same merchant."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("origin_id <> destination_id", name="origin_not_destination"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    origin_id: Mapped[int] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="RESTRICT"), index=True)
    destination_id: Mapped[int] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=TransferStatus.DRAFT)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = created_at_column()
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    origin: Mapped[StockLocation] = relationship(foreign_keys=[origin_id])
    destination: Mapped[StockLocation] = relationship(foreign_keys=[destination_id])
    lines: Mapped[list[TransferLine]] = relationship(
        back_populates="transfer", order_by="TransferLine.id", cascade="all, delete-orphan")
    events: Mapped[list[TransferEvent]] = relationship(
        order_by="TransferEvent.id", cascade="all, delete-orphan")

    @property
    def reference(self) -> str:
        """How the merchant names it: "T-12"."""
        return f"T-{self.id}"


class TransferLine(db.Model):
    """Units of one item in a transfer, and how many of them arrived so far."""

    __tablename__ = "transfer_lines"
    __table_args__ = (
        UniqueConstraint("transfer_id", "item_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received_quantity >= 0 AND received_quantity <= quantity",
                        name="received_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"),
                                             index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id", ondelete="RESTRICT"),
                                         index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)

    transfer: Mapped[Transfer] = relationship(back_populates="lines")
    item: Mapped[InventoryItem] = relationship()

    @property
    def outstanding(self) -> int:
        """Shipped (or to ship) units that have not arrived."""
        return self.quantity - self.received_quantity


class TransferEvent(db.Model):
    """One entry of a transfer's timeline (created, shipped, received, canceled …)."""

    __tablename__ = "transfer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = created_at_column()


class StockImport(db.Model):
    """An uploaded stock-levels CSV: kept between its preview and its apply, bound by hash."""

    __tablename__ = "stock_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    filename: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What applying did ("12 counts changed"), shown when the same import is applied again.
    outcome: Mapped[str] = mapped_column(String(500), default="")
