"""In a real browser, inside the sandbox Shopify admin, at desktop width and in the admin's
360 px phone frame: install through the consent page, open the app in the admin's iframe,
map the shop's locations, fulfill part of an order at a second location with tracking, see
the sandbox show the fulfillment, cancel it, see stock restored."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, ChannelLocation, InventoryLevel, Merchant
from tests.e2e.conftest import SHOPIFY_CLIENT_ID
from tests.fixtures.factories import make_item, make_location, stock

pytestmark = pytest.mark.e2e

SHOP = "demo-shop.myshopify.com"


def _wait(predicate, what: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout} s")


def _read(query):
    """One read, its transaction ended at once (on SQLite it would hold the write lock)."""
    try:
        return db.session.scalar(query)
    finally:
        db.session.remove()


def _merchant_stock(world) -> dict:
    """The merchant's own stock (what they keep in Stockroom before mapping Shopify to it);
    waits for the install's location import first."""
    with world.app.app_context():
        merchant_id = _wait(lambda: _read(select(Channel.merchant_id)), "no channel")
        _wait(lambda: _read(select(func.count()).select_from(ChannelLocation)) >= 4,
              "the worker did not import the shop's locations")
        merchant = db.session.get(Merchant, merchant_id)
        main = make_location(merchant, "Main warehouse")
        downtown = make_location(merchant, "Downtown shop")
        tote, mug = make_item(merchant, "TOTE-NAT"), make_item(merchant, "MUG-WHT")
        tote.title, mug.title = "Canvas Tote — Natural", "Enamel Mug — White"
        for location, quantity in ((main, 10), (downtown, 5)):
            stock(location, tote, quantity)
            stock(location, mug, quantity)
        db.session.commit()
        ids = {"main": main.id, "downtown": downtown.id, "tote": tote.id}
        db.session.remove()
        return ids


