"""Two-way order and fulfillment sync with the WooCommerce sandbox, over HTTP, with the worker."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.fulfillment import Tracking, cancel_fulfillment, create_fulfillment
from app.models import (Fulfillment, FulfillmentStatus, InventoryItem, InventoryLevel, JobStatus,
                        Order, Origin, SyncState, WebhookInbox)
from app.security.keyring import get_keyring
from tests.fixtures.invariants import assert_invariants
from tests.integration.woocommerce.conftest import connected, release_session, woo_channel

SKUS = ("TEE-CLASSIC", "TOTE-CANVAS", "HOODIE-M", "BEANIE-BLK")
UPS = Tracking("1Z999AA10123456784", "UPS", "https://www.ups.com/track?tracknum=1Z999AA10123456784")


@pytest.fixture
def store(stockroom):
    """demo-store connected; the owner's Warehouse holds 10 of each SKU."""
    owner, merchant_id, location_id = connected(stockroom, skus=SKUS, stock=10)
    release_session()
    return type("Store", (), {"owner": owner, "merchant_id": merchant_id,
                              "location_id": location_id})


def place(stockroom, lines, **extra):
    """A shopper's checkout on the sandbox; our Order once its webhooks were applied."""
    data = stockroom.sandbox.control("POST", "/stores/demo-store/orders", json={
        "line_items": [{"sku": sku, "quantity": q} for sku, q in lines], **extra})
    remote_id = str(data["id"])
    stockroom.sandbox.drain()
    stockroom.run_worker(until=lambda: db.session.scalar(
        select(Order).where(Order.remote_id == remote_id)) is not None)
    stockroom.settle()
    order = db.session.scalar(select(Order).where(Order.remote_id == remote_id))
    placed = Placed(order.id, {line.sku: line.id for line in order.lines}, data)
    return order, placed


class Placed:
    """Ids of an order we hold (usable after the session ends) and the store's JSON."""

    def __init__(self, order_id, lines, data):
        self.id, self.lines, self.data = order_id, lines, data

    def __getitem__(self, key):
        return self.data[key]


def on_hand(location_id, sku):
    item_id = db.session.scalar(select(InventoryItem.id).where(InventoryItem.sku == sku))
    return db.session.scalar(select(InventoryLevel.on_hand).where(
        InventoryLevel.location_id == location_id, InventoryLevel.item_id == item_id))


def fulfill(store, order, quantities, tracking=UPS):
    """Fulfill ``quantities`` ({sku: units}) of a Placed order from the Warehouse."""
    quantities = {order.lines[sku]: q for sku, q in quantities.items()}
    f = create_fulfillment(order.id, quantities, store.location_id,
                           merchant_id=store.merchant_id, tracking=tracking)
    fulfillment_id = f.id
    db.session.commit()
    release_session()
    return fulfillment_id


def synced(fulfillment_id):
    return lambda: db.session.get(Fulfillment, fulfillment_id).sync_state == SyncState.SYNCED


def test_order_placed_in_the_store_appears_matched_by_sku(stockroom, store):
    order, data = place(stockroom, [("TEE-CLASSIC", 2), ("HOODIE-M", 1), ("GIFT-CARD", 1)])
    assert order.name == f"#{data['number']}" and order.customer_email == "ada@example.com"
    assert order.customer_name == "Ada Lovelace" and order.total_price == data["total"]
    lines = {line.sku: line for line in order.lines}
    assert {sku: line.quantity for sku, line in lines.items()} == {
        "TEE-CLASSIC": 2, "HOODIE-M": 1, "GIFT-CARD": 1}
    assert lines["TEE-CLASSIC"].inventory_item_id and lines["HOODIE-M"].inventory_item_id
    assert lines["GIFT-CARD"].inventory_item_id is None  # no such item: never guessed
    inbox = db.session.scalars(select(WebhookInbox)).all()
    # The store sends order.created and order.updated; the same bytes are stored once
    # (the dedupe key is the signed body: docs/woocommerce.md), different bytes twice.
    assert "order.created" in {row.topic for row in inbox}
    assert len({bytes(row.body) for row in inbox}) == len(inbox)
    assert all(row.status == JobStatus.DONE for row in inbox)


