"""SQLite's FTS5 search tables of the orders list (migration a7e3c9d1f5b8), not models.

Each is an external-content table over the table it searches: its rowid is that row's id.
"""
from __future__ import annotations

from sqlalchemy import column, table

ORDERS_SEARCH = table("orders_search", column("rowid"), column("name"),
                      column("customer_name"), column("customer_email"))
LINES_SEARCH = table("order_lines_search", column("rowid"), column("sku"))

#: search table -> the table whose rows it indexes
SEARCHED = {ORDERS_SEARCH: "orders", LINES_SEARCH: "order_lines"}


def indexed_columns(search) -> list[str]:
    """The searched columns of a search table (all but its rowid)."""
    return [c.name for c in search.c if c.name != "rowid"]
