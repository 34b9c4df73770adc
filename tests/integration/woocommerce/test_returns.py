"""A return recorded in Stockroom, over real HTTP to the WooCommerce sandbox: pushed as an order
refund of its items (amount 0, no restock on the store), restocked once, its echo ignored."""
from sqlalchemy import select

from app.extensions import db
from app.models import InventoryMovement, JobStatus, OrderReturn, OutboxEvent, Refund
from app.orders.returns import ReturnLineRequest, record_return
from app.sync.queue import retry_job
from tests.fixtures.invariants import assert_invariants
from tests.integration.woocommerce.conftest import release_session
from tests.integration.woocommerce.test_fulfillment_sync import (fulfill, on_hand,  # noqa: F401
                                                                 place, store, synced)


def _record(store, order, sku, quantity, *, restock=True):
    record = record_return(store.merchant_id, order.id,
                           [ReturnLineRequest(order.lines[sku], quantity, restock)])
    return_id = record.id
    db.session.commit()
    release_session()
    return return_id


def _store_refunds(stockroom, order):
    return stockroom.sandbox.rest("demo-store", "GET", f"orders/{order['id']}/refunds")


def _store_stock(stockroom, sku):
    return stockroom.sandbox.product_by_sku(sku)["stock_quantity"]


def test_return_pushed_as_a_refund_of_items_restocks_once(stockroom, store):
    _, order = place(stockroom, [("TEE-CLASSIC", 3)])
    data = order
    fulfillment_id = fulfill(store, order, {"TEE-CLASSIC": 3})
    stockroom.run_worker(until=synced(fulfillment_id))
    stockroom.settle()
    assert on_hand(store.location_id, "TEE-CLASSIC") == 7
    before = _store_stock(stockroom, "TEE-CLASSIC")
    return_id = _record(store, order, "TEE-CLASSIC", 2)
    assert on_hand(store.location_id, "TEE-CLASSIC") == 9  # at once, through the ledger
    stockroom.settle()  # the push, the store's order.updated echo, the inventory push
    refunds = _store_refunds(stockroom, data)
    assert len(refunds) == 1
    refund = refunds[0]
    assert refund["reason"] == f"Stockroom return #{return_id}" and float(refund["amount"]) == 0
    assert [-li["quantity"] for li in refund["line_items"]] == [2]
    record = db.session.get(OrderReturn, return_id)
    assert record.remote_id == str(refund["id"])
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.return_recorded"))
    assert event.status == JobStatus.DONE and "Sent to the store as refund" in event.last_error
    # The echo named a refund Stockroom knows: recorded once, nothing put back again.
    assert db.session.query(Refund).count() == 1
    assert on_hand(store.location_id, "TEE-CLASSIC") == 9
    assert [m.delta for m in db.session.scalars(select(InventoryMovement).where(
        InventoryMovement.reason.in_(("return_restock", "refund_restock"))))] == [2]
    # The store didn't restock by itself (no wc_restock_refunded_items note); its count is
    # what Stockroom pushed.
    notes = stockroom.sandbox.rest("demo-store", "GET", f"orders/{data['id']}/notes")
    assert not [n for n in notes if "stock increased" in n["note"]]
    assert _store_stock(stockroom, "TEE-CLASSIC") == before + 2
    assert_invariants()


def test_return_push_retried_after_a_lost_answer_adopts_the_refund_made(stockroom, store):
    _, order = place(stockroom, [("HOODIE-M", 2)])
    data = order
    fulfillment_id = fulfill(store, order, {"HOODIE-M": 2})
    stockroom.run_worker(until=synced(fulfillment_id))
    return_id = _record(store, order, "HOODIE-M", 1, restock=False)
    stockroom.settle()
    assert on_hand(store.location_id, "HOODIE-M") == 8  # not restocked
    # As if the answer had been lost: the return doesn't know its refund, the job runs again.
    record = db.session.get(OrderReturn, return_id)
    record.remote_id = None
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.return_recorded"))
    event.status = JobStatus.FAILED
    db.session.commit()
    retry_job(OutboxEvent, event.id, merchant_id=store.merchant_id)
    db.session.commit()
    stockroom.settle()
    assert len(_store_refunds(stockroom, data)) == 1
    assert db.session.get(OrderReturn, return_id).remote_id == str(_store_refunds(stockroom, data)[0]["id"])
    assert db.session.query(Refund).count() == 1
    assert_invariants()
