"""Stock out to the WooCommerce sandbox: absolute stock_quantity through the batch endpoints."""
from sqlalchemy import select

from app.extensions import db
from app.models import InventoryItem, InventoryPushState, StockLocation
from app.stock import adjust_stock
from app.stock.levels import apply_movements
from tests.integration.woocommerce.conftest import connected, release_session

BULK = [f"BULK-{n:03d}" for n in range(250)]


def all_pushed():
    return db.session.scalar(select(InventoryPushState.id).where(
        InventoryPushState.generation > InventoryPushState.pushed_generation).limit(1)) is None


def test_250_changed_skus_are_pushed_in_3_batch_requests(stockroom):
    sandbox = stockroom.sandbox
    sandbox.control("POST", "/stores/demo-store/products", json={"products": [
        {"name": f"Bulk {sku}", "sku": sku, "price": "5.00", "stock": 1} for sku in BULK]})
    _, merchant_id, location_id = connected(stockroom, skus=BULK, stock=4)
    stockroom.run_worker(until=all_pushed)
    assert sandbox.product_by_sku("BULK-007")["stock_quantity"] == 4  # connect pushed ours
    sandbox.control("DELETE", "/stores/demo-store/requests")
    location = db.session.get(StockLocation, location_id)
    items = {i.sku: i.id for i in db.session.scalars(select(InventoryItem))}
    # Several changes per SKU before the worker runs: coalesced into one quantity each.
    apply_movements(merchant_id, location, {items[sku]: 3 for sku in BULK}, reason="received")
    apply_movements(merchant_id, location, {items[sku]: n % 5 for n, sku in enumerate(BULK)
                                            if n % 5}, reason="received")
    db.session.commit()
    release_session()
    stockroom.run_worker(until=all_pushed)
    stockroom.run_worker()
    counts = sandbox.requests_made()
    assert counts.get("POST wc/v3/products/batch") == 3
    assert not any("variations/batch" in k or k.startswith("PUT") for k in counts)
    assert sandbox.product_by_sku("BULK-007")["stock_quantity"] == 4 + 3 + 2
    assert sandbox.product_by_sku("BULK-249")["stock_quantity"] == 4 + 3 + 4


def test_variation_push_takes_off_units_the_store_already_took_for_open_orders(stockroom):
    sandbox = stockroom.sandbox
    _, merchant_id, location_id = connected(stockroom, skus=("HOODIE-M", "TEE-CLASSIC"),
                                            stock=10)
    stockroom.run_worker(until=all_pushed)
    # Seeded order: TEE-CLASSIC x2 + HOODIE-M x1 (processing), imported, not fulfilled here:
    # the store already took those units off its count.
    assert sandbox.product_by_sku("HOODIE-M")["stock_quantity"] == 10 - 1
    assert sandbox.product_by_sku("TEE-CLASSIC")["stock_quantity"] == 10 - 2
    sandbox.control("DELETE", "/stores/demo-store/requests")
    hoodie = db.session.scalar(select(InventoryItem.id).where(InventoryItem.sku == "HOODIE-M"))
    adjust_stock(merchant_id, location_id, hoodie, delta=5, reason="received")
    db.session.commit()
    release_session()
    stockroom.run_worker(until=all_pushed)
    counts = sandbox.requests_made()
    assert [k for k in counts if "batch" in k] == [
        "POST wc/v3/products/{product_id}/variations/batch"]
    assert sandbox.product_by_sku("HOODIE-M")["stock_quantity"] == 15 - 1


def test_unmanaged_stock_on_the_store_is_reported_not_silently_dropped(stockroom):
    _, merchant_id, location_id = connected(stockroom, skus=("GIFT-CARD",), stock=3)
    stockroom.run_worker(until=all_pushed)
    state = db.session.scalar(select(InventoryPushState))
    assert "Manage stock" in state.last_error
