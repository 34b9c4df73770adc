"""Read-side queries of the dashboard, every one scoped by merchant_id. No Flask imports."""
from __future__ import annotations

import base64
import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field, replace

from sqlalchemy import and_, exists, func, or_, select, union
from sqlalchemy.orm import defer, selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import (Channel, ChannelListing, ChannelLocation, Fulfillment,
                        FulfillmentStatus, InventoryItem, InventoryLevel, InventoryMovement,
                        Merchant, Order, OrderLine, OutboxEvent, StockLocation, WebhookInbox)
from app.orders import OrderStatus
from app.orders.counts import counts_by_status, status_counts
from app.orders.search import LINES_SEARCH, ORDERS_SEARCH, indexed_columns

PAGE_SIZE = 50


def merchant(merchant_id: int) -> Merchant:
    """The merchant, or NotFound."""
    row = db.session.get(Merchant, merchant_id)
    if row is None:
        raise NotFound("That merchant does not exist.")
    return row


# --- Orders list ------------------------------------------------------------------------

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


def _line_exists(*conditions):
    return exists().where(OrderLine.order_id == Order.id, *conditions).correlate(Order)


def status_condition(status: str):
    """SQL condition equivalent to :func:`app.orders.order_status` == ``status``.

    Orders store their status (kept in step by app/orders/status.py), indexed with the
    merchant and keyset order.
    """
    return Order.fulfillment_status == OrderStatus(status).value


def _like(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching_orders(merchant_id: int, term: str):
    """Condition: the order's name, customer, email or a line's SKU contains ``term``.

    The ids of matching orders come first, from indexes (trigram GIN on PostgreSQL, FTS5
    trigram on SQLite), rather than testing every order of the merchant in turn.
    """
    pattern = _like(term)
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


def channels(merchant_id: int) -> list[Channel]:
    """The merchant's channels, oldest first."""
    return list(db.session.scalars(select(Channel).where(Channel.merchant_id == merchant_id)
                                   .order_by(Channel.id)))


def stock_locations(merchant_id: int, *, active_only: bool = False) -> list[StockLocation]:
    """The merchant's stock locations by name."""
    stmt = select(StockLocation).where(StockLocation.merchant_id == merchant_id)
    if active_only:
        stmt = stmt.where(StockLocation.active.is_(True))
    return list(db.session.scalars(stmt.order_by(StockLocation.name, StockLocation.id)))


# --- One order --------------------------------------------------------------------------

def order(merchant_id: int, order_id: int) -> Order:
    """The merchant's order with its lines, or NotFound."""
    row = db.session.scalar(select(Order).where(Order.merchant_id == merchant_id,
                                                Order.id == order_id)
                            .options(selectinload(Order.lines), selectinload(Order.channel)))
    if row is None:
        raise NotFound("That order does not exist.")
    return row


def order_fulfillments(merchant_id: int, order_id: int) -> list[Fulfillment]:
    """The order's fulfillments, oldest first, with lines and location."""
    return list(db.session.scalars(
        select(Fulfillment).where(Fulfillment.merchant_id == merchant_id,
                                  Fulfillment.order_id == order_id)
        .order_by(Fulfillment.id)
        .options(selectinload(Fulfillment.lines), selectinload(Fulfillment.location))))


def order_timeline(merchant_id: int, order_id: int) -> list[OutboxEvent]:
    """Everything that happened to the order (outbox events), newest first."""
    return list(db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.merchant_id == merchant_id,
                                  OutboxEvent.order_id == order_id)
        .order_by(OutboxEvent.id.desc()).limit(200)))


@dataclass(frozen=True)
class TimelineEntry:
    """One event of an order's timeline: an outbox job (Stockroom -> platform, or a change
    a webhook caused) or an inbox delivery (platform -> Stockroom)."""

    kind: str  # "outbox" | "inbox"
    id: int
    topic: str
    status: str
    attempts: int
    last_error: str
    at: dt.datetime
    payload: dict


def order_webhooks(merchant_id: int, order: Order) -> list[WebhookInbox]:
    """Webhooks received about the order (newest first), without their bodies."""
    if not order.remote_id:
        return []
    return list(db.session.scalars(
        select(WebhookInbox).where(WebhookInbox.merchant_id == merchant_id,
                                   WebhookInbox.channel_id == order.channel_id,
                                   WebhookInbox.order_remote_id == order.remote_id)
        .options(defer(WebhookInbox.body), defer(WebhookInbox.headers))
        .order_by(WebhookInbox.id.desc()).limit(200)))


