"""The listings page: search, filters, pages, bulk create / ignore / reconsider, match by hand."""
import pytest
from sqlalchemy import func, select

from app.catalog import RemoteVariant, upsert_remote_listings
from app.extensions import db
from app.models import Channel, ChannelListing, InventoryItem, Merchant
from tests.fixtures.factories import make_channel

SCRIPT = "<script>alert(1)</script>"


def _v(vid, sku, *, title=None, barcode="", problem=""):
    return RemoteVariant(remote_variant_id=vid, remote_product_id=f"P{vid}",
                         remote_inventory_item_id=f"I{vid}", sku=sku, title=title or f"Title {vid}",
                         barcode=barcode, problem=problem)


@pytest.fixture
def listed(shop):
    """The shop's channel lists: a new SKU, a case twin of MUG-1, no SKU, a script SKU,
    TOTE-1 (matched), a duplicated SKU, and a malformed one."""
    channel = db.session.get(Channel, shop.order.channel_id)
    upsert_remote_listings(shop.merchant_id, channel.id, [
        _v("1", "NEW-1", title="New thing", barcode="4006381333931"), _v("2", "mug-1 "),
        _v("3", "", title="Gift wrap"), _v("4", SCRIPT, title=SCRIPT), _v("5", "TOTE-1"),
        _v("6", "DUP"), _v("7", "DUP"), _v("8", "BAD-1", problem="Stock is not a number: 'lots'")])
    db.session.commit()
    return channel


def _id(channel, vid):
    return db.session.scalar(select(ChannelListing.id).where(
        ChannelListing.channel_id == channel.id, ChannelListing.remote_variant_id == vid))


def _listing(channel, vid):
    db.session.expire_all()
    return db.session.scalar(select(ChannelListing).where(
        ChannelListing.channel_id == channel.id, ChannelListing.remote_variant_id == vid))


def _is_fragment(response, root='<section id="listings"'):
    body = response.get_data(as_text=True)
    return "<html" not in body and body.lstrip().startswith(root)


def test_list_listings_shows_unmatched_with_reasons_counts_and_suggestion(listed, browser):
    response = browser.get("/listings")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'aria-current="page">Listings</a>' in body  # nav
    assert "No item has this SKU yet." in body and "NEW-1" in body
    assert "Match to MUG-1" in body and "differs only in case or spacing" in body
    assert "No SKU on the store" in body and "Stock is not a number" in body
    assert "is on 2 listings of this store" in body
    assert 'id="listing-' + str(_id(listed, "5")) + '"' not in body  # matched: other tab
    assert 'data-status="unmatched">7<' in body and 'data-status="matched">1<' in body
    assert 'data-status="all">8<' in body


def test_list_listings_search_status_and_channel_filters(listed, browser, shop):
    other = make_channel(db.session.get(Merchant, shop.merchant_id))
    upsert_remote_listings(shop.merchant_id, other.id, [_v("w1", "NEW-1", title="Woo new")])
    db.session.commit()
    response = browser.hx_get("/listings?q=new&status=all", "listings")
    assert _is_fragment(response)
    body = response.get_data(as_text=True)
    assert "New thing" in body and "Woo new" in body and "DUP" not in body
    body = browser.hx_get(f"/listings?q=new&status=all&channel={other.id}",
                          "listings").get_data(as_text=True)
    assert "Woo new" in body and "New thing" not in body
    body = browser.hx_get("/listings?q=4006381333931", "listings").get_data(as_text=True)
    assert "New thing" in body and "Gift wrap" not in body  # by barcode
    body = browser.hx_get("/listings?status=matched", "listings").get_data(as_text=True)
    assert "TOTE-1" in body and "NEW-1" not in body
    body = browser.hx_get("/listings?q=100%25", "listings").get_data(as_text=True)
    assert "No unmatched listings match" in body  # a LIKE wildcard is searched for literally


def test_list_listings_pages_through_many(shop, browser):
    channel = db.session.get(Channel, shop.order.channel_id)
    upsert_remote_listings(shop.merchant_id, channel.id,
                           [_v(str(n), f"BULK-{n:03d}") for n in range(120)])
    db.session.commit()
    first = browser.get("/listings").get_data(as_text=True)
    assert first.count('name="listing_id"') == 50 and "Page 1 of 3" in first
    assert "BULK-000" in first and "BULK-050" not in first
    last = browser.hx_get("/listings?page=3", "listings").get_data(as_text=True)
    assert last.count('name="listing_id"') == 20 and "BULK-119" in last and "rel=\"prev\"" in last
    beyond = browser.hx_get("/listings?page=99", "listings").get_data(as_text=True)
    assert "Page 3 of 3" in beyond


def test_bulk_create_reports_created_matched_and_skipped(listed, browser):
    browser.get("/listings")
    ids = [_id(listed, v) for v in ("1", "2", "3", "6", "7")]
    response = browser.post("/listings/bulk", {"action": "create", "listing_id": ids},
                            target="listings")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and _is_fragment(response)
    assert "showToast" in response.headers["HX-Trigger"]
    assert "2 items created" in body and "2 skipped" in body  # NEW-1 and DUP (once)
    assert "Matched to existing items" in body  # the second DUP listing, to the new item
    assert "already exists: SKUs differing only in case or spacing" in body  # the case twin
    assert "Gift wrap" in body and "no SKU on the store" in body
    skus = set(db.session.scalars(select(InventoryItem.sku).where(
        InventoryItem.merchant_id == listed.merchant_id)))
    assert {"NEW-1", "DUP"} <= skus and "mug-1" not in skus
    assert _listing(listed, "1").match_status == "matched"
    assert _listing(listed, "2").match_status == "unmatched"


