"""In a real browser, what a merchant walking the demo saw first (issue #19 item 4): bulk
fulfill's result where the button is, money in the shop's currency, and the Inventory
page's Committed column."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelListing, ChannelLocation, InventoryLevel, Merchant, Platform, User
from app.platforms.woocommerce import inventory as woo_inventory
from app.stock.push import PendingPush
from tests.e2e.conftest import sign_up
from tests.fixtures.factories import make_channel, make_item, make_location, make_order, stock

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "walk@juniper.test", "a long enough password"
ORDERS = 60  # more than one page of the list (50 rows)


def _seed(app) -> dict:
    """A store with many open orders of one mug (listed there), stocked at Main."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        merchant = db.session.get(Merchant, user.merchant_id)
        main = make_location(merchant, "Main warehouse")
        mug = make_item(merchant, "JC-MUG-01")
        stock(main, mug, 500)
        channel = make_channel(merchant, Platform.WOOCOMMERCE)
        channel.domain, channel.name = "https://juniper.example", "Juniper & Co. store"
        store = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id,
                                remote_id="store", name="Store", kind="store",
                                stock_location_id=main.id)
        listing = ChannelListing(merchant_id=merchant.id, channel_id=channel.id,
                                 remote_product_id="11", remote_variant_id="11",
                                 sku=mug.sku, inventory_item_id=mug.id)
        db.session.add_all([store, listing])
        for n in range(ORDERS):
            order = make_order(channel, [(mug, 1)])
            order.customer_name = f"Customer {n}"
            order.total_price, order.currency = "41.00", "USD"
        db.session.commit()
        return {"channel_id": channel.id, "store_id": store.id, "listing_id": listing.id,
                "level_id": db.session.scalar(select(InventoryLevel.id).where(
                    InventoryLevel.item_id == mug.id, InventoryLevel.location_id == main.id))}


def _pushed_quantity(app, data: dict) -> int:
    """What the WooCommerce push sends for the mug at the store (its own adjustment)."""
    with app.app_context():
        level = db.session.get(InventoryLevel, data["level_id"])
        row = PendingPush(state_id=0, generation=1, channel_location_id=data["store_id"],
                          location_remote_id="store", listing_id=data["listing_id"],
                          remote_product_id="11", remote_variant_id="11",
                          remote_inventory_item_id=None, sku="JC-MUG-01",
                          quantity=level.on_hand - level.committed, remote_quantity=None)
        return woo_inventory._adjusted(data["channel_id"], [row])[0].quantity


def test_inventory_committed_counts_open_orders_as_the_push_does(live_app, page):
    base = live_app.config["E2E_URL"]
    sign_up(page, base, EMAIL, PASSWORD)
    data = _seed(live_app)
    page.goto(base + "/inventory")
    cells = page.locator('tr[data-sku="JC-MUG-01"][data-location="Main warehouse"] td.num')
    expect(cells.nth(0)).to_have_text("500")
    expect(cells.nth(1)).to_have_text(str(ORDERS))
    expect(cells.nth(2)).to_have_text(str(500 - ORDERS))
    assert int(cells.nth(2).inner_text()) == _pushed_quantity(live_app, data)


@pytest.mark.parametrize("width", [1280, 360])
def test_bulk_fulfill_result_shows_beside_the_button(live_app, page, width):
    base = live_app.config["E2E_URL"]
    page.set_viewport_size({"width": width, "height": 900 if width > 360 else 780})
    sign_up(page, base, EMAIL, PASSWORD)
    _seed(live_app)
    page.goto(base + "/orders")
    rows = page.locator("#order-rows tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("$41.00")  # the shop's currency, not "41.00 USD"
    expect(rows.first).not_to_contain_text("41.00 USD")
    rows.first.get_by_role("checkbox").check()
    page.get_by_role("button", name="Fulfill selected").click()
    progress = page.locator("#bulk-progress")
    expect(progress).to_contain_text("1 of 1 orders processed: 1 fulfilled, 0 skipped.")
    expect(page.locator("#toasts")).to_contain_text("Bulk fulfill finished: 1 order fulfilled.")
    # Where the action was taken: the result is inside the viewport, without scrolling.
    box = progress.bounding_box()
    viewport = page.viewport_size
    assert box is not None and box["height"] > 0
    assert 0 <= box["y"] and box["y"] + min(box["height"], 200) <= viewport["height"], box
    button = page.get_by_role("button", name="Fulfill selected").bounding_box()
    assert box["y"] - (button["y"] + button["height"]) < 200, (box, button)
