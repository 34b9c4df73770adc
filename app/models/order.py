"""Order aggregate: an order from a channel and its lines (ordered and fulfilled quantities)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk, utcnow
from app.models.channel import Channel
from app.models.stock import InventoryItem


class Order(db.Model):
    """An order as received from a channel; its fulfillment status is derived."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel_id", "remote_id"),
        # Keyset pagination of the dashboard: newest first per merchant.
        Index("ix_orders_merchant_placed", "merchant_id", "placed_at", "id"),
        # Status counts (an index-only pass) and the status filter in keyset order.
        Index("ix_orders_merchant_status_placed", "merchant_id", "fulfillment_status",
              "placed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    remote_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(64))  # what the merchant calls it: "#1001"
    customer_name: Mapped[str] = mapped_column(String(255), default="")
    customer_email: Mapped[str] = mapped_column(String(320), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_price: Mapped[str] = mapped_column(String(32), default="0.00")  # decimal string
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    remote_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()
    # app.orders.order_status of the order, kept up to date before every flush that
    # touches the order or its lines (app/orders/status.py), so lists can count and
    # filter by status through an index instead of summing every order's lines.
    fulfillment_status: Mapped[str] = mapped_column(String(24), default="unfulfilled",
                                                    server_default=text("'unfulfilled'"))

    channel: Mapped[Channel] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                  cascade="all, delete-orphan")


class OrderStatusCount(db.Model):
    """A signed number of one channel's orders in one fulfillment status.

    The orders list's status counts are the sum of a merchant's rows: every flush that
    creates, deletes or changes the status of an order appends its deltas here
    (app/orders/status.py) without touching any shared row, so concurrent fulfillments
    never wait on a counter; the scheduler folds them back into one row per status from
    a recount (app/orders/counts.py). Counting is then O(rows here), not O(orders).
    """

    __tablename__ = "order_status_counts"
    __table_args__ = (
        Index("ix_order_status_counts_merchant_channel", "merchant_id", "channel_id",
              "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("merchants.id", ondelete="CASCADE"), nullable=False)
    # Deleting a channel deletes its orders and, with them, their counts.
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    status: Mapped[str] = mapped_column(String(24))
    n: Mapped[int] = mapped_column(Integer)


class OrderLine(db.Model):
    """One line of an order; fulfilled_quantity counts units in live fulfillments."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "remote_id"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        # The over-fulfillment invariant, enforced by the database as a last line.
        CheckConstraint("fulfilled_quantity >= 0 AND fulfilled_quantity <= quantity",
                        name="fulfilled_within_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    remote_id: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(512), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    fulfilled_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Null when no InventoryItem has the line's SKU: fulfilling it moves no stock.
    inventory_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("inventory_items.id", ondelete="SET NULL"), index=True)

    order: Mapped[Order] = relationship(back_populates="lines")
    inventory_item: Mapped[InventoryItem | None] = relationship()

    @property
    def not_shipped_quantity(self) -> int:
        """Units not in any live (non-canceled) fulfillment: the merchant's "Not shipped"."""
        return self.quantity - self.fulfilled_quantity
