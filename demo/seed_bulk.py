"""Bulk seeding of a merchant with many orders (benchmarks, a large demo): rows, not ORM objects.

One merchant, one Shopify channel, a few stock locations, SKUs with stock at every
location, and ``orders`` orders of 1-5 lines (3 on average). A share of them have one
live fulfillment (full or partial, pending/shipped/delivered) whose units were taken
from stock through the ledger, so every invariant the app relies on holds: a line's
fulfilled quantity is what its live fulfillments hold, and each level's on_hand equals
the sum of its movements (an opening "received" movement, then one per fulfilled line).

Rows are built in Python and written in bulk, a batch of orders at a time (memory
holds one batch whatever the number of orders): COPY on PostgreSQL, executemany on
SQLite. Explicit ids (after the tables' current maximum) avoid a round trip per row;
PostgreSQL's sequences are moved past them at the end.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select, text

from app.extensions import db
from app.models.stock import sku_key
from app.orders.counts import recount_statuses
from app.orders.search import SEARCHED, indexed_columns

FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Donald",
               "Frances", "John", "Radia", "Linus", "Hedy", "Dennis", "Katherine", "Tim")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton",
              "Knuth", "Allen", "Backus", "Perlman", "Torvalds", "Lamarr", "Ritchie",
              "Johnson", "Berners-Lee")
PRODUCTS = ("Canvas tote", "Enamel mug", "Linen apron", "Wool beanie", "Field notebook",
            "Brass pen", "Cotton tee", "Leather wallet", "Travel bottle", "Desk lamp")
STATUSES = ("pending", "shipped", "delivered")


@dataclass
class BulkSeed:
    """What :func:`seed_bulk` created."""

    merchant_id: int
    channel_id: int
    location_ids: list[int]
    item_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    #: ids of orders with nothing fulfilled and not canceled (fulfill targets)
    open_order_ids: list[int] = field(default_factory=list)


#: Orders generated and written per batch: the seed holds one batch of rows at a time.
BATCH_ORDERS = 20_000


def seed_bulk(connection: Connection, *, orders: int, skus: int = 2000, locations: int = 3,
              fulfilled_share: float = 0.6, canceled_share: float = 0.02, seed: int = 7,
              merchant_name: str = "Bulk merchant", days: int = 365,
              on_hand: tuple[int, int] = (20, 200), now: dt.datetime | None = None,
              markers: dict[str, int] | None = None, keep_open_ids: int | None = None,
              batch_orders: int = BATCH_ORDERS) -> BulkSeed:
    """Create a merchant with ``orders`` orders in bulk on ``connection`` (the caller commits).

    Rows are streamed: orders are generated and written ``batch_orders`` at a time,
    so memory holds one batch, not the whole seed. The orders are generated twice from
    the same random seed: a first pass only sums what fulfillments take from each level
    (the opening receipt of a level must cover it before its later movements are written).
    ``markers`` (term -> n) puts each term into the customer email of ``n`` orders spread
    evenly over the list, for searches with a known number of matches. ``keep_open_ids``
    caps how many open order ids are returned (None: all).
    """
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    ids = _IdAllocator(connection)
    tables: dict[str, list[dict]] = {}
    counts: dict[str, int] = {}

    merchant_id = ids.next("merchants")
    tables["merchants"] = [{"id": merchant_id, "name": merchant_name,
                            "email": f"bulk-{merchant_id}-{seed}@stockroom.test",
                            "created_at": now}]
    channel_id = ids.next("channels")
    tables["channels"] = [{
        "id": channel_id, "merchant_id": merchant_id, "platform": "shopify",
        "domain": f"bulk-{merchant_id}.myshopify.com", "name": f"{merchant_name} shop",
        "scopes": "", "status": "active", "installed_at": now, "sync_cursors": {}}]
    location_ids = [ids.next("stock_locations") for _ in range(locations)]
    tables["stock_locations"] = [{
        "id": loc, "merchant_id": merchant_id, "name": f"Location {n + 1}", "active": True,
        "allow_negative_stock": False, "created_at": now} for n, loc in enumerate(location_ids)]
    item_ids = [ids.next("inventory_items") for _ in range(skus)]
    skus_by_item = {item: f"SKU-{n + 1:05d}" for n, item in enumerate(item_ids)}
    titles = {item: f"{PRODUCTS[n % len(PRODUCTS)]} #{n + 1}" for n, item in enumerate(item_ids)}
    tables["inventory_items"] = [{"id": item, "merchant_id": merchant_id,
                                  "sku": skus_by_item[item],
                                  "sku_key": sku_key(skus_by_item[item]), "title": titles[item],
                                  "created_at": now} for item in item_ids]
    level_ids = {(loc, item): ids.next("inventory_levels")
                 for loc in location_ids for item in item_ids}
    taken: dict[int, int] = {lvl: 0 for lvl in level_ids.values()}
    marked = _markers(markers or {}, orders)

    def generate(ids):
        return _orders(random.Random(seed), ids, orders=orders,
                       merchant_id=merchant_id, channel_id=channel_id, item_ids=item_ids,
                       location_ids=location_ids, level_ids=level_ids,
                       skus_by_item=skus_by_item, titles=titles, days=days, now=now,
                       fulfilled_share=fulfilled_share, canceled_share=canceled_share,
                       marked=marked)

    # Pass 1: what fulfillments take from each level (on a copy of the id counters).
    for _order, _lines, _ful, _ful_lines, moves in generate(ids.copy()):
        for level, quantity, _ful_id, _at in moves:
            taken[level] += quantity

    # Levels end with ``on_hand`` units (a random pick in the range); the opening receipt
    # covers what fulfillments take.
    level_rng = random.Random(f"{seed}-levels")
    level_rows, move_rows, running = [], [], {}
    opened = now - dt.timedelta(days=days + 1)
    for (loc, item), level in level_ids.items():
        final = level_rng.randint(*on_hand)
        running[level] = final + taken[level]
        level_rows.append({"id": level, "merchant_id": merchant_id, "location_id": loc,
                           "item_id": item, "on_hand": final, "committed": 0,
                           "updated_at": now})
        if running[level]:
            move_rows.append(_movement(ids, merchant_id, level, running[level], running[level],
                                       "received", None, opened, "Opening stock (bulk seed)"))
    tables.update({"inventory_levels": level_rows, "inventory_movements": move_rows})

    open_orders: list[int] = []
    with _search_indexed_in_bulk(connection, merchant_id):
        for name, rows in tables.items():
            _insert(connection, name, rows)
            counts[name] = len(rows)
        batch: dict[str, list[dict]] = {name: [] for name in BATCH_TABLES}
        for n, (order, lines, ful, ful_lines, moves) in enumerate(generate(ids), 1):
            batch["orders"].append(order)
            batch["order_lines"].extend(lines)
            if ful is not None:
                batch["fulfillments"].append(ful)
                batch["fulfillment_lines"].extend(ful_lines)
            elif order["fulfillment_status"] == "unfulfilled" and (
                    keep_open_ids is None or len(open_orders) < keep_open_ids):
                open_orders.append(order["id"])
            for level, quantity, ful_id, at in moves:
                running[level] -= quantity
                batch["inventory_movements"].append(_movement(
                    ids, merchant_id, level, -quantity, running[level], "fulfillment", ful_id,
                    at, ""))
            if n % batch_orders == 0 or n == orders:
                for name, rows in batch.items():
                    _insert(connection, name, rows)
                    counts[name] = counts.get(name, 0) + len(rows)
                    rows.clear()
    ids.move_sequences()
    recount_statuses(connection, merchant_id)  # the orders list's status counts
    return BulkSeed(merchant_id, channel_id, location_ids, item_ids, counts,
                    time.perf_counter() - started, open_orders)


#: Tables written batch by batch, parents first (foreign keys hold after each batch).
BATCH_TABLES = ("orders", "order_lines", "fulfillments", "fulfillment_lines",
                "inventory_movements")


def _markers(markers: dict[str, int], orders: int) -> dict[int, list[str]]:
    """Order index -> the marker terms its customer email carries."""
    marked: dict[int, list[str]] = {}
    for term, count in markers.items():
        if not 0 < count <= orders:
            raise ValueError(f"marker {term!r}: {count} orders of {orders}")
        step = orders / count
        for k in range(count):
            marked.setdefault(int(k * step + step / 2), []).append(term)
    return marked


def _orders(rng, ids, *, orders, merchant_id, channel_id, item_ids, location_ids, level_ids,
            skus_by_item, titles, days, now, fulfilled_share, canceled_share, marked):
    """Yield (order, lines, fulfillment or None, fulfillment lines, taken) per order.

    ``taken`` lists (level id, units, fulfillment id, at) for each fulfilled line.
    """
    span = dt.timedelta(days=days).total_seconds()
    for n in range(orders):
        order_id = ids.next("orders")
        placed = now - dt.timedelta(seconds=span * (orders - n) / orders)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        canceled = rng.random() < canceled_share
        tag = "".join(f"+{term}" for term in marked.get(n, ()))
        order_row = {
            "id": order_id, "merchant_id": merchant_id, "channel_id": channel_id,
            "remote_id": f"gid://shopify/Order/{9_000_000 + order_id}", "name": f"#{1000 + n + 1}",
            "customer_name": f"{first} {last}",
            "customer_email": f"{first}.{last}{n % 97}{tag}@example.test".lower(),
            "currency": "USD", "total_price": f"{rng.randint(500, 50000) / 100:.2f}",
            "placed_at": placed, "cancelled_at": placed + dt.timedelta(hours=1) if canceled else None,
            "remote_updated_at": placed, "created_at": placed,
            "fulfillment_status": "canceled" if canceled else "unfulfilled"}
        lines = []
        for i, item in enumerate(rng.sample(item_ids, rng.randint(1, min(5, len(item_ids))))):
            lines.append({"id": ids.next("order_lines"), "merchant_id": merchant_id,
                          "order_id": order_id, "remote_id": f"gid://shopify/LineItem/{order_id}{i}",
                          "sku": skus_by_item[item], "title": titles[item],
                          "quantity": rng.randint(1, 3), "fulfilled_quantity": 0,
                          "inventory_item_id": item})
        if canceled or rng.random() >= fulfilled_share:
            yield order_row, lines, None, [], []
            continue
        # A fulfillment of every line (70%) or of the first lines only (partial).
        shipped = lines if rng.random() < 0.7 or len(lines) == 1 else lines[:len(lines) // 2 or 1]
        location = rng.choice(location_ids)
        status = rng.choice(STATUSES)
        ful_id = ids.next("fulfillments")
        at = placed + dt.timedelta(hours=2)
        ful_row = {
            "id": ful_id, "merchant_id": merchant_id, "channel_id": channel_id,
            "order_id": order_id, "location_id": location, "status": status, "origin": "app",
            "remote_id": f"gid://shopify/Fulfillment/{ful_id}",
            "tracking_number": f"1Z{ful_id:012d}" if status != "pending" else "",
            "tracking_company": "UPS" if status != "pending" else "", "tracking_url": "",
            "notify_customer": False, "sync_state": "synced", "sync_error": "", "stock_note": "",
            "created_at": at, "shipped_at": at if status != "pending" else None,
            "packed_at": at if status != "pending" else None,  # they left: packed
            "delivered_at": at if status == "delivered" else None, "canceled_at": None}
        order_row["fulfillment_status"] = ("fulfilled" if len(shipped) == len(lines)
                                           else "partially_fulfilled")
        ful_lines, moves = [], []
        for line in shipped:
            line["fulfilled_quantity"] = line["quantity"]
            ful_lines.append({
                "id": ids.next("fulfillment_lines"), "merchant_id": merchant_id,
                "fulfillment_id": ful_id, "order_line_id": line["id"],
                "inventory_item_id": line["inventory_item_id"], "quantity": line["quantity"],
                "stock_moved": True, "remote_id": None})
            moves.append((level_ids[(location, line["inventory_item_id"])], line["quantity"],
                          ful_id, at))
        yield order_row, lines, ful_row, ful_lines, moves


@contextlib.contextmanager
def _search_indexed_in_bulk(connection: Connection, merchant_id: int):
    """SQLite: index the new rows for search in one statement per table, not per row.

    The insert triggers that keep the FTS5 tables in step cost half the seed when they
    fire 400,000 times. They are dropped for the inserts and created again from their
    own SQL, inside the caller's transaction: SQLite's DDL is transactional and this
    transaction holds the only write lock, so no other writer can insert meanwhile, and a
    rollback restores them. PostgreSQL's trigram indexes need nothing.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    triggers = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
        f"({', '.join(repr(f'{search.name}_ai') for search in SEARCHED)})").all()
    for name, _sql in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    yield
    for search, table in SEARCHED.items():
        columns = ", ".join(indexed_columns(search))
        connection.exec_driver_sql(
            f"INSERT INTO {search.name}(rowid, {columns}) SELECT id, {columns} FROM {table} "
            "WHERE merchant_id = ?", (merchant_id,))
    for _name, sql in triggers:
        connection.exec_driver_sql(sql)


