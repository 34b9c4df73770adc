"""How many orders a merchant has per fulfillment status: read from deltas, folded by recount.

Every flush that creates, deletes or changes the status of an order appends signed
rows to ``order_status_counts`` (app/orders/status.py). Reading the counts sums the
merchant's rows, so its cost follows the number of rows there, not the number of
orders. The scheduler keeps that number small: once a merchant has more than
:data:`FOLD_AFTER` rows, :func:`recount_statuses` replaces them with one row per
(channel, status), counted from the orders themselves. The recount is exact under
concurrent writers: it deletes the rows and counts the orders in ONE snapshot
(REPEATABLE READ on PostgreSQL; on SQLite the transaction holds the only write lock),
so a delta committed after that snapshot survives, and the orders it counts were not
counted. A recount also repairs counts after bulk SQL that bypassed the flush hook.
"""
from __future__ import annotations

import logging

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import Order, OrderStatusCount
from app.orders.status import OrderStatus

log = logging.getLogger("stockroom.orders")

#: Rows a merchant may gather before the scheduler folds them.
FOLD_AFTER = 100
FOLD_EVERY_SECONDS = 15.0


def status_counts(merchant_id: int, channel_id: int | None = None) -> dict[str, int]:
    """Orders per status of the merchant (one channel's with ``channel_id``), and "all"."""
    stmt = (select(OrderStatusCount.status, func.sum(OrderStatusCount.n))
            .where(OrderStatusCount.merchant_id == merchant_id)
            .group_by(OrderStatusCount.status))
    if channel_id is not None:
        stmt = stmt.where(OrderStatusCount.channel_id == channel_id)
    return counts_by_status(db.session.execute(stmt))


def counts_by_status(rows) -> dict[str, int]:
    """(status, number) rows as the lists show them: every status (0 if absent) and "all"."""
    counts = {status.value: 0 for status in OrderStatus}
    for status, n in rows:
        if status in counts:
            counts[status] = int(n)
    counts["all"] = sum(counts.values())
    return counts


def recount_statuses(connection: Connection, merchant_id: int) -> None:
    """Replace the merchant's count rows by a count of its orders, in the caller's transaction.

    The caller's transaction must see one snapshot for both statements: REPEATABLE READ
    on PostgreSQL (:func:`fold_merchant` sets it), any transaction on SQLite (BEGIN
    IMMEDIATE holds the write lock).
    """
    connection.execute(delete(OrderStatusCount).where(
        OrderStatusCount.merchant_id == merchant_id))
    connection.execute(insert(OrderStatusCount).from_select(
        ["merchant_id", "channel_id", "status", "n"],
        select(Order.merchant_id, Order.channel_id, Order.fulfillment_status, func.count())
        .where(Order.merchant_id == merchant_id)
        .group_by(Order.merchant_id, Order.channel_id, Order.fulfillment_status)))


def fold_merchant(merchant_id: int) -> bool:
    """Recount the merchant in a transaction of its own; False if a concurrent fold won.

    Two folds of one merchant at once conflict on the rows both delete; PostgreSQL fails
    one with a serialization error, which changes nothing (the other fold did the work).
    """
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        try:
            with connection.begin():
                recount_statuses(connection, merchant_id)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in ("40001", "40P01"):
                log.info("status count fold of merchant %s lost to a concurrent one", merchant_id)
                return False
            raise
    return True


def fold_status_counts() -> int:
    """Fold the count rows of every merchant that gathered more than FOLD_AFTER of them.

    Database housekeeping, done here rather than queued: it touches no platform and
    is over in one short transaction per merchant. Enqueues no jobs (returns 0).
    """
    busy = list(db.session.scalars(
        select(OrderStatusCount.merchant_id).group_by(OrderStatusCount.merchant_id)
        .having(func.count() > FOLD_AFTER)))
    db.session.rollback()  # end the read before the folds take their own snapshots
    for merchant_id in busy:
        fold_merchant(merchant_id)
    return 0
