"""Read models of the orders list: filters, keyset pages, search and status counts. No Flask imports."""
from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import exists, func, or_, select, union
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Fulfillment, FulfillmentStatus, Order, OrderLine
from app.orders import OrderStatus
from app.orders.counts import counts_by_status, status_counts
from app.orders.search import LINES_SEARCH, ORDERS_SEARCH, indexed_columns
from app.web.read_models.common import like_pattern

PAGE_SIZE = 50


@dataclass(frozen=True)
class OrderFilters:
    """What the orders list is narrowed to (all optional)."""

    channel_id: int | None = None
    status: str | None = None
    location_id: int | None = None
    q: str = ""
    #: The ids of the orders ``q`` matches, when :func:`resolve_search` found few enough
    #: to list (the page and the counts then look them up by primary key).
    matched_ids: tuple[int, ...] | None = None

    def query_args(self, **extra) -> dict:
        """Non-empty filters as URL query arguments (for links that keep them)."""
        args = {"channel": self.channel_id, "status": self.status,
                "location": self.location_id, "q": self.q or None}
        args.update(extra)
        return {k: v for k, v in args.items() if v not in (None, "")}


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the last row shown, ordered by (placed_at desc, id desc)."""

    placed_at: dt.datetime
    id: int

    def encode(self) -> str:
        """Opaque URL-safe token."""
        raw = f"{self.placed_at.astimezone(dt.UTC).isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """The cursor in ``token``; None when absent or malformed (= first page)."""
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            placed, _, ident = raw.partition("|")
            placed_at = dt.datetime.fromisoformat(placed)
            if placed_at.tzinfo is None:
                return None
            return cls(placed_at, int(ident))
        except (ValueError, UnicodeDecodeError):
            return None


@dataclass
class OrdersPage:
    """One page of the orders list."""

    orders: list[Order]
    next_cursor: Cursor | None
    statuses: dict[int, OrderStatus] = field(default_factory=dict)


def status_condition(status: str):
    """SQL condition equivalent to :func:`app.orders.order_status` == ``status``.

    Orders store their status (kept in step by app/orders/status.py), indexed with the
    merchant and keyset order.
    """
    return Order.fulfillment_status == OrderStatus(status).value


def _matching_orders(merchant_id: int, term: str):
    """Condition: the order's name, customer, email or a line's SKU contains ``term``.

    The ids of matching orders come first, from indexes (trigram GIN on PostgreSQL, FTS5
    trigram on SQLite), rather than testing every order of the merchant in turn.
    """
    pattern = like_pattern(term)
    if db.session.get_bind().dialect.name == "postgresql":
        by_order = select(Order.id).where(Order.merchant_id == merchant_id, or_(
            func.lower(Order.name).like(pattern, escape="\\"),
            func.lower(Order.customer_name).like(pattern, escape="\\"),
            func.lower(Order.customer_email).like(pattern, escape="\\")))
        by_line = select(OrderLine.order_id).where(
            OrderLine.merchant_id == merchant_id,
            func.lower(OrderLine.sku).like(pattern, escape="\\"))
        # As an array, the few matching ids are looked up by primary key; as IN (...)
        # the planner, misled by trigram estimates, hashes every order of the merchant.
        return Order.id == func.any(func.array(union(by_order, by_line).scalar_subquery()))
    # FTS5 answers LIKE from its index (case-insensitively) only without an ESCAPE clause;
    # a term with a wildcard character in it is escaped and scans, still correctly.
    escape = "\\" if any(c in term for c in "\\%_") else None
    like = pattern if escape else f"%{term}%"
    # Each arm asks its FTS table first (an IN list), then fetches by primary key.
    arms = [select(Order.id).where(Order.merchant_id == merchant_id, Order.id.in_(
                select(ORDERS_SEARCH.c.rowid).where(
                    ORDERS_SEARCH.c[name].like(like, escape=escape))))
            for name in indexed_columns(ORDERS_SEARCH)]
    arms.append(select(OrderLine.order_id).where(
        OrderLine.merchant_id == merchant_id, OrderLine.id.in_(
            select(LINES_SEARCH.c.rowid).where(LINES_SEARCH.c.sku.like(like, escape=escape)))))
    return Order.id.in_(union(*arms))


#: Up to this many matches, a search's ids are fetched once and listed.
MATCHES_LISTED = 1000


def resolve_search(merchant_id: int, filters: OrderFilters) -> OrderFilters:
    """``filters`` with the ids its search matches, if there are at most MATCHES_LISTED.

    The list page and its counts both narrow to the search; resolved once, the index
    lookup runs once per request instead of once per query. A broader search keeps the
    subquery (it is a pass over many orders either way).
    """
    term = filters.q.strip()
    if not term or filters.matched_ids is not None:
        return filters
    ids = list(db.session.scalars(select(Order.id).where(
        Order.merchant_id == merchant_id, _matching_orders(merchant_id, term))
        .limit(MATCHES_LISTED + 1)))
    if len(ids) > MATCHES_LISTED:
        return filters
    return replace(filters, matched_ids=tuple(sorted(ids)))


def _filter_conditions(merchant_id: int, filters: OrderFilters, *, with_status: bool = True):
    if filters.matched_ids is not None and db.session.get_bind().dialect.name == "sqlite":
        # Listed ids are fetched by primary key. SQLite would rather walk the merchant's
        # covering index in keyset order and test every order against the list; "+ 0"
        # keeps the merchant check (defense in depth) out of its index choice.
        conditions = [Order.merchant_id + 0 == merchant_id]
    else:
        conditions = [Order.merchant_id == merchant_id]
    if filters.channel_id:
        conditions.append(Order.channel_id == filters.channel_id)
    if filters.location_id:
        conditions.append(exists().where(
            Fulfillment.order_id == Order.id, Fulfillment.merchant_id == merchant_id,
            Fulfillment.location_id == filters.location_id,
            Fulfillment.status != FulfillmentStatus.CANCELED).correlate(Order))
    if filters.matched_ids is not None:
        conditions.append(Order.id.in_(filters.matched_ids))
    elif filters.q.strip():
        conditions.append(_matching_orders(merchant_id, filters.q.strip()))
    if with_status and filters.status in set(OrderStatus):
        conditions.append(status_condition(filters.status))
    return conditions


def orders_page(merchant_id: int, filters: OrderFilters, cursor: Cursor | None = None, *,
                limit: int = PAGE_SIZE) -> OrdersPage:
    """Newest orders first, after ``cursor``: keyset pagination on (placed_at, id).

    Uses the ix_orders_merchant_placed index, so a deep page costs as much as the first;
    one extra row tells whether there is a next page.
    """
    stmt = select(Order).where(*_filter_conditions(merchant_id, filters))
    if cursor is not None:
        stmt = stmt.where(Order.placed_at <= cursor.placed_at,
                          or_(Order.placed_at < cursor.placed_at, Order.id < cursor.id))
    stmt = (stmt.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit + 1)
            .options(selectinload(Order.lines), selectinload(Order.channel)))
    rows = list(db.session.scalars(stmt))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = Cursor(rows[-1].placed_at, rows[-1].id) if has_more and rows else None
    from app.orders import order_status

    return OrdersPage(rows, next_cursor, {o.id: order_status(o) for o in rows})


def order_status_counts(merchant_id: int, filters: OrderFilters) -> dict[str, int]:
    """How many orders per status (and "all") under the other filters.

    Unfiltered or by channel: from the maintained counts (app/orders/counts.py), whose
    cost doesn't grow with the number of orders. Narrowed by location or search: grouped
    on the stored status over the matching orders.
    """
    if not filters.location_id and not filters.q.strip():
        return status_counts(merchant_id, filters.channel_id or None)
    base = _filter_conditions(merchant_id, replace(filters, status=None), with_status=False)
    return counts_by_status(db.session.execute(
        select(Order.fulfillment_status, func.count()).where(*base)
        .group_by(Order.fulfillment_status)))


def order_names(merchant_id: int, order_ids: list[int]) -> dict[int, str]:
    """Order id -> name ("#1001") for the merchant's orders among ``order_ids``."""
    if not order_ids:
        return {}
    return dict(db.session.execute(select(Order.id, Order.name).where(
        Order.merchant_id == merchant_id, Order.id.in_(order_ids))).all())
