"""Pack screen: scans check off units and survive a reload; wrong, extra and other orders'
items are refused inline; completion needs every unit or an override on the timeline."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.fulfillment import Tracking, cancel_fulfillment, create_fulfillment, mark_delivered
from app.models import Fulfillment, OutboxEvent, PackCount
from tests.web.conftest import header_credential
from tests.fixtures.factories import make_channel, make_item, make_merchant, make_order, stock


def fulfill(shop, quantities=None, tracking=None):
    lines = {ln.sku: ln.id for ln in shop.order.lines}
    wanted = quantities or {"MUG-1": 3, "TOTE-1": 1}
    fulfillment = create_fulfillment(shop.order.id, {lines[s]: q for s, q in wanted.items()},
                                     shop.main.id, merchant_id=shop.merchant_id,
                                     tracking=tracking)
    db.session.commit()
    return fulfillment


def scan(browser, fulfillment, code):
    return browser.post(f"/fulfillments/{fulfillment.id}/scans", {"code": code},
                        target="pack-lines")


def scanned(fulfillment):
    db.session.expire_all()
    return {c.fulfillment_line_id: c.scanned for c in db.session.scalars(
        select(PackCount).where(PackCount.fulfillment_id == fulfillment.id))}


def test_scans_by_sku_and_barcode_check_off_units_and_survive_a_reload(shop, browser):
    shop.tote.barcode = "0712345678911"
    db.session.commit()
    fulfillment = fulfill(shop)
    page = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert f"/fulfillments/{fulfillment.id}/pack" in page
    page = browser.get(f"/fulfillments/{fulfillment.id}/pack").get_data(as_text=True)
    assert "0 of 4 units scanned" in page and 'id="scan-code"' in page

    response = scan(browser, fulfillment, " mug-1 ")  # any case and spacing of the SKU
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="pack-lines">')
    assert "Checked off: MUG-1" in body and "1 of 3 scanned." in body
    assert scan(browser, fulfillment, "0712345678911").status_code == 200  # the tote's barcode
    assert "2 of 4 units scanned" in browser.get(
        f"/fulfillments/{fulfillment.id}/pack").get_data(as_text=True)  # a reload keeps them
    lines = {fl.order_line.sku: fl.id for fl in fulfillment.lines}
    assert scanned(fulfillment) == {lines["MUG-1"]: 1, lines["TOTE-1"]: 1}


def test_wrong_extra_unknown_and_other_orders_items_are_refused_inline(shop, browser):
    fulfillment = fulfill(shop, {"MUG-1": 1})
    merchant_id = shop.merchant_id
    from app.models import Merchant

    merchant = db.session.get(Merchant, merchant_id)
    cap = make_item(merchant, "CAP-1")
    stock(shop.main, cap, 2)
    other = make_order(make_channel(merchant), [(cap, 1)])
    create_fulfillment(other.id, {other.lines[0].id: 1}, shop.main.id, merchant_id=merchant_id)
    make_item(merchant, "SCARF-1")
    theirs = make_item(make_merchant(), "SECRET-1")
    db.session.commit()
    browser.get(f"/fulfillments/{fulfillment.id}/pack")

    assert scan(browser, fulfillment, "MUG-1").status_code == 200
    cases = {"MUG-1": "Extra unit: all 1 of MUG-1 are already scanned.",
             "TOTE-1": "Wrong item: TOTE-1",
             "CAP-1": f"CAP-1 belongs to order {other.name}, not to this fulfillment.",
             "NOPE-9": "No item has the SKU or barcode NOPE-9.",
             theirs.sku: f"No item has the SKU or barcode {theirs.sku}.",  # another merchant's
             "  ": "Scan or type a SKU or barcode."}
    for code, message in cases.items():
        response = scan(browser, fulfillment, code)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, code
        assert message in body, code
        assert 'role="alert"' in body and "<audio" not in body
    assert list(scanned(fulfillment).values()) == [1]


def test_complete_needs_every_unit_or_an_override_with_a_reason_on_the_timeline(shop, browser):
    fulfillment = fulfill(shop)
    browser.get(f"/fulfillments/{fulfillment.id}/pack")
    scan(browser, fulfillment, "MUG-1")
    response = browser.post(f"/fulfillments/{fulfillment.id}/pack", target="pack-lines")
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Not every unit is scanned: MUG-1 (1 of 3 scanned), TOTE-1 (0 of 1 scanned)." in body
    stale_token = browser.form_tokens[f"/fulfillments/{fulfillment.id}/pack"]  # another tab's
    # The order page's "Mark as shipped" refuses a half-scanned fulfillment too.
    response = browser.post(f"/fulfillments/{fulfillment.id}/ship", target="order-detail")
    assert response.status_code == 409 and "Not every unit is scanned" in response.get_data(
        as_text=True)
    response = browser.post(f"/fulfillments/{fulfillment.id}/pack", {"override": "on"},
                            target="pack-lines")
    assert response.status_code == 422
    assert "Say why you ship without scanning every unit." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Fulfillment, fulfillment.id).status == "pending"

    response = browser.post(f"/fulfillments/{fulfillment.id}/pack",
                            {"override": "on", "reason": "Scanner battery died"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/orders/{shop.order.id}"
    db.session.expire_all()
    assert db.session.get(Fulfillment, fulfillment.id).status == "shipped"
    packed = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "fulfillment.packed")).one()
    assert packed.payload["override"] is True and packed.order_id == shop.order.id
    page = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    timeline = page[page.index('id="order-timeline"'):]
    assert ("Packed with an override: 1 of 4 units scanned. Reason: Scanner battery died"
            in timeline)
    assert "Recorded in Stockroom" in timeline
    # Packed: a completion from a page left open elsewhere is refused, visibly; no more scans.
    response = browser.post(f"/fulfillments/{fulfillment.id}/pack", {"form_token": stale_token},
                            target="pack-lines")
    packed_already = f"Fulfillment {fulfillment.name} is packed already"
    assert response.status_code == 409 and packed_already in response.get_data(as_text=True)
    response = scan(browser, fulfillment, "MUG-1")
    assert response.status_code == 409 and packed_already in response.get_data(as_text=True)


def test_complete_when_every_unit_is_scanned(shop, browser):
    fulfillment = fulfill(shop, {"MUG-1": 2})
    browser.get(f"/fulfillments/{fulfillment.id}/pack")
    scan(browser, fulfillment, "MUG-1")
    body = scan(browser, fulfillment, "MUG-1").get_data(as_text=True)
    assert "Packed: mark as shipped" in body
    browser.remember_forms(scan(browser, fulfillment, "MUG-1"))  # an extra: refused, form kept
    response = browser.post(f"/fulfillments/{fulfillment.id}/pack")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Fulfillment, fulfillment.id).status == "shipped"
    packed = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "fulfillment.packed")).one()
    assert packed.payload["message"] == "Packed: all 2 units verified by scan."


def test_a_fulfillment_nobody_scanned_still_ships_from_the_order_page(shop, browser):
    fulfillment = fulfill(shop)
    browser.get(f"/orders/{shop.order.id}")
    assert browser.post(f"/fulfillments/{fulfillment.id}/ship").status_code == 303
    db.session.expire_all()
    assert db.session.get(Fulfillment, fulfillment.id).status == "shipped"


def test_a_fulfillment_tracked_before_packing_is_packed_without_shipping_again(shop, browser):
    """A label bought first ships it (tracking); it stays on the bench until it is packed,
    and completing it records the packing only: no second shipped event."""
    fulfillment = fulfill(shop, {"MUG-1": 2}, tracking=Tracking("1Z77", "UPS"))
    shipped_at = fulfillment.shipped_at
    card = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert fulfillment.status == "shipped" and "Not packed yet" in card
    assert f'/fulfillments/{fulfillment.id}/pack"' in card  # the Pack link; no Mark shipped
    assert f'/fulfillments/{fulfillment.id}/ship"' not in card
    browser.get(f"/fulfillments/{fulfillment.id}/pack")
    scan(browser, fulfillment, "MUG-1")
    body = scan(browser, fulfillment, "MUG-1").get_data(as_text=True)
    assert ">Packed<" in body and "mark as shipped" not in body
    response = browser.post(f"/fulfillments/{fulfillment.id}/pack")
    assert response.status_code == 303
    db.session.expire_all()
    done = db.session.get(Fulfillment, fulfillment.id)
    assert (done.status, done.shipped_at) == ("shipped", shipped_at)
    assert done.packed_at is not None and done.packed_at > shipped_at
    topics = db.session.scalars(select(OutboxEvent.topic).where(
        OutboxEvent.order_id == shop.order.id).order_by(OutboxEvent.id)).all()
    assert topics == ["fulfillment.created", "fulfillment.packed"]
    page = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert f"Fulfillment {done.name} packed." in page  # the toast: not "marked as shipped"
    assert "Not packed yet" not in page and "<dt>Packed</dt>" in page
    assert f'/fulfillments/{fulfillment.id}/pack"' not in page


@pytest.mark.parametrize("how", ["delivered", "canceled"])
def test_a_delivered_or_canceled_fulfillment_is_refused_by_name(shop, browser, how):
    fulfillment = fulfill(shop, {"MUG-1": 1})
    (mark_delivered if how == "delivered" else cancel_fulfillment)(
        fulfillment.id, merchant_id=shop.merchant_id)
    db.session.commit()
    page = browser.get(f"/fulfillments/{fulfillment.id}/pack").get_data(as_text=True)
    assert 'id="scan-code"' not in page and "nothing left to pack" in page
    response = scan(browser, fulfillment, "MUG-1")
    assert response.status_code == 409
    assert (f"Fulfillment {fulfillment.name} is {how}: there is nothing to pack."
            in response.get_data(as_text=True))
    assert scanned(fulfillment) == {}


def test_an_item_of_another_orders_tracked_unpacked_fulfillment_is_named(shop, browser):
    fulfillment = fulfill(shop, {"MUG-1": 1})
    from app.models import Merchant

    merchant = db.session.get(Merchant, shop.merchant_id)
    cap = make_item(merchant, "CAP-1")
    stock(shop.main, cap, 2)
    other = make_order(make_channel(merchant), [(cap, 1)])
    create_fulfillment(other.id, {other.lines[0].id: 1}, shop.main.id,
                       merchant_id=shop.merchant_id, tracking=Tracking("1Z8"))
    db.session.commit()
    browser.get(f"/fulfillments/{fulfillment.id}/pack")
    response = scan(browser, fulfillment, "CAP-1")
    assert response.status_code == 422
    assert f"CAP-1 belongs to order {other.name}" in response.get_data(as_text=True)


def test_other_merchants_fulfillment_is_404(shop, browser):
    fulfillment = fulfill(shop)
    browser.client.post("/sign-out", data={"csrf_token": browser.csrf})
    browser.csrf = None
    browser.sign_up(email="other@example.test", business="Other")
    assert browser.get(f"/fulfillments/{fulfillment.id}/pack").status_code == 404
    browser.get("/orders")
    assert scan(browser, fulfillment, "MUG-1").status_code == 404
    assert scanned(fulfillment) == {}


def test_pack_screen_works_embedded_with_a_session_token(shop, app):
    fulfillment = fulfill(shop, {"MUG-1": 1})
    bearer = header_credential(app, shop.merchant_id, first=True)
    client = app.test_client()
    headers = {**bearer, "HX-Request": "true"}
    assert client.get(f"/fulfillments/{fulfillment.id}/pack",
                      headers=bearer).status_code == 200
    response = client.post(f"/fulfillments/{fulfillment.id}/scans", data={"code": "MUG-1"},
                           headers=headers | {"HX-Target": "pack-lines"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 of 1 unit scanned" in body
    token = re.search(r'name="form_token" value="([^"]+)"', body).group(1)
    response = client.post(f"/fulfillments/{fulfillment.id}/pack", data={"form_token": token},
                           headers=headers)
    assert response.status_code == 204 and "HX-Location" in response.headers
    assert "Set-Cookie" not in response.headers
    db.session.expire_all()
    assert db.session.get(Fulfillment, fulfillment.id).status == "shipped"
