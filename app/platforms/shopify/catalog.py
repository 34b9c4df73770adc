"""The shop's catalog into Stockroom: variants (SKU, barcode, image) and their quantities per location.

Three ways in, one path: the import's products step and the ``catalog.refresh_requested`` job
read every variant page by page (ProductVariantPage); products/create|update webhooks re-read
one product (ProductVariantsOfProduct). Each page becomes RemoteVariant/RemoteLevel lists for
the catalog core (``upsert_remote_listings`` + ``record_remote_levels``), which matches and
stores them; a product deleted on the store goes to ``remove_remote_listings``.

Page sizes follow Shopify's cost rules: a variant with ``levels`` inventory levels requests at
most 14 + 3 x levels points, a query may request at most 1000, so a page holds
``(1000 - 3) // (14 + 3 x levels)`` variants (capped by the import page size). ``levels`` is
how many locations the shop has (read by the import's locations step; the setting
``catalog_levels_per_variant`` can lower it), so one query usually reads every level; a variant with more (locations added since) is completed by
InventoryItemLevels, page by page, before the page is handed on: nothing is cut off silently.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.catalog import record_remote_levels, remove_remote_listings, upsert_remote_listings
from app.extensions import db
from app.models import ChannelListing, ChannelLocation
from app.platforms.shopify.mapping import remote_levels, remote_variant
from app.platforms.shopify.sync import settings
from app.sync.transactions import end_read

MAX_QUERY_COST = 1000
#: What a query costs besides its variants (the connection, pageInfo, a product above it).
QUERY_OVERHEAD = 3
VARIANT_COST = 14        # one variant without its levels
LEVEL_COST = 3           # one inventory level (node, location, quantities)
MAX_LEVELS_PER_VARIANT = 50
LEVEL_PAGE_SIZE = 100    # InventoryItemLevels: 3 + 100 x 3 points


def variant_page_size(levels: int, cap: int = 250) -> int:
    """How many variants one query may read with ``levels`` levels each (>= 1, <= cap)."""
    per_variant = VARIANT_COST + LEVEL_COST * levels
    return max(1, min(cap, 250, (MAX_QUERY_COST - QUERY_OVERHEAD) // per_variant))


def levels_per_variant(channel_id: int) -> int:
    """Levels to ask for per variant: the setting, else the shop's location count (1..50)."""
    configured = settings().catalog_levels_per_variant
    count = configured or db.session.scalar(select(func.count()).select_from(
        ChannelLocation).where(ChannelLocation.channel_id == channel_id)) or 0
    return max(1, min(MAX_LEVELS_PER_VARIANT, count))


def read_variant_page(call, channel_id: int, after: str | None, page_cap: int) -> dict:
    """One ProductVariantPage with every variant's levels completed: ``{nodes, pageInfo}``."""
    levels = levels_per_variant(channel_id)
    end_read()  # no transaction held across the calls to Shopify
    page = call("ProductVariantPage", {"first": variant_page_size(levels, page_cap),
                                       "after": after, "levels": levels})["productVariants"]
    complete_levels(call, page["nodes"])
    return page


def complete_levels(call, nodes: list[dict]) -> int:
    """Read the rest of any variant's levels the page cut off (in place). Returns the number
    of follow-up queries made."""
    queries = 0
    for node in nodes:
        connection = (node.get("inventoryItem") or {}).get("inventoryLevels")
        if not connection:
            continue
        info = connection.get("pageInfo") or {}
        while info.get("hasNextPage"):
            more = call("InventoryItemLevels", {"id": node["inventoryItem"]["id"],
                                                "first": LEVEL_PAGE_SIZE,
                                                "after": info["endCursor"]})
            queries += 1
            rest = (more.get("inventoryItem") or {}).get("inventoryLevels")
            if rest is None:  # the item went away between the two reads
                break
            connection["nodes"] = list(connection.get("nodes") or []) + rest["nodes"]
            info = rest["pageInfo"]
        connection["pageInfo"] = info
    return queries


def store_variants(merchant_id: int, channel_id: int, nodes: list[dict]) -> dict:
    """Variant nodes -> the catalog core: listings upserted (and matched), levels recorded.

    Returns ``{"variants", "matched", "levels"}`` for the checkpoint's counts. Flushes.
    """
    variants = [remote_variant(node) for node in nodes]
    levels = [level for node in nodes for level in remote_levels(
        node["id"], ((node.get("inventoryItem") or {}).get("inventoryLevels") or {}).get(
            "nodes") or [])]
    counts = upsert_remote_listings(merchant_id, channel_id, variants) or {}
    recorded = record_remote_levels(merchant_id, channel_id, levels) if levels else 0
    return {"variants": len(variants), "matched": int(counts.get("matched", 0)),
            "levels": int(recorded or 0)}


def refresh_product(call, merchant_id: int, channel_id: int, product_gid: str) -> str:
    """Re-read one product's variants and bring its listings up to date (webhook path).

    Variants read are upserted (a changed SKU re-matches in the core); a listing of this
    product whose variant Shopify no longer returns is removed; a product Shopify no longer
    has is removed whole. Flushes; commits only between Shopify calls (reads end first).
    """
    levels = levels_per_variant(channel_id)
    end_read()
    nodes, after = [], None
    while True:
        product = call("ProductVariantsOfProduct", {
            "id": product_gid, "first": variant_page_size(levels), "after": after,
            "levels": levels}).get("product")
        if product is None:
            removed = remove_remote_listings(merchant_id, channel_id,
                                             remote_product_id=product_gid)
            return f"product no longer on Shopify: {removed} listing(s) removed"
        page = product["variants"]
        complete_levels(call, page["nodes"])
        nodes.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    counts = store_variants(merchant_id, channel_id, nodes)
    seen = {node["id"] for node in nodes}
    known = set(db.session.scalars(select(ChannelListing.remote_variant_id).where(
        ChannelListing.merchant_id == merchant_id, ChannelListing.channel_id == channel_id,
        ChannelListing.remote_product_id == product_gid, ChannelListing.deleted_at.is_(None))))
    gone = sorted(known - seen)
    removed = remove_remote_listings(merchant_id, channel_id, remote_variant_ids=gone) \
        if gone else 0
    return (f"{counts['variants']} variant(s) read, {counts['matched']} matched"
            + (f", {removed} removed" if removed else ""))
