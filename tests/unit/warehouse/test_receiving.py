"""Receiving under concurrency: two receipts of the last expected units arrive once; the ledger
and the level agree (real threads, real DB)."""
from collections import Counter

from sqlalchemy import select

from app.extensions import db
from app.models import InventoryLevel
from app.stock import ledger_sum
from app.warehouse.receiving import create_purchase_order, receive_purchase_order
from tests.fixtures.factories import make_item, make_location, make_merchant
from tests.integration.test_concurrency import run_concurrently


def test_receive_purchase_order_concurrent_receipts_never_exceed_expected(app):
    merchant = make_merchant()
    location = make_location(merchant)
    make_item(merchant, "BOLT-1")
    po = create_purchase_order(merchant.id, "Bolts Ltd", location.id, [("BOLT-1", 6)])
    merchant_id, po_id, line_id = merchant.id, po.id, po.lines[0].id
    db.session.commit()

    outcomes = run_concurrently(app, lambda i: receive_purchase_order(
        merchant_id, po_id, {line_id: 4}), n=4)

    assert outcomes == Counter({"ok": 1, "ReceiveExceedsExpected": 3})
    level = db.session.scalars(select(InventoryLevel)).one()
    assert level.on_hand == 4 and ledger_sum(level.id) == 4
