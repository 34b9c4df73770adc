"""One merchant, a Shopify shop AND a WooCommerce store on one stock location: what one
store's open orders hold, and what ships for it, comes off what the other is told it has."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.fulfillment import Tracking, create_fulfillment
from app.catalog import confirm_opening_stock
from app.models import (ChannelLocation, Fulfillment, InventoryPushState, JobStatus, Order,
                        OutboxEvent, SyncState)
from app.platforms.shopify.settings import load_settings
from demo.woocommerce import connect_demo_store
from sandbox.server import start_in_thread
from tests.conftest import make_test_app, truncate_all
from tests.integration.shopify.conftest import (CLIENT_ID, SECRET, Stockroom as ShopifyStockroom,
                                               release_session, shopify_sandbox)  # noqa: F401
from tests.integration.shopify.test_fulfillment_sync import place_order, shop  # noqa: F401
from tests.integration.woocommerce.conftest import (  # noqa: F401  (fixtures)
    free_port, woo_sandbox, woo_settings, woo_tls)

SKUS = ("TOTE-NAT", "MUG-WHT")


@pytest.fixture
def stockroom(database_url, shopify_sandbox, woo_sandbox):  # noqa: F811
    """Stockroom configured for both platforms (what the Shopify `shop` fixture drives)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shopify = load_settings({
        "SHOPIFY_API_SECRET": SECRET, "SHOPIFY_APP_URL": f"{url}/shopify/app",
        "SHOPIFY_SHOP_URL_TEMPLATE": f"{shopify_sandbox.https_url}/shops/{{shop}}",
        "SHOPIFY_ADMIN_ORIGINS": shopify_sandbox.http_url,
        "SHOPIFY_APP_BRIDGE_URL": f"{shopify_sandbox.http_url}/_sandbox/app-bridge.js",
        "SHOPIFY_CA_BUNDLE": shopify_sandbox.ca_bundle})
    app = make_test_app(database_url, SHOPIFY_SETTINGS=shopify,
                        WOOCOMMERCE_SETTINGS=woo_settings(woo_sandbox))
    server = start_in_thread(app, port=port)
    shopify_sandbox.control("POST", "reset", {"seed": 1})
    shopify_sandbox.control("POST", "apps", {
        "client_id": CLIENT_ID, "secret": SECRET, "application_url": f"{url}/shopify/app",
        "redirect_urls": [f"{url}/shopify/auth/callback"]})
    woo_sandbox.control("POST", "/reset")
    woo_sandbox.control("POST", "/stores/demo-store/products", json={"products": [
        {"name": sku.title(), "sku": sku, "price": "9.00", "stock": 50} for sku in SKUS]})
    with app.app_context():
        yield ShopifyStockroom(app, url, shopify_sandbox)
        release_session()
        woo_sandbox.drain()
        server.stop()
        truncate_all()
        db.engine.dispose()


def woo_quantity(woo_sandbox, sku):  # noqa: F811
    return woo_sandbox.product_by_sku(sku)["stock_quantity"]


def all_pushed():
    return db.session.scalar(select(InventoryPushState.id).where(
        InventoryPushState.generation > InventoryPushState.pushed_generation).limit(1)) is None


def connect_store(stockroom, shop, woo_sandbox):  # noqa: F811
    """The demo WooCommerce store connected on the shop's Warehouse (its webhooks set up);
    returns the channel id and its one platform location."""
    channel, _ = connect_demo_store(shop.merchant_id, woo_sandbox.store_url(),
                                    app_url=stockroom.url, location_id=shop.warehouse_id,
                                    opening_stock=0)
    channel_id = channel.id
    db.session.commit()
    release_session()
    stockroom.run_worker(until=lambda: db.session.scalar(select(OutboxEvent.status).where(
        OutboxEvent.topic == "channel.connected")) == JobStatus.DONE)
    return channel_id, db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.channel_id == channel_id))


def test_shopify_fulfillment_lowers_the_quantity_pushed_to_woocommerce(
        stockroom, shop, woo_sandbox):  # noqa: F811
    _, store = connect_store(stockroom, shop, woo_sandbox)
    assert woo_quantity(woo_sandbox, "TOTE-NAT") == 50  # nothing pushed before confirmation
    confirm_opening_stock(shop.merchant_id, store.id, "stockroom")
    db.session.commit()
    release_session()
    stockroom.run_worker(until=all_pushed)
    # The shared Warehouse's 10, less what the shop's seeded open orders hold there (2
    # TOTE-NAT, 1 MUG-WHT): units promised on Shopify are not for sale on WooCommerce.
    assert woo_quantity(woo_sandbox, "TOTE-NAT") == 8
    assert woo_quantity(woo_sandbox, "MUG-WHT") == 9
    order, _ = place_order(stockroom, [("TOTE-NAT", 3)],
                           location_id=shop.remote["Main Warehouse"])
    order_id, line_id = order.id, order.lines[0].id
    # The new Shopify order holds 3 more of the shared Warehouse's: WooCommerce may sell 5.
    release_session()
    stockroom.run_worker(until=all_pushed)
    assert woo_quantity(woo_sandbox, "TOTE-NAT") == 5
    f = create_fulfillment(order_id, {line_id: 3}, shop.warehouse_id,
                           merchant_id=shop.merchant_id, tracking=Tracking("1Z1", "UPS"))
    fulfillment_id = f.id
    db.session.commit()
    release_session()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                         == SyncState.SYNCED and all_pushed())
    # Shipped: 7 on hand, 2 still held by the seeded orders.
    assert woo_quantity(woo_sandbox, "TOTE-NAT") == 5
    assert woo_quantity(woo_sandbox, "MUG-WHT") == 9  # untouched item: same as before


def test_woocommerce_order_lowers_what_shopify_is_told_at_the_shared_location(
        stockroom, shop, woo_sandbox):  # noqa: F811
    from app.models import Channel, Platform
    from app.platforms.shopify.imports import match_unmatched_listings
    from app.stock.push import mark_dirty

    stockroom.run_worker()  # the shop's import lists its variants
    shopify_id = db.session.scalar(select(Channel.id).where(Channel.platform == Platform.SHOPIFY))
    match_unmatched_listings(shop.merchant_id, shopify_id)
    mark_dirty(shop.merchant_id, channel_id=shopify_id)
    woo_id, store = connect_store(stockroom, shop, woo_sandbox)
    confirm_opening_stock(shop.merchant_id, store.id, "stockroom")
    db.session.commit()
    release_session()
    stockroom.run_worker(until=all_pushed)

    def shopify_available(sku):
        main = int(str(shop.remote["Main Warehouse"]).rsplit("/", 1)[-1])
        return next(lvl["available"] for lvl in stockroom.sandbox.shop()["levels"]
                    if lvl["sku"] == sku and lvl["location_id"] == main)

    # 10 on hand, 2 held by the shop's own seeded orders: Shopify subtracts those itself.
    assert shopify_available("TOTE-NAT") == 8
    placed = woo_sandbox.control("POST", "/stores/demo-store/orders", json={
        "line_items": [{"sku": "TOTE-NAT", "quantity": 4}]})
    woo_sandbox.drain()
    stockroom.run_worker(until=lambda: db.session.scalar(select(Order.id).where(
        Order.channel_id == woo_id, Order.remote_id == str(placed["id"]))) is not None)
    release_session()
    stockroom.run_worker(until=all_pushed)
    # The WooCommerce order holds 4 of the same Warehouse: Shopify may sell 4, not 8.
    assert shopify_available("TOTE-NAT") == 4
    assert shopify_available("MUG-WHT") == 9  # 10 less the shop's own 1: untouched
