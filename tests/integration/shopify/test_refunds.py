"""Shopify refunds/create over real HTTP: returned units go back in stock at the mapped location,
once; cancel and no_restock put nothing back; an unmapped location applies nothing, visibly."""
import json

from sqlalchemy import select

from app.extensions import db
from app.models import (ChannelLocation, Fulfillment, InventoryMovement, JobStatus, Order,
                        OutboxEvent, Refund, WebhookInbox)
from app.sync.queue import retry_job
from tests.fixtures.invariants import assert_invariants
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import level, place_order, shop  # noqa: F401
from tests.integration.shopify.test_webhooks import post


def _fulfilled_on_shopify(stockroom, shop, sku, quantity):  # noqa: F811
    """An order of ``quantity`` × ``sku`` at Main Warehouse, fulfilled in Shopify admin (the
    webhook takes the units from our Warehouse)."""
    order, summary = place_order(stockroom, [(sku, quantity)],
                                 location_id=shop.remote["Main Warehouse"])
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": summary["fulfillment_orders"][0]["id"]})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Fulfillment).where(
        Fulfillment.remote_id == made["gid"])) is not None)
    return order.id, summary


def _refund(stockroom, summary, items):
    """Refund the order's (only) line in Shopify admin."""
    orders = stockroom.sandbox.shop()["orders"]
    line = next(o for o in orders if o["id"] == summary["id"])["line_items"][0]
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders/{summary['id']}/refunds", {
        "refund_line_items": [{"line_item_id": line["id"], **item} for item in items]})
    return made


def _applied():
    def check():
        row = db.session.scalar(select(WebhookInbox).where(
            WebhookInbox.topic == "refunds/create").order_by(WebhookInbox.id.desc()))
        return row is not None and row.status in (JobStatus.DONE, JobStatus.FAILED,
                                                   JobStatus.DEAD)
    return check


def test_return_restocks_at_the_mapped_location_once(stockroom, shop):  # noqa: F811
    order_id, summary = _fulfilled_on_shopify(stockroom, shop, "TOTE-NAT", 3)
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 7
    made = _refund(stockroom, summary, [{"quantity": 2, "restock_type": "return",
                                         "location_id": shop.remote["Main Warehouse"]}])
    stockroom.run_worker(until=lambda: db.session.scalar(select(Refund)) is not None)
    stockroom.run_worker()
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 9
    refund = db.session.scalar(select(Refund))
    assert refund.remote_id == made["gid"] and refund.order_id == order_id
    assert [(rl.quantity, rl.restocked, rl.location_id) for rl in refund.lines] == [
        (2, 2, shop.warehouse_id)]
    movement = db.session.scalar(select(InventoryMovement).where(
        InventoryMovement.reason == "refund_restock"))
    assert (movement.delta, movement.reference_type, movement.reference_id) == (2, "refund",
                                                                               refund.id)
    timeline = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.order_id == order_id, OutboxEvent.topic == "order.refund_recorded"))
    assert timeline.status == JobStatus.DONE
    assert "2 × TOTE-NAT put back at Warehouse" in timeline.last_error
    # The same refund again, as a new event (a resend, a replay): recorded once, restocked once.
    body = json.loads(bytes(db.session.scalar(select(WebhookInbox.body).where(
        WebhookInbox.topic == "refunds/create").order_by(WebhookInbox.id))))
    release_session()
    assert post(stockroom.url, body, topic="refunds/create", event_id="replayed").status_code \
        == 200
    stockroom.run_worker()
    assert db.session.query(Refund).count() == 1
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 9
    replay = db.session.scalars(select(WebhookInbox).where(
        WebhookInbox.topic == "refunds/create").order_by(WebhookInbox.id)).all()
    assert len(replay) == 2 and "already recorded" in replay[-1].last_error
    # The order page shows it on the timeline.
    page = stockroom_page(stockroom, order_id)
    assert "2 × TOTE-NAT put back at Warehouse" in page
    assert_invariants()


