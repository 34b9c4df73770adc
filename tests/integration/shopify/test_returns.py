"""Shopify returns over real HTTP: a return recorded in Stockroom is pushed (returnCreate,
returnProcess NOT_RESTOCKED) and its echoes restock nothing again; a return processed in
Shopify admin puts its restocked units back once, however often its webhooks come."""
import json

from sqlalchemy import select

from app.extensions import db
from app.models import (ChannelLocation, InventoryMovement, JobStatus, OrderReturn, OutboxEvent,
                        WebhookInbox)
from app.orders.returns import ReturnLineRequest, record_return
from tests.fixtures.invariants import assert_invariants
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import level, shop  # noqa: F401
from tests.integration.shopify.test_inventory_push import _all_pushed, _list_catalog
from tests.integration.shopify.test_refunds import _fulfilled_on_shopify
from tests.integration.shopify.test_webhooks import post


def _returns(stockroom):
    return stockroom.sandbox.control("GET", f"shops/{SHOP}/returns")["returns"]


def _hooks(topic=None):
    query = select(WebhookInbox).where(WebhookInbox.topic.like("returns/%"))
    if topic:
        query = query.where(WebhookInbox.topic == topic)
    return db.session.scalars(query.order_by(WebhookInbox.id)).all()


def _restocks():
    return [m.delta for m in db.session.scalars(select(InventoryMovement).where(
        InventoryMovement.reason.in_(("return_restock", "refund_restock"))))]


def _shopify_on_hand(stockroom, sku, location_name):
    snapshot = stockroom.sandbox.shop()
    location = next(loc["id"] for loc in snapshot["locations"] if loc["name"] == location_name)
    return next(lvl["on_hand"] for lvl in snapshot["levels"]
                if lvl["sku"] == sku and lvl["location_id"] == location)


def test_return_recorded_here_is_pushed_and_its_echoes_restock_nothing(stockroom, shop):  # noqa: F811
    _list_catalog(stockroom, shop)  # listings matched: Stockroom's counts are pushed
    order_id, summary = _fulfilled_on_shopify(stockroom, shop, "TOTE-NAT", 3)
    stockroom.run_worker(until=_all_pushed)
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 7
    line_id = db.session.scalar(select(OrderReturn.id))  # none yet
    assert line_id is None
    from app.models import Order

    line = db.session.get(Order, order_id).lines[0]
    record = record_return(shop.merchant_id, order_id, [ReturnLineRequest(line.id, 2, True)])
    return_id = record.id
    db.session.commit()
    release_session()
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 9
    stockroom.run_worker()
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.return_recorded"))
    assert event.status == JobStatus.DONE, event.last_error
    made = _returns(stockroom)
    assert len(made) == 1 and made[0]["status"] == "CLOSED"
    assert [(ln["quantity"], ln["note"]) for ln in made[0]["lines"]] == [
        (2, f"Stockroom return #{return_id}")]
    assert made[0]["dispositions"] == [{"type": "NOT_RESTOCKED", "quantity": 2,
                                        "location_id": None}]
    assert db.session.get(OrderReturn, return_id).remote_id == made[0]["gid"]
    assert "Sent to Shopify as return" in event.last_error
    # Its webhooks came back (approve, process, close): known, nothing restocked again.
    hooks = _hooks()
    assert sorted(h.topic for h in hooks) == ["returns/approve", "returns/close", "returns/process"]
    assert all(h.status == JobStatus.DONE and "made in Stockroom" in h.last_error for h in hooks)
    assert all(h.order_remote_id == summary["gid"] for h in hooks)
    assert _restocks() == [2]
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 9
    # Shopify holds what Stockroom pushed (its 9 on hand), not 2 more of its own on top.
    stockroom.run_worker(until=_all_pushed)
    assert _shopify_on_hand(stockroom, "TOTE-NAT", "Main Warehouse") == 9
    assert_invariants()


