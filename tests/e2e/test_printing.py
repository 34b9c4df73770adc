"""In a real browser: fulfill part of an order with tracking, open its packing slip from the order page
and see what the printer gets (print media: the slip alone, no app chrome); download its PDF;
print a pick list of orders selected in the list; and the slip inside the Shopify admin."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import Merchant, Order, Platform, User
from tests.e2e.conftest import sign_up
from tests.e2e.test_shopify_embedded import _read, _wait
from tests.fixtures.factories import make_channel, make_item, make_location, make_order, stock
from tests.fixtures.pdf_text import pdf_text

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "printer@slip.test", "a long enough password"


def _sign_up_and_seed(page, app, base) -> dict:
    sign_up(page, base, EMAIL, PASSWORD, "Slip Goods")
    with app.app_context():
        merchant = db.session.get(Merchant, db.session.scalar(
            select(User.merchant_id).where(User.email == EMAIL)))
        main = make_location(merchant, "Main warehouse")
        mug, tote = make_item(merchant, "PR-MUG-01"), make_item(merchant, "PR-TOTE-01")
        mug.title, tote.title = "Enamel mug", "Canvas tote"
        stock(main, mug, 5)
        stock(main, tote, 5)
        channel = make_channel(merchant, Platform.WOOCOMMERCE)
        order = make_order(channel, [(mug, 2), (tote, 1)])
        other = make_order(channel, [(mug, 1)])
        db.session.commit()
        result = {"order_id": order.id, "name": order.name, "other": other.name}
        db.session.remove()
        return result


def test_packing_slip_prints_alone_after_a_fulfillment(live_app, page, screenshots):
    base = live_app.config["E2E_URL"]
    data = _sign_up_and_seed(page, live_app, base)
    page.goto(base + f"/orders/{data['order_id']}/fulfill")
    page.get_by_label("Enamel mug").fill("1")  # one of two: the order stays open
    page.get_by_label("Main warehouse").check()
    page.get_by_label("Tracking number").fill("1Z999AA10123456784")
    page.get_by_label("Carrier").select_option("UPS")
    page.get_by_role("button", name="Fulfill items").click()
    expect(page).to_have_url(base + f"/orders/{data['order_id']}")

    page.get_by_role("link", name="Print packing slip").click()
    slip = page.locator("#packing-slip")
    expect(slip).to_contain_text(f"Packing slip · Order {data['name']}")
    expect(slip).to_contain_text("1Z999AA10123456784 (UPS)")
    expect(slip.get_by_role("img", name=f"Barcode {data['name']}")).to_be_visible()
    expect(page.locator(".topbar")).to_be_visible()  # on screen, the app around it

    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.get_by_role("link", name="Download PDF")).to_be_hidden()
    expect(slip).to_be_visible()
    expect(slip.locator("tbody tr")).to_have_count(2)
    screenshots.take(page, "packing-slip-print")
    page.emulate_media(media="screen")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    path = download.value.path()
    with open(path, "rb") as pdf:
        text = pdf_text(pdf.read())
    assert f"Packing slip · Order {data['name']}" in text and "Enamel mug" in text

    # The pick list of both orders from the list's bulk bar: what is left to pick.
    page.goto(base + "/orders")
    for name in (data["name"], data["other"]):
        page.get_by_label(f"Select order {name}").check()
    page.get_by_role("button", name="Pick list of selected").click()
    sheet = page.locator("#pick-list")
    expect(sheet).to_contain_text("2 orders")
    expect(sheet.locator('table[data-location="Main warehouse"] tbody tr')).to_have_count(2)
    expect(sheet.locator('table[data-location="Not assigned to a location yet"]')).to_contain_text(
        f"{data['name']} × 1, {data['other']} × 1")  # the mug not fulfilled yet, of both
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(sheet).to_be_visible()
    screenshots.take(page, "pick-list-print")


@pytest.mark.parametrize("viewport", ["desktop", "mobile"])
def test_packing_slip_inside_the_shopify_admin(shopify_world, page, viewport):
    """Embedded (desktop, and the admin's 360 px phone frame): the slip opens in the admin's
    iframe (an htmx navigation with the session token), prints without the app's chrome,
    and its signed PDF link downloads."""
    world = shopify_world
    mobile = viewport == "mobile"
    page.goto(f"{world.sandbox_http}/store/demo-shop/apps/stockroom"
              + ("?viewport=mobile" if mobile else ""))
    page.get_by_role("button", name="Install app").click()
    app = page.frame_locator("#app-frame")
    nav = page.get_by_role("navigation", name="Stockroom pages")  # the admin's sidebar
    expect(page.locator("#admin-sidebar a").filter(has_text=re.compile("^Orders$"))
           ).to_have_count(1, timeout=20_000)
    with world.app.app_context():
        # The install imports the shop's open orders: fulfill one of them from a location.
        order_id = _wait(lambda: _read(select(Order.id).order_by(Order.id).limit(1)),
                         "the install imported no order")
        order = db.session.get(Order, order_id)
        location = make_location(db.session.get(Merchant, order.merchant_id), "Main warehouse")
        line = order.lines[0]
        fulfillment = create_fulfillment(order.id, {line.id: 1}, location.id,
                                         merchant_id=order.merchant_id)
        db.session.commit()
        name, title, fulfillment_id = order.name, line.title, fulfillment.id
        db.session.remove()

    if mobile:
        page.get_by_role("button", name="Stockroom pages").click()  # the admin's app menu
    nav.get_by_role("link", name="Orders", exact=True).click()
    app.get_by_role("link", name=name, exact=True).click()
    app.locator(f"#slip-{fulfillment_id}").click()
    slip = app.locator("#packing-slip")
    expect(slip).to_contain_text(f"Packing slip · Order {name}")
    page.emulate_media(media="print")
    expect(app.locator(".topbar")).to_be_hidden()
    expect(slip).to_be_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        app.get_by_role("link", name="Download PDF").click()
    with open(download.value.path(), "rb") as pdf:
        assert title in pdf_text(pdf.read())