def test_cancel_and_no_restock_put_nothing_back(stockroom, shop):  # noqa: F811
    order, summary = place_order(stockroom, [("MUG-WHT", 4)],
                                 location_id=shop.remote["Main Warehouse"])
    order_id = order.id
    _refund(stockroom, summary, [{"quantity": 1, "restock_type": "cancel",
                                  "location_id": shop.remote["Main Warehouse"]},
                                 {"quantity": 1, "restock_type": "no_restock"}])
    stockroom.run_worker(until=lambda: db.session.scalar(select(Refund)) is not None)
    assert level(shop.warehouse_id, "MUG-WHT").on_hand == 10
    assert db.session.scalar(select(InventoryMovement).where(
        InventoryMovement.reason == "refund_restock")) is None
    refund = db.session.scalar(select(Refund))
    assert [rl.restocked for rl in refund.lines] == [0, 0]
    assert "canceled before it shipped" in refund.summary
    assert "no restock chosen" in refund.summary
    # Re-read, the order asks for the 2 units left (Shopify's currentQuantity).
    assert db.session.get(Order, order_id).lines[0].quantity == 2


def test_return_to_an_unmapped_location_applies_nothing_until_mapped(stockroom, shop):  # noqa: F811
    order_id, summary = _fulfilled_on_shopify(stockroom, shop, "BEANIE-GRY", 2)
    downtown = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.name == "Downtown Store"))
    downtown.stock_location_id = None
    db.session.commit()
    _refund(stockroom, summary, [{"quantity": 1, "restock_type": "return",
                                  "location_id": shop.remote["Downtown Store"]}])
    stockroom.run_worker(until=_applied())
    row = db.session.scalar(select(WebhookInbox).where(WebhookInbox.topic == "refunds/create"))
    assert row.status in (JobStatus.FAILED, JobStatus.DEAD)
    row_id = row.id
    assert "Downtown Store, which is not mapped to a stock location" in row.last_error
    assert db.session.query(Refund).count() == 0
    assert level(shop.warehouse_id, "BEANIE-GRY").on_hand == 8
    assert level(shop.downtown_id, "BEANIE-GRY").on_hand == 10
    page = stockroom_page(stockroom, order_id)
    assert "not mapped to a stock location" in page
    sync_page = stockroom_page(stockroom, order_id, "web.show_sync", kind="inbox", failed="1")
    assert "refunds/create" in sync_page and "not mapped to a stock location" in sync_page
    # Mapped, then retried from the Sync page: put back once, at the new mapping.
    downtown = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.name == "Downtown Store"))
    downtown.stock_location_id = shop.downtown_id
    retry_job(WebhookInbox, row_id, merchant_id=shop.merchant_id)
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.scalar(select(Refund)) is not None)
    assert level(shop.downtown_id, "BEANIE-GRY").on_hand == 11
    assert_invariants()


def stockroom_page(stockroom, order_id, endpoint="web.show_order", **args) -> str:
    """A page (the order's, by default) as the shop's merchant sees it, signed in."""
    from flask import url_for

    from app.models import User

    merchant_id = db.session.get(Order, order_id).merchant_id
    user = db.session.scalar(select(User).where(User.merchant_id == merchant_id))
    if user is None:
        user = User(merchant_id=merchant_id, email=f"owner-{merchant_id}@example.test",
                    password_hash="!")
        db.session.add(user)
        db.session.commit()
    user_id = user.id
    release_session()
    client = stockroom.app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = user_id
    with stockroom.app.test_request_context():
        url = url_for(endpoint, **({"order_id": order_id} if endpoint == "web.show_order"
                                   else args))
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    release_session()
    return response.get_data(as_text=True)


def test_reconciliation_records_a_refund_whose_webhook_was_lost_once(stockroom, shop):  # noqa: F811
    from tests.integration.shopify.test_reconcile import reconcile

    order_id, summary = _fulfilled_on_shopify(stockroom, shop, "MUG-WHT", 2)
    stockroom.run_worker()
    assert level(shop.warehouse_id, "MUG-WHT").on_hand == 8
    stockroom.sandbox.control("POST", "webhooks/faults", {"drop": 100,
                                                          "topics": ["refunds/create"]})
    stockroom.sandbox.control("POST", "webhooks/settings", {"retry_delays": []})
    made = _refund(stockroom, summary, [{"quantity": 1, "restock_type": "return",
                                         "location_id": shop.remote["Main Warehouse"]}])
    stockroom.run_worker()  # orders/updated arrives; its refunds/create never does
    assert db.session.query(Refund).count() == 0
    reconcile(stockroom)
    refund = db.session.scalar(select(Refund))
    assert refund is not None and refund.remote_id == made["gid"]
    assert level(shop.warehouse_id, "MUG-WHT").on_hand == 9
    reconcile(stockroom)  # again: nothing twice
    assert db.session.query(Refund).count() == 1
    assert level(shop.warehouse_id, "MUG-WHT").on_hand == 9
    assert_invariants()
