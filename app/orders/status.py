"""Derived order fulfillment status: never stored, always computed from the lines."""
from __future__ import annotations

import enum

from app.models import Order


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
    ordered = sum(line.quantity for line in order.lines)
    fulfilled = sum(line.fulfilled_quantity for line in order.lines)
    if ordered > 0 and fulfilled >= ordered:
        return OrderStatus.FULFILLED
    if fulfilled > 0:
        return OrderStatus.PARTIALLY_FULFILLED
    return OrderStatus.UNFULFILLED
