"""Two-way fulfillment sync with the Shopify sandbox, over HTTP, with the real worker."""
import threading
from decimal import Decimal
import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.fulfillment import Tracking, cancel_fulfillment, create_fulfillment
from app.models import (ChannelLocation, Fulfillment, FulfillmentOrder, FulfillmentStatus,
                        InventoryItem, InventoryLevel, JobStatus, Order, Origin, StockLocation,
                        SyncState, WebhookInbox)
from app.sync.worker import Worker
from app.stock import ledger_sum
from tests.fixtures.factories import confirm_stock, make_item, make_location, stock
from tests.fixtures.invariants import assert_invariants
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_install import install_via_admin


@pytest.fixture
def shop(stockroom):
    """Installed shop; its Main Warehouse and Downtown Store mapped to our two locations;
    the catalog's SKUs in stock at both (10 each)."""
    install_via_admin(stockroom)
    stockroom.run_worker(until=lambda: db.session.query(ChannelLocation).count() == 4)
    channel_locations = {cl.name: cl for cl in db.session.scalars(select(ChannelLocation))}
    merchant_id = channel_locations["Main Warehouse"].merchant_id
    from app.models import Merchant
    merchant = db.session.get(Merchant, merchant_id)
    warehouse, downtown = make_location(merchant, "Warehouse"), make_location(merchant, "Downtown")
    channel_locations["Main Warehouse"].stock_location_id = warehouse.id
    channel_locations["Downtown Store"].stock_location_id = downtown.id
    # The merchant keeps Stockroom's counts as the truth there (onboarding): pushes may go.
    confirm_stock(channel_locations["Main Warehouse"], channel_locations["Downtown Store"])
    for sku in ("TOTE-NAT", "TOTE-BLK", "MUG-WHT", "BEANIE-GRY", "BEANIE-NVY"):
        item = make_item(merchant, sku)
        stock(warehouse, item, 10)
        stock(downtown, item, 10)
    ids = dict(merchant_id=merchant_id, warehouse_id=warehouse.id, downtown_id=downtown.id)
    db.session.commit()
    snapshot = stockroom.sandbox.shop()
    remote = {loc["name"]: loc["id"] for loc in snapshot["locations"]}
    return type("Shop", (), dict(ids, remote=remote))


def place_order(stockroom, lines, **kw):
    """A checkout on the sandbox; returns our Order once the webhook was applied."""
    summary = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
        "customer_name": "Ada Lovelace", "email": "ada@example.com", **kw})
    gid = summary["gid"]
    stockroom.run_worker(until=lambda: db.session.scalar(
        select(Order).where(Order.remote_id == gid)) is not None)
    return db.session.scalar(select(Order).where(Order.remote_id == gid)), summary


def level(location_id, sku):
    item_id = db.session.scalar(select(InventoryItem.id).where(InventoryItem.sku == sku))
    return db.session.scalar(select(InventoryLevel).where(
        InventoryLevel.location_id == location_id, InventoryLevel.item_id == item_id))


def test_orders_create_webhook_upserts_order_matched_by_sku(stockroom, shop):
    order, summary = place_order(stockroom, [("TOTE-NAT", 3), ("MUG-WHT", 1)])
    assert order.name == summary["name"] and order.customer_email == "ada@example.com"
    assert Decimal(order.total_price) > 0 and order.currency == "USD"
    assert sorted((line.sku, line.quantity, line.inventory_item_id is not None)
                  for line in order.lines) == [("MUG-WHT", 1, True), ("TOTE-NAT", 3, True)]
    mirror = db.session.scalars(select(FulfillmentOrder).where(
        FulfillmentOrder.order_id == order.id)).all()
    assert mirror and all(fo.status == "OPEN" for fo in mirror)
    assert all("CREATE_FULFILLMENT" in fo.supported_actions for fo in mirror)


def test_push_fulfillment_moves_items_to_mapped_location_then_fulfills(stockroom, shop):
    order, summary = place_order(stockroom, [("TOTE-NAT", 3), ("MUG-WHT", 1)],
                                 location_id=shop.remote["Main Warehouse"])
    tote = next(line for line in order.lines if line.sku == "TOTE-NAT")
    f = create_fulfillment(order.id, {tote.id: 2}, shop.downtown_id, merchant_id=shop.merchant_id,
                           tracking=Tracking("1Z999AA10123456784", "UPS",
                                             "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
                           notify_customer=True)
    fulfillment_id = f.id
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                         == SyncState.SYNCED)

    f = db.session.get(Fulfillment, fulfillment_id)
    state = stockroom.sandbox.shop()
    remote = [x for x in state["fulfillments"] if f"gid://shopify/Fulfillment/{x['id']}"
              == f.remote_id]
    assert len(remote) == 1 and remote[0]["location_id"] == shop.remote["Downtown Store"]
    assert remote[0]["tracking"][0]["number"] == "1Z999AA10123456784"
    # Made with tracking, so Shipped here: in transit there, as "Mark shipped" would say.
    assert f.status == FulfillmentStatus.SHIPPED and remote[0]["shipment_status"] == "IN_TRANSIT"
    assert sum(line["quantity"] for line in remote[0]["lines"]) == 2
    fos = [fo for fo in state["fulfillment_orders"] if fo["order_id"] == summary["id"]]
    at_downtown = [fo for fo in fos if fo["location_id"] == shop.remote["Downtown Store"]]
    assert at_downtown, "the items were moved to the mapped location"
    # Stock went down at the mapped location only.
    assert level(shop.downtown_id, "TOTE-NAT").on_hand == 8
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 10
    assert_invariants()


