"""Receiving pages: a purchase order received in parts through the ledger, more than expected
only when allowed, bad input inline, another merchant's records out of reach."""
from sqlalchemy import select

from app.extensions import db
from app.models import InventoryMovement, OutboxEvent, PurchaseOrder
from tests.web.conftest import header_credential
from tests.fixtures.factories import make_location, make_merchant
from tests.web.test_transfers import on_hand


def create(shop, browser, **fields):
    browser.get("/receiving/new")
    data = {"supplier": "Clay & Co.", "location_id": shop.second.id, "sku-0": "MUG-1",
            "qty-0": "10", "sku-1": "tote-1", "qty-1": "4"} | fields
    return browser.post("/receiving", data)


def test_purchase_order_received_in_parts_through_the_ledger(shop, browser):
    assert "Receiving" in browser.get("/receiving").get_data(as_text=True)
    response = create(shop, browser)
    assert response.status_code == 303
    po = db.session.scalars(select(PurchaseOrder)).one()
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Purchase order PO-{po.id}" in page and "Clay &amp; Co." in page
    mug, tote = (next(ln for ln in po.lines if ln.item.sku == s) for s in ("MUG-1", "TOTE-1"))
    db.session.query(OutboxEvent).delete()
    db.session.commit()

    response = browser.post(f"/receiving/{po.id}/receive",
                            {f"receive-{mug.id}": "6", f"receive-{tote.id}": ""},
                            target="purchase-order-detail")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Partially received" in body and "<html" not in body
    assert on_hand(shop.second, shop.mug) == 6 and on_hand(shop.second, shop.tote) == 4
    movement = db.session.scalars(select(InventoryMovement).where(
        InventoryMovement.reason == "purchase_order_received")).one()
    assert (movement.delta, movement.reference_type, movement.reference_id) == (
        6, "purchase_order", po.id)
    # The inventory push hears of it, like every ledger change.
    pushed = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "inventory.levels_changed")).one()
    assert pushed.payload == {"location_id": shop.second.id, "item_ids": [shop.mug.id]}

    response = browser.post(f"/receiving/{po.id}/receive",
                            {f"receive-{mug.id}": "4", f"receive-{tote.id}": "4"})
    assert response.status_code == 303
    page = browser.get(f"/receiving/{po.id}").get_data(as_text=True)
    assert "Receive at" not in page
    timeline = page[page.index('id="purchase-order-timeline"'):]
    assert timeline.count("timeline-item") == 3
    assert "Received at Downtown shop: MUG-1 ×6. Still expected: 8 units." in timeline
    assert on_hand(shop.second, shop.mug) == 10 and on_hand(shop.second, shop.tote) == 8
    assert f"PO-{po.id}" in browser.get("/receiving?status=received").get_data(as_text=True)
    assert f"PO-{po.id}" not in browser.get("/receiving?status=open").get_data(as_text=True)


def test_more_than_expected_is_refused_unless_allowed(shop, browser):
    create(shop, browser, **{"sku-1": "", "qty-1": ""})
    po = db.session.scalars(select(PurchaseOrder)).one()
    line = po.lines[0]
    browser.get(f"/receiving/{po.id}")
    response = browser.post(f"/receiving/{po.id}/receive", {f"receive-{line.id}": "12"},
                            target="purchase-order-detail")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Only 10 still expected." in body
    assert 'value="12"' in body  # what was typed stays
    assert on_hand(shop.second, shop.mug) == 0
    response = browser.post(f"/receiving/{po.id}/receive",
                            {f"receive-{line.id}": "12", "allow_excess": "on"})
    assert response.status_code == 303
    assert on_hand(shop.second, shop.mug) == 12
    page = browser.get(f"/receiving/{po.id}").get_data(as_text=True)
    assert "More than expected (allowed): MUG-1 +2." in page and "Received" in page


