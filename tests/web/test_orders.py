"""Orders list (filters, search, counts, keyset pages, polling fragment) and the order page."""
import datetime as dt
import re

from sqlalchemy import select

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import Channel, Merchant, Order, OrderLine
from app.web.read_models.orders import (Cursor, OrderFilters, order_status_counts, orders_page,
                                        resolve_search)
from tests.fixtures.factories import make_channel, make_order

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def _orders(merchant_id, count, *, same_time_every=3):
    channel = make_channel(db.session.get(Merchant, merchant_id))
    for n in range(count):
        order = Order(merchant_id=merchant_id, channel_id=channel.id, remote_id=f"r{n}",
                      name=f"#{5000 + n}", customer_name=f"Customer {n}",
                      # Groups of equal placed_at: the id must break the ties.
                      placed_at=T0 + dt.timedelta(minutes=n // same_time_every))
        order.lines.append(OrderLine(merchant_id=merchant_id, remote_id=f"l{n}", quantity=1,
                                     sku=f"SKU-{n}", title="Thing"))
        db.session.add(order)
    db.session.commit()
    return channel


def test_orders_page_keyset_has_no_duplicates_or_gaps(shop):
    _orders(shop.merchant_id, 47)
    seen, cursor = [], None
    while True:
        page = orders_page(shop.merchant_id, OrderFilters(), cursor, limit=10)
        seen += [o.id for o in page.orders]
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())
    expected = db.session.scalars(select(Order.id).where(Order.merchant_id == shop.merchant_id)
                                  .order_by(Order.placed_at.desc(), Order.id.desc())).all()
    assert seen == list(expected) and len(seen) == 48


def test_list_orders_next_page_link_walks_everything(shop, browser):
    _orders(shop.merchant_id, 120)
    names, url = [], "/orders"
    while url:
        body = browser.get(url).get_data(as_text=True)
        names += re.findall(r'<a href="/orders/\d+">(#\d+)</a>', body)
        match = re.search(r'rel="next" href="([^"]+)"', body)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert len(names) == 121 and len(set(names)) == 121


def test_cursor_decode_rejects_garbage():
    assert Cursor.decode("not-base64!") is None
    assert Cursor.decode("") is None


def test_list_orders_status_filter_and_counts(shop, browser):
    other = make_order(db.session.get(Channel, shop.order.channel_id), [(shop.mug, 1)])
    create_fulfillment(other.id, {other.lines[0].id: 1}, shop.main.id, merchant_id=shop.merchant_id)
    db.session.commit()
    body = browser.get("/orders?status=fulfilled").get_data(as_text=True)
    assert other.name in body and shop.order.name not in body
    assert 'data-status="fulfilled">1<' in body and 'data-status="unfulfilled">1<' in body
    assert 'data-status="all">2<' in body
    body = browser.get("/orders?status=unfulfilled").get_data(as_text=True)
    assert shop.order.name in body and other.name not in body
    body = browser.get(f"/orders?location={shop.main.id}").get_data(as_text=True)
    assert other.name in body and shop.order.name not in body


def test_list_orders_search_by_number_customer_email_sku(shop, browser):
    for term in [shop.order.name, "ada love", "ADA@EXAMPLE", "tote-1"]:
        assert shop.order.name in browser.get("/orders", query_string={"q": term}).get_data(as_text=True)
    body = browser.get("/orders", query_string={"q": "zzz%"}).get_data(as_text=True)
    assert shop.order.name not in body and "No orders match" in body


def test_list_orders_channel_filter(shop, browser):
    body = browser.get(f"/orders?channel={shop.order.channel_id + 999}").get_data(as_text=True)
    assert shop.order.name not in body


def test_list_orders_full_page_vs_fragment(shop, browser):
    full = browser.get("/orders")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]
    fragment = browser.hx_get("/orders?q=ada", "order-rows")
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<section id="order-rows"')
    assert 'hx-trigger="every 10s, ordersChanged from:body"' in body and shop.order.name in body
    # A history restore needs the whole page again.
    restore = browser.client.get("/orders", headers={"HX-Request": "true", "HX-Target": "order-rows",
                                                     "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_customer_name_is_escaped(shop, browser):
    order = db.session.get(Order, shop.order.id)
    order.customer_name = '<script>alert("x")</script>'
    db.session.commit()
    for url in ["/orders", f"/orders/{order.id}"]:
        body = browser.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "&lt;script&gt;alert" in body


def test_show_order_lines_cards_and_timeline(shop, browser):
    order = shop.order
    f = create_fulfillment(order.id, {order.lines[0].id: 2}, shop.main.id, merchant_id=shop.merchant_id)
    f.tracking_url, f.tracking_number = "https://www.ups.com/track?tracknum=1Z9", "1Z9"
    db.session.commit()
    body = browser.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Not shipped" in body and 'data-not-shipped="1"' in body
    assert f'id="fulfillment-{f.id}"' in body and "Main warehouse" in body
    assert 'href="https://www.ups.com/track?tracknum=1Z9"' in body
    assert "Syncing" in body and "Stockroom" in body
    assert "Fulfillment created" in body and "Waiting to push" in body
    assert 'hx-confirm="Cancel fulfillment' in body
    fragment = browser.hx_get(f"/orders/{order.id}", "order-detail").get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="order-detail"')


def test_show_order_failed_sync_shows_error_and_retry(shop, browser):
    from app.models import OutboxEvent

    order = shop.order
    f = create_fulfillment(order.id, {order.lines[0].id: 1}, shop.main.id, merchant_id=shop.merchant_id)
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.order_id == order.id))
    event.status, event.attempts, event.last_error = "dead", 8, "Shopify said: location not active"
    f.sync_state = "failed"
    db.session.commit()
    body = browser.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Sync failed" in body and "Shopify said: location not active" in body
    assert f"/sync/outbox/{event.id}/retry" in body