def timeline_entries(events: list[OutboxEvent], webhooks: list[WebhookInbox]
                     ) -> list[TimelineEntry]:
    """Both directions merged, newest first."""
    entries = [TimelineEntry("outbox", e.id, e.topic, e.status, e.attempts, e.last_error,
                             e.created_at, e.payload or {}) for e in events]
    entries += [TimelineEntry("inbox", w.id, w.topic, w.status, w.attempts, w.last_error,
                              w.received_at, {}) for w in webhooks]
    return sorted(entries, key=lambda e: (e.at, e.kind == "outbox", e.id), reverse=True)


# --- Fulfill: availability and the auto split --------------------------------------------

@dataclass
class LocationOption:
    """A stock location as a choice on the fulfill form."""

    location: StockLocation
    available: dict[int, int]  # item id -> available
    short_lines: list[tuple[OrderLine, int]]  # lines it can't cover, with units missing

    @property
    def covers_all(self) -> bool:
        """Every chosen unit is available here."""
        return not self.short_lines


@dataclass
class SplitPart:
    """One fulfillment of an auto-split proposal."""

    location: StockLocation
    quantities: dict[int, int]  # line id -> units


def availability(merchant_id: int, item_ids: list[int]) -> dict[tuple[int, int], int]:
    """(location id, item id) -> available, for these items at every location."""
    if not item_ids:
        return {}
    rows = db.session.execute(
        select(InventoryLevel.location_id, InventoryLevel.item_id,
               InventoryLevel.on_hand - InventoryLevel.committed)
        .where(InventoryLevel.merchant_id == merchant_id, InventoryLevel.item_id.in_(item_ids)))
    return {(loc, item): avail for loc, item, avail in rows}


def location_options(merchant_id: int, lines: list[OrderLine], wanted: dict[int, int]
                     ) -> list[LocationOption]:
    """Each active location with what it has of the chosen items and the lines it can't cover."""
    item_ids = sorted({ln.inventory_item_id for ln in lines if ln.inventory_item_id})
    avail = availability(merchant_id, item_ids)
    options = []
    for location in stock_locations(merchant_id, active_only=True):
        have = {i: avail.get((location.id, i), 0) for i in item_ids}
        short = []
        if not location.allow_negative_stock:
            need: dict[int, int] = defaultdict(int)
            for line in lines:
                qty = wanted.get(line.id, 0)
                if line.inventory_item_id and qty > 0:
                    need[line.inventory_item_id] += qty
                    missing = need[line.inventory_item_id] - have[line.inventory_item_id]
                    if missing > 0:
                        short.append((line, min(missing, qty)))
        options.append(LocationOption(location, have, short))
    return options


def auto_split(options: list[LocationOption], lines: list[OrderLine], wanted: dict[int, int]
               ) -> list[SplitPart] | None:
    """Fewest locations that together cover the chosen units; None if none can.

    Real stock first: a location that allows negative stock (dropship, made to order)
    counts as bottomless only when real stock can't cover the order. Exact for up to 10
    locations (smallest subsets first, ties to the most stock); greedy beyond that.
    """
    need: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.inventory_item_id and wanted.get(line.id, 0) > 0:
            need[line.inventory_item_id] += wanted[line.id]
    if not any(wanted.get(ln.id, 0) > 0 for ln in lines) or not options:
        return None
    for bottomless in (False, True):
        def capacity(opt: LocationOption, item_id: int, bottomless=bottomless) -> float:
            if bottomless and opt.location.allow_negative_stock:
                return float("inf")
            return max(opt.available.get(item_id, 0), 0)

        chosen = _fewest_covering(options, need, capacity)
        if chosen:
            return _assign(list(chosen), lines, wanted, capacity)
    return None


