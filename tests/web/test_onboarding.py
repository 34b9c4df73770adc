"""Onboarding page, opening stock comparison and confirmation, reminders: each action and
bad input."""
import re

import pytest
from sqlalchemy import func, select

from app.catalog import RemoteLevel, RemoteVariant, record_remote_levels, upsert_remote_listings
from app.extensions import db
from app.models import (ChannelLocation, FormSubmission, InventoryItem, InventoryLevel,
                        InventoryMovement, Merchant, OutboxEvent, Platform, User)
from app.stock.push import pending_pushes
from tests.fixtures.factories import make_channel, make_item, make_location, make_merchant, stock


def _merchant(browser) -> Merchant:
    assert browser.sign_up().status_code == 303
    return db.session.get(Merchant, db.session.query(User).one().merchant_id)


def _store(merchant, *, n=3, platform=Platform.SHOPIFY, imported=True, mapped_to=None,
           name="Main"):
    """A channel with ``n`` listings (SKU-1..n) plus one without SKU, levels at one location."""
    channel = make_channel(merchant, platform)
    if imported:
        channel.sync_cursors = {"import": {"step": "done", "finished_at": "2026-12-06T00:00:00",
                                           "counts": {"variants": n + 1}}}
    cl = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id, remote_id="L1",
                         name=name, stock_location_id=mapped_to.id if mapped_to else None)
    db.session.add(cl)
    db.session.flush()
    upsert_remote_listings(merchant.id, channel.id, [
        RemoteVariant(f"v{i}", "P1", None, f"SKU-{i}", f"Tee {i}") for i in range(1, n + 1)]
        + [RemoteVariant("v0", "P1", None, "", "Gift card")])
    record_remote_levels(merchant.id, channel.id, [
        RemoteLevel(f"v{i}", "L1", i * 2, i * 2 - 1, 1) for i in range(1, n + 1)])
    db.session.commit()
    return channel, cl


def _text(response) -> str:
    return response.get_data(as_text=True)


def _on_hand(location, sku) -> int:
    db.session.expire_all()
    return db.session.scalar(select(InventoryLevel.on_hand).join(
        InventoryItem, InventoryItem.id == InventoryLevel.item_id).where(
        InventoryLevel.location_id == location.id, InventoryItem.sku == sku)) or 0


def test_show_onboarding_from_an_empty_database(browser):
    _merchant(browser)
    body = _text(browser.get("/onboarding"))
    assert "Add a location" in body and "Connect a store first." in body
    assert "hx-trigger=\"every 2s\"" not in body
    home = _text(browser.get("/"))
    assert "Set up Stockroom" in home and 'id="step-catalog"' in home
    assert "pushes-paused" not in _text(browser.get("/sync"))


def test_show_onboarding_polls_while_an_import_runs(browser):
    merchant = _merchant(browser)
    make_location(merchant, "Warehouse")
    channel = make_channel(merchant, Platform.WOOCOMMERCE)
    channel.sync_cursors = {"import": {"step": "products", "page": 4, "total_products": 50000,
                                       "counts": {"products": 300, "listings": 12000}}}
    db.session.commit()
    body = _text(browser.get("/onboarding"))
    assert "Reading products… 12,000 listings (300 of 50,000 products)" in body
    assert 'hx-trigger="every 2s"' in body
    shop = make_channel(merchant)
    shop.sync_cursors = {"import": {"step": "products", "after": "c", "variants_total": 50000,
                                    "counts": {"variants": 250}}}
    db.session.commit()
    fragment = browser.hx_get("/onboarding", "onboarding-steps")
    assert "Reading products… 250 of 50,000 variants" in _text(fragment)
    assert _text(fragment).lstrip().startswith('<div id="onboarding-steps"')
    assert "Once a store's import is done, choose it here." in _text(fragment)


def test_seed_catalog_creates_items_once_and_lists_the_rest(browser):
    merchant = _merchant(browser)
    make_location(merchant, "Warehouse")
    channel, _ = _store(merchant)
    body = _text(browser.get("/onboarding"))
    assert "Which store's catalog seeds" in body and f'value="{channel.id}"' in body
    token = browser.form_tokens["/onboarding/catalog"]
    response = browser.post("/onboarding/catalog", {"channel_id": str(channel.id)})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(InventoryItem)) == 3
    body = _text(browser.get("/onboarding"))
    assert re.search(r"Items created from Shop \d+: <strong>3</strong>", body)
    assert "1 × No SKU on the store" in body and "/listings?channel=" in body
    again = browser.post("/onboarding/catalog", {"channel_id": str(channel.id),
                                                 "form_token": token})
    assert again.status_code == 303
    assert "already submitted" in _text(browser.get("/onboarding"))
    assert db.session.scalar(select(func.count()).select_from(InventoryItem)) == 3


