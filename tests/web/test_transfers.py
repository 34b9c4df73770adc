"""Transfers pages: draft, ship, receive in parts, cancel; bad input inline; embedded too."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Transfer
from tests.fixtures.factories import make_location, make_merchant
from tests.fixtures.stock import on_hand
from tests.web.conftest import header_credential


def create(shop, browser, **fields):
    browser.get("/transfers/new")
    data = {"origin_id": shop.main.id, "destination_id": shop.second.id, "sku-0": "MUG-1",
            "qty-0": "3", "sku-1": "", "qty-1": ""} | fields
    return browser.post("/transfers", data)


def test_transfer_walk_draft_ship_receive_in_parts(shop, browser):
    assert "Transfers" in browser.get("/transfers").get_data(as_text=True)
    response = create(shop, browser)
    assert response.status_code == 303
    transfer = db.session.scalars(select(Transfer)).one()
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Transfer T-{transfer.id}" in page and "Draft" in page and "Mark in transit" in page
    assert on_hand(shop.main, shop.mug) == 5

    response = browser.post(f"/transfers/{transfer.id}/ship", target="transfer-detail")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="transfer-detail"' in body
    assert "<html" not in body and "In transit" in body
    assert on_hand(shop.main, shop.mug) == 2

    line_id = transfer.lines[0].id
    response = browser.post(f"/transfers/{transfer.id}/receive", {f"receive-{line_id}": "1"},
                            target="transfer-detail")
    assert "Partially received" in response.get_data(as_text=True)
    assert on_hand(shop.second, shop.mug) == 1
    response = browser.post(f"/transfers/{transfer.id}/receive", {f"receive-{line_id}": "2"})
    assert response.status_code == 303
    page = browser.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert "Received" in page and "Receive at" not in page
    timeline = page[page.index('id="transfer-timeline"'):]
    assert timeline.count("timeline-item") == 4
    assert on_hand(shop.second, shop.mug) == 3 and on_hand(shop.main, shop.mug) == 2
    listing = browser.get("/transfers?status=received").get_data(as_text=True)
    assert f"T-{transfer.id}" in listing
    assert f"T-{transfer.id}" not in browser.get("/transfers?status=draft").get_data(as_text=True)


def test_create_transfer_bad_input_is_inline(shop, browser):
    response = create(shop, browser, **{"sku-0": "NOPE", "qty-0": "x", "sku-1": "TOTE-1",
                                        "qty-1": "-1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "No item has the SKU NOPE." in body and "Enter a whole number." in body
    assert "Can&#39;t be negative." in body or "Can't be negative." in body
    assert 'value="NOPE"' in body  # what was typed stays
    response = create(shop, browser, destination_id=shop.main.id)
    assert response.status_code == 422
    assert "The destination must be another location than the origin." in response.get_data(
        as_text=True)
    assert db.session.query(Transfer).count() == 0


def test_create_transfer_with_other_merchants_location_is_404(shop, browser):
    theirs = make_location(make_merchant(), "Theirs")
    db.session.commit()
    assert create(shop, browser, destination_id=theirs.id).status_code == 404
    assert db.session.query(Transfer).count() == 0


def test_ship_shortfalls_and_receive_excess_inline(shop, browser):
    create(shop, browser, **{"qty-0": "9", "sku-1": "TOTE-1", "qty-1": "3"})
    transfer = db.session.scalars(select(Transfer)).one()
    browser.get(f"/transfers/{transfer.id}")
    response = browser.post(f"/transfers/{transfer.id}/ship", target="transfer-detail")
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "5 available at the origin (needs 9)." in body
    assert "1 available at the origin (needs 3)." in body
    assert on_hand(shop.main, shop.mug) == 5
    # Take the tote line off; the origin then allows negative stock, so the 9 mugs ship.
    tote_line = next(ln for ln in transfer.lines if ln.item.sku == "TOTE-1")
    browser.post(f"/transfers/{transfer.id}/lines/{tote_line.id}/remove", target="transfer-detail")
    db.session.expire_all()
    assert [ln.item.sku for ln in transfer.lines] == ["MUG-1"]
    shop.main.allow_negative_stock = True
    db.session.commit()
    assert browser.post(f"/transfers/{transfer.id}/ship").status_code == 303
    browser.get(f"/transfers/{transfer.id}")
    line_id = transfer.lines[0].id
    response = browser.post(f"/transfers/{transfer.id}/receive", {f"receive-{line_id}": "10"},
                            target="transfer-detail")
    assert response.status_code == 409 and "Only 9 on the way." in response.get_data(as_text=True)
    response = browser.post(f"/transfers/{transfer.id}/receive", {f"receive-{line_id}": "abc"},
                            target="transfer-detail")
    assert response.status_code == 422 and "Enter a whole number." in response.get_data(
        as_text=True)
    assert on_hand(shop.second, shop.mug) == 0


def test_cancel_in_transit_returns_stock_and_a_replayed_form_does_nothing_twice(shop, browser):
    create(shop, browser)
    transfer = db.session.scalars(select(Transfer)).one()
    browser.get(f"/transfers/{transfer.id}")
    browser.post(f"/transfers/{transfer.id}/ship")
    page = browser.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert 'hx-confirm="Cancel this transfer?' in page
    line_id = transfer.lines[0].id
    receive_token = browser.form_tokens[f"/transfers/{transfer.id}/receive"]
    for _ in range(2):  # a double click: the second is answered like the first
        response = browser.post(f"/transfers/{transfer.id}/receive",
                                {f"receive-{line_id}": "1", "form_token": receive_token})
        assert response.status_code == 303
    assert on_hand(shop.second, shop.mug) == 1
    browser.get(f"/transfers/{transfer.id}")
    assert browser.post(f"/transfers/{transfer.id}/cancel").status_code == 303
    assert (on_hand(shop.main, shop.mug), on_hand(shop.second, shop.mug)) == (4, 1)
    page = browser.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert "2 units of 1 item not received returned to Main warehouse." in page


def test_other_merchants_transfer_is_404(shop, browser, app):
    create(shop, browser)
    transfer = db.session.scalars(select(Transfer)).one()
    browser.client.post("/sign-out", data={"csrf_token": browser.csrf})
    browser.csrf = None
    browser.sign_up(email="other@example.test", business="Other")
    assert browser.get(f"/transfers/{transfer.id}").status_code == 404
    browser.get("/transfers")
    assert browser.post(f"/transfers/{transfer.id}/ship").status_code == 404
    assert f"T-{transfer.id}" not in browser.get("/transfers").get_data(as_text=True)


def test_transfer_pages_work_embedded_with_a_session_token(shop, app):
    headers = header_credential(app, shop.merchant_id, first=True)
    client = app.test_client()
    page = client.get("/transfers/new", headers=headers).get_data(as_text=True)
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = client.post("/transfers", headers=headers | {"HX-Request": "true"}, data={
        "form_token": token, "origin_id": shop.main.id, "destination_id": shop.second.id,
        "sku-0": "TOTE-1", "qty-0": "1"})
    assert response.status_code == 204 and "HX-Location" in response.headers
    assert "Set-Cookie" not in response.headers
    transfer = db.session.scalars(select(Transfer)).one()
    assert client.get(f"/transfers/{transfer.id}", headers=headers).status_code == 200
