"""Derived order fulfillment status: computed from the lines, stored on the order for lists."""
from __future__ import annotations

import enum

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models import Order, OrderLine


class OrderStatus(enum.StrEnum):
    """What the merchant sees as the order's fulfillment status."""

    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        """Human label: "Partially fulfilled"."""
        return self.value.replace("_", " ").capitalize()


def order_status(order: Order) -> OrderStatus:
    """Canceled if the order is; else from ordered vs fulfilled units of its lines."""
    if order.cancelled_at is not None:
        return OrderStatus.CANCELED
    # Lines not flushed yet may still lack their column defaults (None = 0).
    ordered = sum(line.quantity or 0 for line in order.lines)
    fulfilled = sum(line.fulfilled_quantity or 0 for line in order.lines)
    if ordered > 0 and fulfilled >= ordered:
        return OrderStatus.FULFILLED
    if fulfilled > 0:
        return OrderStatus.PARTIALLY_FULFILLED
    return OrderStatus.UNFULFILLED


@event.listens_for(Session, "before_flush")
def _store_fulfillment_status(session: Session, _context, _instances) -> None:
    """Recompute ``Order.fulfillment_status`` of every order flushed with changes.

    Any change of an order (cancelled_at) or of its lines (quantity, fulfilled_quantity,
    new lines) goes through a flush, wherever it was made, so the stored status can't
    drift from :func:`order_status`. Only ORM changes are seen: a bulk UPDATE of lines
    must set the status itself (app/seed_bulk.py does).
    """
    orders = set()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Order):
            orders.add(obj)
        elif isinstance(obj, OrderLine):
            with session.no_autoflush:
                order = obj.order
            if order is not None:
                orders.add(order)
    with session.no_autoflush:
        for order in orders:
            if order in session.deleted:
                continue
            status = order_status(order).value
            if order.fulfillment_status != status:
                order.fulfillment_status = status
