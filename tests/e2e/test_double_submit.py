"""In a real browser: a double click on "Fulfill items" sends one request, the buttons stay
disabled while it is in flight, and one fulfillment is made."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Fulfillment, InventoryLevel, Merchant, Platform, User
from tests.e2e.conftest import sign_up
from tests.fixtures.factories import make_channel, make_item, make_location, make_order, stock

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "owner@double.test", "a long enough password"


def _sign_up_and_seed(page, app, base) -> dict:
    sign_up(page, base, EMAIL, PASSWORD, "Double Click Goods")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        merchant = db.session.get(Merchant, user.merchant_id)
        main = make_location(merchant, "Main warehouse")
        mug = make_item(merchant, "DC-MUG-01")
        mug.title = "Enamel mug"
        stock(main, mug, 5)
        order = make_order(make_channel(merchant, Platform.WOOCOMMERCE), [(mug, 3)])
        db.session.commit()
        return {"order_id": order.id, "main_id": main.id, "mug_id": mug.id}


def _fulfillments_and_on_hand(app, data) -> tuple[int, int]:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Fulfillment))
        on_hand = db.session.scalar(select(InventoryLevel.on_hand).where(
            InventoryLevel.location_id == data["main_id"], InventoryLevel.item_id == data["mug_id"]))
        db.session.remove()
        return count, on_hand


def test_double_click_on_fulfill_sends_one_request_and_makes_one_fulfillment(live_app, page):
    base = live_app.config["E2E_URL"]
    data = _sign_up_and_seed(page, live_app, base)
    page.goto(base + f"/orders/{data['order_id']}/fulfill")
    # One of three mugs: a second identical fulfillment would be valid, so only the guard
    # keeps it from being made.
    page.get_by_label("Enamel mug").fill("1")
    page.get_by_label("Main warehouse").check()
    expect(page.locator("#fulfill-locations")).to_contain_text("Main warehouse can fulfill")

    # Hold every fulfill POST until the test lets it through: "in flight" for as long as we look.
    held = []
    page.route(f"**/orders/{data['order_id']}/fulfillments*", lambda route: held.append(route))
    button = page.get_by_role("button", name="Fulfill items")
    button.dblclick()
    expect(button).to_be_disabled()
    page.wait_for_timeout(300)  # a second request, if any, would have been sent by now
    assert len(held) == 1
    expect(button).to_be_disabled()
    assert _fulfillments_and_on_hand(live_app, data) == (0, 5)  # still in flight

    held[0].continue_()
    expect(page).to_have_url(base + f"/orders/{data['order_id']}")
    expect(page.locator(".fulfillment-card")).to_have_count(1)
    page.wait_for_timeout(500)  # a queued second click would have been sent by now
    assert _fulfillments_and_on_hand(live_app, data) == (1, 4)


def test_fulfill_buttons_enable_again_after_a_validation_error(live_app, page):
    base = live_app.config["E2E_URL"]
    data = _sign_up_and_seed(page, live_app, base)
    page.goto(base + f"/orders/{data['order_id']}/fulfill")
    page.get_by_label("Enamel mug").fill("9")
    page.get_by_role("button", name="Fulfill items").click()
    expect(page.locator("#fulfill-form")).to_contain_text("Only 3 left to fulfill.")
    button = page.get_by_role("button", name="Fulfill items")
    expect(button).to_be_enabled()
    # Fixed and sent again with the re-rendered form's token: created once.
    page.get_by_label("Enamel mug").fill("1")
    page.get_by_label("Main warehouse").check()
    button.click()
    expect(page).to_have_url(base + f"/orders/{data['order_id']}")
    assert _fulfillments_and_on_hand(live_app, data) == (1, 4)


def test_plain_form_buttons_disable_after_the_first_submit(live_app, page):
    """A form htmx doesn't handle (here: Sign out) is sent once too (static/js/stockroom.js)."""
    base = live_app.config["E2E_URL"]
    _sign_up_and_seed(page, live_app, base)
    held = []
    page.route("**/sign-out", lambda route: held.append(route))
    # A page waiting on its navigation can't be asked anything: it notes the button's state
    # just after the submit in sessionStorage, read on the next page.
    page.evaluate("""document.addEventListener("submit", () => setTimeout(() =>
        sessionStorage.setItem("disabled", document.querySelector("form.signout button").disabled), 20))""")
    page.get_by_role("button", name="Sign out").dblclick(no_wait_after=True)
    page.wait_for_timeout(300)
    assert len(held) == 1
    held[0].continue_()
    expect(page).to_have_url(base + "/sign-in")
    assert page.evaluate("sessionStorage.getItem('disabled')") == "true"
