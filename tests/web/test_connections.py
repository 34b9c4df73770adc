"""The Connections page's import progress: a bulk operation Shopify is preparing, the
products read of ~the shop's count, polling only while an import runs, one merchant's."""
from __future__ import annotations

from app.extensions import db
from app.models import BulkOperation, Merchant
from tests.fixtures.factories import make_channel


def _importing(merchant_id: int, *, step="products", waiting=True, read=0, finished=False):
    merchant = db.session.get(Merchant, merchant_id)
    channel = make_channel(merchant)
    state = {"run": 7, "step": step, "counts": {"variants": read, "orders": 12},
             "variants_total": 100_000}
    if waiting:
        state["waiting"] = "bulk operation"
    if finished:
        state["finished_at"] = "2026-12-07T06:00:00+00:00"
    channel.sync_cursors = {"import": state}
    db.session.add(BulkOperation(merchant_id=merchant_id, channel_id=channel.id, run_id=7,
                                 remote_id="gid://shopify/BulkOperation/1", purpose="import",
                                 status="RUNNING", object_count=45_000))
    db.session.commit()
    return channel


def test_connections_shows_the_bulk_operation_shopify_prepares(shop, browser):
    _importing(shop.merchant_id)
    body = browser.get("/connections").get_data(as_text=True)
    assert ("Shopify is preparing the catalog (45,000 objects so far, for ~100,000 products; "
            "bulk operation running)") in body
    assert 'hx-trigger="every 2s"' in body


def test_connections_counts_products_read_from_the_file(shop, browser):
    _importing(shop.merchant_id, waiting=False, read=45_000)
    fragment = browser.hx_get("/connections", "import-progress")
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="import-progress"') and "<html" not in body
    assert "Importing 45,000 of ~100,000 products (from Shopify's bulk operation)." in body
    assert fragment.headers["Vary"].count("HX-Target") == 1


def test_connections_stops_polling_when_the_import_is_done(shop, browser):
    _importing(shop.merchant_id, step="done", waiting=False, finished=True)
    body = browser.get("/connections").get_data(as_text=True)
    assert "import-progress" in body and 'hx-trigger="every 2s"' not in body
    assert "Importing" not in body


def test_connections_shows_only_the_merchants_own_imports(shop, browser):
    other = Merchant(name="Other")
    db.session.add(other)
    db.session.flush()
    channel = _importing(other.id)
    channel.name = "<b>Theirs</b>"
    db.session.commit()
    body = browser.get("/connections").get_data(as_text=True)
    assert "Theirs" not in body and "Shopify is preparing" not in body