def _on_hand(world, location_id: int, item_id: int) -> int:
    with world.app.app_context():
        value = db.session.scalar(select(InventoryLevel.on_hand).where(
            InventoryLevel.location_id == location_id, InventoryLevel.item_id == item_id))
        db.session.remove()
        return value


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_install_in_admin_fulfill_at_second_location_then_cancel(shopify_world, page,
                                                                  screenshots, viewport):
    world = shopify_world
    mobile = viewport == "mobile"
    suffix = "-mobile" if mobile else ""
    shop = world.control("GET", f"shops/{SHOP}")
    sandbox_location = {loc["name"]: loc["id"] for loc in shop["locations"]}

    # Install from the admin (the shop named by its handle, as the admin's own URLs do).
    page.goto(f"{world.sandbox_http}/store/demo-shop/apps/stockroom"
              + ("?viewport=mobile" if mobile else ""))
    expect(page.get_by_role("heading", name="Install Stockroom")).to_be_visible()
    if not mobile:
        screenshots.take(page, "shopify-consent")
    page.get_by_role("button", name="Install app").click()
    app = page.frame_locator("#app-frame")
    nav = page.get_by_role("navigation", name="Stockroom pages")  # the admin's sidebar

    def go(name: str) -> None:
        """A page of the app from the admin's sidebar (on a phone, its app menu)."""
        if mobile:
            page.get_by_role("button", name="Stockroom pages").click()
        nav.get_by_role("link", name=name, exact=True).click()

    # The app's pages are in the admin (folded into its menu on a phone).
    sidebar = page.locator("#admin-sidebar a")
    expect(sidebar.filter(has_text=re.compile("^Orders$"))).to_have_count(1)
    assert page.frames[1].evaluate("typeof window.shopify.idToken") == "function"
    if mobile:
        assert page.locator("#app-frame").bounding_box()["width"] == 360

    # Map the shop's locations onto the merchant's stock locations (toasts via App Bridge).
    ids = _merchant_stock(world)
    go("Locations")
    app.get_by_label("Stock location for Main Warehouse").select_option(label="Main warehouse")
    expect(app.get_by_label("Stock location for Main Warehouse")).to_have_value(
        str(ids["main"]), timeout=20_000)
    # The admin shows a toast for 5 s and records each one: read the record, which a slow
    # response cannot race.
    _wait(lambda: "Mapping saved." in [t["message"] for t in world.control("GET", "toasts")],
          "the admin showed no 'Mapping saved.' toast")
    app.get_by_label("Stock location for Downtown Store").select_option(label="Downtown shop")
    expect(app.get_by_label("Stock location for Downtown Store")).to_have_value(
        str(ids["downtown"]))
    screenshots.take(page, "embedded-locations" + suffix)

    # A customer checks out on Shopify: the webhook brings the order into the open list.
    go("Orders")
    placed = world.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": "TOTE-NAT", "quantity": 2}, {"sku": "MUG-WHT", "quantity": 1}],
        "customer_name": "Ada Lovelace", "email": "ada@example.com",
        "location_id": sandbox_location["Main Warehouse"]})
    # (The install's import brought the shop's open orders too, one of them also Ada's.)
    row = app.locator("#order-rows tbody tr").filter(
        has=app.get_by_role("link", name=placed["name"], exact=True))
    expect(row).to_contain_text("Unfulfilled", timeout=25_000)  # polled every 10 s
    screenshots.take(page, "embedded-orders" + suffix)

    # Fulfill one tote of two at the second location (Shopify has it at Main Warehouse).
    row.get_by_role("link", name=placed["name"]).click()
    expect(app.locator("#order-timeline")).to_contain_text(re.compile(r"Shopify: New order #\d+"))
    app.get_by_role("link", name="Fulfill items").first.click()
    form = app.locator("#fulfill-form")
    expect(form).to_be_visible()
    form.get_by_label(re.compile("Canvas Tote")).fill("1")
    form.get_by_label(re.compile("Enamel Mug")).fill("0")
    form.get_by_label("Downtown shop").check()
    form.get_by_label("Carrier").select_option("UPS")
    form.get_by_label("Tracking number").fill("1Z999AA10123456784")
    screenshots.take(page, "embedded-fulfill" + suffix)
    form.get_by_role("button", name="Fulfill items").click()
    card = app.locator(".fulfillment-card").first
    expect(card).to_contain_text("Downtown shop")
    expect(app.locator("#order-detail")).to_contain_text("Partially fulfilled")
    assert _on_hand(world, ids["downtown"], ids["tote"]) == 4
    expect(card).to_contain_text("Synced", timeout=25_000)  # pushed; the page polls

    # The sandbox shows it: one tote from Downtown Store, with the tracking number.
    [fulfillment] = world.control("GET", f"shops/{SHOP}")["fulfillments"]
    assert fulfillment["location_id"] == sandbox_location["Downtown Store"]
    assert [line["quantity"] for line in fulfillment["lines"]] == [1]
    sandbox_admin = page.context.new_page()
    sandbox_admin.goto(f"{world.sandbox_http}/_sandbox/admin/{SHOP}")
    expect(sandbox_admin.locator("table").nth(1)).to_contain_text("1Z999AA10123456784")
    if not mobile:
        screenshots.take(sandbox_admin, "shopify-sandbox-fulfillment")
    sandbox_admin.close()
    expect(app.locator("#order-timeline")).to_contain_text("Pushed to Shopify")
    screenshots.take(page, "embedded-order" + suffix)

    # Cancel it, asked in the admin's modal (ui-modal), never the browser's confirm():
    # first going back (nothing changes), then confirming. Shopify cancels it too and the
    # stock comes back.
    native = []
    page.on("dialog", lambda dialog: (native.append(dialog.message), dialog.dismiss()))
    card.get_by_role("button", name="Cancel fulfillment").click()
    modal = page.get_by_role("dialog", name=re.compile(r"Cancel fulfillment #\d+-F1\?"))
    expect(modal).to_contain_text("go back into stock at Downtown shop")
    modal.get_by_role("button", name="Go back").click()
    expect(modal).to_have_count(0)
    expect(card).to_contain_text("Shipped")  # tracking was added: shipped, not canceled
    assert _on_hand(world, ids["downtown"], ids["tote"]) == 4
    card.get_by_role("button", name="Cancel fulfillment").click()
    modal.get_by_role("button", name="Cancel fulfillment").click()
    expect(card).to_contain_text("Canceled")
    assert native == [] and world.control("GET", "app-bridge/misuse") == []
    shown = [m for m in world.control("GET", "app-bridge/modals") if m["open"]][-2:]
    assert [m["id"] for m in shown] == ["confirm-modal", "confirm-modal"]
    assert all("go back into stock at Downtown shop" in m["text"] for m in shown)
    assert _on_hand(world, ids["downtown"], ids["tote"]) == 5
    _wait(lambda: world.control("GET", f"shops/{SHOP}")["fulfillments"][0]["status"]
          == "CANCELLED", "Shopify did not cancel the fulfillment")
    go("Inventory")
    level = app.locator('tr[data-sku="TOTE-NAT"][data-location="Downtown shop"]')
    expect(level.locator("td.num").first).to_have_text("5")
    toasts = world.control("GET", "toasts")
    assert any("Fulfillment canceled" in t["message"] for t in toasts)
    assert SHOPIFY_CLIENT_ID in page.frames[1].evaluate(
        "document.querySelector('meta[name=shopify-api-key]').content")


def test_a_stale_session_token_is_replaced_before_the_request_leaves(shopify_world, page):
    """embedded.js holds an htmx request (htmx:confirm) until App Bridge gives a fresh token
    when the one it has is older than 30 s: simulated by moving the frame's clock on."""
    world = shopify_world
    page.goto(f"{world.sandbox_http}/store/demo-shop/apps/stockroom")
    page.get_by_role("button", name="Install app").click()
    app = page.frame_locator("#app-frame")
    nav = page.get_by_role("navigation", name="Stockroom pages")  # the admin's sidebar
    expect(nav.get_by_role("link", name="Orders", exact=True)).to_be_visible()
    sent: dict[str, str] = {}
    page.on("request", lambda r: sent.__setitem__(r.url, r.headers.get("authorization", "")))
    nav.get_by_role("link", name="Inventory", exact=True).click()
    expect(app.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    before = {v for k, v in sent.items() if k.startswith(world.url)}
    assert before and all(v.startswith("Bearer ") for v in before)
    frame = next(f for f in page.frames if f.url.startswith(world.url))
    frame.evaluate("(() => { const real = Date.now; Date.now = () => real() + 45000; })()")
    nav.get_by_role("link", name="Orders", exact=True).click()
    expect(app.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
    token = sent[world.url + "/orders"]
    assert token.startswith("Bearer ") and token not in before
