"""Pick lists and packing slips: print views and PDFs (text read back), grouping and
quantities, other merchants' records answered 404, no orders selected answered inline."""
import io
import re

import pytest

from app.extensions import db
from app.fulfillment import Tracking, create_fulfillment, mark_shipped, update_tracking
from app.models import Merchant
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order, stock)
from tests.fixtures.pdf_text import pdf_text
from tests.web.conftest import header_credential


def fulfill(order, location, quantities, merchant_id, **kwargs):
    lines = {ln.sku: ln.id for ln in order.lines}
    fulfillment = create_fulfillment(order.id, {lines[s]: q for s, q in quantities.items()},
                                     location.id, merchant_id=merchant_id, **kwargs)
    db.session.commit()
    return fulfillment


def pick_rows(html: str) -> list[tuple[str, str, str]]:
    """(location, sku, quantity) of each row, in page order."""
    rows = []
    for location, body in re.findall(r'<table class="pick-group" data-location="([^"]+)">(.*?)</table>',
                                     html, re.S):
        for sku, qty in re.findall(r'<tr data-sku="([^"]*)">.*?data-quantity="(\d+)"', body, re.S):
            rows.append((location, sku, qty))
    return rows


def test_pick_list_groups_several_orders_by_location_then_sku(shop, browser):
    merchant = db.session.get(Merchant, shop.merchant_id)
    cap = make_item(merchant, "CAP-1")
    stock(shop.second, cap, 5)
    second_order = make_order(shop.order.channel, [(shop.tote, 1), (cap, 2)])
    third_order = make_order(shop.order.channel, [(shop.mug, 1)])
    db.session.commit()
    # Order 1: 2 mugs pending at Main (1 mug not assigned), 1 tote shipped from Main (1 left).
    fulfill(shop.order, shop.main, {"MUG-1": 2}, shop.merchant_id)
    shipped = fulfill(shop.order, shop.main, {"TOTE-1": 1}, shop.merchant_id)
    mark_shipped(shipped.id, merchant_id=shop.merchant_id)
    db.session.commit()
    # Order 2: its tote and caps pending at Downtown.
    fulfill(second_order, shop.second, {"TOTE-1": 1, "CAP-1": 2}, shop.merchant_id)

    # Order 2 is wholly in a pending fulfillment: its page still offers its pick list.
    assert f'href="/orders/pick-list?order_id={second_order.id}"' in browser.get(
        f"/orders/{second_order.id}").get_data(as_text=True)
    ids = [shop.order.id, second_order.id, third_order.id]
    response = browser.get("/orders/pick-list?" + "&".join(f"order_id={i}" for i in ids))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert pick_rows(html) == [
        ("Downtown shop", "CAP-1", "2"), ("Downtown shop", "TOTE-1", "1"),
        ("Main warehouse", "MUG-1", "2"),
        ("Not assigned to a location yet", "MUG-1", "2"),
        ("Not assigned to a location yet", "TOTE-1", "1")]
    # Order references with their units, and a box to tick per row.
    assert f"{shop.order.name} × 1, {third_order.name} × 1" in html
    assert html.count('class="box"') == 5

    pdf = browser.client.get("/orders/pick-list.pdf?" + "&".join(f"order_id={i}" for i in ids))
    assert pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for expected in ("Pick list", "Downtown shop", "Main warehouse", "CAP-1",
                     f"{second_order.name} × 2", "Not assigned to a location yet"):
        assert expected in text, (expected, text)


