"""WooCommerce order refunds over real HTTP: what the store restocked goes back at its mapped
location once; refunds without restock, or of units never shipped, put nothing back."""
from sqlalchemy import select

from app.extensions import db
from app.models import (ChannelLocation, InventoryMovement, JobStatus, OutboxEvent, Refund)
from app.sync.queue import retry_job
from tests.fixtures.invariants import assert_invariants
from tests.integration.woocommerce.conftest import release_session
from tests.integration.woocommerce.test_fulfillment_sync import (on_hand, place,  # noqa: F401
                                                                 store)

STORE = "/stores/demo-store"


def _item_id(stockroom, order_id, sku):
    data = stockroom.sandbox.rest("demo-store", "GET", f"orders/{order_id}")
    return next(li["id"] for li in data["line_items"] if li["sku"] == sku)


def _refund(stockroom, order_id, lines, *, restock, rest_of_total=False):
    """The owner refunds these lines (with the shipping too when ``rest_of_total``)."""
    extra = {}
    if rest_of_total:
        order = stockroom.sandbox.rest("demo-store", "GET", f"orders/{order_id}")
        refunded = -sum(float(r["total"]) for r in order["refunds"])
        extra["amount"] = round(float(order["total"]) - refunded, 2)
    stockroom.sandbox.control("POST", f"{STORE}/orders/{order_id}/refund", json={
        "line_items": [{"id": _item_id(stockroom, order_id, sku), "quantity": q}
                       for sku, q in lines], "restock": restock, "reason": "Returned", **extra})
    stockroom.settle()


def _refund_jobs():
    return db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "order.refunds_changed").order_by(OutboxEvent.id)).all()


def test_restocked_refund_of_shipped_units_goes_back_once(stockroom, store):
    order, data = place(stockroom, [("TEE-CLASSIC", 3)])
    stockroom.sandbox.control("POST", f"{STORE}/orders/{data['id']}/complete", json={})
    stockroom.settle()
    assert on_hand(store.location_id, "TEE-CLASSIC") == 7
    _refund(stockroom, data["id"], [("TEE-CLASSIC", 2)], restock=True)
    assert on_hand(store.location_id, "TEE-CLASSIC") == 9
    refund = db.session.scalar(select(Refund))
    assert [(rl.quantity, rl.restocked) for rl in refund.lines] == [(2, 2)]
    assert "2 × TEE-CLASSIC put back at Warehouse" in refund.summary
    movement = db.session.scalar(select(InventoryMovement).where(
        InventoryMovement.reason == "refund_restock"))
    assert (movement.delta, movement.reference_id) == (2, refund.id)
    timeline = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "order.refund_recorded"))
    assert timeline.order_id == order.id and timeline.status == JobStatus.DONE
    # Seen again (another order.updated, the reconciliation): recorded and restocked once.
    stockroom.sandbox.control("PUT", f"{STORE}/faults", json={"duplicate": 3})
    stockroom.sandbox.rest("demo-store", "PUT", f"orders/{data['id']}",
                           json={"customer_note": "seen again"})
    stockroom.settle()
    release_session()
    stockroom.run_worker()
    assert db.session.query(Refund).count() == 1
    assert on_hand(store.location_id, "TEE-CLASSIC") == 9
    assert_invariants()


def test_refund_without_restock_or_of_unshipped_units_puts_nothing_back(stockroom, store):
    _, data = place(stockroom, [("HOODIE-M", 2), ("TOTE-CANVAS", 2)])
    before = stockroom.sandbox.rest("demo-store", "GET", "products",
                                    params={"sku": "TOTE-CANVAS"})[0]["stock_quantity"]
    _refund(stockroom, data["id"], [("HOODIE-M", 1)], restock=False)
    _refund(stockroom, data["id"], [("TOTE-CANVAS", 1)], restock=True)
    # The store restocked the beanie it had reserved at checkout; Stockroom never shipped it.
    after = stockroom.sandbox.rest("demo-store", "GET", "products",
                                   params={"sku": "TOTE-CANVAS"})[0]["stock_quantity"]
    assert after == before + 1
    refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
    assert len(refunds) == 2
    assert "1 × HOODIE-M: not restocked on the platform" in refunds[0].summary
    assert "never shipped from Stockroom's stock" in refunds[1].summary
    assert on_hand(store.location_id, "HOODIE-M") == 10
    assert on_hand(store.location_id, "TOTE-CANVAS") == 10
    assert db.session.scalar(select(InventoryMovement).where(
        InventoryMovement.reason == "refund_restock")) is None


def test_restock_at_an_unmapped_store_applies_nothing_until_mapped(stockroom, store):
    _, data = place(stockroom, [("TEE-CLASSIC", 2)])
    stockroom.sandbox.control("POST", f"{STORE}/orders/{data['id']}/complete", json={})
    stockroom.settle()
    mapping = db.session.scalar(select(ChannelLocation).where(ChannelLocation.kind == "store"))
    mapping.stock_location_id = None
    db.session.commit()
    _refund(stockroom, data["id"], [("TEE-CLASSIC", 1)], restock=True)
    (job,) = _refund_jobs()
    assert job.status in (JobStatus.FAILED, JobStatus.DEAD)
    # The order seen again (a webhook, the reconciliation) queues no second job beside it.
    stockroom.sandbox.rest("demo-store", "PUT", f"orders/{data['id']}",
                           json={"customer_note": "seen again"})
    stockroom.settle()
    (job,) = _refund_jobs()
    assert "not mapped to a stock location" in job.last_error
    assert db.session.query(Refund).count() == 0
    assert on_hand(store.location_id, "TEE-CLASSIC") == 8
    job_id = job.id
    mapping = db.session.scalar(select(ChannelLocation).where(ChannelLocation.kind == "store"))
    mapping.stock_location_id = store.location_id
    retry_job(OutboxEvent, job_id, merchant_id=store.merchant_id)
    db.session.commit()
    stockroom.settle()
    assert db.session.query(Refund).count() == 1
    assert on_hand(store.location_id, "TEE-CLASSIC") == 9
    assert_invariants()


def test_full_refund_after_a_restocked_partial_one_puts_each_unit_back_once(stockroom, store):
    """The store's completion is reversed when the order ends refunded; the units the
    first refund already put back are not put back again by that reversal."""
    _, data = place(stockroom, [("TEE-CLASSIC", 3)])
    stockroom.sandbox.control("POST", f"{STORE}/orders/{data['id']}/complete", json={})
    stockroom.settle()
    assert on_hand(store.location_id, "TEE-CLASSIC") == 7
    _refund(stockroom, data["id"], [("TEE-CLASSIC", 1)], restock=True)
    assert on_hand(store.location_id, "TEE-CLASSIC") == 8
    _refund(stockroom, data["id"], [("TEE-CLASSIC", 2)], restock=True, rest_of_total=True)
    assert stockroom.sandbox.rest("demo-store", "GET",
                                  f"orders/{data['id']}")["status"] == "refunded"
    assert on_hand(store.location_id, "TEE-CLASSIC") == 10
    assert db.session.query(Refund).count() == 2
    assert_invariants()
