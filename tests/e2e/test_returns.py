"""In a real browser: the owner records a return of fulfilled units from the order page, with
an inline refusal first, and the units are back in stock."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import InventoryLevel, Order, StockLocation
from tests.e2e.conftest import sign_up
from tests.e2e.test_dashboard import EMAIL, PASSWORD, _seed

pytestmark = pytest.mark.e2e


def test_owner_records_a_return_with_an_inline_refusal_first(live_app, page, screenshots):
    base = live_app.config["E2E_URL"]
    sign_up(page, base, EMAIL, PASSWORD)
    data = _seed(live_app)
    with live_app.app_context():
        order = db.session.get(Order, data["order_id"])
        mug_line = next(line for line in order.lines if line.inventory_item_id == data["mug_id"])
        main_id = db.session.query(StockLocation.id).filter_by(
            merchant_id=order.merchant_id, name="Main warehouse").scalar()
        create_fulfillment(order.id, {mug_line.id: 3}, main_id, merchant_id=order.merchant_id)
        db.session.commit()

    page.goto(base + f"/orders/{data['order_id']}")
    page.get_by_role("link", name="Record a return").click()
    qty = page.get_by_label("Enamel mug — Olive", exact=True)
    expect(page.get_by_label("Stock location for Enamel mug — Olive")).to_have_value(str(main_id))
    qty.fill("4")
    page.get_by_role("button", name="Record return").click()
    form = page.locator("#return-form")
    expect(form).to_contain_text("Only 3 fulfilled and not returned yet.")
    expect(page.get_by_label("Enamel mug — Olive", exact=True)).to_have_attribute(
        "aria-invalid", "true")

    page.get_by_label("Enamel mug — Olive", exact=True).fill("2")
    screenshots.take(page, "return")
    page.get_by_role("button", name="Record return").click()
    expect(page).to_have_url(base + f"/orders/{data['order_id']}")
    expect(page.locator("#order-timeline")).to_contain_text("Order return recorded")
    expect(page.locator("#toasts")).to_contain_text("put back at Main warehouse")
    with live_app.app_context():
        level = db.session.query(InventoryLevel).filter_by(
            location_id=main_id, item_id=data["mug_id"]).one()
        assert level.on_hand == 5 - 3 + 2
