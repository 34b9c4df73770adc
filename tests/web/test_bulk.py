"""Bulk fulfill of selected orders: a few per request with progress, each order all or nothing."""
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, Fulfillment
from tests.fixtures.factories import make_order


def _orders(shop, count):
    channel = db.session.get(Channel, shop.order.channel_id)
    orders = [make_order(channel, [(shop.tote, 1)]) for _ in range(count)]
    db.session.commit()
    return [o.id for o in orders]


def test_bulk_fulfill_steps_until_done(shop, browser):
    ids = _orders(shop, 7) + [shop.order.id]  # totes: 1 at Main, 4 at Downtown
    browser.get("/orders")
    data = {"order_id": [str(i) for i in ids], "location_id": ""}
    response = browser.post("/orders/bulk-fulfill", data, target="bulk-progress")
    rounds = 1
    while 'hx-trigger="load' in response.get_data(as_text=True):
        body = response.get_data(as_text=True)
        assert body.lstrip().startswith('<section id="bulk-progress"')
        fields = re.findall(r'name="(order_id|result|location_id|form_token)" value="([^"]*)"', body)
        data = {}
        for name, value in fields:
            data.setdefault(name, []).append(value.replace("&#34;", '"').replace("&quot;", '"'))
        response = browser.post("/orders/bulk-fulfill", data, target="bulk-progress")
        rounds += 1
    body = response.get_data(as_text=True)
    assert rounds == 2 and "8 of 8 orders processed: 5 fulfilled, 3 skipped." in body
    assert "No single location has every tracked item" in body  # the mugs + totes order
    assert db.session.scalar(select(func.count()).select_from(Fulfillment)) == 5


def test_bulk_fulfill_without_htmx_does_all_at_once(shop, browser):
    ids = _orders(shop, 3)
    browser.get("/orders")
    response = browser.post("/orders/bulk-fulfill", {"order_id": [str(i) for i in ids],
                                                     "location_id": str(shop.second.id)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    assert "3 of 3 orders processed: 3 fulfilled, 0 skipped." in body


def test_bulk_fulfill_ignores_other_merchants_orders(shop, browser):
    from tests.fixtures.factories import make_channel, make_merchant

    stranger = make_order(make_channel(make_merchant()), [(None, 1)])
    db.session.commit()
    browser.get("/orders")
    body = browser.post("/orders/bulk-fulfill", {"order_id": [str(stranger.id)],
                                                 "result": ["not json"]}).get_data(as_text=True)
    assert "That order does not exist." in body
    assert db.session.scalar(select(func.count()).select_from(Fulfillment)) == 0
