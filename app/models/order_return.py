"""Return aggregate: units of an order that came back, recorded in Stockroom or on the platform."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import created_at_column, merchant_fk


class OrderReturn(db.Model):
    """A return of some fulfilled units of an order; ``remote_id`` is the platform's Return
    (Shopify) or order refund (WooCommerce) once pushed, or the one a webhook named: the
    same platform return is recorded, and restocks, once."""

    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("channel_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    #: "app" (recorded in Stockroom, pushed) or "platform" (came by webhook).
    origin: Mapped[str] = mapped_column(String(16), default="app")
    remote_id: Mapped[str | None] = mapped_column(String(255))
    #: What the merchant reads on the order's timeline.
    summary: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[dt.datetime] = created_at_column()

    lines: Mapped[list[OrderReturnLine]] = relationship(back_populates="order_return",
                                                        cascade="all, delete-orphan",
                                                        order_by="OrderReturnLine.id")


class OrderReturnLine(db.Model):
    """Units of one fulfillment line that came back, and whether they went back in stock."""

    __tablename__ = "return_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"),
                                           index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"),
                                               index=True)
    #: The fulfillment line the units were shipped in (Shopify returns name its remote id).
    fulfillment_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("fulfillment_lines.id", ondelete="SET NULL"), index=True)
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="SET NULL"))
    quantity: Mapped[int] = mapped_column(Integer)
    restock: Mapped[bool] = mapped_column(Boolean, default=False)
    restocked: Mapped[int] = mapped_column(Integer, default=0)  # put back in Stockroom
    remote_id: Mapped[str | None] = mapped_column(String(255))  # Shopify ReturnLineItem

    order_return: Mapped[OrderReturn] = relationship(back_populates="lines")
