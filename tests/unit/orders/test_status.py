"""Derived order status."""
import pytest

from app.models import Order, OrderLine
from app.models._common import utcnow
from app.orders import OrderStatus, order_status


def order_with(*pairs, cancelled=False):
    order = Order(cancelled_at=utcnow() if cancelled else None)
    order.lines = [OrderLine(quantity=q, fulfilled_quantity=f) for q, f in pairs]
    return order


@pytest.mark.parametrize("pairs, cancelled, expected", [
    ([(2, 0), (1, 0)], False, OrderStatus.UNFULFILLED),
    ([(2, 1), (1, 0)], False, OrderStatus.PARTIALLY_FULFILLED),
    ([(2, 2), (1, 1)], False, OrderStatus.FULFILLED),
    ([(2, 2)], True, OrderStatus.CANCELED),
    ([(0, 0)], False, OrderStatus.UNFULFILLED),
])
def test_order_status_derived_from_lines(pairs, cancelled, expected):
    assert order_status(order_with(*pairs, cancelled=cancelled)) == expected


def test_order_status_label_reads_naturally():
    assert OrderStatus.PARTIALLY_FULFILLED.label == "Partially fulfilled"
