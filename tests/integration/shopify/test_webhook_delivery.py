"""Duplicate and reordered webhook deliveries from the sandbox change nothing twice."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Fulfillment, FulfillmentStatus, InventoryMovement, Order, WebhookInbox
from tests.fixtures.invariants import assert_invariants
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import level, shop  # noqa: F401


def inbox(topic):
    rows = db.session.execute(select(WebhookInbox.dedupe_key, WebhookInbox.status).where(
        WebhookInbox.topic == topic)).all()
    release_session()
    return rows


def delivered(stockroom, topic):
    return [d for d in stockroom.sandbox.control("GET", f"webhooks/deliveries?topic={topic}")
            if d["state"] == "delivered"]


def test_duplicate_deliveries_are_stored_once_and_applied_once(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    stockroom.sandbox.control("POST", "webhooks/faults", {
        "duplicate": 10, "topics": ["orders/create", "fulfillments/create"]})
    placed = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": "MUG-WHT", "quantity": 2}], "location_id": shop.remote["Main Warehouse"]})
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": placed["fulfillment_orders"][0]["id"]})
    stockroom.run_worker(until=lambda: len(delivered(stockroom, "fulfillments/create")) >= 2
                         and db.session.scalar(select(Fulfillment.id).where(
                             Fulfillment.remote_id == made["gid"])) is not None)
    stockroom.run_worker()
    # Shopify delivered each event more than once (same X-Shopify-Event-Id): stored once,
    # applied once.
    copies = delivered(stockroom, "orders/create")
    assert len(copies) >= 2 and len({d["event_id"] for d in copies}) == 1
    assert len(inbox("orders/create")) == 1 and len(inbox("fulfillments/create")) == 1
    assert db.session.scalar(select(func.count()).where(Order.remote_id == placed["gid"])) == 1
    assert db.session.scalar(select(func.count()).where(Fulfillment.remote_id == made["gid"])) == 1
    assert level(shop.warehouse_id, "MUG-WHT").on_hand == 8
    assert_invariants()


def test_reordered_deliveries_converge_on_shopifys_state(stockroom, shop):  # noqa: F811
    """A fulfillment made then canceled on Shopify, its webhooks delivered newest first:
    the cancel's update arrives before the create. Handlers re-read Shopify, so Stockroom
    ends where Shopify is (canceled, stock untouched) and no stock moves twice."""
    stockroom.run_worker()
    placed = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": "TOTE-BLK", "quantity": 1}], "location_id": shop.remote["Main Warehouse"]})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Order.id).where(
        Order.remote_id == placed["gid"])) is not None)
    movements = db.session.query(InventoryMovement).count()
    release_session()
    stockroom.sandbox.control("POST", "webhooks/faults", {
        "reorder": 2, "reorder_batch": 2, "topics": ["fulfillments/create", "fulfillments/update"]})
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": placed["fulfillment_orders"][0]["id"]})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments/{made['id']}/cancel", {})
    stockroom.run_worker(until=lambda: len(inbox("fulfillments/create")) == 1
                         and len(inbox("fulfillments/update")) == 1
                         and {s for _, s in inbox("fulfillments/create") + inbox(
                             "fulfillments/update")} == {"done"})
    seq = [d["topic"] for d in sorted(
        (d for d in stockroom.sandbox.control("GET", "webhooks/deliveries")
         if d["topic"].startswith("fulfillments/")), key=lambda d: d["attempts"][0]["at"])]
    assert seq == ["fulfillments/update", "fulfillments/create"]  # really reordered
    assert db.session.scalar(select(func.count()).where(Fulfillment.remote_id == made["gid"])) \
        in (0, 1)
    live = db.session.scalars(select(Fulfillment).where(
        Fulfillment.status != FulfillmentStatus.CANCELED)).all()
    assert live == []
    assert level(shop.warehouse_id, "TOTE-BLK").on_hand == 10
    assert db.session.query(InventoryMovement).count() in (movements, movements + 2)
    assert_invariants()


def test_reordered_order_webhooks_leave_the_newest_state(stockroom, shop):  # noqa: F811
    """orders/cancelled delivered before orders/create: one order, canceled, as on Shopify."""
    stockroom.run_worker()
    stockroom.sandbox.control("POST", "webhooks/faults", {
        "reorder": 2, "reorder_batch": 2, "topics": ["orders/create", "orders/cancelled"]})
    placed = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": "BEANIE-NVY", "quantity": 1}]})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/orders/{placed['id']}/cancel")
    stockroom.run_worker(until=lambda: [s for _, s in inbox("orders/create")] == ["done"]
                         and [s for _, s in inbox("orders/cancelled")] == ["done"])
    orders = db.session.scalars(select(Order).where(Order.remote_id == placed["gid"])).all()
    assert len(orders) == 1 and orders[0].cancelled_at is not None
