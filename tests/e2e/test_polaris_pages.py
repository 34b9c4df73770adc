"""In a real browser, every page a merchant can reach from the navigation: drawn by Polaris's
own stylesheet (vendored), passing axe-core's WCAG 2.1 A/AA rules, with an empty state when
there is nothing to show yet and the same checks once there is data (issue #19 item 2)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelLocation, Merchant, Platform, User
from app.fulfillment import create_fulfillment
from tests.e2e.accessibility import assert_accessible
from tests.e2e.conftest import sign_up
from tests.fixtures.factories import make_channel, make_item, make_location, make_order, stock

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "polaris@juniper.test", "a long enough password"
#: List pages: with no data they show Polaris's empty state (an EmptyState or the
#: IndexTable's empty search result), never a bare table.
LISTS = {"/orders", "/inventory", "/listings", "/transfers", "/receiving", "/stock/low",
         "/sync"}
EMPTY = ".Polaris-EmptyState, .Polaris-IndexTable__EmptySearchResultWrapper"
#: A new merchant's first look: what to do, with the action to do it.
FIRST_STEPS = {"/orders": ("No orders yet", "Connect a store"),
               "/inventory": ("No items yet", None)}


def _nav_paths(page) -> list[str]:
    hrefs = page.eval_on_selector_all("nav.nav a", "links => links.map(a => a.pathname)")
    assert len(hrefs) >= 10, hrefs
    return ["/"] + hrefs


def _polaris_drawn(page) -> None:
    """Polaris's tokens and component rules are what styles the page (not our own CSS)."""
    styles = page.evaluate("""() => {
        const root = getComputedStyle(document.documentElement);
        const sheets = [...document.styleSheets].map(s => s.href || "");
        const button = document.querySelector(".Polaris-Button");
        return {token: root.getPropertyValue("--p-color-bg-fill-brand").trim(), sheets,
                radius: button ? getComputedStyle(button).borderRadius : null};
    }""")
    assert styles["token"], "Polaris tokens are not loaded"
    assert any(s.endswith("/static/vendor/polaris/styles.css") for s in styles["sheets"])
    if styles["radius"] is not None:
        assert styles["radius"] == "8px", styles  # --p-border-radius-200, Polaris's button


def _seed(app) -> int:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        merchant = db.session.get(Merchant, user.merchant_id)
        main = make_location(merchant, "Main warehouse")
        mug, tote = make_item(merchant, "JC-MUG-01"), make_item(merchant, "JC-TOTE-02")
        stock(main, mug, 2)
        stock(main, tote, 9)
        channel = make_channel(merchant, Platform.WOOCOMMERCE)
        channel.domain, channel.name = "https://juniper.example", "Juniper & Co. store"
        db.session.add(ChannelLocation(merchant_id=merchant.id, channel_id=channel.id,
                                       remote_id="store", name="Store", kind="store",
                                       stock_location_id=main.id))
        order = make_order(channel, [(mug, 1), (tote, 2)])
        make_order(channel, [(tote, 1)])
        db.session.commit()
        create_fulfillment(order.id, {order.lines[0].id: 1}, main.id,
                           merchant_id=merchant.id)
        db.session.commit()
        return order.id


#: Pages whose screenshot the README shows (docs/screenshots/, STOCKROOM_PUBLISH_SCREENSHOTS=1).
SHOTS = {"/sync": "sync", "/locations": "locations"}


def test_every_page_is_polaris_and_passes_axe_empty_then_with_data(live_app, page, screenshots):
    base = live_app.config["E2E_URL"]
    sign_up(page, base, EMAIL, PASSWORD)
    paths = _nav_paths(page)
    for path in paths:
        page.goto(base + path)
        _polaris_drawn(page)
        if path in LISTS:
            assert page.locator(EMPTY).count() >= 1, f"{path}: no empty state"
        if path in FIRST_STEPS:
            heading, action = FIRST_STEPS[path]
            empty = page.locator(".Polaris-EmptyState")
            expect(empty).to_contain_text(heading)
            if action:
                expect(empty.get_by_role("link", name=action)).to_have_attribute(
                    "href", "/connections")
        assert_accessible(page, f"{path} (no data yet)")

    order_id = _seed(live_app)
    for path in paths + [f"/orders/{order_id}", f"/orders/{order_id}/fulfill"]:
        page.goto(base + path)
        _polaris_drawn(page)
        assert_accessible(page, f"{path} (with data)")
        if path in SHOTS:
            screenshots.take(page, SHOTS[path])
    page.goto(base + "/orders")
    expect(page.locator(".Polaris-IndexTable__TableRow")).to_have_count(2)
    assert page.locator(EMPTY).count() == 0
    page.goto(base + "/orders?q=nobody-like-this")  # a search: the empty search result
    expect(page.locator(".Polaris-IndexTable__EmptySearchResultWrapper")).to_contain_text(
        "No orders match these filters.")
    assert page.locator(".Polaris-EmptyState").count() == 0


def test_the_axe_check_fails_on_a_page_with_a_violation(page):
    """The check can fail: an unlabelled field and an image without alt text are caught."""
    from tests.e2e.accessibility import axe_violations

    page.set_content('<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
                     '<img src="data:,"><input type="text"></main></body></html>')
    assert {"image-alt", "label"} <= {v["id"] for v in axe_violations(page)}
