"""Scheduled reconciliation against the sandbox: webhooks Shopify gave up on are repaired."""
import threading
import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import (Channel, Fulfillment, FulfillmentStatus, InventoryMovement, Order,
                        OutboxEvent, Origin)
from app.platforms.shopify.scheduled import enqueue_reconciliations
from app.sync.schedule import Scheduler
from tests.fixtures.invariants import assert_invariants
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import level, place_order, shop  # noqa: F401


def stop_webhook_delivery(stockroom):
    """Every delivery fails and Shopify gives up at once (no retries left)."""
    stockroom.sandbox.control("POST", "webhooks/settings", {"retry_delays": []})
    stockroom.sandbox.control("POST", "webhooks/faults", {"drop": 100000})


def wait_given_up(stockroom, count):
    """Until ``count`` deliveries are failed for good and none is still pending."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        deliveries = stockroom.sandbox.control("GET", "webhooks/deliveries")
        failed = [d for d in deliveries if d["state"] == "failed"]
        if len(failed) >= count and not any(d["state"] == "pending" for d in deliveries):
            return failed
        time.sleep(0.1)
    raise AssertionError("deliveries did not fail in time")


def reconcile(stockroom):
    """What the worker's schedule does when the interval has passed."""
    queued = Scheduler().tick(force=True)
    stockroom.run_worker()
    release_session()
    return queued


def snapshot():
    state = (db.session.query(Order).count(), db.session.query(Fulfillment).count(),
             db.session.query(InventoryMovement).count(),
             sorted(db.session.scalars(select(Fulfillment.status))),
             sorted(db.session.scalars(select(Fulfillment.tracking_number))))
    release_session()
    return state


def test_reconcile_repairs_missed_webhooks_and_changes_nothing_twice(stockroom, shop):  # noqa: F811
    stockroom.run_worker()  # the import is done
    # Before the outage: an order and a fulfillment made on Shopify, both synced by webhook.
    known, known_summary = place_order(stockroom, [("BEANIE-GRY", 2)],
                                       location_id=shop.remote["Main Warehouse"])
    known_gid = known.remote_id
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": known_summary["fulfillment_orders"][0]["id"]})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Fulfillment).where(
        Fulfillment.remote_id == made["gid"])) is not None)
    assert level(shop.warehouse_id, "BEANIE-GRY").on_hand == 8
    seeded = db.session.scalar(select(Order).where(Order.name == "#1001"))
    seeded_gid = seeded.remote_id
    release_session()

    stop_webhook_delivery(stockroom)
    # Changes on Shopify nobody tells Stockroom about:
    placed = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": "TOTE-NAT", "quantity": 3}], "email": "new@example.com",
        "location_id": shop.remote["Main Warehouse"]})
    fo = placed["fulfillment_orders"][0]
    shipped = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": fo["id"], "line_items": [{"id": fo["line_items"][0]["id"],
                                                           "quantity": 2}],
        "tracking": {"number": "1ZNEW", "company": "UPS"}})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/orders/{seeded_gid.rsplit('/', 1)[1]}/cancel")
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments/{made['id']}/tracking",
                              {"number": "9400LATE", "company": "USPS"})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments/{made['id']}/delivered", {})
    failed = wait_given_up(stockroom, 5)
    assert {"orders/create", "fulfillments/create", "orders/cancelled"} <= {
        d["topic"] for d in failed}
    stockroom.run_worker()
    assert db.session.scalar(select(Order).where(Order.remote_id == placed["gid"])) is None

    assert reconcile(stockroom) >= 1
    new = db.session.scalar(select(Order).where(Order.remote_id == placed["gid"]))
    assert [(ln.sku, ln.quantity, ln.fulfilled_quantity) for ln in new.lines] == [
        ("TOTE-NAT", 3, 2)]
    recorded = db.session.scalar(select(Fulfillment).where(Fulfillment.remote_id == shipped["gid"]))
    assert (recorded.origin, recorded.location_id, recorded.tracking_number) == (
        Origin.PLATFORM, shop.warehouse_id, "1ZNEW")
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 8  # stock taken at the mapping
    assert db.session.scalar(select(Order.cancelled_at).where(
        Order.remote_id == seeded_gid)) is not None
    earlier = db.session.scalar(select(Fulfillment).where(Fulfillment.remote_id == made["gid"]))
    assert (earlier.tracking_number, earlier.status) == ("9400LATE", FulfillmentStatus.DELIVERED)
    assert db.session.scalar(select(Order.remote_id).where(Order.remote_id == known_gid))
    channel = db.session.scalars(select(Channel)).one()
    assert channel.sync_cursors["reconcile"]["mark"] and channel.last_synced_at is not None
    assert_invariants()
    release_session()

    # The next run (and the one after) re-reads the overlap: nothing changes twice.
    before = snapshot()
    db.session.add(OutboxEvent(merchant_id=shop.merchant_id, channel_id=channel.id,
                               topic="shopify.reconcile"))
    db.session.commit()
    stockroom.run_worker()
    assert snapshot() == before
    assert level(shop.warehouse_id, "TOTE-NAT").on_hand == 8
    assert level(shop.warehouse_id, "BEANIE-GRY").on_hand == 8
    jobs = db.session.scalars(select(OutboxEvent.last_error).where(
        OutboxEvent.topic == "shopify.reconcile", OutboxEvent.status == "done")).all()
    assert len(jobs) == 2 and "0 fulfillment changes" in jobs[-1]