def _fewest_covering(options, need, capacity):
    def covers(subset) -> bool:
        return all(sum(capacity(o, i) for o in subset) >= n for i, n in need.items())

    if len(options) <= 10:
        for size in range(1, len(options) + 1):
            fits = [s for s in itertools.combinations(options, size) if covers(s)]
            if fits:
                return max(fits, key=lambda s: sum(min(capacity(o, i), 10**9)
                                                   for o in s for i in need))
        return None
    remaining, chosen, pool = dict(need), [], list(options)
    while any(v > 0 for v in remaining.values()) and pool:
        best = max(pool, key=lambda o: sum(min(capacity(o, i), r) for i, r in remaining.items()))
        pool.remove(best)
        chosen.append(best)
        for i in remaining:
            remaining[i] = max(0, remaining[i] - capacity(best, i))
    return None if any(v > 0 for v in remaining.values()) else chosen


def _assign(chosen, lines, wanted, capacity) -> list[SplitPart]:
    # Whole lines go to the first location (most stock first) that still has them; a
    # line is split only when no single chosen location can take it whole.
    chosen.sort(key=lambda o: (len(o.short_lines), o.location.name))
    left = {(o.location.id, i): capacity(o, i) for o in chosen for i in o.available}
    parts = {o.location.id: SplitPart(o.location, {}) for o in chosen}
    for line in lines:
        qty = wanted.get(line.id, 0)
        if qty <= 0:
            continue
        if not line.inventory_item_id:
            parts[chosen[0].location.id].quantities[line.id] = qty
            continue
        item = line.inventory_item_id
        whole = next((o for o in chosen if left[(o.location.id, item)] >= qty), None)
        for opt in ([whole] if whole else chosen):
            take = min(qty, left[(opt.location.id, item)])
            if take <= 0:
                continue
            take = int(take)
            parts[opt.location.id].quantities[line.id] = take
            left[(opt.location.id, item)] -= take
            qty -= take
            if qty == 0:
                break
    return [p for p in parts.values() if p.quantities]


# --- Locations ----------------------------------------------------------------------------

def channel_locations(merchant_id: int) -> list[ChannelLocation]:
    """Every platform location of the merchant's channels (mapped or not)."""
    return list(db.session.scalars(
        select(ChannelLocation).where(ChannelLocation.merchant_id == merchant_id)
        .order_by(ChannelLocation.channel_id, ChannelLocation.name, ChannelLocation.id)
        .options(selectinload(ChannelLocation.channel))))


# --- Inventory ------------------------------------------------------------------------------

def stock_matrix(merchant_id: int, q: str = "", *, limit: int = 500) -> dict:
    """Items (optionally searched by SKU/title) and their levels per location."""
    stmt = select(InventoryItem).where(InventoryItem.merchant_id == merchant_id)
    if q.strip():
        pattern = _like(q.strip())
        stmt = stmt.where(or_(func.lower(InventoryItem.sku).like(pattern, escape="\\"),
                              func.lower(InventoryItem.title).like(pattern, escape="\\")))
    items = list(db.session.scalars(stmt.order_by(InventoryItem.sku).limit(limit)))
    levels = {}
    if items:
        for level in db.session.scalars(select(InventoryLevel).where(
                InventoryLevel.merchant_id == merchant_id,
                InventoryLevel.item_id.in_([i.id for i in items]))):
            levels[(level.item_id, level.location_id)] = level
    return {"items": items, "levels": levels,
            "locations": stock_locations(merchant_id)}


def item_count(merchant_id: int) -> int:
    """How many items the merchant has (0: the inventory page says how to get some)."""
    return db.session.scalar(select(func.count()).select_from(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id)) or 0


def inventory_item(merchant_id: int, item_id: int) -> InventoryItem:
    """The merchant's item, or NotFound."""
    row = db.session.scalar(select(InventoryItem).where(InventoryItem.merchant_id == merchant_id,
                                                        InventoryItem.id == item_id))
    if row is None:
        raise NotFound("That item does not exist.")
    return row


def item_levels(merchant_id: int, item_id: int) -> list[InventoryLevel]:
    """The item's level at each location that has one."""
    return list(db.session.scalars(
        select(InventoryLevel).join(StockLocation, StockLocation.id == InventoryLevel.location_id)
        .where(InventoryLevel.merchant_id == merchant_id, InventoryLevel.item_id == item_id)
        .order_by(StockLocation.name).options(selectinload(InventoryLevel.location))))


