"""Fulfillment aggregate: a shipment of some order lines from one stock location."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, and_, text)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk
from app.models.order import Order, OrderLine
from app.models.stock import InventoryItem, StockLocation


class FulfillmentStatus(enum.StrEnum):
    """Lifecycle: pending -> shipped -> delivered, or canceled from pending/shipped.

    Shipped as soon as it has a tracking number, is marked shipped or is packed
    (app/fulfillment/service.py); whether it is packed is ``Fulfillment.packed_at``.
    """

    PENDING = "pending"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELED = "canceled"


#: The statuses whose unpacked fulfillments are still to pick and pack (to_pack).
TO_PACK_STATUSES = (FulfillmentStatus.PENDING, FulfillmentStatus.SHIPPED)


class Origin(enum.StrEnum):
    """Where a fulfillment was made."""

    APP = "app"
    PLATFORM = "platform"


class SyncState(enum.StrEnum):
    """Whether the platform has this fulfillment's latest state."""

    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"


def fulfillment_name(order_name: str, number: int) -> str:
    """"#1001-F2": the order's name and the fulfillment's number within it (read models
    that select the two columns name it without loading the row)."""
    return f"{order_name}-F{number}"


class Fulfillment(db.Model):
    """Units of some order lines shipped (or to be shipped) from one stock location."""

    __tablename__ = "fulfillments"
    __table_args__ = (
        # The same platform fulfillment never exists twice (push echo, replays).
        UniqueConstraint("channel_id", "remote_id"),
        Index("ix_fulfillments_order_id_number", "order_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # 1, 2, ... within the order, in creation order (canceled ones keep theirs): see ``name``.
    # create_fulfillment gives it; the default only let the revision add the column on SQLite.
    number: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Null only for a platform fulfillment at an unmapped platform location (no stock moved).
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=FulfillmentStatus.PENDING)
    origin: Mapped[str] = mapped_column(String(16), default=Origin.APP)
    remote_id: Mapped[str | None] = mapped_column(String(255))
    tracking_number: Mapped[str] = mapped_column(String(255), default="")
    tracking_company: Mapped[str] = mapped_column(String(255), default="")
    tracking_url: Mapped[str] = mapped_column(String(2048), default="")
    notify_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    sync_state: Mapped[str] = mapped_column(String(16), default=SyncState.PENDING)
    sync_error: Mapped[str] = mapped_column(Text, default="")
    # Why stock was not touched (e.g. platform location not mapped); shown to the merchant.
    stock_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = created_at_column()
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Packed is its own fact: Shipped (tracking added) can still be on the shelves. Set by
    # the pack screen, an explicit "mark shipped", or a platform fulfillment made shipped.
    packed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    order: Mapped[Order] = relationship()
    location: Mapped[StockLocation | None] = relationship()
    lines: Mapped[list[FulfillmentLine]] = relationship(
        back_populates="fulfillment", order_by="FulfillmentLine.id", cascade="all, delete-orphan")

    @property
    def name(self) -> str:
        """What the merchant calls it, as Shopify names fulfillments: "#1001-F2"."""
        return fulfillment_name(self.order.name, self.number)

    @property
    def is_live(self) -> bool:
        """Counts toward fulfilled quantities (anything but canceled)."""
        return self.status != FulfillmentStatus.CANCELED

    @hybrid_property
    def to_pack(self) -> bool:
        """Still on the shelves: Pending or Shipped, and not packed (pick list, pack screen)."""
        return self.status in TO_PACK_STATUSES and self.packed_at is None

    @to_pack.inplace.expression
    @classmethod
    def _to_pack_expression(cls):
        return and_(cls.status.in_(TO_PACK_STATUSES), cls.packed_at.is_(None))


class FulfillmentLine(db.Model):
    """Quantity of one order line in a fulfillment, and the item whose stock it moved."""

    __tablename__ = "fulfillment_lines"
    __table_args__ = (
        UniqueConstraint("fulfillment_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    fulfillment_id: Mapped[int] = mapped_column(
        ForeignKey("fulfillments.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"),
                                               index=True)
    # The item whose stock was taken; null when the line had none (nothing to restore).
    inventory_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_items.id", ondelete="SET NULL"))
    quantity: Mapped[int] = mapped_column(Integer)
    # True when this line decremented stock (so cancel restores it, and only then).
    stock_moved: Mapped[bool] = mapped_column(Boolean, default=False)
    remote_id: Mapped[str | None] = mapped_column(String(255))

    fulfillment: Mapped[Fulfillment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
    inventory_item: Mapped[InventoryItem | None] = relationship()
