"""In a real browser, from an empty database: sign up, fulfill an order, then scan to verify on
the pack screen the way a keyboard-wedge scanner does (the code typed, then Enter): units check
off, a wrong item and an extra unit are refused on screen, a reload keeps the counts, and the
fulfillment ships once every unit is scanned."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Fulfillment, Merchant, OutboxEvent, PackCount, Platform, User
from tests.e2e.conftest import sign_up
from tests.fixtures.factories import make_channel, make_item, make_location, make_order, stock

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "packer@scan.test", "a long enough password"


def _sign_up_and_seed(page, app, base) -> dict:
    sign_up(page, base, EMAIL, PASSWORD, "Scan Goods")
    with app.app_context():
        # What a store import brings: items with SKU and barcode, and an order.
        merchant = db.session.get(Merchant, db.session.scalar(
            select(User.merchant_id).where(User.email == EMAIL)))
        main = make_location(merchant, "Main warehouse")
        mug, tote = make_item(merchant, "SC-MUG-01"), make_item(merchant, "SC-TOTE-01")
        mug.title, tote.title, tote.barcode = "Enamel mug", "Canvas tote", "0712345678911"
        make_item(merchant, "SC-CAP-01").title = "Wool cap"
        stock(main, mug, 5)
        stock(main, tote, 5)
        order = make_order(make_channel(merchant, Platform.WOOCOMMERCE), [(mug, 2), (tote, 1)])
        db.session.commit()
        return {"order_id": order.id}


def _scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code into the focused field, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_scan_to_verify_then_ship(live_app, page, screenshots):
    base = live_app.config["E2E_URL"]
    data = _sign_up_and_seed(page, live_app, base)
    page.goto(base + f"/orders/{data['order_id']}/fulfill")
    page.get_by_label("Main warehouse").check()
    page.get_by_role("button", name="Fulfill items").click()
    expect(page).to_have_url(base + f"/orders/{data['order_id']}")
    page.get_by_role("link", name="Pack (scan to verify)").click()
    expect(page.get_by_role("heading", name="Pack fulfillment")).to_be_visible()
    progress = page.locator("#pack-progress")
    expect(progress).to_have_text("0 of 3 units scanned")
    expect(page.locator("#scan-code")).to_be_focused()

    # Two scans in quick succession (the second typed while the first is on its way): both count.
    _scan(page, "SC-MUG-01")
    _scan(page, "sc-mug-01")
    expect(progress).to_have_text("2 of 3 units scanned")
    expect(page.locator("#scan-feedback")).to_contain_text("Checked off: SC-MUG-01")
    expect(page.locator("#scan-code")).to_be_focused()
    expect(page.locator("#scan-code")).to_have_value("")

    _scan(page, "SC-MUG-01")  # a third mug: the order has two
    feedback = page.locator("#scan-feedback [role=alert]")
    expect(feedback).to_contain_text("Extra unit: all 2 of SC-MUG-01 are already scanned.")
    _scan(page, "SC-CAP-01")  # not in this order
    expect(feedback).to_contain_text("Wrong item: SC-CAP-01 (Wool cap)")
    expect(progress).to_have_text("2 of 3 units scanned")
    expect(page.get_by_role("button", name="Packed: mark as shipped")).to_have_count(0)
    screenshots.take(page, "pack-scan-refused")

    page.reload()  # the counts are the server's
    expect(progress).to_have_text("2 of 3 units scanned")
    page.locator("#scan-code").focus()
    _scan(page, "0712345678911")  # the tote, by its barcode
    expect(progress).to_have_text("3 of 3 units scanned")
    screenshots.take(page, "pack-scanned")
    page.get_by_role("button", name="Packed: mark as shipped").click()
    expect(page).to_have_url(base + f"/orders/{data['order_id']}")
    expect(page.locator(".fulfillment-card")).to_contain_text("Shipped")
    expect(page.locator("#order-timeline")).to_contain_text(
        "Packed: all 3 units verified by scan.")

    with live_app.app_context():
        fulfillment = db.session.scalars(select(Fulfillment)).one()
        assert fulfillment.status == "shipped"
        assert sorted(db.session.scalars(select(PackCount.scanned))) == [1, 2]
        assert db.session.scalar(select(OutboxEvent.payload).where(
            OutboxEvent.topic == "fulfillment.packed"))["override"] is False
        db.session.remove()
