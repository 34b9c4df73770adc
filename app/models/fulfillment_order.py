"""Mirror of Shopify's fulfillment orders: status, location, supported actions, remaining units."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models._common import UTCDateTime, merchant_fk, utcnow


class FulfillmentOrder(db.Model):
    """A Shopify fulfillment order as last read from the API (never edited locally)."""

    __tablename__ = "fulfillment_orders"
    __table_args__ = (UniqueConstraint("channel_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    remote_id: Mapped[str] = mapped_column(String(255))  # gid://shopify/FulfillmentOrder/…
    status: Mapped[str] = mapped_column(String(32))  # OPEN, IN_PROGRESS, CLOSED, …
    request_status: Mapped[str] = mapped_column(String(32), default="UNSUBMITTED")
    assigned_location_remote_id: Mapped[str] = mapped_column(String(255), default="")
    assigned_location_name: Mapped[str] = mapped_column(String(255), default="")
    supported_actions: Mapped[list] = mapped_column(JSON, default=list)
    external_url: Mapped[str] = mapped_column(String(2048), default="")
    #: Shopify's fulfillment holds: [{"id", "reason", "reasonNotes"}]; a release names them.
    holds: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                      onupdate=utcnow)

    lines: Mapped[list[FulfillmentOrderLine]] = relationship(
        back_populates="fulfillment_order", order_by="FulfillmentOrderLine.id",
        cascade="all, delete-orphan")


class FulfillmentOrderLine(db.Model):
    """A line item of a fulfillment order with its remaining (unfulfilled) quantity."""

    __tablename__ = "fulfillment_order_lines"
    __table_args__ = (UniqueConstraint("fulfillment_order_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    fulfillment_order_id: Mapped[int] = mapped_column(
        ForeignKey("fulfillment_orders.id", ondelete="CASCADE"), index=True)
    remote_id: Mapped[str] = mapped_column(String(255))  # gid://shopify/FulfillmentOrderLineItem/…
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    total_quantity: Mapped[int] = mapped_column(Integer)
    remaining_quantity: Mapped[int] = mapped_column(Integer)

    fulfillment_order: Mapped[FulfillmentOrder] = relationship(back_populates="lines")
