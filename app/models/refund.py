"""Refund aggregate: a platform's refund of an order, recorded once, and what it put back."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import created_at_column, merchant_fk


class Refund(db.Model):
    """One refund of a platform order (Shopify Refund, WooCommerce order refund), by its
    remote id: a refund seen twice (redelivered, reconciled) is recorded, and restocks, once."""

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("channel_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    remote_id: Mapped[str] = mapped_column(String(255))
    #: What the merchant reads on the order's timeline: what moved, and what did not and why.
    summary: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[dt.datetime] = created_at_column()

    lines: Mapped[list[RefundLine]] = relationship(back_populates="refund",
                                                   cascade="all, delete-orphan",
                                                   order_by="RefundLine.id")


class RefundLine(db.Model):
    """Units of one order line in a refund: refunded, and put back at a stock location."""

    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"),
                                           index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"),
                                               index=True)
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("stock_locations.id", ondelete="SET NULL"))
    quantity: Mapped[int] = mapped_column(Integer)  # refunded on the platform
    restocked: Mapped[int] = mapped_column(Integer, default=0)  # put back in Stockroom

    refund: Mapped[Refund] = relationship(back_populates="lines")