def test_push_fulfillment_unmapped_location_fails_visibly(stockroom, shop):
    order, _ = place_order(stockroom, [("MUG-WHT", 1)])
    from app.models import Merchant
    elsewhere = make_location(db.session.get(Merchant, shop.merchant_id), "Unmapped")
    stock(elsewhere, db.session.scalar(select(InventoryItem).where(InventoryItem.sku == "MUG-WHT")),
          5)
    elsewhere_id = elsewhere.id
    f = create_fulfillment(order.id, {order.lines[0].id: 1}, elsewhere_id,
                           merchant_id=shop.merchant_id)
    fulfillment_id = f.id
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                         == SyncState.FAILED)
    assert "not mapped to a Shopify location" in db.session.get(Fulfillment,
                                                                fulfillment_id).sync_error


def test_platform_fulfillment_creates_one_matching_fulfillment_and_adjusts_stock(stockroom, shop):
    order, summary = place_order(stockroom, [("BEANIE-GRY", 2)],
                                 location_id=shop.remote["Main Warehouse"])
    fo = summary["fulfillment_orders"][0]
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": fo["id"], "tracking": {"number": "9400", "company": "USPS"}})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Fulfillment).where(
        Fulfillment.remote_id == made["gid"])) is not None)
    f = db.session.scalar(select(Fulfillment).where(Fulfillment.remote_id == made["gid"]))
    assert (f.origin, f.location_id, f.tracking_number) == (Origin.PLATFORM, shop.warehouse_id,
                                                            "9400")
    # Made there with tracking: Shipped, and packed there (not on our pick list).
    assert f.status == FulfillmentStatus.SHIPPED and f.packed_at is not None
    assert level(shop.warehouse_id, "BEANIE-GRY").on_hand == 8
    # The same event delivered again, and a stale replay: nothing changes twice.
    release_session()
    stockroom.sandbox.control("POST", "webhooks/faults", {"duplicate": 2})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments/{made['id']}/tracking",
                              {"number": "9400", "company": "USPS"})
    stockroom.run_worker()
    assert db.session.query(Fulfillment).count() == 1
    assert level(shop.warehouse_id, "BEANIE-GRY").on_hand == 8
    assert_invariants()


def test_tracking_added_to_a_pending_fulfillment_updates_it_and_puts_it_in_transit(stockroom,
                                                                                     shop):
    """Pending -> Shipped by tracking: one tracking_updated push, which gives Shopify what a
    fulfillment made with tracking gives it (its tracking, an IN_TRANSIT event)."""
    from app.fulfillment import update_tracking
    from app.models import OutboxEvent

    order, _ = place_order(stockroom, [("MUG-WHT", 1)], location_id=shop.remote["Main Warehouse"])
    order_id = order.id
    f = create_fulfillment(order_id, {order.lines[0].id: 1}, shop.warehouse_id,
                           merchant_id=shop.merchant_id)
    fulfillment_id = f.id
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                         == SyncState.SYNCED)
    remote_id = db.session.get(Fulfillment, fulfillment_id).remote_id

    def on_shopify():
        [held] = [x for x in stockroom.sandbox.shop()["fulfillments"]
                  if f"gid://shopify/Fulfillment/{x['id']}" == remote_id]
        return held

    assert on_shopify()["shipment_status"] != "IN_TRANSIT"  # Pending: not said to be in transit
    update_tracking(fulfillment_id, Tracking("9400", "USPS"), merchant_id=shop.merchant_id)
    db.session.commit()
    assert db.session.get(Fulfillment, fulfillment_id).status == FulfillmentStatus.SHIPPED
    assert [e.topic for e in db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.order_id == order_id, OutboxEvent.topic.like("fulfillment.%"))
        .order_by(OutboxEvent.id))] == ["fulfillment.created", "fulfillment.tracking_updated"]
    release_session()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                         == SyncState.SYNCED)
    held = on_shopify()
    assert held["tracking"][-1]["number"] == "9400" and held["shipment_status"] == "IN_TRANSIT"