def test_home_shows_counts_and_stock(shop, browser):
    body = browser.get("/").get_data(as_text=True)
    assert "Acme Goods" in body and "MUG-1" in body and "Main warehouse" in body


def test_show_order_shopify_fulfillment_orders(shop, browser):
    import pytest

    import app.models as models

    model = getattr(models, "FulfillmentOrder", None)
    if model is None:
        pytest.skip("the Shopify fulfillment-order mirror is not in this build")
    fo = model(merchant_id=shop.merchant_id, channel_id=shop.order.channel_id,
               order_id=shop.order.id, remote_id="gid://shopify/FulfillmentOrder/1",
               status="OPEN", assigned_location_name="Shop <East>",
               supported_actions=["CREATE_FULFILLMENT", "HOLD", "MOVE"])
    fo.lines.append(models.FulfillmentOrderLine(
        merchant_id=shop.merchant_id, remote_id="gid://shopify/FulfillmentOrderLineItem/1",
        order_line_id=shop.order.lines[0].id, total_quantity=3, remaining_quantity=3))
    db.session.add(fo)
    db.session.commit()
    body = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert "Shopify fulfillment orders" in body and "Shop &lt;East&gt;" in body
    assert "3 of 3 left" in body and "Put on hold" in body and ">Fulfill<" in body


def test_status_filters_and_counts_agree_with_order_status(shop):
    """The SQL status rules match app.orders.order_status on every kind of order."""
    from collections import Counter

    from app.orders import order_status
    from app.web.read_models.orders import order_status_counts

    channel = db.session.get(Channel, shop.order.channel_id)
    empty = make_order(channel, [])
    zero = make_order(channel, [(None, 0)])
    partial = make_order(channel, [(None, 2), (None, 1)])
    partial.lines[0].fulfilled_quantity = 1
    full = make_order(channel, [(None, 2)])
    full.lines[0].fulfilled_quantity = 2
    canceled = make_order(channel, [(None, 1)])
    canceled.cancelled_at = T0
    db.session.commit()
    orders = db.session.scalars(select(Order).where(Order.merchant_id == shop.merchant_id)).all()
    expected = Counter(order_status(o).value for o in orders)
    counts = order_status_counts(shop.merchant_id, OrderFilters())
    assert counts["all"] == len(orders) == 6
    for status in ("unfulfilled", "partially_fulfilled", "fulfilled", "canceled"):
        assert counts[status] == expected[status], status
        page = orders_page(shop.merchant_id, OrderFilters(status=status))
        assert {o.id for o in page.orders} == {o.id for o in orders
                                               if order_status(o).value == status}
    assert {empty.id, zero.id} <= {o.id for o in orders if order_status(o).value == "unfulfilled"}


