"""The order page's Shopify fulfillment orders: offered actions, forms, refusals, errors inline."""
import re
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelLocation, FulfillmentOrder, FulfillmentOrderLine, Order
from tests.fixtures.factories import make_channel, make_order


def add_fo(shop, *, status="OPEN", actions=("CREATE_FULFILLMENT", "MOVE", "HOLD"),
           location="gid://shopify/Location/1", location_name="Main Warehouse",
           request_status="UNSUBMITTED", external_url="", holds=(), order=None, n=[0]):
    """A mirrored fulfillment order of the shop's order, one line per order line."""
    n[0] += 1
    order = order or shop.order
    fo = FulfillmentOrder(merchant_id=order.merchant_id, channel_id=order.channel_id,
                          order_id=order.id, remote_id=f"gid://shopify/FulfillmentOrder/{n[0]}",
                          status=status, request_status=request_status,
                          assigned_location_remote_id=location,
                          assigned_location_name=location_name, supported_actions=list(actions),
                          external_url=external_url, holds=list(holds))
    for i, line in enumerate(order.lines):
        fo.lines.append(FulfillmentOrderLine(
            merchant_id=order.merchant_id, order_line_id=line.id, total_quantity=line.quantity,
            remaining_quantity=line.quantity,
            remote_id=f"gid://shopify/FulfillmentOrderLineItem/{n[0]}{i}"))
    db.session.add(fo)
    db.session.commit()
    return fo


@pytest.fixture
def locations(shop):
    """The order's channel has Main Warehouse (mapped to the main stock location) and Downtown."""
    channel_id = shop.order.channel_id
    main = ChannelLocation(merchant_id=shop.merchant_id, channel_id=channel_id,
                           remote_id="gid://shopify/Location/1", name="Main Warehouse",
                           stock_location_id=shop.main.id)
    downtown = ChannelLocation(merchant_id=shop.merchant_id, channel_id=channel_id,
                               remote_id="gid://shopify/Location/2", name="Downtown Store")
    db.session.add_all([main, downtown])
    db.session.commit()
    return type("Locations", (), {"main": main.id, "downtown": downtown.id})


def page(browser, shop):
    return browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)


def fo_block(body, fo_id):
    start = body.index(f'id="fulfillment-order-{fo_id}"')
    end = body.find('<div class="fo" id="fulfillment-order-', start + 10)
    return body[start:end if end > 0 else len(body)]


def test_fulfillment_orders_fragment_offers_only_supported_actions(shop, browser, locations):
    merchant = add_fo(shop)
    third_party = add_fo(shop, actions=["CANCEL_FULFILLMENT_ORDER", "REQUEST_CANCELLATION"],
                         location="gid://shopify/Location/3", location_name="ShipFast 3PL",
                         request_status="SUBMITTED")
    closed = add_fo(shop, status="CLOSED", actions=["MOVE"], location_name="Closed Place")
    body = page(browser, shop)
    block = fo_block(body, merchant.id)
    assert "Move to another location" in block and "Put on hold" in block
    assert "Request fulfillment" not in block and "Cancel fulfillment order" not in block
    assert "Release hold" not in block
    other = fo_block(body, third_party.id)
    assert "Cancel fulfillment order" in other and "Request cancellation" in other
    assert "Move to another location" not in other and ">Fulfill<" not in other
    assert "hx-confirm=" in other  # both destructive actions ask first
    assert f'id="fulfillment-order-{closed.id}"' not in body and "Closed Place" not in body
    # Every action form posts without JavaScript too, with its CSRF token.
    forms = re.findall(r'<form class="form" method="post" action="([^"]+)"', body)
    assert f"/fulfillment-orders/{merchant.id}/move" in forms
    assert all(f.startswith("/fulfillment-orders/") for f in forms)
    assert body.count('name="csrf_token"') >= len(forms)


def test_fulfillment_orders_fragment_fulfill_link_preselects_lines_and_location(shop, browser,
                                                                                 locations):
    fo = add_fo(shop)
    fo.lines[1].remaining_quantity = 1
    db.session.commit()
    block = fo_block(page(browser, shop), fo.id)
    href = re.search(r'href="([^"]+)"[^>]*>(?:<span[^>]*>)?Fulfill<', block).group(1)
    href = href.replace("&amp;", "&")
    mug_line, tote_line = shop.order.lines
    assert f"location_id={shop.main.id}" in href
    assert f"qty-{mug_line.id}=3" in href and f"qty-{tote_line.id}=1" in href
    form = browser.get(href).get_data(as_text=True)
    assert re.search(rf'name="qty-{tote_line.id}"[^>]*value="1"', form)
    assert re.search(rf'value="{shop.main.id}"[^>]*checked', form)


