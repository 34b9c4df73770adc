"""In a real browser: a WooCommerce owner signs up, fulfills part of an order with the
fulfill form's validation errors on the way, cancels it, and sees the stock restored."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelLocation, Merchant, OutboxEvent, Platform, User
from tests.fixtures.factories import make_channel, make_item, make_location, make_order, stock

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "owner@juniper.test", "a long enough password"


def _seed(app) -> dict:
    """Stock, a channel and orders for the merchant who just signed up (what a connected
    store's import would bring; the platforms' own e2e runs are elsewhere)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        merchant = db.session.get(Merchant, user.merchant_id)
        main, downtown = make_location(merchant, "Main warehouse"), make_location(merchant, "Downtown shop")
        make_location(merchant, "ShipFast 3PL", allow_negative=True)
        mug, tote = make_item(merchant, "JC-MUG-01"), make_item(merchant, "JC-TOTE-02")
        mug.title, tote.title = "Enamel mug — Olive", "Canvas tote — Sand"
        stock(main, mug, 5)
        stock(main, tote, 1)
        stock(downtown, tote, 4)
        channel = make_channel(merchant, Platform.WOOCOMMERCE)
        channel.domain, channel.name = "https://juniper.example", "Juniper & Co. store"
        channel.scopes = "read_write"
        db.session.add(ChannelLocation(merchant_id=merchant.id, channel_id=channel.id,
                                       remote_id="store", name="Store", kind="store"))
        names = ["Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra"]
        for n, name in enumerate(names):
            extra = make_order(channel, [(mug, 1)])
            extra.customer_name, extra.customer_email = name, f"{name.split()[0].lower()}@example.test"
            extra.placed_at = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC) + dt.timedelta(hours=n)
        order = make_order(channel, [(mug, 3), (tote, 2)])
        order.total_price = "86.00"
        db.session.add(OutboxEvent(merchant_id=merchant.id, channel_id=channel.id,
                                   topic="inventory.levels_changed", status="dead", attempts=8,
                                   last_error="WooCommerce answered 503 Service Unavailable"))
        db.session.commit()
        return {"order_id": order.id, "order_name": order.name, "mug_id": mug.id}


