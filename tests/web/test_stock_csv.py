"""Stock CSV pages: streamed export, upload -> preview -> apply, bad files inline, embedded."""
import csv
import io
import re

from sqlalchemy import select

from app.extensions import db
from app.models import InventoryMovement, StockImport
from app.stock import adjust_stock
from tests.fixtures.stock import on_hand
from tests.web.conftest import header_credential


def upload(browser, text, name="counts.csv", **kwargs):
    browser.get("/stock/csv")
    return browser.post("/stock/imports", {"file": (io.BytesIO(text.encode()), name)},
                        content_type="multipart/form-data", **kwargs)


def preview_fields(body):
    """The apply form's hidden sha256 and digest, as a browser would send them."""
    return dict(re.findall(r'name="(sha256|digest)" value="([^"]+)"', body))


def test_export_streams_shopify_columns(shop, browser):
    response = browser.client.get("/stock/export.csv")  # (Browser.get would read it all)
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["Handle", "Title", "SKU", "Location"]
    assert [(r[2], r[3], r[6]) for r in rows[1:3]] == [("MUG-1", "Downtown shop", "0"),
                                                        ("MUG-1", "Main warehouse", "5")]
    only = browser.get(f"/stock/export.csv?location_id={shop.second.id}").get_data(as_text=True)
    assert "Main warehouse" not in only and "Downtown shop" in only


def test_export_needs_sign_in(app, browser):
    assert browser.get("/stock/export.csv").status_code == 401


def test_upload_preview_apply_and_same_file_again_changes_nothing(shop, browser):
    text = "SKU,Location,On hand (new)\nmug-1,Main warehouse,8\nTOTE-1,Downtown shop,4\n"
    response = upload(browser, text)
    assert response.status_code == 303
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 change, 1 unchanged" in page and set(preview_fields(page)) == {"sha256", "digest"}
    assert re.search(r'data-sku="MUG-1" data-location="Main warehouse">.*?>5<.*?>8<', page, re.S)
    assert on_hand(shop.main, shop.mug) == 5  # nothing applied by the preview
    stock_import = db.session.scalars(select(StockImport)).one()
    response = browser.post(f"/stock/imports/{stock_import.id}/apply", preview_fields(page))
    assert response.status_code == 303
    assert "1 count set from counts.csv." in browser.get(response.headers["Location"]).get_data(
        as_text=True)
    assert on_hand(shop.main, shop.mug) == 8
    again = upload(browser, text)
    page = browser.get(again.headers["Location"]).get_data(as_text=True)
    assert "0 changes, 2 unchanged" in page and "nothing to apply" in page
    assert db.session.query(InventoryMovement).filter_by(reason="csv_import").count() == 1


def test_preview_lists_bad_rows_and_offers_no_apply(shop, browser):
    response = upload(browser, "SKU,Location,On hand\nNOPE,Main warehouse,1\n"
                               "MUG-1,Mars,1\nMUG-1,Main warehouse,-4\nTOTE-1,Main warehouse,"
                               "two\nMUG-1,Main warehouse,2\nMUG-1,Main warehouse,3\n")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    for reason in ("unknown SKU NOPE", "unknown location Mars", "On hand can&#39;t be negative",
                   "On hand must be a whole number (got two)",
                   "duplicate of row 6 (same SKU and location)"):
        assert reason in page
    assert "Apply" not in page.split('id="import-bad-rows"')[0].split("Summary")[1]
    stock_import = db.session.scalars(select(StockImport)).one()
    browser.get(f"/stock/imports/{stock_import.id}")
    response = browser.post(f"/stock/imports/{stock_import.id}/apply",
                            {"sha256": stock_import.sha256, "digest": "x"})
    assert response.status_code == 422 and on_hand(shop.main, shop.mug) == 5


def test_wrong_header_and_bad_files(shop, browser):
    response = upload(browser, "Item,Where,Count\nMUG-1,Main warehouse,3\n")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "This file can&#39;t be imported" in page and "missing: Sku, Location" in page
    response = upload(browser, "", target="stock-csv-upload")
    assert response.status_code == 422 and "The file is empty." in response.get_data(as_text=True)
    browser.get("/stock/csv")
    response = browser.post("/stock/imports", {"file": (io.BytesIO(b"\xff\xfe\x00\x00"), "x.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 422 and "not UTF-8" in response.get_data(as_text=True)


def test_apply_after_stock_moved_shows_the_new_preview(shop, browser):
    response = upload(browser, "SKU,Location,On hand\nMUG-1,Main warehouse,9\n")
    previewed = preview_fields(browser.get(response.headers["Location"]).get_data(as_text=True))
    stock_import = db.session.scalars(select(StockImport)).one()
    adjust_stock(shop.merchant_id, shop.main.id, shop.mug.id, delta=-1, reason="damaged")
    db.session.commit()
    response = browser.post(f"/stock/imports/{stock_import.id}/apply", previewed,
                            target="stock-import")
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "Stock changed since the preview" in body
    assert re.search(r'data-sku="MUG-1"[^>]*>.*?>4<.*?>9<', body, re.S)
    assert on_hand(shop.main, shop.mug) == 4
    # The fresh preview's form applies.
    assert preview_fields(body)["digest"] != previewed["digest"]
    assert browser.post(f"/stock/imports/{stock_import.id}/apply",
                        preview_fields(body)).status_code == 303
    assert on_hand(shop.main, shop.mug) == 9


def test_other_merchants_import_is_404(shop, browser):
    response = upload(browser, "SKU,Location,On hand\nMUG-1,Main warehouse,1\n")
    url = response.headers["Location"]
    browser.client.post("/sign-out", data={"csrf_token": browser.csrf})
    browser.csrf = None
    browser.sign_up(email="other@example.test", business="Other")
    assert browser.get(url).status_code == 404


def test_embedded_export_link_is_signed_and_upload_works_without_cookies(shop, app):
    headers = header_credential(app, shop.merchant_id, first=True)
    client = app.test_client()
    page = client.get("/stock/csv", headers=headers).get_data(as_text=True)
    link = re.search(r'href="(/stock/export\.csv\?[^"]+)" hx-boost="false"', page).group(1)
    link = link.replace("&amp;", "&")
    fresh = app.test_client()  # a download carries no session token
    response = fresh.get(link)
    assert response.status_code == 200 and "MUG-1" in response.get_data(as_text=True)
    assert fresh.get(re.sub(r"merchant=\d+", "merchant=999", link)).status_code == 401
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = client.post("/stock/imports", headers=headers | {"HX-Request": "true"},
                           data={"form_token": token, "file": (io.BytesIO(
                               b"SKU,Location,On hand\nMUG-1,Main warehouse,2\n"), "e.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 204 and "Set-Cookie" not in response.headers
