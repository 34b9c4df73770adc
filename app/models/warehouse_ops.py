"""Warehouse operations on the shared stock: pack scans, purchase orders, reorder points."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk, utcnow
from app.models.stock import InventoryItem, StockLocation


class PackCount(db.Model):
    """Units of one fulfillment line scanned so far on the pack screen (kept across reloads)."""

    __tablename__ = "pack_counts"
    __table_args__ = (
        UniqueConstraint("fulfillment_line_id"),
        CheckConstraint("scanned >= 0", name="scanned_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    fulfillment_id: Mapped[int] = mapped_column(
        ForeignKey("fulfillments.id", ondelete="CASCADE"), index=True)
    fulfillment_line_id: Mapped[int] = mapped_column(
        ForeignKey("fulfillment_lines.id", ondelete="CASCADE"))
    scanned: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                    onupdate=utcnow)


class PurchaseOrderStatus(enum.StrEnum):
    """open -> partially_received -> received; closed when the rest will never come."""

    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"


class PurchaseOrder(db.Model):
    """An inbound shipment from a supplier to one stock location, received in parts."""

    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    supplier: Mapped[str] = mapped_column(String(255))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(24), default=PurchaseOrderStatus.OPEN)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = created_at_column()
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    location: Mapped[StockLocation] = relationship()
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="purchase_order", order_by="PurchaseOrderLine.id",
        cascade="all, delete-orphan")
    events: Mapped[list[PurchaseOrderEvent]] = relationship(
        order_by="PurchaseOrderEvent.id", cascade="all, delete-orphan")

    @property
    def reference(self) -> str:
        """How the merchant names it: "PO-7"."""
        return f"PO-{self.id}"


class PurchaseOrderLine(db.Model):
    """Units of one item expected from the supplier, and how many arrived so far."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "item_id"),
        CheckConstraint("expected_quantity > 0", name="expected_positive"),
        # More than expected may arrive (allowed explicitly), never a negative count.
        CheckConstraint("received_quantity >= 0", name="received_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id", ondelete="RESTRICT"),
                                         index=True)
    expected_quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)

    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    item: Mapped[InventoryItem] = relationship()

    @property
    def outstanding(self) -> int:
        """Expected units that have not arrived (0 once as many or more arrived)."""
        return max(self.expected_quantity - self.received_quantity, 0)


class PurchaseOrderEvent(db.Model):
    """One entry of a purchase order's timeline (created, received, closed)."""

    __tablename__ = "purchase_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = created_at_column()


class ReorderPoint(db.Model):
    """At or below this many available units of an item at a location, it is low on stock."""

    __tablename__ = "reorder_points"
    __table_args__ = (
        UniqueConstraint("location_id", "item_id"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    location_id: Mapped[int] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inventory_items.id", ondelete="CASCADE"),
                                         index=True)
    reorder_point: Mapped[int] = mapped_column(Integer)

    location: Mapped[StockLocation] = relationship()
    item: Mapped[InventoryItem] = relationship()


class LowStockDigestSetting(db.Model):
    """Whether (and to whom) the merchant's daily low-stock email goes; off by default."""

    __tablename__ = "low_stock_digest_settings"

    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    recipient: Mapped[str] = mapped_column(String(320), default="")


class LowStockDigest(db.Model):
    """One day's digest of one merchant: the unique key makes the schedule queue it once."""

    __tablename__ = "low_stock_digests"
    __table_args__ = (UniqueConstraint("merchant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    day: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = created_at_column()