def test_owner_fulfills_with_validation_errors_then_cancels(live_app, page, screenshots):
    base = live_app.config["E2E_URL"]
    # Sign up.
    page.goto(base + "/sign-up")
    screenshots.take(page, "sign-up")
    page.get_by_label("Business name").fill("Juniper & Co.")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(base + "/connections")
    data = _seed(live_app)
    page.reload()
    expect(page.locator("#channels")).to_contain_text("Juniper & Co. store")
    screenshots.take(page, "connections")

    # Orders: every channel in one list; search narrows the rows through HTMX.
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.locator("#order-rows tbody tr")).to_have_count(5)
    screenshots.take(page, "orders")
    page.get_by_label("Search").fill("grace")
    expect(page.locator("#order-rows tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=grace"))
    page.get_by_label("Search").fill("")
    expect(page.locator("#order-rows tbody tr")).to_have_count(5)

    # The order, then the fulfill form.
    page.get_by_role("link", name=data["order_name"]).click()
    expect(page.locator("#order-lines")).to_contain_text("Enamel mug — Olive")
    page.get_by_role("link", name="Fulfill items").click()
    expect(page.locator("#fulfill-locations")).to_contain_text("JC-MUG-01: 5 available")
    expect(page.locator("#auto-split")).to_contain_text("Fewest locations")
    screenshots.take(page, "fulfill")

    mug_qty = page.get_by_label("Enamel mug — Olive")
    tote_qty = page.get_by_label("Canvas tote — Sand")
    # (1) too many units, no location, a tracking URL that isn't a web address: all inline.
    mug_qty.fill("9")
    page.get_by_label("Tracking URL").fill("javascript:alert(1)")
    page.get_by_role("button", name="Fulfill items").click()
    form = page.locator("#fulfill-form")
    expect(form).to_contain_text("Only 3 left to fulfill.")
    expect(form).to_contain_text("Choose the stock location to fulfill from.")
    expect(form).to_contain_text("The tracking URL must be a web address")
    expect(page.get_by_label("Enamel mug — Olive")).to_have_attribute("aria-invalid", "true")
    screenshots.take(page, "fulfill-errors")

    # (2) insufficient stock at the chosen location: 409, nothing created.
    page.get_by_label("Enamel mug — Olive").fill("3")
    page.get_by_label("Tracking URL").fill("")
    page.get_by_label("Downtown shop").check()
    page.get_by_role("button", name="Fulfill items").click()
    expect(form).to_contain_text("Not enough stock at Downtown shop")
    expect(form).to_contain_text("0 available at this location (needs 3)")

    # (3) a valid partial fulfillment from Main: 2 mugs, tracking filled from the carrier.
    page.get_by_label("Enamel mug — Olive").fill("2")
    page.get_by_label("Canvas tote — Sand").fill("0")
    page.get_by_label("Main warehouse").check()
    page.get_by_label("Carrier").select_option("UPS")
    page.get_by_label("Tracking number").fill("1Z999AA10123456784")
    expect(page.get_by_label("Tracking URL")).to_have_value(
        "https://www.ups.com/track?tracknum=1Z999AA10123456784")
    page.get_by_label("Send shipping details to the customer").check()
    page.get_by_role("button", name="Fulfill items").click()
    expect(page).to_have_url(base + f"/orders/{data['order_id']}")
    card = page.locator(".fulfillment-card").first
    expect(card).to_contain_text("Main warehouse")
    # Created with tracking: Shipped at once (the label is bought), still to be packed.
    expect(card).to_contain_text("Shipped")
    expect(card).to_contain_text("Not packed yet")
    expect(card.get_by_role("link", name="1Z999AA10123456784")).to_have_attribute(
        "href", "https://www.ups.com/track?tracknum=1Z999AA10123456784")
    expect(page.locator("#order-detail")).to_contain_text("Partially fulfilled")
    expect(page.locator("#order-timeline")).to_contain_text("Fulfillment created")
    screenshots.take(page, "order")

    # Cancel it, confirming the dialog.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    card.get_by_role("button", name="Cancel fulfillment").click()
    expect(card).to_contain_text("Canceled")
    assert "go back into stock at Main warehouse" in dialogs[0]
    expect(page.locator("#toasts")).to_contain_text("Fulfillment canceled")

    # Stock restored at Main on the Inventory page.
    page.get_by_role("link", name="Inventory", exact=True).click()
    row = page.locator('tr[data-sku="JC-MUG-01"][data-location="Main warehouse"]')
    expect(row.locator("td.num").first).to_have_text("5")
    screenshots.take(page, "inventory")
    page.get_by_role("link", name="JC-MUG-01").click()
    expect(page.locator("#item-ledger")).to_contain_text("Fulfillment canceled")
    screenshots.take(page, "inventory-item")

    for name, heading in [("locations", "Locations"), ("sync", "Sync")]:
        page.get_by_role("link", name=heading, exact=True).click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        screenshots.take(page, name)
    expect(page.locator("#sync-jobs")).to_contain_text("503 Service Unavailable")

    # Bulk fulfill two selected orders: progress, then what happened to each.
    page.get_by_role("link", name="Orders", exact=True).click()
    rows = page.locator("#order-rows tbody tr")
    for name in ("Grace Hopper", "Alan Turing"):
        rows.filter(has_text=name).get_by_role("checkbox").check()
    page.get_by_role("button", name="Fulfill selected").click()
    progress = page.locator("#bulk-progress")
    expect(progress).to_contain_text("2 of 2 orders processed: 2 fulfilled, 0 skipped.")
    expect(progress).to_contain_text("Fulfilled from Main warehouse.")
    expect(rows.filter(has_text="Grace Hopper")).to_contain_text("Fulfilled")
    expect(page.locator("#order-rows input[name='order_id']:checked")).to_have_count(0)
    screenshots.take(page, "bulk-fulfill")

    # The Shopify mobile app's width: nothing overflows sideways.
    page.set_viewport_size({"width": 360, "height": 780})
    page.reload()
    expect(page.locator("#order-rows tbody tr")).to_have_count(5)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshots.take(page, "orders-mobile")


def test_keyboard_only_sign_in(live_app, page, screenshots):
    """Sign-in works with the keyboard alone, and errors are announced (role=alert)."""
    base = live_app.config["E2E_URL"]
    page.goto(base + "/sign-in")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    page.keyboard.type("nobody@example.test")
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("don't match an account")
    screenshots.take(page, "sign-in-error")