def item_ledger(merchant_id: int, item_id: int, *, limit: int = 100) -> list[InventoryMovement]:
    """The item's latest ledger entries at every location, newest first."""
    return list(db.session.scalars(
        select(InventoryMovement).join(InventoryLevel, InventoryLevel.id == InventoryMovement.level_id)
        .where(InventoryMovement.merchant_id == merchant_id, InventoryLevel.item_id == item_id)
        .order_by(InventoryMovement.id.desc()).limit(limit)
        .options(selectinload(InventoryMovement.level).selectinload(InventoryLevel.location))))


# --- Sync -------------------------------------------------------------------------------------

FAILED_STATUSES = ("failed", "dead")
#: The Sync page's filters: status values each one shows.
SYNC_FILTERS = {"failed": FAILED_STATUSES, "rejected": ("rejected",)}


def sync_jobs(merchant_id: int, model, *, only: str | None = None, limit: int = 100) -> list:
    """Latest outbox events or inbox deliveries, optionally only the failed / dead ones
    (``only="failed"``) or the rejected ones (``only="rejected"``)."""
    stmt = select(model).where(model.merchant_id == merchant_id)
    if only is not None:
        stmt = stmt.where(model.status.in_(SYNC_FILTERS[only]))
    return list(db.session.scalars(stmt.order_by(model.id.desc()).limit(limit)))


def sync_counts(merchant_id: int) -> dict[str, dict[str, int]]:
    """Failed-or-dead and rejected counts of the outbox and the inbox (the tab badges)."""
    counts = {}
    for name, model in (("outbox", OutboxEvent), ("inbox", WebhookInbox)):
        found = dict(db.session.execute(
            select(model.status, func.count()).where(
                model.merchant_id == merchant_id,
                model.status.in_(FAILED_STATUSES + SYNC_FILTERS["rejected"]))
            .group_by(model.status)).all())
        counts[name] = {key: sum(found.get(s, 0) for s in statuses)
                        for key, statuses in SYNC_FILTERS.items()}
    return counts


# --- Listings (the stores' catalog, matched or not) -----------------------------------------

LISTING_STATUSES = ("unmatched", "matched", "ignored", "deleted")
LISTINGS_PER_PAGE = 50


@dataclass(frozen=True)
class ListingFilters:
    """What the listings page is narrowed to: a status ("all" or one of LISTING_STATUSES;
    unmatched by default, the work left), a channel, a search over SKU, title, barcode."""

    status: str = "unmatched"
    channel_id: int | None = None
    q: str = ""
    page: int = 1

    def query_args(self, **extra) -> dict:
        """The filters as URL query arguments (for links and forms that keep them)."""
        args = {"status": self.status, "channel": self.channel_id, "q": self.q or None,
                "page": self.page if self.page > 1 else None}
        args.update(extra)
        return {k: v for k, v in args.items() if v not in (None, "")}


@dataclass(frozen=True)
class ListingRow:
    """One listing with its store, its item (matched) and the item suggested for it."""

    listing: ChannelListing
    channel: Channel
    item: InventoryItem | None
    suggested: InventoryItem | None


@dataclass
class ListingsPage:
    """One page of listings, the total under the filters, and the count per status."""

    rows: list[ListingRow]
    total: int
    page: int
    pages: int
    counts: dict[str, int]


def _listing_conditions(merchant_id: int, filters: ListingFilters, *, with_status: bool = True):
    conditions = [ChannelListing.merchant_id == merchant_id]
    if filters.channel_id:
        conditions.append(ChannelListing.channel_id == filters.channel_id)
    term = filters.q.strip()
    if term:
        pattern = _like(term)
        conditions.append(or_(func.lower(ChannelListing.sku).like(pattern, escape="\\"),
                              func.lower(ChannelListing.title).like(pattern, escape="\\"),
                              func.lower(ChannelListing.barcode).like(pattern, escape="\\")))
    if with_status and filters.status in LISTING_STATUSES:
        conditions.append(ChannelListing.match_status == filters.status)
    return conditions


