"""The stored-status migration fills in the status of orders that existed before it."""
from __future__ import annotations

import datetime as dt

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app.extensions import db

BEFORE = "c3a9e1d27b44"


def test_upgrade_backfills_fulfillment_status(app):
    db.session.remove()
    downgrade(revision=BEFORE)
    try:
        now = dt.datetime(2026, 1, 1)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO merchants (id, name, created_at) VALUES (1, 'm', :t)"),
                         {"t": now})
            conn.execute(text(
                "INSERT INTO channels (id, merchant_id, platform, domain, name, scopes, status, "
                "installed_at, sync_cursors) VALUES (1, 1, 'shopify', 'm.myshopify.com', '', '', "
                "'active', :t, '{}')"), {"t": now})
            for order_id, canceled in ((1, False), (2, False), (3, False), (4, True), (5, False)):
                conn.execute(text(
                    "INSERT INTO orders (id, merchant_id, channel_id, remote_id, name, "
                    "customer_name, customer_email, currency, total_price, placed_at, "
                    "cancelled_at, created_at) VALUES (:id, 1, 1, :r, :r, '', '', 'USD', '0', "
                    ":t, :c, :t)"), {"id": order_id, "r": str(order_id), "t": now,
                                    "c": now if canceled else None})
            for line_id, order_id, qty, done in ((1, 1, 2, 0), (2, 2, 2, 1), (3, 3, 2, 2),
                                                 (4, 4, 1, 0)):
                conn.execute(text(
                    "INSERT INTO order_lines (id, merchant_id, order_id, remote_id, sku, title, "
                    "quantity, fulfilled_quantity) VALUES (:id, 1, :o, :id, '', '', :q, :f)"),
                    {"id": line_id, "o": order_id, "q": qty, "f": done})
    finally:
        upgrade()
    rows = dict(db.session.execute(text("SELECT id, fulfillment_status FROM orders")).all())
    assert rows == {1: "unfulfilled", 2: "partially_fulfilled", 3: "fulfilled", 4: "canceled",
                    5: "unfulfilled"}