def test_pick_list_keeps_a_tracked_fulfillment_to_pick_until_it_is_packed(shop, browser):
    """A label bought first ships it (tracking), but its units are still on the shelves:
    to pick until the pack screen packs it. A platform's, packed there, is not listed."""
    from app.fulfillment import create_platform_fulfillment
    from app.warehouse.packing import complete_packing, record_scan

    tracked = fulfill(shop.order, shop.main, {"MUG-1": 2}, shop.merchant_id,
                      tracking=Tracking("1Z42", "UPS"))
    lines = {ln.sku: ln.id for ln in shop.order.lines}
    create_platform_fulfillment(shop.order.id, {lines["TOTE-1"]: 1}, shop.main.id,
                                merchant_id=shop.merchant_id, tracking=Tracking("1Z43"),
                                remote_id="gid://shopify/Fulfillment/43",
                                happened="Shipped on Shopify", unmapped_note="")
    db.session.commit()
    assert tracked.status == "shipped"
    url = f"/orders/pick-list?order_id={shop.order.id}"
    assert pick_rows(browser.get(url).get_data(as_text=True)) == [
        ("Main warehouse", "MUG-1", "2"), ("Not assigned to a location yet", "MUG-1", "1"),
        ("Not assigned to a location yet", "TOTE-1", "1")]  # 1 of 2 totes left on Shopify
    for _ in range(2):
        record_scan(shop.merchant_id, tracked.id, "MUG-1")
    complete_packing(shop.merchant_id, tracked.id)
    db.session.commit()
    assert pick_rows(browser.get(url).get_data(as_text=True)) == [
        ("Not assigned to a location yet", "MUG-1", "1"),
        ("Not assigned to a location yet", "TOTE-1", "1")]


def test_pick_list_without_open_orders_is_refused_inline(shop, browser):
    other = make_merchant("Other")
    foreign = make_order(make_channel(other), [(None, 1)])
    canceled = make_order(shop.order.channel, [(None, 2)])
    canceled.cancelled_at = canceled.placed_at
    db.session.commit()
    for url in ("/orders/pick-list", "/orders/pick-list?order_id=abc",
                f"/orders/pick-list?order_id={foreign.id}", f"/orders/pick-list.pdf?order_id={foreign.id}",
                f"/orders/pick-list?order_id={canceled.id}"):
        response = browser.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, url
        assert "Select at least one open order to print a pick list." in html
        assert "Gift wrap" not in html and 'id="pick-list"' not in html


def test_packing_slip_page_and_pdf_carry_the_order_items_tracking_and_barcode(shop, browser):
    fulfillment = fulfill(shop.order, shop.main, {"MUG-1": 3, "TOTE-1": 1}, shop.merchant_id)
    update_tracking(fulfillment.id, Tracking("1Z999AA10123456784", "UPS"),
                    merchant_id=shop.merchant_id)
    db.session.commit()
    page = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    slip_url = f"/fulfillments/{fulfillment.id}/packing-slip"
    assert f'href="{slip_url}"' in page  # "Print packing slip" on the fulfillment's card
    assert f'href="{slip_url}"' in browser.get(
        f"/fulfillments/{fulfillment.id}/pack").get_data(as_text=True)

    html = browser.get(slip_url).get_data(as_text=True)
    assert f'aria-label="Barcode {shop.order.name}"' in html and "<rect" in html
    assert "data-print" in html and f'href="{slip_url}.pdf"' in html

    response = browser.client.get(slip_url + ".pdf")  # a download, not a page
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert f"Packing slip · Order {shop.order.name}" in text
    assert "Ada Lovelace" in text and "ada@example.test" in text  # ship-to
    assert "1Z999AA10123456784 (UPS)" in text
    lines = text.splitlines()
    for title, sku, qty in ((shop.mug.title, "MUG-1", "3"), (shop.tote.title, "TOTE-1", "1")):
        assert f"{title} {sku} {qty}" in lines, lines  # one table row: item, SKU, quantity


def test_another_merchants_fulfillment_and_orders_are_not_found(shop, browser):
    other = make_merchant("Other")
    item = make_item(other, "SECRET-1")
    location = make_location(other)
    stock(location, item, 3)
    order = make_order(make_channel(other), [(item, 1)])
    db.session.commit()
    fulfillment = fulfill(order, location, {"SECRET-1": 1}, other.id)
    for url in (f"/fulfillments/{fulfillment.id}/packing-slip",
                f"/fulfillments/{fulfillment.id}/packing-slip.pdf"):
        response = browser.client.get(url)
        assert response.status_code == 404 and "SECRET-1" not in response.get_data(as_text=True)
    mixed = browser.get(f"/orders/pick-list?order_id={order.id}&order_id={shop.order.id}")
    assert mixed.status_code == 200 and "SECRET-1" not in mixed.get_data(as_text=True)


