"""Row-lock helpers: the only way domain code locks rows, always in primary-key order."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.database import dialect_insert
from app.extensions import db
from app.models import (Fulfillment, InventoryLevel, Order, OrderLine, PurchaseOrder,
                        StockImport, Transfer)

# The sync lock (a platform's inbound changes to an order wait while a push of its
# fulfillments is unfinished) is not a row lock: it is app/sync/lock.py, push_in_flight().
#
# Every unit of work locks in this order, so two of them never wait on each other in a
# cycle: the order, then its fulfillment(s) (or a transfer), then inventory levels by
# ascending id.
# On SQLite the whole transaction already holds the write lock (BEGIN IMMEDIATE); the
# FOR UPDATE clauses are dropped by the dialect there.


def orders_for_update(merchant_id: int, order_ids: Iterable[int]) -> dict[int, Order]:
    """Lock the merchant's orders with these ids; returns {id: Order}.

    An order's lock guards its lines (fulfilled quantities change only under it), so the
    lines are re-read after the lock is taken: copies loaded earlier in the session may
    be stale.
    """
    ids = sorted(set(order_ids))
    rows = db.session.scalars(
        select(Order).where(Order.merchant_id == merchant_id, Order.id.in_(ids))
        .order_by(Order.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    if rows:
        db.session.scalars(select(OrderLine).where(OrderLine.order_id.in_(ids))
                           .execution_options(populate_existing=True)).all()
    return {o.id: o for o in rows}


def fulfillments_for_update(merchant_id: int, fulfillment_ids: Iterable[int]
                            ) -> dict[int, Fulfillment]:
    """Lock the merchant's fulfillments with these ids; returns {id: Fulfillment}."""
    ids = sorted(set(fulfillment_ids))
    rows = db.session.scalars(
        select(Fulfillment).where(Fulfillment.merchant_id == merchant_id, Fulfillment.id.in_(ids))
        .order_by(Fulfillment.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    return {f.id: f for f in rows}


def transfers_for_update(merchant_id: int, transfer_ids: Iterable[int]) -> dict[int, Transfer]:
    """Lock the merchant's transfers with these ids (taken before any inventory level).

    A transfer's lock guards its lines (received quantities change only under it): they are
    re-read after the lock, like an order's.
    """
    from app.models import TransferLine

    ids = sorted(set(transfer_ids))
    rows = db.session.scalars(
        select(Transfer).where(Transfer.merchant_id == merchant_id, Transfer.id.in_(ids))
        .order_by(Transfer.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    if rows:
        db.session.scalars(select(TransferLine).where(TransferLine.transfer_id.in_(ids))
                           .execution_options(populate_existing=True)).all()
    return {t.id: t for t in rows}


def purchase_orders_for_update(merchant_id: int, purchase_order_ids: Iterable[int]
                               ) -> dict[int, PurchaseOrder]:
    """Lock the merchant's purchase orders (before any level); their lines are re-read."""
    from app.models import PurchaseOrderLine

    ids = sorted(set(purchase_order_ids))
    rows = db.session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.merchant_id == merchant_id,
                                    PurchaseOrder.id.in_(ids))
        .order_by(PurchaseOrder.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    if rows:
        db.session.scalars(select(PurchaseOrderLine)
                           .where(PurchaseOrderLine.purchase_order_id.in_(ids))
                           .execution_options(populate_existing=True)).all()
    return {p.id: p for p in rows}


def stock_imports_for_update(merchant_id: int, import_ids: Iterable[int]
                             ) -> dict[int, StockImport]:
    """Lock the merchant's uploaded stock CSVs (before the levels their apply changes)."""
    ids = sorted(set(import_ids))
    rows = db.session.scalars(
        select(StockImport).where(StockImport.merchant_id == merchant_id,
                                  StockImport.id.in_(ids))
        .order_by(StockImport.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    return {s.id: s for s in rows}


def inventory_levels_for_update(merchant_id: int, location_id: int, item_ids: Iterable[int]
                                ) -> dict[int, InventoryLevel]:
    """Lock the levels of these items at one location; returns {item_id: level}.

    Missing levels are created first (0 on hand) with an insert that ignores conflicts,
    so two transactions creating the same level never fail on the unique constraint.
    """
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    _insert_missing_levels(merchant_id, location_id, ids)
    rows = db.session.scalars(
        select(InventoryLevel)
        .where(InventoryLevel.merchant_id == merchant_id,
               InventoryLevel.location_id == location_id,
               InventoryLevel.item_id.in_(ids))
        .order_by(InventoryLevel.id).with_for_update().execution_options(populate_existing=True)
    ).all()
    return {lvl.item_id: lvl for lvl in rows}


def _insert_missing_levels(merchant_id: int, location_id: int, item_ids: list[int]) -> None:
    stmt = dialect_insert(db.session)(InventoryLevel).values([
        {"merchant_id": merchant_id, "location_id": location_id, "item_id": item_id,
         "on_hand": 0, "committed": 0}
        for item_id in item_ids
    ]).on_conflict_do_nothing(index_elements=["location_id", "item_id"])
    db.session.execute(stmt)
