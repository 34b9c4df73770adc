"""Concurrent fulfillments never oversell stock nor over-fulfill a line (real threads, real DB)."""
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from app.errors import InsufficientStock, QuantityExceedsUnfulfilled
from app.extensions import db
from app.fulfillment import cancel_fulfillment, create_fulfillment
from app.models import Fulfillment, InventoryLevel
from app.stock import ledger_sum
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order, stock)
from tests.fixtures.invariants import assert_invariants

THREADS = 40


def run_concurrently(app, work, n=THREADS):
    """Run ``work(i)`` in n threads released at once, each in its own app context + session.

    Returns a Counter of outcomes: "ok" or the exception class name.
    """
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def runner(i):
        with app.app_context():
            barrier.wait()
            try:
                work(i)
                db.session.commit()
                outcome = "ok"
            except Exception as exc:  # noqa: BLE001 - every outcome is counted and asserted
                db.session.rollback()
                outcome = type(exc).__name__
            finally:
                db.session.remove()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return Counter(outcomes)


def test_create_fulfillment_concurrent_never_oversells(app):
    merchant = make_merchant()
    location, item = make_location(merchant), make_item(merchant, "HOT")
    stock(location, item, 25)
    channel = make_channel(merchant)
    orders = [make_order(channel, [(item, 1)]) for _ in range(THREADS)]
    work_items = [(o.id, o.lines[0].id) for o in orders]
    merchant_id, location_id = merchant.id, location.id
    db.session.commit()

    def fulfill_one(i):
        order_id, line_id = work_items[i]
        create_fulfillment(order_id, {line_id: 1}, location_id, merchant_id=merchant_id)

    outcomes = run_concurrently(app, fulfill_one)

    assert outcomes == Counter({"ok": 25, "InsufficientStock": THREADS - 25})
    level = db.session.scalars(select(InventoryLevel)).one()
    assert level.on_hand == 0 and ledger_sum(level.id) == 0
    assert db.session.query(Fulfillment).count() == 25
    assert_invariants()


def test_create_fulfillment_concurrent_same_line_never_overfulfills(app):
    merchant = make_merchant()
    location, item = make_location(merchant), make_item(merchant, "BULK")
    stock(location, item, 1000)
    order = make_order(make_channel(merchant), [(item, 25)])
    order_id, line_id = order.id, order.lines[0].id
    merchant_id, location_id = merchant.id, location.id
    db.session.commit()

    outcomes = run_concurrently(app, lambda i: create_fulfillment(
        order_id, {line_id: 1}, location_id, merchant_id=merchant_id))

    assert outcomes == Counter({"ok": 25, "QuantityExceedsUnfulfilled": THREADS - 25})
    level = db.session.scalars(select(InventoryLevel)).one()
    assert level.on_hand == 975
    assert_invariants()


def test_cancel_fulfillment_concurrent_restores_once(app):
    merchant = make_merchant()
    location, item = make_location(merchant), make_item(merchant, "ONCE")
    stock(location, item, 5)
    order = make_order(make_channel(merchant), [(item, 3)])
    f = create_fulfillment(order, {order.lines[0].id: 3}, location, merchant_id=merchant.id)
    fulfillment_id, merchant_id = f.id, merchant.id
    db.session.commit()

    outcomes = run_concurrently(app, lambda i: cancel_fulfillment(
        fulfillment_id, merchant_id=merchant_id), n=12)

    assert outcomes == Counter({"ok": 1, "AlreadyCanceled": 11})
    assert db.session.scalars(select(InventoryLevel.on_hand)).one() == 5
    assert_invariants()


@pytest.mark.postgres
def test_create_fulfillment_concurrent_across_items_does_not_deadlock(app):
    """Orders taking two items in opposite line order: levels lock by id, so no deadlock."""
    merchant = make_merchant()
    location = make_location(merchant)
    a, b = make_item(merchant, "A"), make_item(merchant, "B")
    stock(location, a, 100)
    stock(location, b, 100)
    channel = make_channel(merchant)
    orders = [make_order(channel, [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)])
              for i in range(20)]
    work = [(o.id, {line.id: 1 for line in o.lines}) for o in orders]
    merchant_id, location_id = merchant.id, location.id
    db.session.commit()

    outcomes = run_concurrently(app, lambda i: create_fulfillment(
        work[i][0], work[i][1], location_id, merchant_id=merchant_id), n=20)

    assert outcomes == Counter({"ok": 20})
    assert sorted(db.session.scalars(select(InventoryLevel.on_hand))) == [80, 80]
    assert_invariants()