def test_reconcile_is_scheduled_per_interval_and_not_while_queued(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    scheduler = Scheduler()
    scheduler.tick(force=True)
    scheduler.tick(force=True)  # one queued already: not twice
    queued = db.session.scalar(select(func.count()).where(
        OutboxEvent.topic == "shopify.reconcile"))
    assert queued == 1
    release_session()
    stockroom.run_worker()
    scheduler.tick(force=True)  # just ran: not due before the interval
    assert db.session.scalar(select(func.count()).where(
        OutboxEvent.topic == "shopify.reconcile")) == 1


def test_cli_queues_reconciliation_and_token_refresh(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    runner = stockroom.app.test_cli_runner()
    result = runner.invoke(args=["shopify", "reconcile", "--shop", SHOP])
    assert result.exit_code == 0 and f"{SHOP}: queued shopify.reconcile" in result.output
    again = runner.invoke(args=["shopify", "reconcile"])
    assert f"{SHOP}: already queued shopify.reconcile" in again.output
    refresh = runner.invoke(args=["shopify", "refresh-tokens"])
    assert f"{SHOP}: queued shopify.token_refresh" in refresh.output
    unknown = runner.invoke(args=["shopify", "reconcile", "--shop", "nope.myshopify.com"])
    assert unknown.exit_code != 0
    release_session()
    stockroom.run_worker()
    notes = dict(db.session.execute(select(OutboxEvent.topic, OutboxEvent.last_error).where(
        OutboxEvent.topic.in_(("shopify.reconcile", "shopify.token_refresh")))).all())
    assert notes["shopify.token_refresh"] == "not due (already fresh)"
    assert notes["shopify.reconcile"].startswith("reconciled ")


def test_workers_ticking_at_once_queue_one_reconciliation(stockroom, shop):  # noqa: F811
    """Four workers' schedulers tick together: the channel-row lock lets one queue it."""
    stockroom.run_worker()
    barrier = threading.Barrier(4)
    errors, queued = [], []

    def tick():
        with stockroom.app.app_context():
            try:
                barrier.wait(timeout=10)
                queued.append(enqueue_reconciliations())  # the task the scheduler runs
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and sorted(queued) == [0, 0, 0, 1]
    assert db.session.scalar(select(func.count()).where(
        OutboxEvent.topic == "shopify.reconcile")) == 1
