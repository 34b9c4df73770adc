"""In a real browser: a new merchant's store listings become items (select all on the page,
Create items), a case twin is matched in one click, and the inventory lists the new items."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.catalog import RemoteVariant, upsert_remote_listings
from app.extensions import db
from app.models import ChannelListing, Merchant, Platform, User
from tests.e2e.conftest import sign_up
from tests.fixtures.factories import make_channel, make_item

pytestmark = pytest.mark.e2e

EMAIL, PASSWORD = "owner@fernhill.test", "a long enough password"


def _seed(app) -> None:
    """A connected store whose three listings no item matches (one is a case twin of an
    item made by hand)."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAIL))
        merchant = db.session.get(Merchant, user.merchant_id)
        make_item(merchant, "FH-CUP-01")
        channel = make_channel(merchant, Platform.WOOCOMMERCE)
        channel.name = "Fernhill store"
        upsert_remote_listings(merchant.id, channel.id, [
            RemoteVariant("11", "11", None, "FH-BOWL-02", "Stoneware bowl", barcode="4006381333931"),
            RemoteVariant("12", "12", None, "FH-PLATE-03", "Stoneware plate"),
            RemoteVariant("13", "13", None, "fh-cup-01", "Stoneware cup")])
        db.session.commit()


def test_owner_creates_items_from_listings_and_matches_a_case_twin(live_app, page, screenshots):
    base = live_app.config["E2E_URL"]
    sign_up(page, base, EMAIL, PASSWORD, "Fernhill Pottery")
    _seed(live_app)
    page.reload()
    page.get_by_role("link", name="3 unmatched", exact=False).click()
    rows = page.locator("#listing-rows tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#listing-rows")).to_contain_text("No item has this SKU yet.")
    screenshots.take(page, "listings")

    page.get_by_label("Select every listing on this page").check()
    expect(page.locator("#listing-rows input[name='listing_id']:checked")).to_have_count(3)
    page.get_by_role("button", name="Create items").click()
    report = page.locator("#listing-report")
    expect(report).to_contain_text("2 items created, 1 skipped.")
    expect(report).to_contain_text("SKUs differing only in case or spacing")
    expect(rows).to_have_count(1)  # the unmatched tab keeps only the case twin
    screenshots.take(page, "listings-created")

    page.get_by_role("button", name="Match to FH-CUP-01").click()
    expect(page.locator("#listing-report")).to_contain_text("matched to FH-CUP-01.")
    expect(page.locator("#listing-rows")).to_contain_text("No unmatched listings")
    with live_app.app_context():
        statuses = set(db.session.scalars(select(ChannelListing.match_status)))
    assert statuses == {"matched"}

    page.get_by_role("link", name="Inventory", exact=True).click()
    for sku in ("FH-BOWL-02", "FH-PLATE-03", "FH-CUP-01"):
        expect(page.locator("#inventory-table")).to_contain_text(sku)
