"""The store's catalog into Stockroom: products and variations as listings, their stock as
the store location's levels, read page by page (never the whole catalog at once).

Every function here reads over HTTP first and writes afterwards, so no transaction is held
while the store answers. Matching, removal and levels are the catalog core's
(app/catalog/); this module only says what the store shows.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select

from app.catalog import (RemoteVariant, record_remote_levels, remove_remote_listings,
                         upsert_remote_listings)
from app.extensions import db
from app.models import ChannelListing, Order, OrderLine
from app.platforms.woocommerce.client import PER_PAGE, StoreClient, WooError
from app.platforms.woocommerce.mapping import STORE_LOCATION_ID
from app.platforms.woocommerce.mapping import (OPEN_STATUSES, StoreStock, open_units,
                                               remote_level, remote_variant)
from app.sync.transactions import commit_step

Entry = tuple[RemoteVariant, StoreStock]


# --- reading -------------------------------------------------------------------------

def product_page(client: StoreClient, page: int, *, params: dict | None = None
                 ) -> tuple[list[dict], int, int]:
    """One page of products, oldest id first (stable while the import runs: new products
    land on the last page): (products, total pages, total products)."""
    query = {"orderby": "id", "order": "asc", **(params or {}), "per_page": PER_PAGE,
             "page": page}
    items, headers = client.call("get", "products", params=query,
                                 what=f"reading products (page {page})")
    if not isinstance(items, list):
        items = []
    return (items, int(headers.get("X-WP-TotalPages") or 0),
            int(headers.get("X-WP-Total") or 0))


def listings_of(client: StoreClient, product: dict) -> list[Entry]:
    """The listings one product stands for: itself when simple, its variations (all pages)
    when variable; a grouped or external product, or a trashed one, has none."""
    if not isinstance(product, dict):
        return []
    kind = product.get("type")
    if product.get("status") == "trash":
        return []
    if kind == "variable" and _valid_id(product.get("id")):
        return [remote_variant(v, product) for v in client.pages(
            f"products/{product['id']}/variations", params={"orderby": "id", "order": "asc"},
            what=f"reading the variations of product {product['id']}")
            if isinstance(v, dict)]
    if kind == "variable":
        variant, stock = remote_variant(product)
        return [(variant, stock)]  # reported (no valid id), never matched
    if kind in ("simple", "variation", None):
        return [remote_variant(product)]
    return []


def open_orders_page(client: StoreClient, page: int, *, product_id: str | None = None
                     ) -> tuple[list[dict], int]:
    """One page of the store's open orders (paid, not shipped): (orders, total pages).

    ``product_id``: only orders with that product (a variable product: any variation),
    the orders endpoint's ``product`` filter.
    """
    params = {"status": ",".join(OPEN_STATUSES), "orderby": "id", "order": "asc",
              "per_page": PER_PAGE, "page": page}
    if product_id:
        params["product"] = product_id
    items, headers = client.call("get", "orders", params=params,
                                 what=f"reading open orders (page {page})")
    return (items if isinstance(items, list) else [],
            int(headers.get("X-WP-TotalPages") or 0))


def fulfilled_here(channel_id: int, orders: Iterable[dict]) -> dict[tuple[str, str], int]:
    """What Stockroom fulfilled already of these store orders' lines, by (order, line) id."""
    ids = [str(o.get("id")) for o in orders if isinstance(o, dict)]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Order.remote_id, OrderLine.remote_id, OrderLine.fulfilled_quantity)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.channel_id == channel_id, Order.remote_id.in_(ids),
               OrderLine.fulfilled_quantity > 0)).all()
    return {(order, line): quantity for order, line, quantity in rows}


def committed_units(channel_id: int, orders: list[dict]) -> dict[str, int]:
    """Units of these open orders still to ship, by listing id (reads the database)."""
    fulfilled = fulfilled_here(channel_id, orders)
    units: dict[str, int] = {}
    for order in orders:
        if isinstance(order, dict) and order.get("status") in OPEN_STATUSES:
            add_units(units, open_units(order, fulfilled))
    return units


