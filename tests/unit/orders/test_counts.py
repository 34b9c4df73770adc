"""Maintained status counts: deltas on every flush, folded by recount, exact under concurrency."""
from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.fulfillment import cancel_fulfillment, create_fulfillment
from app.models import Order, OrderLine, OrderStatusCount
from app.orders.counts import FOLD_AFTER, fold_merchant, fold_status_counts, status_counts
from app.orders.upsert import LineData, OrderData, upsert_order
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order, stock)
from tests.fixtures.invariants import assert_status_counts


def _counts(merchant_id, channel_id=None):
    db.session.expire_all()
    counts = status_counts(merchant_id, channel_id)
    return {k: v for k, v in counts.items() if v}


def _rows(merchant_id) -> int:
    return db.session.scalar(select(func.count()).select_from(OrderStatusCount)
                             .where(OrderStatusCount.merchant_id == merchant_id))


def test_status_counts_follow_every_change(app):
    merchant = make_merchant()
    location, item = make_location(merchant), make_item(merchant)
    stock(location, item, 10)
    channel = make_channel(merchant)
    placed = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    data = OrderData("R1", "#1", placed, [LineData("L1", 2, sku=item.sku),
                                          LineData("L2", 1, sku=item.sku)])
    order = upsert_order(merchant.id, channel.id, data)
    other = make_order(channel, [(item, 1)])
    db.session.commit()
    assert _counts(merchant.id) == {"unfulfilled": 2, "all": 2}

    line1, line2 = order.lines
    first = create_fulfillment(order.id, {line1.id: 2}, location.id, merchant_id=merchant.id)
    db.session.commit()
    assert _counts(merchant.id) == {"unfulfilled": 1, "partially_fulfilled": 1, "all": 2}
    create_fulfillment(order.id, {line2.id: 1}, location.id, merchant_id=merchant.id)
    db.session.commit()
    assert _counts(merchant.id) == {"unfulfilled": 1, "fulfilled": 1, "all": 2}
    cancel_fulfillment(first.id, merchant_id=merchant.id)
    db.session.commit()
    assert _counts(merchant.id) == {"unfulfilled": 1, "partially_fulfilled": 1, "all": 2}
    upsert_order(merchant.id, channel.id, OrderData(**{**data.__dict__, "cancelled_at": placed}))
    db.session.commit()
    assert _counts(merchant.id) == {"unfulfilled": 1, "canceled": 1, "all": 2}
    db.session.delete(db.session.get(Order, other.id))
    db.session.commit()
    assert _counts(merchant.id) == {"canceled": 1, "all": 1}
    assert_status_counts()


def test_status_counts_rolled_back_with_their_orders(app):
    merchant = make_merchant()
    channel = make_channel(merchant)
    make_order(channel, [(None, 1)])
    db.session.commit()
    make_order(channel, [(None, 1)])
    db.session.flush()
    db.session.rollback()
    assert _counts(merchant.id) == {"unfulfilled": 1, "all": 1}
    make_order(channel, [(None, 1)])  # a flush after the rollback writes only its own delta
    db.session.commit()
    assert _counts(merchant.id) == {"unfulfilled": 2, "all": 2}


def test_status_counts_per_channel_and_per_merchant(app):
    merchant, stranger = make_merchant("A"), make_merchant("B")
    shop, woo = make_channel(merchant), make_channel(merchant)
    theirs = make_channel(stranger)
    for channel, n in ((shop, 3), (woo, 2), (theirs, 4)):
        for _ in range(n):
            make_order(channel, [(None, 1)])
    db.session.commit()
    assert _counts(merchant.id) == {"unfulfilled": 5, "all": 5}
    assert _counts(merchant.id, woo.id) == {"unfulfilled": 2, "all": 2}
    # Another merchant's channel id counts nothing for this merchant.
    assert _counts(merchant.id, theirs.id) == {}
    assert _counts(stranger.id) == {"unfulfilled": 4, "all": 4}


def test_deleting_a_channel_takes_its_counts(app):
    merchant = make_merchant()
    keep, drop = make_channel(merchant), make_channel(merchant)
    make_order(keep, [(None, 1)])
    make_order(drop, [(None, 1)])
    db.session.commit()
    db.session.delete(drop)
    db.session.commit()
    assert _counts(merchant.id) == {"unfulfilled": 1, "all": 1}
    assert_status_counts()


def test_fold_replaces_many_rows_by_one_per_channel_and_status(app):
    merchant = make_merchant()
    channel = make_channel(merchant)
    for _ in range(FOLD_AFTER + 5):
        make_order(channel, [(None, 2)])
        db.session.commit()  # one delta row per order
    quiet = make_merchant("Quiet")
    make_order(make_channel(quiet), [(None, 1)])
    db.session.commit()
    assert _rows(merchant.id) == FOLD_AFTER + 5

    assert fold_status_counts() == 0  # housekeeping: no jobs queued
    db.session.expire_all()
    assert _rows(merchant.id) == 1
    assert _rows(quiet.id) == 1  # under the threshold: left alone
    assert _counts(merchant.id) == {"unfulfilled": FOLD_AFTER + 5, "all": FOLD_AFTER + 5}
    assert_status_counts()


def test_recount_repairs_counts_after_bulk_sql(app):
    merchant = make_merchant()
    channel = make_channel(merchant)
    orders = [make_order(channel, [(None, 1)]) for _ in range(3)]
    db.session.commit()
    merchant_id = merchant.id
    # Bulk statements bypass the flush hook (as demo/seed_bulk.py's rows do).
    db.session.execute(update(OrderLine).where(OrderLine.order_id == orders[0].id)
                       .values(fulfilled_quantity=1))
    db.session.execute(update(Order).where(Order.id == orders[0].id)
                       .values(fulfillment_status="fulfilled"))
    db.session.execute(delete(Order).where(Order.id == orders[1].id))
    db.session.commit()
    assert _counts(merchant_id) == {"unfulfilled": 3, "all": 3}  # stale until a recount
    db.session.rollback()  # (SQLite: the test's read transaction holds the write lock)

    assert fold_merchant(merchant_id) is True
    assert _counts(merchant_id) == {"unfulfilled": 1, "fulfilled": 1, "all": 2}


def test_fold_concurrent_with_fulfillments_stays_exact(app):
    """Folds race with fulfillments committing: no delta is lost or counted twice."""
    merchant = make_merchant()
    location, item = make_location(merchant), make_item(merchant)
    stock(location, item, 100)
    channel = make_channel(merchant)
    orders = [make_order(channel, [(item, 1)]) for _ in range(24)]
    work = [(o.id, o.lines[0].id) for o in orders]
    merchant_id, location_id = merchant.id, location.id
    db.session.commit()  # (nothing below touches this session's objects: no lock held)
    barrier = threading.Barrier(len(work) + 4)
    errors: list[BaseException] = []

    def fulfill(order_id, line_id):
        with app.app_context():
            barrier.wait()
            try:
                create_fulfillment(order_id, {line_id: 1}, location_id, merchant_id=merchant_id)
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    def fold():
        with app.app_context():
            barrier.wait()
            try:
                for _ in range(10):
                    fold_merchant(merchant_id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=fulfill, args=w) for w in work]
    threads += [threading.Thread(target=fold) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    assert _counts(merchant_id) == {"fulfilled": 24, "all": 24}
    db.session.rollback()
    fold_merchant(merchant_id)
    assert _counts(merchant_id) == {"fulfilled": 24, "all": 24}
    assert _rows(merchant_id) == 1
    assert_status_counts()
