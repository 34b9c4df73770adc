"""In a real browser: a WooCommerce store owner signs up, connects the sandbox store through
wc-auth (store login, Approve), sees a new order arrive, fulfills it with tracking, and the
store shows the shipment."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Merchant, User
from app.platforms.woocommerce.settings import WEBHOOK_TOPICS
from tests.fixtures.factories import make_item, make_location, stock

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "owner@threads.test", "a long enough password"


def _wait(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s")


def _stock_the_warehouse(world) -> None:
    """What the owner keeps in Stockroom before connecting: a warehouse and its stock."""
    with world.app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        merchant = db.session.get(Merchant, user.merchant_id)
        warehouse = make_location(merchant, "Warehouse")
        for sku, title in (("TOTE-CANVAS", "Canvas Tote"), ("TEE-CLASSIC", "Classic Tee")):
            item = make_item(merchant, sku)
            item.title = title
            stock(warehouse, item, 12)
        db.session.commit()
        db.session.remove()


def test_owner_connects_store_and_fulfills_with_tracking(woo_world, chromium, screenshots):
    world = woo_world
    context = chromium.new_context(viewport={"width": 1280, "height": 900},
                                   ignore_https_errors=True)  # the sandboxes' local CA
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(world.url + "/sign-up")
        page.get_by_label("Business name").fill("Threads & Co.")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page).to_have_url(world.url + "/connections")
        _stock_the_warehouse(world)

        # Connect: the store's wc-auth login and grant pages, then back in Stockroom.
        store_url = f"{world.sandbox_https}/stores/demo-store"
        page.get_by_label("Store URL").fill(store_url)
        page.get_by_role("button", name="Connect").click()
        page.get_by_label("Username or email address").fill("admin")
        page.get_by_label("Password").fill("password")
        page.get_by_role("button", name="Login").click()
        expect(page.get_by_role("link", name="Approve")).to_be_visible()
        screenshots.take(page, "woocommerce-approve")
        page.get_by_role("link", name="Approve").click()
        expect(page).to_have_url(world.url + "/connections")
        expect(page.locator("#toasts")).to_contain_text("Connected")
        expect(page.locator("body")).to_contain_text(store_url)
        screenshots.take(page, "woocommerce-connected")

        # A shopper checks out on the store (once the connect job registered the
        # webhooks): the webhook brings the order.
        _wait(lambda: len(world.control("GET", "/stores/demo-store")["webhooks"])
              == len(WEBHOOK_TOPICS),
              "the store's webhooks were not registered")
        placed = world.control("POST", "/stores/demo-store/orders", json={
            "line_items": [{"sku": "TOTE-CANVAS", "quantity": 2}], "customer": 1})
        page.get_by_role("link", name="Orders", exact=True).click()
        row = page.locator("#order-rows tbody tr").filter(has_text=f"#{placed['number']}")
        expect(row).to_contain_text("Unfulfilled", timeout=25_000)
        row.get_by_role("link", name=f"#{placed['number']}").click()
        expect(page.locator("#order-timeline")).to_contain_text(
            re.compile(rf"WooCommerce: (New order|Order) #{placed['number']}"))

        # Fulfill all of it from the warehouse, with tracking.
        page.get_by_role("link", name="Fulfill items").first.click()
        form = page.locator("#fulfill-form")
        expect(form.get_by_label(re.compile("Canvas Tote"))).to_have_value("2")
        form.get_by_label("Warehouse").check()
        form.get_by_label("Carrier").select_option("UPS")
        form.get_by_label("Tracking number").fill("1Z999AA10123456784")
        form.get_by_role("button", name="Fulfill items").click()
        card = page.locator(".fulfillment-card").first
        expect(card).to_contain_text("Warehouse")
        expect(page.locator("#order-detail")).to_contain_text("Fulfilled")
        expect(card).to_contain_text("Synced", timeout=25_000)
        screenshots.take(page, "woocommerce-order")

        # The store shows it: completed, with the Shipment Tracking item.
        order = world.rest(f"orders/{placed['id']}")
        assert order["status"] == "completed"
        trackings = world.rest(f"orders/{placed['id']}/shipment-trackings",
                               version="wc-shipment-tracking/v3")
        assert [t["tracking_number"] for t in trackings] == ["1Z999AA10123456784"]
    finally:
        context.close()