def test_partial_then_full_fulfillment_notes_tracking_completed_and_echo_ignored(stockroom,
                                                                                   store):
    _, data = place(stockroom, [("TEE-CLASSIC", 2), ("TOTE-CANVAS", 1)])
    first = fulfill(store, data, {"TEE-CLASSIC": 2})
    stockroom.run_worker(until=synced(first))
    oid = data["id"]
    sandbox = stockroom.sandbox
    assert sandbox.rest("demo-store", "GET", f"orders/{oid}")["status"] == "processing"
    notes = sandbox.rest("demo-store", "GET", f"orders/{oid}/notes", params={"type": "customer"})
    assert notes[0]["note"] == ("2 of 3 items shipped via UPS, tracking 1Z999AA10123456784: "
                                "https://www.ups.com/track?tracknum=1Z999AA10123456784.")
    trackings = sandbox.rest("demo-store", "GET", f"orders/{oid}/shipment-trackings",
                             version="wc-shipment-tracking/v3")
    assert [(t["tracking_number"], t["tracking_provider"]) for t in trackings] == [
        ("1Z999AA10123456784", "UPS")]
    second = fulfill(store, data, {"TOTE-CANVAS": 1}, Tracking("9400100000000000000000", "USPS"))
    stockroom.run_worker(until=synced(second))
    current = sandbox.rest("demo-store", "GET", f"orders/{oid}")
    assert current["status"] == "completed"
    notes = sandbox.rest("demo-store", "GET", f"orders/{oid}/notes", params={"type": "customer"})
    assert notes[0]["note"] == ("1 of 3 items shipped via USPS, tracking 9400100000000000000000."
                                " All 3 items have now shipped.")
    assert len(sandbox.rest("demo-store", "GET", f"orders/{oid}/shipment-trackings",
                            version="wc-shipment-tracking/v3")) == 2
    stockroom.settle()  # the order.updated echo of our own completion
    echo = db.session.scalars(select(WebhookInbox).where(
        WebhookInbox.topic == "order.updated").order_by(WebhookInbox.id.desc())).first()
    assert echo.status == JobStatus.DONE and "echo of our own completion" in echo.last_error
    fulfillments = db.session.scalars(select(Fulfillment)).all()
    assert len(fulfillments) == 2 and all(f.origin == Origin.APP for f in fulfillments)
    assert on_hand(store.location_id, "TEE-CLASSIC") == 8
    assert on_hand(store.location_id, "TOTE-CANVAS") == 9
    assert_invariants()


def test_completion_on_the_store_records_one_platform_fulfillment(stockroom, store):
    stockroom.sandbox.control("PUT", "/stores/demo-store/faults", json={"duplicate": 5})
    _, data = place(stockroom, [("TEE-CLASSIC", 3), ("BEANIE-BLK", 1)])
    partial = fulfill(store, data, {"TEE-CLASSIC": 1}, Tracking())
    stockroom.run_worker(until=synced(partial))
    stockroom.sandbox.control("POST", f"/stores/demo-store/orders/{data['id']}/complete", json={
        "tracking": {"tracking_number": "RM123456785GB", "tracking_provider": "Royal Mail"}})
    stockroom.settle()
    platform = db.session.scalars(select(Fulfillment).where(
        Fulfillment.origin == Origin.PLATFORM)).all()
    assert len(platform) == 1
    f = platform[0]
    assert f.location_id == store.location_id and f.tracking_number == "RM123456785GB"
    assert f.tracking_company == "Royal Mail" and f.tracking_url.startswith("https://")
    # Completed there with tracking: Shipped, and packed there (not on our pick list).
    assert f.status == FulfillmentStatus.SHIPPED and f.packed_at is not None
    assert sorted((fl.order_line.sku, fl.quantity) for fl in f.lines) == [
        ("BEANIE-BLK", 1), ("TEE-CLASSIC", 2)]
    assert on_hand(store.location_id, "TEE-CLASSIC") == 7
    assert on_hand(store.location_id, "BEANIE-BLK") == 9
    release_session()
    stockroom.run_worker()  # replays change nothing
    assert db.session.query(Fulfillment).count() == 2
    assert_invariants()


def test_tracking_added_to_a_pending_fulfillment_ships_it_with_an_entry_and_a_note(stockroom,
                                                                                    store):
    """Pending -> Shipped by tracking: one tracking_updated push, which gives the store what
    a fulfillment made with tracking gives it (the order completed already by the create
    push, a tracking entry, a customer note with the tracking)."""
    from app.fulfillment import update_tracking
    from app.models import OutboxEvent

    _, data = place(stockroom, [("HOODIE-M", 1)])
    fulfillment_id = fulfill(store, data, {"HOODIE-M": 1}, Tracking())
    stockroom.run_worker(until=synced(fulfillment_id))
    oid, sandbox = data["id"], stockroom.sandbox
    assert sandbox.rest("demo-store", "GET", f"orders/{oid}")["status"] == "completed"
    update_tracking(fulfillment_id, UPS, merchant_id=store.merchant_id)
    db.session.commit()
    assert db.session.get(Fulfillment, fulfillment_id).status == FulfillmentStatus.SHIPPED
    assert [e.topic for e in db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic.like("fulfillment.%")).order_by(OutboxEvent.id))] == [
        "fulfillment.created", "fulfillment.tracking_updated"]
    release_session()
    stockroom.run_worker(until=synced(fulfillment_id))
    trackings = sandbox.rest("demo-store", "GET", f"orders/{oid}/shipment-trackings",
                             version="wc-shipment-tracking/v3")
    assert [(t["tracking_number"], t["tracking_provider"]) for t in trackings] == [
        ("1Z999AA10123456784", "UPS")]
    notes = sandbox.rest("demo-store", "GET", f"orders/{oid}/notes", params={"type": "customer"})
    assert notes[0]["note"] == ("Tracking updated: UPS 1Z999AA10123456784: "
                                "https://www.ups.com/track?tracknum=1Z999AA10123456784.")
    assert sandbox.rest("demo-store", "GET", f"orders/{oid}")["status"] == "completed"
    assert_invariants()


