"""A WooCommerce order of 150 lines (REST sends an order whole) arrives whole and is
fulfilled in parts from both sides; list reads follow X-WP-TotalPages to the last page."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, Fulfillment, Order, Origin
from app.platforms.woocommerce.client import PER_PAGE
from tests.fixtures.invariants import assert_invariants
from tests.integration.woocommerce.conftest import connected, release_session
from tests.integration.woocommerce.test_fulfillment_sync import fulfill, on_hand, place, synced

SKUS = tuple(f"BULK-{n:03d}" for n in range(150))


@pytest.fixture
def store(stockroom):
    """demo-store with 150 more simple products, connected; 5 of each in the Warehouse."""
    stockroom.sandbox.control("POST", "/stores/demo-store/products", json={"products": [
        {"name": f"Bolt {sku}", "sku": sku, "price": "1.00", "stock": 5} for sku in SKUS]})
    owner, merchant_id, location_id = connected(stockroom, skus=SKUS, stock=5)
    release_session()
    return type("Store", (), {"owner": owner, "merchant_id": merchant_id,
                              "location_id": location_id})


def test_order_of_150_lines_arrives_whole_and_is_fulfilled_in_parts(stockroom, store):
    order, data = place(stockroom, [(sku, 2) for sku in SKUS])
    assert len(data["line_items"]) == 150
    assert len(order.lines) == 150 and all(line.inventory_item_id for line in order.lines)
    # Stockroom -> WooCommerce: the first 100 lines (a note on the order, still processing).
    first = fulfill(store, data, {sku: 2 for sku in SKUS[:100]})
    stockroom.run_worker(until=synced(first))
    assert stockroom.sandbox.rest("demo-store", "GET",
                                  f"orders/{data['id']}")["status"] == "processing"
    # WooCommerce -> Stockroom: the owner completes the order; the other 50 lines ship there.
    stockroom.sandbox.control("POST", f"/stores/demo-store/orders/{data['id']}/complete",
                              json={})
    stockroom.settle()
    platform = db.session.scalars(select(Fulfillment).where(
        Fulfillment.origin == Origin.PLATFORM)).all()
    assert len(platform) == 1
    assert sorted(fl.order_line.sku for fl in platform[0].lines) == list(SKUS[100:])
    order = db.session.get(Order, data.id)
    assert all(line.not_shipped_quantity == 0 for line in order.lines)
    assert on_hand(store.location_id, "BULK-000") == 3
    assert on_hand(store.location_id, "BULK-149") == 3
    assert_invariants()


def test_store_lists_are_read_to_the_last_page(stockroom, store):
    """The channel's client reads all 150 + seeded products through X-WP-TotalPages (two
    pages of 100 at least), none dropped after the first."""
    from app.platforms.woocommerce.connect import client_for

    channel_id = db.session.scalar(select(Channel.id).where(Channel.platform == "woocommerce"))
    client = client_for(channel_id)
    skus = [p["sku"] for p in client.pages("products", what="products")]
    total = len(stockroom.sandbox.rest("demo-store", "GET", "products",
                                       params={"per_page": 100, "page": 1}))
    assert total == PER_PAGE and len(skus) > PER_PAGE
    assert set(SKUS) <= set(skus) and len(skus) == len(set(skus))
