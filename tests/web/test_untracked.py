"""Lines without an item: shown as not tracked, and every stock message says what moved."""
import html
import json

from sqlalchemy import select

from app.catalog import RemoteVariant, upsert_remote_listings
from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import Channel, ChannelListing, Fulfillment, InventoryLevel, OrderLine
from tests.fixtures.factories import make_order


def _on_hand(location, item):
    db.session.expire_all()
    return db.session.scalar(select(InventoryLevel.on_hand).where(
        InventoryLevel.location_id == location.id, InventoryLevel.item_id == item.id))


def _mixed_order(shop, *, sku="LATE-1"):
    """An order of 1 mug (tracked) and 2 of a line no item matches (SKU ``sku``)."""
    channel = db.session.get(Channel, shop.order.channel_id)
    order = make_order(channel, [(shop.mug, 1), (None, 2)])
    untracked = db.session.scalar(select(OrderLine).where(OrderLine.order_id == order.id,
                                                          OrderLine.inventory_item_id.is_(None)))
    untracked.sku, untracked.title = sku, "Late addition"
    db.session.commit()
    return order, untracked


def _toast(response):
    return json.loads(response.headers["HX-Trigger"])["showToast"]["message"]


def test_fulfill_form_shows_untracked_lines_and_tracked_availability(shop, browser):
    order, line = _mixed_order(shop)
    body = browser.get(f"/orders/{order.id}/fulfill").get_data(as_text=True)
    assert "Not tracked in Stockroom" in body
    assert 'href="/listings?status=all&amp;q=LATE-1"' in body  # match it there
    assert "Has everything tracked" in body and ">Has everything<" not in body
    assert "1 line not tracked in Stockroom (LATE-1): no stock moves for it" in body
    assert "Can&#39;t cover 1 line" in body  # Downtown has no mug: the tracked line counts
    assert "has every tracked item chosen; 1 line is not tracked" in body


def test_fulfill_form_with_only_untracked_lines_claims_no_stock(shop, browser):
    order, line = _mixed_order(shop)
    body = browser.hx_get(f"/orders/{order.id}/fulfill?qty-{order.lines[0].id}=0",
                          "fulfill-locations").get_data(as_text=True)
    assert "No tracked item chosen" in body and "Has everything" not in body
    assert "Nothing chosen is tracked in Stockroom: no stock moves" in body


def test_fulfill_and_cancel_say_what_really_moved(shop, browser):
    order, line = _mixed_order(shop)
    tracked = next(ln for ln in order.lines if ln.inventory_item_id)
    browser.get(f"/orders/{order.id}/fulfill")
    response = browser.post(f"/orders/{order.id}/fulfillments", {
        f"qty-{tracked.id}": "1", f"qty-{line.id}": "2", "location_id": str(shop.main.id)},
        follow_redirects=True)
    body = html.unescape(response.get_data(as_text=True))
    assert ("created. 1 unit taken from Main warehouse; 1 line is not tracked in Stockroom: "
            "no stock moved for it.") in body
    assert _on_hand(shop.main, shop.mug) == 4
    assert "× 2 · no stock moved" in body  # the fulfillment card's untracked line
    assert ("1 unit goes back into stock at Main warehouse; 1 line was not tracked in "
            "Stockroom: no stock moved for it.") in body  # the cancel button's confirmation
    fid = db.session.scalar(select(Fulfillment.id).where(Fulfillment.order_id == order.id))
    response = browser.post(f"/fulfillments/{fid}/cancel", target="order-detail")
    assert _toast(response) == ("Fulfillment canceled. 1 unit back in stock at Main warehouse; "
                                "1 line was not tracked in Stockroom: no stock moved for it.")
    assert _on_hand(shop.main, shop.mug) == 5


def test_cancel_of_a_fulfillment_that_moved_nothing_says_so(shop, browser):
    order, line = _mixed_order(shop)
    fulfillment = create_fulfillment(order.id, {line.id: 2}, shop.main.id,
                                     merchant_id=shop.merchant_id)
    db.session.commit()
    body = browser.get(f"/orders/{order.id}").get_data(as_text=True)
    assert f"Cancel fulfillment {order.name}-F1? No stock moves: it took none." in body
    response = browser.post(f"/fulfillments/{fulfillment.id}/cancel", target="order-detail")
    assert _toast(response) == "Fulfillment canceled. No stock moved: it had taken none."
    assert "stock is back" not in response.get_data(as_text=True)


def test_order_page_marks_untracked_lines_until_matched(shop, browser):
    order, line = _mixed_order(shop)
    body = browser.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Not tracked in Stockroom" in body and "q=LATE-1" in body
    # The merchant makes the item from the store's listing: the open line is tracked now.
    upsert_remote_listings(shop.merchant_id, order.channel_id, [RemoteVariant(
        "v9", "p9", None, "LATE-1", "Late addition")])
    db.session.commit()
    assert "LATE-1" in browser.get("/listings?q=LATE-1").get_data(as_text=True)
    lid = db.session.scalar(select(ChannelListing.id).where(ChannelListing.sku == "LATE-1"))
    browser.post("/listings/bulk", {"action": "create", "listing_id": [lid]})
    db.session.expire_all()
    assert db.session.get(OrderLine, line.id).inventory_item_id is not None
    body = browser.get(f"/orders/{order.id}/fulfill").get_data(as_text=True)
    assert "Not tracked in Stockroom" not in body


def test_bulk_fulfill_says_which_lines_moved_no_stock(shop, browser):
    order, line = _mixed_order(shop)
    browser.get("/orders")
    response = browser.post("/orders/bulk-fulfill", {"order_id": [str(order.id)],
                                                     "location_id": str(shop.main.id)})
    body = html.unescape(response.get_data(as_text=True))
    assert ("Fulfilled from Main warehouse. 1 unit taken from Main warehouse; 1 line is not "
            "tracked in Stockroom: no stock moved for it.") in body
    assert _on_hand(shop.main, shop.mug) == 4
