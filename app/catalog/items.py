"""Stockroom's items: created from a store's listings, or by hand; listings matched or ignored.

Every function takes the merchant id and looks rows up scoped by it; every write flushes,
never commits (the caller's unit of work decides), and bad input raises a DomainError
whose message says what to do.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import (Channel, ChannelListing, ChannelListingLevel, ChannelLocation,
                        InventoryItem, InventoryLevel, MatchStatus)
from app.models._common import utcnow
from app.models.stock import sku_key
from app.catalog.listings import _duplicate_keys, linked_changed, note_duplicate, rematch_merchant

MAX_SKU, MAX_TITLE, MAX_BARCODE, MAX_IMAGE = 255, 512, 64, 2048
#: The movement reason of a quantity taken from a platform as Stockroom's starting count.
OPENING_REASON = "opening_balance"


def _clean(sku: str | None, title: str | None, barcode: str | None, image_url: str | None
           ) -> tuple[str, str, str, str]:
    sku, title = (sku or "").strip(), (title or "").strip()
    barcode, image_url = (barcode or "").strip(), (image_url or "").strip()
    if not sku:
        raise InvalidInput("Give the item a SKU.", field="sku")
    if len(sku) > MAX_SKU:
        raise InvalidInput(f"The SKU is too long ({MAX_SKU} characters at most).", field="sku")
    if any(ch in sku for ch in "\r\n\t"):
        raise InvalidInput("A SKU can't contain tabs or line breaks.", field="sku")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"The title is too long ({MAX_TITLE} characters at most).",
                           field="title")
    if len(barcode) > MAX_BARCODE:
        raise InvalidInput(f"The barcode is too long ({MAX_BARCODE} characters at most).",
                           field="barcode")
    if image_url and (len(image_url) > MAX_IMAGE
                      or not image_url.lower().startswith(("https://", "http://"))):
        raise InvalidInput("The image must be an http(s) address.", field="image_url")
    return sku, title, barcode, image_url


def _sku_taken(merchant_id: int, sku: str, *, except_id: int | None = None) -> InventoryItem | None:
    query = select(InventoryItem).where(InventoryItem.merchant_id == merchant_id,
                                        InventoryItem.sku_key == sku_key(sku))
    if except_id is not None:
        query = query.where(InventoryItem.id != except_id)
    return db.session.scalar(query)


def create_item(merchant_id: int, sku: str, title: str = "", *, barcode: str = "",
                image_url: str = "") -> InventoryItem:
    """An item made by hand. Its SKU may differ from every other one in more than case or
    spacing only (a warehouse can't tell "ab-1" from "AB-1"). Matches waiting listings."""
    sku, title, barcode, image_url = _clean(sku, title, barcode, image_url)
    taken = _sku_taken(merchant_id, sku)
    if taken is not None:
        raise InvalidInput(_taken_message(sku, taken), field="sku")
    item = InventoryItem(merchant_id=merchant_id, sku=sku, title=title or sku, barcode=barcode,
                         image_url=image_url)
    db.session.add(item)
    db.session.flush()
    rematch_merchant(merchant_id)
    return item


def _taken_message(sku: str, taken: InventoryItem) -> str:
    if taken.sku == sku:
        return f"An item with SKU {sku!r} already exists."
    return f"Item {taken.sku!r} already exists: SKUs differing only in case or spacing can't both exist."


def update_item(merchant_id: int, item_id: int, *, sku: str, title: str, barcode: str = "",
                image_url: str = "") -> InventoryItem:
    """Edit an item. A new SKU or barcode re-matches the listings that follow matching
    (listings matched by hand stay matched)."""
    item = require_item(merchant_id, item_id)
    sku, title, barcode, image_url = _clean(sku, title, barcode, image_url)
    taken = _sku_taken(merchant_id, sku, except_id=item.id)
    if taken is not None:
        raise InvalidInput(_taken_message(sku, taken), field="sku")
    rematch = item.sku != sku or item.barcode != barcode
    item.sku, item.title, item.barcode, item.image_url = sku, title or sku, barcode, image_url
    db.session.flush()
    if rematch:
        rematch_merchant(merchant_id)
    return item


def require_item(merchant_id: int, item_id: int) -> InventoryItem:
    item = db.session.scalar(select(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id, InventoryItem.id == item_id))
    if item is None:
        raise NotFound("That item does not exist.")
    return item


def _listings(merchant_id: int, listing_ids: Iterable[int]) -> list[ChannelListing]:
    ids = sorted({int(i) for i in listing_ids})
    if not ids:
        raise InvalidInput("Select at least one listing.", field="listings")
    rows = list(db.session.scalars(select(ChannelListing).where(
        ChannelListing.merchant_id == merchant_id, ChannelListing.id.in_(ids))
        .order_by(ChannelListing.id)))
    if len(rows) != len(ids):
        raise NotFound("Some of those listings do not exist.")
    return rows


def create_items_from_listings(merchant_id: int, listing_ids: Iterable[int], *,
                               allow_duplicate_skus: bool = True) -> dict:
    """An item for each selected unmatched listing, from its SKU, title, barcode and image.

    Outcome per listing, never an error for the batch: ``created`` (SKU of each new item),
    ``matched`` (an item with that SKU already existed or was created earlier in this
    batch: linked to it; ``matched_listings``: their listing ids), ``skipped`` ({listing id: why}: no SKU, deleted, already matched,
    SKU differs only in case from an existing item). The new item's opening stock at each
    confirmed location is the platform's on hand there (it has no count of its own yet).
    """
    created, matched, skipped = [], [], {}
    matched_listings: list[int] = []
    changed: dict[int, list[tuple[ChannelListing, int | None]]] = {}
    rows = _listings(merchant_id, listing_ids)
    duplicated_counts: dict[tuple[int, str], int] = {}
    if not allow_duplicate_skus:
        for channel_id in {r.channel_id for r in rows}:
            counts = _duplicate_keys(channel_id, {r.sku_key for r in rows if r.sku_key})
            duplicated_counts |= {(channel_id, k): n for k, n in counts.items() if n > 1}
    duplicated = set(duplicated_counts)
    for listing in rows:
        why = _cannot_create(listing)
        if not why and (listing.channel_id, listing.sku_key) in duplicated:
            why = note_duplicate(listing.sku, duplicated_counts[(listing.channel_id,
                                                                 listing.sku_key)])
        if why:
            skipped[listing.id] = why
            continue
        existing = _sku_taken(merchant_id, listing.sku)
        if existing is not None and existing.sku != listing.sku:
            skipped[listing.id] = _taken_message(listing.sku, existing)
            continue
        if existing is None:
            existing = InventoryItem(
                merchant_id=merchant_id, sku=listing.sku, title=listing.title or listing.sku,
                barcode=listing.barcode, image_url=listing.image_url,
                source_channel_id=listing.channel_id, source_remote_id=listing.remote_variant_id)
            db.session.add(existing)
            db.session.flush()
            created.append(existing)
            note = "Item created from this listing."
        else:
            matched.append(existing.sku)
            matched_listings.append(listing.id)
            note = "Matched by hand (SKU)."
        old = listing.inventory_item_id
        listing.inventory_item_id, listing.match_status = existing.id, MatchStatus.MATCHED
        listing.match_note, listing.suggested_item_id = note, None
        listing.decided_by_merchant = True
        changed.setdefault(listing.channel_id, []).append((listing, old))
    db.session.flush()
    for item in created:
        _opening_from_source(merchant_id, item)
    for channel_id, rows in changed.items():
        linked_changed(merchant_id, channel_id, rows)
    if created:
        rematch_merchant(merchant_id)  # other stores' listings of these SKUs match now
    return {"created": [i.sku for i in created], "matched": matched,
            "matched_listings": matched_listings, "skipped": skipped}


def _cannot_create(listing: ChannelListing) -> str:
    if listing.deleted_at is not None:
        return "It was deleted on the store."
    if listing.match_status == MatchStatus.MATCHED:
        return "It is already matched."
    if listing.problem:
        return listing.problem
    if not listing.sku:
        return "It has no SKU on the store: give it one there, or match it by hand."
    return ""


def _opening_from_source(merchant_id: int, item: InventoryItem) -> None:
    """A new item's opening count at each confirmed, mapped location of its source listing
    is that platform location's on hand (when known and not negative)."""
    from app.stock.levels import Reference, apply_movements, require_location

    rows = db.session.execute(
        select(ChannelLocation.stock_location_id, ChannelListingLevel.on_hand,
               ChannelLocation.id)
        .join(ChannelListingLevel, ChannelListingLevel.channel_location_id == ChannelLocation.id)
        .join(ChannelListing, ChannelListing.id == ChannelListingLevel.listing_id)
        .where(ChannelListing.merchant_id == merchant_id,
               ChannelListing.inventory_item_id == item.id,
               ChannelListing.channel_id == item.source_channel_id,
               ChannelListing.remote_variant_id == item.source_remote_id,
               ChannelLocation.stock_location_id.is_not(None),
               ChannelLocation.stock_confirmed_at.is_not(None))
        .order_by(ChannelLocation.id)).all()
    done: set[int] = set()
    for stock_location_id, on_hand, cl_id in rows:
        if on_hand is None or on_hand <= 0 or stock_location_id in done:
            continue
        done.add(stock_location_id)
        location = require_location(merchant_id, stock_location_id)
        apply_movements(merchant_id, location, {item.id: on_hand}, reason=OPENING_REASON,
                        reference=Reference("channel_location", cl_id), check_stock=False,
                        note="Opening balance: the store's on hand when the item was created.")


def match_listing(merchant_id: int, listing_id: int, item_id: int) -> ChannelListing:
    """The merchant says this listing is that item (kept until the store changes its SKU)."""
    listing = _listings(merchant_id, [listing_id])[0]
    item = require_item(merchant_id, item_id)
    if listing.deleted_at is not None:
        raise InvalidInput("That listing was deleted on the store.", field="item")
    old = listing.inventory_item_id
    listing.inventory_item_id, listing.match_status = item.id, MatchStatus.MATCHED
    listing.match_note = "Matched by hand."
    listing.suggested_item_id, listing.decided_by_merchant = None, True
    db.session.flush()
    linked_changed(merchant_id, listing.channel_id, [(listing, old)] if old != item.id else [])
    return listing


def match_listing_to_sku(merchant_id: int, listing_id: int, sku: str) -> ChannelListing:
    """match_listing by the item's SKU as typed (exact, or differing in case/spacing only)."""
    sku = (sku or "").strip()
    if not sku:
        raise InvalidInput("Type the SKU of the item to match.", field="item")
    item = db.session.scalar(select(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id, InventoryItem.sku_key == sku_key(sku)))
    if item is None:
        raise InvalidInput(f"No item has SKU {sku!r}: create it first.", field="item")
    return match_listing(merchant_id, listing_id, item.id)


def ignore_listings(merchant_id: int, listing_ids: Iterable[int]) -> int:
    """Not tracked in Stockroom on purpose: never matched automatically, never pushed to."""
    rows = _listings(merchant_id, listing_ids)
    changed: dict[int, list] = {}
    for listing in rows:
        if listing.deleted_at is not None:
            continue
        old = listing.inventory_item_id
        listing.inventory_item_id, listing.match_status = None, MatchStatus.IGNORED
        listing.match_note, listing.suggested_item_id = "Ignored: not tracked in Stockroom.", None
        listing.decided_by_merchant = True
        if old is not None:
            changed.setdefault(listing.channel_id, []).append((listing, old))
    db.session.flush()
    for channel_id, pairs in changed.items():
        linked_changed(merchant_id, channel_id, pairs)
    rematch_merchant(merchant_id)  # a duplicate left alone may match now
    return len(rows)


def reconsider_listings(merchant_id: int, listing_ids: Iterable[int]) -> int:
    """Undo ignore / by-hand matches: the listings follow automatic matching again."""
    rows = _listings(merchant_id, listing_ids)
    for listing in rows:
        if listing.deleted_at is None:
            listing.decided_by_merchant = False
            if listing.match_status == MatchStatus.IGNORED:
                listing.match_status = MatchStatus.UNMATCHED
    db.session.flush()
    rematch_merchant(merchant_id)
    return len(rows)


def seed_catalog_from_channel(merchant_id: int, channel_id: int) -> dict:
    """The merchant's choice on first connect: this store's catalog becomes Stockroom's items.

    Every unmatched live listing that can be an item becomes one (create_items_from_listings);
    the rest keep their reason. Safe to run again (creates nothing twice).
    """
    channel = db.session.scalar(select(Channel).where(Channel.merchant_id == merchant_id,
                                                      Channel.id == channel_id))
    if channel is None:
        raise NotFound("That store is not connected.")
    ids = list(db.session.scalars(select(ChannelListing.id).where(
        ChannelListing.channel_id == channel_id,
        ChannelListing.match_status == MatchStatus.UNMATCHED,
        ChannelListing.deleted_at.is_(None))))
    result = create_items_from_listings(merchant_id, ids, allow_duplicate_skus=False) if ids else {
        "created": [], "matched": [], "matched_listings": [], "skipped": {}}
    channel.catalog_seeded_at = channel.catalog_seeded_at or utcnow()
    db.session.flush()
    return result


def item_count(merchant_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id)) or 0


def stock_total(merchant_id: int, item_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(InventoryLevel.on_hand), 0)).where(
        InventoryLevel.merchant_id == merchant_id, InventoryLevel.item_id == item_id)) or 0