def test_fulfillment_orders_fragment_external_link_and_holds(shop, browser, locations):
    external = add_fo(shop, actions=["EXTERNAL", "MOVE", "HOLD"],
                      external_url="https://fulfillment.example.com/orders/7",
                      location_name="Marketplace Fulfillment")
    unsafe = add_fo(shop, actions=["EXTERNAL"], external_url="javascript:alert(1)")
    held = add_fo(shop, status="ON_HOLD", actions=["RELEASE_HOLD", "HOLD", "MOVE"],
                  holds=[{"id": "gid://shopify/FulfillmentHold/9", "reason": "AWAITING_PAYMENT",
                          "reasonNotes": "Bank <transfer>"}])
    body = page(browser, shop)
    assert 'href="https://fulfillment.example.com/orders/7" target="_blank" rel="noopener noreferrer"' \
        in fo_block(body, external.id)
    assert "javascript:" not in body and "Open in" not in fo_block(body, unsafe.id)
    block = fo_block(body, held.id)
    assert "Release hold" in block and "Awaiting payment — Bank &lt;transfer&gt;" in block


def test_change_fulfillment_order_not_supported_refused_before_shopify(shop, browser, locations):
    fo = add_fo(shop, actions=["CREATE_FULFILLMENT", "MOVE", "REQUEST_FULFILLMENT"])
    closed = add_fo(shop, actions=["MOVE"])
    browser.get(f"/orders/{shop.order.id}")  # both forms shown, with their tokens
    # Shopify's state moved on since the page was rendered (a webhook, another admin).
    fo.supported_actions, closed.status = ["CREATE_FULFILLMENT", "MOVE"], "CLOSED"
    db.session.commit()
    response = browser.post(f"/fulfillment-orders/{fo.id}/request-fulfillment", {"message": "hi"})
    # Refused before any call: this channel has no token, a call would answer 502.
    assert response.status_code == 409
    assert "doesn't allow “request fulfillment”" in unescape(response.get_data(as_text=True))
    assert browser.post(f"/fulfillment-orders/{closed.id}/move",
                        {"location_id": locations.downtown}).status_code == 409


def test_change_fulfillment_order_input_errors_inline(shop, browser, locations):
    fo = add_fo(shop)
    browser.get(f"/orders/{shop.order.id}")
    mug_fol = fo.lines[0]
    response = browser.post(f"/fulfillment-orders/{fo.id}/move",
                            {"location_id": locations.main, f"qty-{mug_fol.id}": "9"},
                            target="fulfillment-orders")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<section") and 'id="fulfillment-orders"' in body
    assert "<details class=\"fo-action\" open>" in body
    assert "already assigned to this location" in body and "Only 3 left here." in body
    response = browser.post(f"/fulfillment-orders/{fo.id}/hold", {"reason": "NOPE",
                                                                 f"qty-{mug_fol.id}": "x"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<!doctype html>" in body  # no JS: the whole page
    assert "Choose why the items are on hold." in body and "Enter a whole number." in body
    response = browser.post(f"/fulfillment-orders/{fo.id}/hold", {
        "reason": "OTHER", **{f"qty-{fol.id}": "0" for fol in fo.lines}})
    assert response.status_code == 422 and "Choose at least one item." in response.get_data(
        as_text=True)


def test_change_fulfillment_order_shopify_not_configured_is_readable(shop, browser, locations):
    """No Shopify settings in this app: the merchant reads why, nothing is half-done."""
    fo = add_fo(shop)
    browser.get(f"/orders/{shop.order.id}")
    response = browser.post(f"/fulfillment-orders/{fo.id}/move",
                            {"location_id": locations.downtown}, target="fulfillment-orders")
    body = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "Shopify did not accept the request: Shopify is not configured" in body
    assert db.session.scalar(select(FulfillmentOrder.assigned_location_name).where(
        FulfillmentOrder.id == fo.id)) == "Main Warehouse"


def test_change_fulfillment_order_other_merchant_not_found(shop, browser, locations):
    from app.models import Merchant

    other = Merchant(name="Other", email="other@example.test")
    db.session.add(other)
    db.session.flush()
    their_order = make_order(make_channel(other), [(None, 1)])
    db.session.commit()
    theirs = add_fo(shop, order=db.session.get(Order, their_order.id))
    browser.get(f"/orders/{shop.order.id}")
    assert browser.post(f"/fulfillment-orders/{theirs.id}/move",
                        {"location_id": locations.downtown}).status_code == 404


def test_change_fulfillment_order_requires_csrf(shop, browser, locations):
    fo = add_fo(shop)
    browser.get(f"/orders/{shop.order.id}")
    assert browser.post(f"/fulfillment-orders/{fo.id}/move", {"location_id": locations.downtown},
                        csrf=False).status_code == 400
