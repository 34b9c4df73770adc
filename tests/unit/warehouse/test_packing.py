"""Scan to verify under concurrency: packers scanning one fulfillment at once never count a unit
twice (real threads, real DB; the order then fulfillment locks serialize them)."""
from collections import Counter

from sqlalchemy import select

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import PackCount
from app.warehouse.packing import record_scan
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order, stock)
from tests.integration.test_concurrency import run_concurrently

PACKERS = 12


def test_record_scan_concurrent_packers_never_double_count(app):
    merchant = make_merchant()
    location, mug = make_location(merchant), make_item(merchant, "MUG-1")
    stock(location, mug, 10)
    order = make_order(make_channel(merchant), [(mug, 5)])
    fulfillment = create_fulfillment(order.id, {order.lines[0].id: 5}, location.id,
                                     merchant_id=merchant.id)
    merchant_id, fulfillment_id = merchant.id, fulfillment.id
    db.session.commit()

    outcomes = run_concurrently(app, lambda i: record_scan(merchant_id, fulfillment_id,
                                                           "MUG-1"), n=PACKERS)

    assert outcomes == Counter({"ok": 5, "ScanRefused": PACKERS - 5})
    assert db.session.scalars(select(PackCount.scanned)).all() == [5]