def test_return_processed_in_shopify_restocks_once(stockroom, shop):  # noqa: F811
    order_id, summary = _fulfilled_on_shopify(stockroom, shop, "MUG-WHT", 3)
    stockroom.run_worker()
    assert level(shop.warehouse_id, "MUG-WHT").on_hand == 7
    line_item = next(o for o in stockroom.sandbox.shop()["orders"]
                     if o["id"] == summary["id"])["line_items"][0]["id"]
    stockroom.sandbox.control("POST", f"shops/{SHOP}/orders/{summary['id']}/returns", {
        "return_line_items": [{"line_item_id": line_item, "quantity": 2}], "process": True,
        "restock_location_id": shop.remote["Main Warehouse"]})
    stockroom.run_worker(until=lambda: len([h for h in _hooks() if h.status == JobStatus.DONE]) == 3)
    stockroom.run_worker()
    assert level(shop.warehouse_id, "MUG-WHT").on_hand == 9
    assert _restocks() == [2]
    record = db.session.scalar(select(OrderReturn))
    assert record.origin == "platform" and record.order_id == order_id
    assert [(ln.quantity, ln.restocked, ln.location_id) for ln in record.lines] == [
        (2, 2, shop.warehouse_id)]
    process = _hooks("returns/process")[0]
    assert "2 × MUG-WHT put back at Warehouse" in process.last_error
    assert "nothing new to apply" in _hooks("returns/close")[0].last_error
    # Seen twice (a resend of returns/process as a new event): restocked once.
    body = json.loads(bytes(process.body))
    release_session()
    assert post(stockroom.url, body, topic="returns/process", event_id="again").status_code == 200
    stockroom.run_worker()
    assert len(_hooks("returns/process")) == 2
    assert _restocks() == [2] and level(shop.warehouse_id, "MUG-WHT").on_hand == 9
    # The return counts as back: Stockroom offers 1 more unit to return, not 3.
    from app.orders.returns import returnable_lines

    assert [r.quantity for r in returnable_lines(shop.merchant_id, order_id).values()] == [1]
    # returns/update names the return alone (Shopify's example): read, it joins its order's
    # timeline and changes nothing.
    return_gid = record.remote_id
    release_session()
    assert post(stockroom.url, {"admin_graphql_api_id": return_gid, "return_line_items": {
        "removals": []}}, topic="returns/update", event_id="update").status_code == 200
    stockroom.run_worker()
    update = _hooks("returns/update")[0]
    assert update.status == JobStatus.DONE and "is closed on Shopify" in update.last_error
    assert update.order_remote_id == summary["gid"]
    assert _restocks() == [2]
    assert_invariants()


def test_return_restocked_at_an_unmapped_location_applies_nothing_visibly(stockroom, shop):  # noqa: F811
    order_id, summary = _fulfilled_on_shopify(stockroom, shop, "BEANIE-GRY", 2)
    downtown = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.name == "Downtown Store"))
    downtown.stock_location_id = None
    db.session.commit()
    line_item = next(o for o in stockroom.sandbox.shop()["orders"]
                     if o["id"] == summary["id"])["line_items"][0]["id"]
    stockroom.sandbox.control("POST", f"shops/{SHOP}/orders/{summary['id']}/returns", {
        "return_line_items": [{"line_item_id": line_item, "quantity": 1}], "process": True,
        "restock_location_id": shop.remote["Downtown Store"]})
    stockroom.run_worker(until=lambda: any(h.status in (JobStatus.FAILED, JobStatus.DEAD)
                                           for h in _hooks("returns/process")))
    failed = _hooks("returns/process")[0]
    assert "Downtown Store, which is not mapped to a stock location" in failed.last_error
    assert _restocks() == [] and level(shop.warehouse_id, "BEANIE-GRY").on_hand == 8
    assert db.session.scalar(select(OrderReturn)) is None


def test_return_payload_that_disagrees_with_itself_is_rejected(stockroom, shop):  # noqa: F811
    body = {"id": 123, "admin_graphql_api_id": "gid://shopify/Return/456", "order_id": 1,
            "status": "closed"}
    release_session()
    assert post(stockroom.url, body, topic="returns/close", event_id="bad").status_code == 200
    stockroom.run_worker()
    row = _hooks("returns/close")[0]
    assert row.status == JobStatus.REJECTED and "different Returns" in row.last_error


def test_return_push_retried_after_a_lost_answer_finds_the_return_it_made(stockroom, shop):  # noqa: F811
    from app.models import Order
    from app.sync.queue import retry_job

    order_id, _ = _fulfilled_on_shopify(stockroom, shop, "TOTE-BLK", 2)
    line = db.session.get(Order, order_id).lines[0]
    return_id = record_return(shop.merchant_id, order_id,
                              [ReturnLineRequest(line.id, 1, False)]).id
    db.session.commit()
    release_session()
    stockroom.run_worker()
    first = db.session.get(OrderReturn, return_id).remote_id
    assert first and len(_returns(stockroom)) == 1
    # As if Shopify's answer had been lost: Stockroom doesn't know the return, the job runs again.
    db.session.get(OrderReturn, return_id).remote_id = None
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.return_recorded"))
    event.status = JobStatus.FAILED
    db.session.commit()
    retry_job(OutboxEvent, event.id, merchant_id=shop.merchant_id)
    db.session.commit()
    release_session()
    stockroom.run_worker()
    assert len(_returns(stockroom)) == 1
    assert db.session.get(OrderReturn, return_id).remote_id == first
    assert _restocks() == [] and level(shop.warehouse_id, "TOTE-BLK").on_hand == 8