def _poll_url(body: str, element_id: str) -> str:
    tag = re.search(rf'<[^>]*id="{element_id}"[^>]*>', body).group(0)
    return re.search(r'hx-get="([^"]+)"', tag).group(1).replace("&amp;", "&")


def test_polls_answer_204_until_the_order_changes(shop, browser):
    order = shop.order
    rows_poll = _poll_url(browser.hx_get("/orders", "order-rows").get_data(as_text=True),
                          "order-rows")
    detail_poll = _poll_url(browser.get(f"/orders/{order.id}").get_data(as_text=True),
                            "order-watch")
    assert "since=" in rows_poll and "since=" in detail_poll
    assert browser.hx_get(rows_poll, "order-rows").status_code == 204
    assert browser.hx_get(detail_poll, "order-detail").status_code == 204
    # What a webhook does: the order changes behind the merchant's back.
    create_fulfillment(order.id, {order.lines[0].id: 1}, shop.main.id,
                       merchant_id=shop.merchant_id)
    db.session.commit()
    rows = browser.hx_get(rows_poll, "order-rows")
    assert rows.status_code == 200 and "Partially fulfilled" in rows.get_data(as_text=True)
    detail = browser.hx_get(detail_poll, "order-detail")
    body = detail.get_data(as_text=True)
    assert detail.status_code == 200 and body.lstrip().startswith('<div id="order-detail"')
    assert "Fulfillment created" in body
    assert _poll_url(body, "order-watch") != detail_poll
    # A full page load never answers 204, whatever ``since`` says.
    assert browser.get(detail_poll).status_code == 200


def test_order_timeline_shows_webhooks_and_pushes_both_directions(shop, browser):
    from app.models import OutboxEvent, WebhookInbox

    order = db.session.get(Order, shop.order.id)
    order.remote_id = "gid://shopify/Order/77"
    other = make_order(order.channel, [(shop.mug, 1)])
    other.remote_id = "gid://shopify/Order/78"
    for n, (remote, topic, status, error) in enumerate([
            ("gid://shopify/Order/77", "orders/updated", "done", ""),
            ("gid://shopify/Order/77", "fulfillments/create", "dead", "Order not found"),
            ("gid://shopify/Order/78", "orders/cancelled", "done", "")]):
        db.session.add(WebhookInbox(merchant_id=shop.merchant_id, channel_id=order.channel_id,
                                    topic=topic, dedupe_key=f"evt-{n}", headers={}, body=b"{}",
                                    status=status, attempts=8 if error else 1, last_error=error,
                                    order_remote_id=remote))
    create_fulfillment(order.id, {order.lines[0].id: 1}, shop.main.id,
                       merchant_id=shop.merchant_id)
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.order_id == order.id))
    event.status = "done"
    db.session.commit()
    body = browser.get(f"/orders/{order.id}").get_data(as_text=True)
    timeline = body[body.index('id="order-timeline"'):]
    assert f"Shopify: Order {order.name} changed" in timeline and "applied" in timeline
    assert f"Shopify: Fulfillment made for order {order.name}" in timeline
    assert "applying failed after 8 attempts" in timeline and "Order not found" in timeline
    dead = db.session.scalar(select(WebhookInbox.id).where(WebhookInbox.dedupe_key == "evt-1"))
    assert f"/sync/inbox/{dead}/retry" in timeline
    assert "Pushed to" in timeline and "Fulfillment created" in timeline
    assert "canceled</strong>" not in timeline  # another order's webhook (orders/cancelled)