def test_bad_input_is_inline_and_creates_nothing(shop, browser):
    theirs = make_location(make_merchant(), "Theirs")
    db.session.commit()
    response = create(shop, browser, **{"sku-0": "NOPE", "qty-0": "x", "qty-1": "-2"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No item has the SKU NOPE." in body and "Enter a whole number." in body
    assert "be negative." in body and 'value="NOPE"' in body
    for fields, message in [({"location_id": theirs.id}, "Choose one of your stock locations."),
                            ({"location_id": ""}, "Choose where the stock arrives."),
                            ({"supplier": " "}, "Enter the supplier.")]:
        response = create(shop, browser, **fields)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.query(PurchaseOrder).count() == 0

    create(shop, browser)
    po = db.session.scalars(select(PurchaseOrder)).one()
    browser.get(f"/receiving/{po.id}")
    for value, message in [("-1", "be negative."), ("two", "Enter a whole number."),
                           ("99999999999", "At most 1,000,000,000."),
                           ("", "Enter how many units arrived.")]:
        response = browser.post(f"/receiving/{po.id}/receive", {f"receive-{po.lines[0].id}": value},
                                target="purchase-order-detail")
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert on_hand(shop.second, shop.mug) == 0


def test_close_and_a_replayed_receive_acts_once(shop, browser):
    create(shop, browser)
    po = db.session.scalars(select(PurchaseOrder)).one()
    browser.get(f"/receiving/{po.id}")
    token = browser.form_tokens[f"/receiving/{po.id}/receive"]
    for _ in range(2):
        response = browser.post(f"/receiving/{po.id}/receive",
                                {f"receive-{po.lines[0].id}": "1", "form_token": token})
        assert response.status_code == 303
    assert on_hand(shop.second, shop.mug) == 1
    browser.get(f"/receiving/{po.id}")
    close_token = browser.form_tokens[f"/receiving/{po.id}/close"]
    late_receive = browser.form_tokens[f"/receiving/{po.id}/receive"]
    for _ in range(2):  # a double click on Close: closed once
        response = browser.post(f"/receiving/{po.id}/close", {"form_token": close_token})
        assert response.status_code == 303
    page = browser.get(f"/receiving/{po.id}").get_data(as_text=True)
    assert "Closed: 13 expected units will not arrive." in page and "Receive at" not in page
    assert page.count('data-kind="closed"') == 1
    # A receive form left open in another tab is refused once the order is closed.
    response = browser.post(f"/receiving/{po.id}/receive",
                            {f"receive-{po.lines[0].id}": "1", "form_token": late_receive},
                            target="purchase-order-detail")
    assert response.status_code == 409
    assert f"Purchase order PO-{po.id} is closed: it can&#39;t be received." in response.get_data(
        as_text=True)
    assert on_hand(shop.second, shop.mug) == 1


def test_other_merchants_purchase_order_is_404(shop, browser):
    create(shop, browser)
    po = db.session.scalars(select(PurchaseOrder)).one()
    browser.client.post("/sign-out", data={"csrf_token": browser.csrf})
    browser.csrf = None
    browser.sign_up(email="other@example.test", business="Other")
    assert browser.get(f"/receiving/{po.id}").status_code == 404
    browser.get("/receiving")
    assert browser.post(f"/receiving/{po.id}/receive",
                        {f"receive-{po.lines[0].id}": "1"}).status_code == 404
    assert f"PO-{po.id}" not in browser.get("/receiving").get_data(as_text=True)


def test_receiving_works_embedded_with_a_session_token(shop, app):
    import re

    bearer = header_credential(app, shop.merchant_id, first=True)
    client = app.test_client()
    headers = {**bearer}
    page = client.get("/receiving/new", headers=headers).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = client.post("/receiving", headers=headers | {"HX-Request": "true"}, data={
        "form_token": token, "supplier": "Clay & Co.", "location_id": shop.main.id,
        "sku-0": "TOTE-1", "qty-0": "2"})
    assert response.status_code == 204 and "HX-Location" in response.headers
    assert "Set-Cookie" not in response.headers
    po = db.session.scalars(select(PurchaseOrder)).one()
    assert client.get(f"/receiving/{po.id}", headers=headers).status_code == 200