def test_cancel_in_stockroom_removes_tracking_notes_and_reopens_the_order(stockroom, store):
    _, data = place(stockroom, [("HOODIE-M", 1)])
    fulfillment_id = fulfill(store, data, {"HOODIE-M": 1})
    stockroom.run_worker(until=synced(fulfillment_id))
    oid, sandbox = data["id"], stockroom.sandbox
    assert sandbox.rest("demo-store", "GET", f"orders/{oid}")["status"] == "completed"
    cancel_fulfillment(fulfillment_id, merchant_id=store.merchant_id)
    db.session.commit()
    release_session()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                         == SyncState.SYNCED)
    assert sandbox.rest("demo-store", "GET", f"orders/{oid}")["status"] == "processing"
    assert sandbox.rest("demo-store", "GET", f"orders/{oid}/shipment-trackings",
                        version="wc-shipment-tracking/v3") == []
    notes = sandbox.rest("demo-store", "GET", f"orders/{oid}/notes", params={"type": "customer"})
    assert notes[0]["note"] == ("Shipment of 1 item canceled (tracking 1Z999AA10123456784 no "
                                "longer applies).")
    stockroom.settle()  # the store's order.updated (processing) changes nothing here
    assert db.session.query(Fulfillment).filter_by(origin=Origin.PLATFORM).count() == 0
    assert on_hand(store.location_id, "HOODIE-M") == 10
    assert_invariants()


def test_cancel_on_the_store_cancels_the_order_and_releases_nothing_twice(stockroom, store):
    stockroom.sandbox.control("PUT", "/stores/demo-store/faults", json={"duplicate": 10})
    open_order, open_data = place(stockroom, [("TOTE-CANVAS", 2)])
    done_order, done_data = place(stockroom, [("TEE-CLASSIC", 2)])
    stockroom.sandbox.control("POST", f"/stores/demo-store/orders/{done_data['id']}/complete",
                              json={})
    stockroom.settle()
    assert on_hand(store.location_id, "TEE-CLASSIC") == 8  # completed on the store
    for data in (open_data, done_data):
        stockroom.sandbox.control("POST", f"/stores/demo-store/orders/{data['id']}/cancel",
                                  json={})
    stockroom.settle()
    assert db.session.get(Order, open_order.id).cancelled_at is not None
    assert db.session.get(Order, done_order.id).cancelled_at is not None
    assert on_hand(store.location_id, "TOTE-CANVAS") == 10  # never taken: nothing released
    assert on_hand(store.location_id, "TEE-CLASSIC") == 10  # the store's fulfillment reversed
    f = db.session.scalar(select(Fulfillment).where(Fulfillment.order_id == done_order.id))
    assert f.status == FulfillmentStatus.CANCELED
    release_session()
    stockroom.sandbox.control("POST", f"/stores/demo-store/orders/{done_data['id']}/refund",
                              json={"restock": True})
    stockroom.settle()
    assert on_hand(store.location_id, "TEE-CLASSIC") == 10  # still once
    assert_invariants()


def test_woocommerce_errors_become_readable_on_the_fulfillment(stockroom, store):
    _, data = place(stockroom, [("BEANIE-BLK", 1)])
    stockroom.sandbox.rest("demo-store", "DELETE", f"orders/{data['id']}",
                           params={"force": "true"})
    fulfillment_id = fulfill(store, data, {"BEANIE-BLK": 1})
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                         == SyncState.FAILED)
    error = db.session.get(Fulfillment, fulfillment_id).sync_error
    assert error.startswith("WooCommerce refused ") and "Invalid order ID." in error
    assert "HTTP 404" in error


def test_oauth1_signature_failure_is_shown_with_a_reconnect_hint(stockroom, store):
    _, first = place(stockroom, [("BEANIE-BLK", 1)])
    _, second = place(stockroom, [("TEE-CLASSIC", 1)])
    ring = get_keyring()
    channel = woo_channel()
    keys = ring.decrypt_json(channel.credentials_encrypted)
    for placed, bad, message in (
            (first, {"consumer_secret": "cs_wrong"},
             "Invalid signature - provided signature does not match."),
            (second, {"consumer_key": "ck_unknown"}, "Consumer key is invalid.")):
        channel = woo_channel()
        channel.credentials_encrypted = ring.encrypt_json(dict(keys, **bad))
        db.session.commit()
        fulfillment_id = fulfill(store, placed, {next(iter(placed.lines)): 1})
        stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                             == SyncState.FAILED)
        error = db.session.get(Fulfillment, fulfillment_id).sync_error
        assert message in error, error
        assert "woocommerce_rest_authentication_error, HTTP 401" in error and "Reconnect" in error
