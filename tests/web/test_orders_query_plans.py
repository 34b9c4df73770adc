"""The orders list's and order page's queries read only the merchant's slice (PostgreSQL plans).

With sequential scans disabled the planner picks any usable index, so a query that no
index scopes by merchant shows either a Seq Scan or an index led by something else.
Every index these plans use on orders or order lines must be led by ``merchant_id``,
or look rows up by the ids (``id`` / ``order_id``) an earlier, scoped step produced.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.web.read_models import order_detail
from app.web.read_models.orders import (Cursor, OrderFilters, order_status_counts, orders_page,
                                        resolve_search)
from demo.seed_bulk import seed_bulk

pytestmark = pytest.mark.postgres

SCOPED_TABLES = ("orders", "order_lines")
#: leading columns that look rows up by keys found before (primary key, parent order)
BY_KEY = ("id", "order_id")


def _leading_columns() -> dict[str, tuple[str, str | None]]:
    """Index name -> (table, its first column; None for an expression)."""
    rows = db.session.execute(text(
        "SELECT i.relname, t.relname, a.attname FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0] "
        "WHERE t.relname = ANY(:tables)"), {"tables": list(SCOPED_TABLES)})
    return {index: (table, column) for index, table, column in rows}


def _plans(call) -> list[dict]:
    """The plans of every SELECT ``call`` sends, EXPLAINed with its own parameters."""
    sent = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and not statement.startswith("EXPLAIN"):
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    cursor = db.session.connection().connection.driver_connection.cursor()
    plans = []
    for statement, parameters in sent:
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        plan = cursor.fetchone()[0]
        plans.append((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])
    return plans


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.fixture
def merchants(app):
    """Three bulk-seeded merchants with look-alike data (the middle one is queried)."""
    seeded = [seed_bulk(db.session.connection(), orders=300, skus=20, seed=s,
                        markers={"qzten": 10}) for s in (1, 2, 3)]
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.execute(text("SET enable_seqscan = off"))
    return seeded


@pytest.mark.parametrize("flow", ["first page", "status filter", "deep page", "search listed",
                                  "search subquery", "order page"])
def test_orders_queries_use_indexes_led_by_merchant(merchants, flow):
    merchant_id = merchants[1].merchant_id
    some_order = merchants[1].open_order_ids[0]

    def run():
        if flow == "first page":
            orders_page(merchant_id, OrderFilters())
        elif flow == "status filter":
            orders_page(merchant_id, OrderFilters(status="unfulfilled"))
        elif flow == "deep page":
            first = orders_page(merchant_id, OrderFilters(), limit=100)
            orders_page(merchant_id, OrderFilters(),
                        Cursor(first.orders[-1].placed_at, first.orders[-1].id))
        elif flow == "search listed":
            filters = resolve_search(merchant_id, OrderFilters(q="qzten"))
            assert len(filters.matched_ids) == 10
            orders_page(merchant_id, filters)
            order_status_counts(merchant_id, filters)
        elif flow == "search subquery":  # unresolved: the search as a subquery
            assert order_status_counts(merchant_id, OrderFilters(q="SKU-0001"))["all"] > 0
            orders_page(merchant_id, OrderFilters(q="qzten"))
        else:
            order = order_detail.order(merchant_id, some_order)
            order_detail.order_fulfillments(merchant_id, order.id)

    plans = _plans(run)
    leading = _leading_columns()
    used = []
    for plan in plans:
        for node in _nodes(plan):
            assert not (node["Node Type"] == "Seq Scan"
                        and node.get("Relation Name") in SCOPED_TABLES), node
            index = node.get("Index Name")
            if index in leading:
                used.append((index, leading[index][1]))
    assert used, "no plan used an index on orders or order lines"
    assert all(column == "merchant_id" or column in BY_KEY for _, column in used), used
    if flow == "order page":  # one order by primary key (its merchant checked on the row)
        assert ("pk_orders", "id") in used, used
    else:  # a list finds the merchant's rows through the merchant's slice
        assert any(column == "merchant_id" for _, column in used), used