def test_seed_catalog_bad_input(browser):
    merchant = _merchant(browser)
    _store(merchant)
    other = make_merchant()
    foreign, _ = _store(other)
    browser.get("/onboarding")
    token = browser.form_tokens["/onboarding/catalog"]
    response = browser.post("/onboarding/catalog", {"channel_id": ""})
    assert response.status_code == 422 and "Choose the store" in _text(response)
    response = browser.post("/onboarding/catalog", {"channel_id": str(foreign.id),
                                                    "form_token": token})
    assert response.status_code == 404 and "not connected" in _text(response)
    assert db.session.scalar(select(func.count()).select_from(InventoryItem)) == 0
    response = browser.post("/onboarding/catalog", {"channel_id": "1", "form_token": "x.y.z"})
    assert response.status_code == 422 and "out of date" in _text(response)


def test_later_channels_show_what_matched(browser):
    merchant = _merchant(browser)
    make_item(merchant, "SKU-1")
    make_item(merchant, "SKU-2")
    _store(merchant, n=3)
    body = _text(browser.get("/onboarding"))
    assert re.search(r"matched 2 by SKU/barcode, <a href=\"/listings\?[^\"]*\">2 need a decision",
                     body)
    home = _text(browser.get("/"))
    assert "2 listings need a decision" in home


def test_opening_stock_compares_filters_and_pages(browser):
    merchant = _merchant(browser)
    warehouse = make_location(merchant, "Warehouse")
    channel, cl = _store(merchant, n=120, mapped_to=warehouse)
    items = {i.sku: i for i in db.session.scalars(select(InventoryItem))}
    assert not items
    for i in range(1, 121):
        item = make_item(merchant, f"SKU-{i}")
        if i % 2:
            stock(warehouse, item, i * 2)  # odd SKUs agree with the platform
    from app.catalog import rematch_channel
    rematch_channel(merchant.id, channel.id)
    db.session.commit()
    page = browser.get(f"/onboarding/locations/{cl.id}")
    body = _text(page)
    assert page.status_code == 200 and "120 matched listings here" in body
    assert "<strong>60</strong> with a different on-hand count" in body
    assert "Page 1 of 3" in body and 'data-sku="SKU-1"' in body
    assert "paused until you choose" in body
    rows = browser.hx_get(f"/onboarding/locations/{cl.id}?only=differing&page=2", "opening-rows")
    text = _text(rows)
    assert text.lstrip().startswith('<div id="opening-rows"') and "Page 2 of 2" in text
    assert all(int(s) % 2 == 0 for s in re.findall(r'data-sku="SKU-(\d+)"', text))
    found = _text(browser.get(f"/onboarding/locations/{cl.id}?q=sku-11"))
    assert set(re.findall(r'data-sku="([^"]+)"', found)) == {
        "SKU-11", *(f"SKU-11{d}" for d in range(10))}
    assert "0 → 4" in _text(browser.get(f"/onboarding/locations/{cl.id}?q=SKU-2&only=differing"))


def _confirmable(browser):
    merchant = _merchant(browser)
    warehouse = make_location(merchant, "Warehouse")
    for sku, qty in (("SKU-1", 2), ("SKU-2", 9), ("SKU-3", 0)):
        item = make_item(merchant, sku)
        if qty:
            stock(warehouse, item, qty)
    channel, cl = _store(merchant, n=3, mapped_to=warehouse)
    return merchant, warehouse, channel, cl


def test_confirm_take_the_platforms_quantities(browser):
    merchant, warehouse, channel, cl = _confirmable(browser)
    review = browser.get(f"/onboarding/locations/{cl.id}/confirm?truth=platform")
    body = _text(review)
    assert "<strong>2</strong> Stockroom levels at Warehouse will change" in body
    assert "SKU-2: 9 → 4" in body and "SKU-3: 0 → 6" in body
    assert "already agree" in body
    url = f"/onboarding/locations/{cl.id}/confirm"
    first = browser.form_tokens[url]
    browser.get(f"/onboarding/locations/{cl.id}/confirm?truth=platform")
    second = browser.form_tokens[url]
    assert pending_pushes(channel.id, limit=10) == []
    done = browser.post(url, {"truth": "platform", "form_token": first})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/onboarding/locations/{cl.id}")
    assert (_on_hand(warehouse, "SKU-1"), _on_hand(warehouse, "SKU-2"),
            _on_hand(warehouse, "SKU-3")) == (2, 4, 6)
    assert db.session.scalar(select(func.count()).select_from(InventoryMovement).where(
        InventoryMovement.reason == "opening_balance")) == 2
    page = _text(browser.get(f"/onboarding/locations/{cl.id}"))
    assert "2 levels set from the platform" in page and "Confirmed" in page
    assert "Take Shopify" not in page
    twice = browser.post(url, {"truth": "platform", "form_token": second})
    assert twice.status_code == 409 and "was confirmed on" in _text(twice)
    repeat = browser.post(url, {"truth": "platform", "form_token": first})
    assert repeat.status_code == 303
    assert "already submitted" in _text(browser.get(f"/onboarding/locations/{cl.id}"))
    assert _on_hand(warehouse, "SKU-2") == 4


