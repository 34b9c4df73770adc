"""In a real browser, what a merchant walking the demo saw first (issue #19 item 4): bulk
fulfill's result where the button is, and the Inventory page's Committed column."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelLocation, Merchant, Platform, User
from tests.fixtures.factories import make_channel, make_item, make_location, make_order, stock

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "walk@juniper.test", "a long enough password"
ORDERS = 60  # more than one page of the list (50 rows)


def _sign_up(page, base: str) -> None:
    page.goto(base + "/sign-up")
    page.get_by_label("Business name").fill("Juniper & Co.")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(base + "/connections")


def _seed(app) -> None:
    """A store with many open orders of one mug, stocked at Main."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        merchant = db.session.get(Merchant, user.merchant_id)
        main = make_location(merchant, "Main warehouse")
        mug = make_item(merchant, "JC-MUG-01")
        stock(main, mug, 500)
        channel = make_channel(merchant, Platform.WOOCOMMERCE)
        channel.domain, channel.name = "https://juniper.example", "Juniper & Co. store"
        db.session.add(ChannelLocation(merchant_id=merchant.id, channel_id=channel.id,
                                       remote_id="store", name="Store", kind="store",
                                       stock_location_id=main.id))
        for n in range(ORDERS):
            order = make_order(channel, [(mug, 1)])
            order.customer_name = f"Customer {n}"
        db.session.commit()


def test_bulk_fulfill_result_shows_beside_the_button(live_app, page):
    base = live_app.config["E2E_URL"]
    _sign_up(page, base)
    _seed(live_app)
    page.goto(base + "/orders")
    rows = page.locator("#order-rows tbody tr")
    expect(rows).to_have_count(50)
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