def test_bulk_action_repeated_form_is_done_once(listed, browser):
    browser.get("/listings")
    token = browser.form_tokens["/listings/bulk"]
    data = {"action": "create", "listing_id": [_id(listed, "1")], "form_token": token}
    assert browser.post("/listings/bulk", data, target="listings").status_code == 200
    repeat = browser.post("/listings/bulk", data, target="listings")
    assert "This form was already submitted: 1 item created." in repeat.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(InventoryItem).where(
        InventoryItem.sku == "NEW-1")) == 1


def test_bulk_ignore_then_reconsider(listed, browser):
    browser.get("/listings")
    ids = [_id(listed, "3"), _id(listed, "7")]
    body = browser.post("/listings/bulk", {"action": "ignore", "listing_id": ids},
                        target="listings").get_data(as_text=True)
    assert "2 listings ignored." in body and "Ignored: not tracked in Stockroom." in body
    assert _listing(listed, "3").match_status == "ignored"
    assert _listing(listed, "6").match_status == "unmatched"  # alone now, but no item DUP
    body = browser.post("/listings/bulk", {"action": "reconsider", "listing_id": ids},
                        target="listings").get_data(as_text=True)
    assert "2 listings reconsidered." in body
    assert _listing(listed, "3").match_status == "unmatched"
    assert "is on 2 listings" in _listing(listed, "7").match_note


@pytest.mark.parametrize("data, status, message", [
    ({"action": "create"}, 422, "Select at least one listing."),
    ({"action": "explode", "listing_id": ["1"]}, 422, "Choose what to do"),
    ({"action": "ignore", "listing_id": ["999999"]}, 404, None),
    ({"action": "ignore", "listing_id": ["abc"]}, 404, None),
    ({"action": "ignore", "listing_id": [str(n) for n in range(1, 502)]}, 422, "at most 500"),
])
def test_bulk_bad_input(listed, browser, data, status, message):
    browser.get("/listings")
    response = browser.post("/listings/bulk", data, target="listings")
    assert response.status_code == status
    if message:
        assert message in response.get_data(as_text=True) and _is_fragment(response)
    assert _listing(listed, "1").match_status == "unmatched"


def test_other_merchants_listings_are_404(listed, browser):
    listing_id = _id(listed, "1")
    browser.post("/sign-out")
    browser.sign_up(email="other@example.test")
    browser.get("/listings")
    body = browser.get("/listings?status=all").get_data(as_text=True)
    assert "NEW-1" not in body and 'data-status="all">0<' in body
    assert browser.post("/listings/bulk", {"action": "ignore", "listing_id": [listing_id]},
                        target="listings").status_code == 404
    assert browser.post(f"/listings/{listing_id}/match", {"sku": "NEW-1"}).status_code == 404
    assert _listing(listed, "1").match_status == "unmatched"


def test_match_suggested_in_one_click_and_by_typed_sku(listed, browser, shop):
    browser.get("/listings")
    twin = _id(listed, "2")
    response = browser.post(f"/listings/{twin}/match", {"item_id": str(shop.mug.id)},
                            target="listings")
    assert response.status_code == 200 and _is_fragment(response)
    assert "matched to MUG-1." in response.get_data(as_text=True)
    assert _listing(listed, "2").inventory_item_id == shop.mug.id
    dup = _id(listed, "6")
    browser.post(f"/listings/{dup}/match", {"sku": " tote-1 "}, target="listings")
    assert _listing(listed, "6").inventory_item_id == shop.tote.id
    assert _listing(listed, "6").match_note == "Matched by hand."


def test_match_unknown_sku_is_inline_and_others_item_is_404(listed, browser, shop):
    browser.get("/listings")
    new = _id(listed, "1")
    response = browser.post(f"/listings/{new}/match", {"sku": "NOPE-9"}, target="listings")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and _is_fragment(response)
    assert f'id="match-sku-{new}-error"' in body and "No item has SKU &#39;NOPE-9&#39;" in body
    other = Merchant(name="Other", email="o@example.test")
    db.session.add(other)
    db.session.flush()
    foreign = InventoryItem(merchant_id=other.id, sku="NEW-1", title="Theirs")
    db.session.add(foreign)
    db.session.commit()
    browser.get("/listings")
    assert browser.post(f"/listings/{new}/match", {"item_id": str(foreign.id)},
                        target="listings").status_code == 404
    assert _listing(listed, "1").inventory_item_id is None


def test_listing_text_is_escaped(listed, browser):
    body = browser.get("/listings").get_data(as_text=True)
    assert SCRIPT not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    browser.get("/listings")
    body = browser.post("/listings/bulk", {"action": "create", "listing_id": [_id(listed, "4")]},
                        target="listings").get_data(as_text=True)
    assert SCRIPT not in body and "1 item created" in body


def test_connections_counts_unmatched_and_links_to_listings(listed, browser):
    body = browser.get("/connections").get_data(as_text=True)
    assert "1 listing matched" in body and "7 unmatched" in body
    assert f'href="/listings?status=unmatched&amp;channel={listed.id}"' in body