def add_units(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Sum ``more`` into ``total`` (in place); returns ``total``."""
    for listing, units in more.items():
        total[listing] = total.get(listing, 0) + units
    return total


# --- writing -------------------------------------------------------------------------

def save_entries(merchant_id: int, channel_id: int, entries: list[Entry],
                 committed: dict[str, int]) -> dict[str, int]:
    """Listings to the catalog core, and the store location's levels. Flushes."""
    if not entries:
        return {"listings": 0, "problems": 0, "levels": 0}
    counts = dict(upsert_remote_listings(merchant_id, channel_id, [v for v, _ in entries]))
    levels = [level for variant, stock in entries if (level := remote_level(
        variant, stock, committed.get(variant.remote_variant_id, 0), STORE_LOCATION_ID))]
    recorded = record_remote_levels(merchant_id, channel_id, levels) if levels else 0
    return {"listings": len(entries), "problems": sum(bool(v.problem) for v, _ in entries),
            "levels": recorded, **{k: v for k, v in counts.items() if isinstance(v, int)}}


def remove_missing(merchant_id: int, channel_id: int, seen: dict[str, set[str]]) -> int:
    """Listings of these products the store no longer shows (``seen``: product id -> the
    listing ids just read): a variation deleted, for which WooCommerce fires no webhook, is
    noticed when its parent is read again. One query for them all. Flushes."""
    if not seen:
        return 0
    rows = db.session.execute(select(ChannelListing.remote_product_id,
                                     ChannelListing.remote_variant_id).where(
        ChannelListing.merchant_id == merchant_id, ChannelListing.channel_id == channel_id,
        ChannelListing.remote_product_id.in_(list(seen)), ChannelListing.deleted_at.is_(None)))
    missing = sorted(variant for product, variant in rows if variant not in seen[product])
    if not missing:
        return 0
    return remove_remote_listings(merchant_id, channel_id, remote_variant_ids=missing)


def _id_above(column, bound: int):
    """``column`` (a decimal id as text) > ``bound``, compared as numbers in portable SQL:
    ids have no leading zeros, so a longer one is larger, and equal lengths sort as text."""
    text = str(bound)
    return or_(func.length(column) > len(text),
               and_(func.length(column) == len(text), column > text))


def remove_vanished(merchant_id: int, channel_id: int, low: int, high: int | None,
                    seen: Iterable[str]) -> int:
    """A full read saw products with ids in (low, high] (``high`` None: the last page, so
    everything above ``low``): listings of products in that range it did not see were
    deleted for good on the store, which fires no webhook. Flushes."""
    query = select(ChannelListing.remote_variant_id).where(
        ChannelListing.merchant_id == merchant_id, ChannelListing.channel_id == channel_id,
        ChannelListing.deleted_at.is_(None), ChannelListing.remote_product_id != "",
        ChannelListing.remote_product_id.not_like("invalid:%"),
        _id_above(ChannelListing.remote_product_id, low),
        ChannelListing.remote_product_id.not_in(list(seen) or [""]))
    if high is not None:
        query = query.where(~_id_above(ChannelListing.remote_product_id, high))
    gone = list(db.session.scalars(query))
    if not gone:
        return 0
    return remove_remote_listings(merchant_id, channel_id, remote_variant_ids=gone)


def remove_product(merchant_id: int, channel_id: int, post_id: str) -> int:
    """A product (all its listings) or a single variation gone from the store. Flushes."""
    removed = remove_remote_listings(merchant_id, channel_id, remote_product_id=post_id)
    return removed or remove_remote_listings(merchant_id, channel_id,
                                             remote_variant_ids=[post_id])


# --- one product (webhooks, reconciliation) --------------------------------------------

def read_product(client: StoreClient, post_id: str) -> dict | None:
    """GET products/{id} (a variation id works too); None when the store has no such post."""
    try:
        data = client.get(f"products/{post_id}", what=f"reading product {post_id}")
    except WooError as exc:
        if exc.status in (400, 404) and exc.code.endswith("invalid_id"):
            return None
        raise
    return data if isinstance(data, dict) else None


def refresh_product(client: StoreClient, merchant_id: int, channel_id: int, post_id: str,
                    data: dict | None = None) -> str:
    """Bring the listings of one product (or variation) up to what the store shows now.

    Re-read over REST (a webhook's payload may be older than the store), with the variations
    of a variable product and the units of its open orders; then upsert (a changed SKU or
    barcode is matched again by the core), record levels, and remove what is gone.
    """
    data = data if data is not None else read_product(client, post_id)
    if data is None or data.get("status") == "trash":
        commit_step()
        removed = remove_product(merchant_id, channel_id, post_id)
        return f"product {post_id} is gone from the store: {removed} listing(s) removed"
    kind = data.get("type")
    owner = str(data.get("parent_id")) if kind == "variation" else post_id
    entries = listings_of(client, data)
    orders, page, pages = [], 1, 1
    while page <= pages and entries:
        found, pages = open_orders_page(client, page, product_id=owner)
        orders.extend(found)
        page += 1
    committed = committed_units(channel_id, orders)
    counts = save_entries(merchant_id, channel_id, entries, committed)
    removed = 0
    if kind != "variation":
        removed = remove_missing(merchant_id, channel_id,
                                 {post_id: {v.remote_variant_id for v, _ in entries}})
    note = f"product {post_id} ({kind}): {counts['listings']} listing(s) read"
    if counts["problems"]:
        note += f", {counts['problems']} with problems"
    return note + (f", {removed} removed" if removed else "")


def _valid_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