def _found(merchant_id, term):
    """Names found by the search subquery; the listed-ids path must find the same."""
    by_query = sorted(o.name for o in orders_page(merchant_id, OrderFilters(q=term)).orders)
    listed = resolve_search(merchant_id, OrderFilters(q=term))
    assert listed.matched_ids is not None
    by_ids = sorted(o.name for o in orders_page(merchant_id, listed).orders)
    assert by_ids == by_query
    counts = order_status_counts(merchant_id, listed)
    assert counts == order_status_counts(merchant_id, OrderFilters(q=term))
    assert counts["all"] == len(by_query)
    return by_query


def test_orders_search_substrings_through_the_search_indexes(app):
    """The search indexes (trigram GIN / FTS5) find what LIKE '%term%' would, and only that."""
    merchant, stranger = Merchant(name="M"), Merchant(name="S")
    db.session.add_all([merchant, stranger])
    db.session.flush()
    channel, theirs = make_channel(merchant), make_channel(stranger)

    def order(ch, name, customer, email, *skus):
        row = Order(merchant_id=ch.merchant_id, channel_id=ch.id, remote_id=name, name=name,
                    customer_name=customer, customer_email=email, placed_at=T0)
        row.lines = [OrderLine(merchant_id=ch.merchant_id, remote_id=f"{name}-{i}", quantity=1,
                               sku=sku, title="Thing") for i, sku in enumerate(skus)]
        db.session.add(row)
        return row

    first = order(channel, "#1001", "Grace Hopper", "grace@navy.test", "MUG-RED-01", "TOTE-9")
    order(channel, "#1002", "Ada Lovelace", "ada@engine.test", "A_B%C")
    order(channel, "#1003", "Alan Turing", "alan@bletchley.test", "AXBYC")
    order(theirs, "#1004", "Grace Jones", "grace@stranger.test", "MUG-RED-01")
    db.session.commit()
    m = merchant.id
    assert _found(m, "HOPPER") == ["#1001"]  # case-insensitive, customer name
    assert _found(m, "navy.te") == ["#1001"]  # email
    assert _found(m, "red-0") == ["#1001"]  # a line's SKU; not the stranger's order
    assert _found(m, "#100") == ["#1001", "#1002", "#1003"]  # order names
    assert _found(m, "e") == ["#1001", "#1002", "#1003"]  # shorter than a trigram
    assert _found(m, "_B%") == ["#1002"]  # wildcards are literal characters
    assert _found(m, "grace jones") == []
    assert _found(stranger.id, "grace") == ["#1004"]

    # Changes reach the indexes: a renamed customer, a changed SKU, a deleted order.
    first.customer_name = "Grace Brewster"
    first.lines[1].sku = "BAG-7"
    db.session.commit()
    assert _found(m, "hopper") == [] and _found(m, "brewster") == ["#1001"]
    assert _found(m, "tote") == [] and _found(m, "bag-7") == ["#1001"]
    db.session.delete(first)
    db.session.commit()
    assert _found(m, "mug-red") == [] and _found(stranger.id, "mug-red") == ["#1004"]


def test_resolve_search_lists_only_a_few_matches(app, monkeypatch):
    from app.web.read_models import orders as order_list

    merchant = Merchant(name="M")
    db.session.add(merchant)
    db.session.flush()
    _orders(merchant.id, 3)
    monkeypatch.setattr(order_list, "MATCHES_LISTED", 2)
    many = resolve_search(merchant.id, OrderFilters(q="customer"))  # 3 matches: too many
    assert many.matched_ids is None
    assert len(orders_page(merchant.id, many).orders) == 3
    few = resolve_search(merchant.id, OrderFilters(q="Customer 1"))
    assert few.matched_ids is not None and len(few.matched_ids) == 1
    assert [o.customer_name for o in orders_page(merchant.id, few).orders] == ["Customer 1"]
