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


def _stored(order_id: int) -> str:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Order

    db.session.expire_all()
    return db.session.scalar(select(Order.fulfillment_status).where(Order.id == order_id))


def test_stored_fulfillment_status_follows_every_change(app):
    import datetime as dt

    from app.extensions import db
    from app.fulfillment import cancel_fulfillment, create_fulfillment
    from app.orders.upsert import LineData, OrderData, upsert_order
    from tests.fixtures.factories import (make_channel, make_item, make_location,
                                          make_merchant, stock)

    merchant = make_merchant()
    location, item = make_location(merchant), make_item(merchant)
    stock(location, item, 10)
    channel = make_channel(merchant)
    placed = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    order = upsert_order(merchant.id, channel.id, OrderData(
        "R1", "#1", placed, [LineData("L1", 2, sku=item.sku), LineData("L2", 1, sku=item.sku)]))
    db.session.commit()
    assert _stored(order.id) == "unfulfilled"
    line1, line2 = order.lines
    first = create_fulfillment(order.id, {line1.id: 2}, location.id, merchant_id=merchant.id)
    db.session.commit()
    assert _stored(order.id) == "partially_fulfilled"
    create_fulfillment(order.id, {line2.id: 1}, location.id, merchant_id=merchant.id)
    db.session.commit()
    assert _stored(order.id) == "fulfilled"
    cancel_fulfillment(first.id, merchant_id=merchant.id)
    db.session.commit()
    assert _stored(order.id) == "partially_fulfilled"
    upsert_order(merchant.id, channel.id, OrderData(
        "R1", "#1", placed, [LineData("L1", 2, sku=item.sku), LineData("L2", 1, sku=item.sku)],
        cancelled_at=placed))
    db.session.commit()
    assert _stored(order.id) == "canceled"