def listings_page(merchant_id: int, filters: ListingFilters, *,
                  per_page: int = LISTINGS_PER_PAGE) -> ListingsPage:
    """The merchant's listings under ``filters``, by SKU (case twins and duplicates sit
    side by side), ``per_page`` at a time, with the number per status for the tabs."""
    counts = dict(db.session.execute(
        select(ChannelListing.match_status, func.count())
        .where(*_listing_conditions(merchant_id, filters, with_status=False))
        .group_by(ChannelListing.match_status)).all())
    counts = {s: counts.get(s, 0) for s in LISTING_STATUSES}
    counts["all"] = sum(counts.values())
    total = counts.get(filters.status if filters.status in LISTING_STATUSES else "all", 0)
    pages = max(1, -(-total // per_page))
    page = min(max(filters.page, 1), pages)
    found = db.session.execute(
        select(ChannelListing, Channel)
        .join(Channel, Channel.id == ChannelListing.channel_id)
        .where(*_listing_conditions(merchant_id, filters), Channel.merchant_id == merchant_id)
        .order_by(ChannelListing.sku_key, ChannelListing.title, ChannelListing.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    item_ids = {i for lst, _ in found for i in (lst.inventory_item_id, lst.suggested_item_id) if i}
    items = {}
    if item_ids:
        items = {i.id: i for i in db.session.scalars(select(InventoryItem).where(
            InventoryItem.merchant_id == merchant_id, InventoryItem.id.in_(item_ids)))}
    rows = [ListingRow(lst, channel, items.get(lst.inventory_item_id),
                       items.get(lst.suggested_item_id)) for lst, channel in found]
    return ListingsPage(rows, total, page, pages, counts)


def listing_labels(merchant_id: int, listing_ids) -> dict[int, str]:
    """Listing id -> how the merchant knows it ("TEE-S · Classic tee (Shop 1)")."""
    ids = [int(i) for i in listing_ids]
    if not ids:
        return {}
    rows = db.session.execute(
        select(ChannelListing.id, ChannelListing.sku, ChannelListing.title, Channel.name,
               Channel.domain)
        .join(Channel, Channel.id == ChannelListing.channel_id)
        .where(ChannelListing.merchant_id == merchant_id, ChannelListing.id.in_(ids)))
    return {lid: f"{sku or '(no SKU)'} · {title or 'untitled'} ({name or domain})"
            for lid, sku, title, name, domain in rows}


def channel_listing(merchant_id: int, listing_id: int) -> ChannelListing:
    """The merchant's listing, or NotFound."""
    row = db.session.scalar(select(ChannelListing).where(
        ChannelListing.merchant_id == merchant_id, ChannelListing.id == listing_id))
    if row is None:
        raise NotFound("That listing does not exist.")
    return row


def listings_of(merchant_id: int, listing_ids) -> list[ChannelListing]:
    """The merchant's listings among ``listing_ids`` (others ignored), by id."""
    ids = [int(i) for i in listing_ids]
    if not ids:
        return []
    return list(db.session.scalars(select(ChannelListing).where(
        ChannelListing.merchant_id == merchant_id, ChannelListing.id.in_(ids))
        .order_by(ChannelListing.id)))


def listing_counts_by_channel(merchant_id: int) -> dict[int, dict[str, int]]:
    """Per channel, how many of its listings are in each status (the Connections page)."""
    found: dict[int, dict[str, int]] = {}
    for channel_id, status, count in db.session.execute(
            select(ChannelListing.channel_id, ChannelListing.match_status, func.count())
            .where(ChannelListing.merchant_id == merchant_id)
            .group_by(ChannelListing.channel_id, ChannelListing.match_status)):
        found.setdefault(channel_id, {})[status] = count
    return found


def item_listings(merchant_id: int, item_id: int) -> list[tuple[ChannelListing, Channel]]:
    """The listings matched to an item (which stores sell it), with their store."""
    return [tuple(r) for r in db.session.execute(
        select(ChannelListing, Channel).join(Channel, Channel.id == ChannelListing.channel_id)
        .where(ChannelListing.merchant_id == merchant_id,
               ChannelListing.inventory_item_id == item_id)
        .order_by(Channel.id, ChannelListing.id))]


def item_source(merchant_id: int, item: InventoryItem
                ) -> tuple[Channel | None, ChannelListing | None]:
    """The store and listing an item was created from (None, None: made by hand)."""
    if item.source_channel_id is None:
        return None, None
    channel = db.session.scalar(select(Channel).where(
        Channel.merchant_id == merchant_id, Channel.id == item.source_channel_id))
    listing = db.session.scalar(select(ChannelListing).where(
        ChannelListing.merchant_id == merchant_id,
        ChannelListing.channel_id == item.source_channel_id,
        ChannelListing.remote_variant_id == item.source_remote_id)) if channel else None
    return channel, listing