def _movement(ids, merchant_id, level, delta, after, reason, ful_id, at, note) -> dict:
    return {"id": ids.next("inventory_movements"), "merchant_id": merchant_id,
            "level_id": level, "delta": delta, "on_hand_after": after, "reason": reason,
            "reference_type": "fulfillment" if ful_id else None, "reference_id": ful_id,
            "note": note, "created_at": at}


class _IdAllocator:
    """Hands out ids after each table's current maximum."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.last: dict[str, int] = {}

    def copy(self) -> _IdAllocator:
        """An allocator that goes on from this one's counters without moving them."""
        other = _IdAllocator(self.connection)
        other.last = dict(self.last)
        return other

    def next(self, table: str) -> int:
        if table not in self.last:
            model_table = db.metadata.tables[table]
            self.last[table] = self.connection.scalar(
                select(func.coalesce(func.max(model_table.c.id), 0)))
        self.last[table] += 1
        return self.last[table]

    def move_sequences(self) -> None:
        if self.connection.dialect.name != "postgresql":
            return
        for table, last in self.last.items():
            self.connection.execute(text(
                "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                "GREATEST(:v, (SELECT COALESCE(MAX(id), 1) FROM " + table + ")))"),
                {"t": table, "v": last})


def _insert(connection: Connection, name: str, rows: list[dict]) -> None:
    if not rows:
        return
    table = db.metadata.tables[name]
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), 50_000):
            connection.execute(table.insert(), rows[start:start + 50_000])
        return
    import json

    columns = list(rows[0])
    json_columns = {c for c in columns if table.c[c].type.__class__.__name__ == "JSON"}
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in json_columns else row[c]
                            for c in columns])