def test_confirm_keep_stockrooms_says_the_store_is_overwritten(browser):
    merchant, warehouse, channel, cl = _confirmable(browser)
    assert "Inventory pushes to" in _text(browser.get("/sync"))
    assert "pushes-paused" in _text(browser.get("/"))
    body = _text(browser.get(f"/onboarding/locations/{cl.id}/confirm?truth=stockroom"))
    assert "counts at Main will be overwritten by Stockroom" in body
    assert "SKU-1: Shopify shows 1 available, will show 2" in body
    assert "3 of 3 listings will change" in body
    url = f"/onboarding/locations/{cl.id}/confirm"
    assert browser.post(url, {"truth": "stockroom"}).status_code == 303
    assert _on_hand(warehouse, "SKU-2") == 9
    db.session.expire_all()
    assert {p.sku: p.quantity for p in pending_pushes(channel.id, limit=10)} == {
        "SKU-1": 2, "SKU-2": 9, "SKU-3": 0}
    assert "pushes-paused" not in _text(browser.get("/sync"))


def test_confirm_bad_input(browser):
    merchant, warehouse, channel, cl = _confirmable(browser)
    url = f"/onboarding/locations/{cl.id}/confirm"
    assert browser.get(f"{url}?truth=both").status_code == 422
    browser.get(f"{url}?truth=platform")
    response = browser.post(url, {"truth": "both"})
    assert response.status_code == 422 and "Choose whose quantities" in _text(response)
    unmapped = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id, remote_id="L2",
                               name="Pop-up")
    other = make_merchant()
    _, foreign = _store(other, mapped_to=make_location(other, "Theirs"))
    db.session.add(unmapped)
    db.session.commit()
    page = browser.get(f"/onboarding/locations/{unmapped.id}")
    assert page.status_code == 422 and "Map Pop-up onto a stock location first" in _text(page)
    review = f"/onboarding/locations/{unmapped.id}/confirm?truth=platform"
    assert browser.get(review).status_code == 422
    token = browser.form_tokens[url]
    response = browser.post(f"/onboarding/locations/{unmapped.id}/confirm",
                            {"truth": "platform", "form_token": token})
    assert response.status_code == 422  # the token was made for another form
    assert browser.get(f"/onboarding/locations/{foreign.id}").status_code == 404
    review = f"/onboarding/locations/{foreign.id}/confirm?truth=platform"
    assert browser.get(review).status_code == 404
    assert browser.post(f"/onboarding/locations/{foreign.id}/confirm",
                        {"truth": "platform"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(ChannelLocation, foreign.id).stock_confirmed_at is None
    assert db.session.get(ChannelLocation, cl.id).stock_confirmed_at is None


def test_read_the_quantities_again_queues_one_refresh(browser):
    merchant, warehouse, channel, cl = _confirmable(browser)
    page = f"/onboarding/locations/{cl.id}"
    url = f"/onboarding/channels/{channel.id}/refresh"
    browser.get(page)
    token = browser.form_tokens[url]
    response = browser.post(url, {"next": page})
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    events = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "catalog.refresh_requested")).all()
    assert [(e.channel_id, e.merchant_id) for e in events] == [(channel.id, merchant.id)]
    assert "Reading again" in _text(browser.get(page))
    browser.post(url, {"next": "https://evil.example/", "form_token": token})
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic == "catalog.refresh_requested")) == 1
    other = make_merchant()
    foreign, _ = _store(other)
    assert browser.post(f"/onboarding/channels/{foreign.id}/refresh").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(FormSubmission).where(
        FormSubmission.merchant_id == other.id)) == 0


def test_store_names_are_escaped(browser):
    merchant = _merchant(browser)
    warehouse = make_location(merchant, "Warehouse")
    channel, cl = _store(merchant, mapped_to=warehouse, name="<script>x()</script>")
    channel.name = "<b>Shop</b>"
    db.session.commit()
    for url in ("/onboarding", "/", "/sync", f"/onboarding/locations/{cl.id}",
                f"/onboarding/locations/{cl.id}/confirm?truth=stockroom"):
        body = _text(browser.get(url))
        assert "<script>x()" not in body and "<b>Shop</b>" not in body, url
        assert "&lt;b&gt;Shop&lt;/b&gt;" in body, url


@pytest.mark.parametrize("url", ["/onboarding", "/onboarding/locations/1",
                                 "/onboarding/locations/1/confirm?truth=platform"])
def test_pages_need_sign_in(browser, url):
    response = browser.get(url)
    assert response.status_code in (302, 303, 401) and "/sign-in" in response.headers.get(
        "Location", "/sign-in")