def test_cancel_in_stockroom_cancels_on_shopify_and_restores_once(stockroom, shop):
    order, _ = place_order(stockroom, [("TOTE-BLK", 1)], location_id=shop.remote["Main Warehouse"])
    f = create_fulfillment(order.id, {order.lines[0].id: 1}, shop.warehouse_id,
                           merchant_id=shop.merchant_id)
    fid = f.id
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fid).remote_id is not None)
    cancel_fulfillment(fid, merchant_id=shop.merchant_id)
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fid).sync_state
                         == SyncState.SYNCED)
    remote_id = db.session.get(Fulfillment, fid).remote_id
    state = stockroom.sandbox.shop()
    remote = next(x for x in state["fulfillments"]
                  if f"gid://shopify/Fulfillment/{x['id']}" == remote_id)
    assert remote["status"] == "CANCELLED"
    stockroom.run_worker()  # the fulfillments/update echo of the cancel changes nothing
    assert level(shop.warehouse_id, "TOTE-BLK").on_hand == 10
    assert ledger_sum(level(shop.warehouse_id, "TOTE-BLK").id) == 10


def test_cancel_on_shopify_cancels_here_and_restores_once(stockroom, shop):
    order, summary = place_order(stockroom, [("BEANIE-NVY", 2)],
                                 location_id=shop.remote["Main Warehouse"])
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": summary["fulfillment_orders"][0]["id"]})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Fulfillment).where(
        Fulfillment.remote_id == made["gid"])) is not None)
    assert level(shop.warehouse_id, "BEANIE-NVY").on_hand == 8
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments/{made['id']}/cancel", {})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Fulfillment.status).where(
        Fulfillment.remote_id == made["gid"])) == FulfillmentStatus.CANCELED)
    stockroom.run_worker()
    assert level(shop.warehouse_id, "BEANIE-NVY").on_hand == 10
    assert_invariants()


def test_echo_of_our_push_arriving_first_is_recognized(stockroom, shop):
    """fulfillments/create for our own push, delivered while the push is still in flight.

    The sandbox executes fulfillmentCreate (and sends its webhook) but answers only 3 s
    later; meanwhile a second worker takes the webhook: the sync lock must defer it, and
    once the push has recorded its remote id the webhook is recognized as our echo.
    """
    order, _ = place_order(stockroom, [("MUG-WHT", 2)], location_id=shop.remote["Main Warehouse"])
    order_gid, order_id, line_id = order.remote_id, order.id, order.lines[0].id
    stockroom.run_worker()  # settle the order's webhooks first
    f = create_fulfillment(order_id, {line_id: 2}, shop.warehouse_id,
                           merchant_id=shop.merchant_id)
    fid = f.id
    db.session.commit()
    release_session()
    stockroom.sandbox.control("POST", "faults/api", {"kind": "slow_response", "seconds": 3,
                                                     "operation": "FulfillmentCreate"})
    inbox_before = db.session.query(WebhookInbox).count()
    release_session()

    def push():
        with stockroom.app.app_context():
            pusher = Worker(stockroom.app, worker_id="pusher", poll_seconds=0.05)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                pusher.run_pass()
                done = db.session.get(Fulfillment, fid).remote_id is not None
                db.session.remove()
                if done:
                    return

    pusher = threading.Thread(target=push)
    pusher.start()
    try:
        def echo_received():
            return db.session.scalar(select(WebhookInbox).where(
                WebhookInbox.topic == "fulfillments/create",
                WebhookInbox.id > inbox_before))
        deadline = time.monotonic() + 10
        while echo_received() is None and time.monotonic() < deadline:
            release_session()
            time.sleep(0.05)
        echo = echo_received()
        assert echo is not None, "the webhook arrived before fulfillmentCreate answered"
        echo_id = echo.id
        assert db.session.get(Fulfillment, fid).remote_id is None  # still in flight
        release_session()
        Worker(stockroom.app, worker_id="second", poll_seconds=0.05).run_pass()
        release_session()
        deferred = db.session.get(WebhookInbox, echo_id)
        assert deferred.status == JobStatus.PENDING and "in flight" in deferred.last_error
        release_session()
    finally:
        pusher.join(timeout=30)
    stockroom.run_worker(until=lambda: db.session.get(WebhookInbox, echo_id).status
                         in (JobStatus.DONE, JobStatus.IGNORED), timeout=30)
    stockroom.run_worker()
    assert db.session.query(Fulfillment).count() == 1
    assert db.session.get(Fulfillment, fid).remote_id
    remote = [x for x in stockroom.sandbox.shop()["fulfillments"]
              if f"gid://shopify/Order/{x['order_id']}" == order_gid]
    assert len(remote) == 1
    assert level(shop.warehouse_id, "MUG-WHT").on_hand == 8
    assert_invariants()