def test_embedded_pdf_link_is_signed_for_the_merchant_and_works_without_a_session(shop, app):
    fulfillment = fulfill(shop.order, shop.main, {"MUG-1": 1}, shop.merchant_id)
    headers = header_credential(app, shop.merchant_id, first=True)
    client = app.test_client()
    page = client.get(f"/fulfillments/{fulfillment.id}/packing-slip",
                      headers=headers).get_data(as_text=True)
    link = re.search(r'href="(/fulfillments/\d+/packing-slip\.pdf\?[^"]+)" hx-boost="false"',
                     page).group(1).replace("&amp;", "&")
    fresh = app.test_client()  # a download carries no session token
    response = fresh.get(link)
    assert response.status_code == 200 and "MUG-1" in pdf_text(response.data)
    assert fresh.get(re.sub(r"merchant=\d+", "merchant=999", link)).status_code == 401
    assert fresh.get(link.split("?")[0]).status_code == 401  # unsigned, not signed in
    assert "Set-Cookie" not in response.headers


def png(width=2, height=1) -> bytes:
    """A real PNG, built by hand (8-bit greyscale, every pixel black)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def save_settings(browser, footer="", logo=None, **extra):
    browser.get("/settings/packing-slip")
    data = {"footer": footer, **extra}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo[1]), logo[0])
    return browser.post("/settings/packing-slip", data, target="slip-settings",
                        content_type="multipart/form-data")


def test_logo_and_footer_print_on_the_slip_escaped(shop, browser):
    fulfillment = fulfill(shop.order, shop.main, {"MUG-1": 1}, shop.merchant_id)
    response = save_settings(browser, "Returns within 30 days <script>alert(1)</script>",
                             ("logo.png", png()))
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/settings/packing-slip"
    html = browser.get(f"/fulfillments/{fulfillment.id}/packing-slip").get_data(as_text=True)
    assert 'class="logo" src="data:image/png;base64,' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    pdf = browser.client.get(f"/fulfillments/{fulfillment.id}/packing-slip.pdf").data
    assert "Returns within 30 days <script>alert(1)</script>" in pdf_text(pdf)
    assert b"/Subtype /Image" in pdf  # the logo is drawn in the PDF

    # Removing the logo keeps the footer; another merchant's slips never show either.
    assert save_settings(browser, "Thanks!", remove_logo="on").status_code == 204
    html = browser.get(f"/fulfillments/{fulfillment.id}/packing-slip").get_data(as_text=True)
    assert 'class="logo"' not in html and "Thanks!" in html


@pytest.mark.parametrize("name, data, message", [
    ("logo.png", b"not an image at all", "The logo must be a PNG or JPEG image; this file is not one."),
    ("logo.png", png()[:30], "The logo must be a PNG or JPEG image; this file is not one."),
    ("logo.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "The logo must be a PNG or JPEG image"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "this file is not one"),
    ("big.png", png() + b"\x00" * 210_000, "at most 200 KB"),
    ("wide.png", png(3000, 1), "at most 2000 on each side"),
])
def test_a_logo_that_is_not_a_small_png_or_jpeg_is_refused_inline(shop, browser, name, data, message):
    response = save_settings(browser, "Kept footer", (name, data))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert 'aria-invalid="true" aria-describedby="logo-error"' in html
    assert "Kept footer" in html  # what was typed is not lost
    from app.models import SlipSettings
    assert db.session.get(SlipSettings, shop.merchant_id) is None  # nothing saved


def test_a_too_long_footer_is_refused_inline(shop, browser):
    response = save_settings(browser, "x" * 501)
    assert response.status_code == 422
    assert "The footer is 501 characters; at most 500." in response.get_data(as_text=True)
