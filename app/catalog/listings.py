"""Listings in: what a store sells, matched to Stockroom's items, with a reason either way.

An adapter reads its platform's catalog page by page and hands each page here as
:class:`RemoteVariant` rows (and the platform's quantities as :class:`RemoteLevel` rows).
Matching is the same for every platform, in this order:

1. the adapter found the listing malformed (``problem``): unmatched, with that reason;
2. its SKU is on more than one live listing of the same store: unmatched ("duplicate");
3. an item has exactly its SKU: matched ("SKU");
4. an item has its SKU but for case or spacing: unmatched, that item suggested (review);
5. an item has its barcode (and only one does): matched ("barcode");
6. otherwise unmatched: "no item with this SKU" or "no SKU on the store".

What the merchant decided by hand (a match, an ignore) is kept until the store changes
the listing's SKU or barcode. Every write here flushes, never commits (the caller's unit
of work decides).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


from sqlalchemy import func, select, update

from app.extensions import db
from app.models import (ChannelListing, ChannelListingLevel, ChannelLocation, InventoryItem,
                        MatchStatus, Order, OrderLine)
from app.models._common import utcnow
from app.models.stock import sku_key



@dataclass(frozen=True)
class RemoteVariant:
    """One stock-carrying listing as the platform shows it (a variant, a simple product)."""

    remote_variant_id: str
    remote_product_id: str
    remote_inventory_item_id: str | None
    sku: str
    title: str
    barcode: str = ""
    image_url: str = ""
    #: Malformed data the adapter found (listed for the merchant, never matched).
    problem: str = ""


@dataclass(frozen=True)
class RemoteLevel:
    """The platform's quantities of one listing at one platform location.

    ``on_hand``: physical units (Shopify on_hand; WooCommerce stock_quantity plus the units
    of open orders that already reduced it); ``available``: what the platform sells;
    ``committed``: held for the platform's open orders. None: not tracked there.
    """

    remote_variant_id: str
    location_remote_id: str
    on_hand: int | None
    available: int | None
    committed: int | None


NOTE_SKU, NOTE_BARCODE = "SKU", "barcode"
NOTE_NO_SKU = "No SKU on the store: give it one there, or match it by hand."
NOTE_NO_ITEM = "No item has this SKU yet."


def note_duplicate(sku: str, count: int) -> str:
    return (f"SKU {sku!r} is on {count} listings of this store: match each by hand, "
            "or ignore the extra ones.")


def note_case(item_sku: str) -> str:
    return (f"Its SKU differs only in case or spacing from item {item_sku!r}: "
            "match it if they are the same thing.")


def upsert_remote_listings(merchant_id: int, channel_id: int,
                           variants: Iterable[RemoteVariant]) -> dict[str, int]:
    """Create or update the channel's listings from one page of the platform's catalog.

    Returns counts: ``listings`` (in this page), ``new``, ``matched``, ``unmatched``. A
    listing that was deleted on the store and comes back is live again. Flushes.
    """
    variants = list({v.remote_variant_id: v for v in variants}.values())
    if not variants:
        return {"listings": 0, "new": 0, "matched": 0, "unmatched": 0}
    existing = {row.remote_variant_id: row for row in db.session.scalars(
        select(ChannelListing).where(
            ChannelListing.merchant_id == merchant_id, ChannelListing.channel_id == channel_id,
            ChannelListing.remote_variant_id.in_([v.remote_variant_id for v in variants])))}
    new = 0
    touched: list[ChannelListing] = []
    for v in variants:
        row = existing.get(v.remote_variant_id)
        if row is None:
            row = ChannelListing(merchant_id=merchant_id, channel_id=channel_id,
                                 remote_variant_id=v.remote_variant_id,
                                 match_status=MatchStatus.UNMATCHED, match_note="")
            db.session.add(row)
            new += 1
        sku, barcode = (v.sku or "").strip()[:255], (v.barcode or "").strip()[:64]
        if row.match_status != MatchStatus.IGNORED and (row.sku != sku or row.barcode != barcode):
            row.decided_by_merchant = False  # the store changed what the decision was about
        row.sku, row.barcode = sku, barcode
        row.remote_product_id = v.remote_product_id or ""
        row.remote_inventory_item_id = v.remote_inventory_item_id
        row.title = (v.title or "")[:512]
        row.image_url = (v.image_url or "")[:2048]
        if row.deleted_at is not None or row.match_status == MatchStatus.DELETED:
            # Back on the store: matched afresh, so it counts as newly linked (its
            # quantities are pushed: changes made while it was deleted never reached it).
            row.deleted_at, row.inventory_item_id = None, None
            row.match_status, row.decided_by_merchant = MatchStatus.UNMATCHED, False
        row.problem = (v.problem or "")[:500]
        touched.append(row)
    db.session.flush()
    _match(merchant_id, channel_id, touched)
    matched = sum(1 for r in touched if r.match_status == MatchStatus.MATCHED)
    return {"listings": len(touched), "new": new, "matched": matched,
            "unmatched": sum(1 for r in touched if r.match_status == MatchStatus.UNMATCHED)}


def rematch_channel(merchant_id: int, channel_id: int) -> int:
    """Match again every live listing of the channel the merchant has not decided on.

    Run after items were created or edited, and by reconciliation. Returns how many
    listings are newly matched. Flushes.
    """
    rows = list(db.session.scalars(select(ChannelListing).where(
        ChannelListing.merchant_id == merchant_id, ChannelListing.channel_id == channel_id,
        ChannelListing.deleted_at.is_(None), ChannelListing.decided_by_merchant.is_(False),
        ChannelListing.match_status != MatchStatus.IGNORED)))
    before = {r.id: r.inventory_item_id for r in rows}
    _match(merchant_id, channel_id, rows)
    return sum(1 for r in rows if r.inventory_item_id is not None
               and before[r.id] != r.inventory_item_id)


def rematch_merchant(merchant_id: int) -> int:
    """rematch_channel for each of the merchant's channels that has listings. Flushes."""
    channels = db.session.scalars(select(ChannelListing.channel_id).where(
        ChannelListing.merchant_id == merchant_id).distinct()).all()
    return sum(rematch_channel(merchant_id, c) for c in sorted(channels))


def _match(merchant_id: int, channel_id: int, rows: list[ChannelListing]) -> None:
    """Apply the matching rules (module docstring) to ``rows`` of one channel. Flushes."""
    rows = [r for r in rows if r.deleted_at is None and r.match_status != MatchStatus.IGNORED
            and not r.decided_by_merchant]
    if not rows:
        return
    keys = {sku_key(r.sku) for r in rows if r.sku}
    barcodes = {r.barcode for r in rows if r.barcode}
    by_key: dict[str, tuple[int, str]] = {}
    if keys:
        for item_id, sku, key in db.session.execute(
                select(InventoryItem.id, InventoryItem.sku, InventoryItem.sku_key).where(
                    InventoryItem.merchant_id == merchant_id, InventoryItem.sku_key.in_(keys))):
            by_key[key] = (item_id, sku)
    by_barcode: dict[str, list[int]] = defaultdict(list)
    if barcodes:
        for item_id, barcode in db.session.execute(
                select(InventoryItem.id, InventoryItem.barcode).where(
                    InventoryItem.merchant_id == merchant_id,
                    InventoryItem.barcode.in_(barcodes))):
            by_barcode[barcode].append(item_id)
    duplicates = _duplicate_keys(channel_id, keys)
    dup_keys = [k for k, n in duplicates.items() if n > 1]
    if dup_keys:  # the other listings of a duplicated SKU stop being matched by it too
        seen = {r.id for r in rows}
        rows += [r for r in db.session.scalars(select(ChannelListing).where(
            ChannelListing.channel_id == channel_id, ChannelListing.deleted_at.is_(None),
            ChannelListing.match_status != MatchStatus.IGNORED,
            ChannelListing.decided_by_merchant.is_(False),
            ChannelListing.sku_key.in_(dup_keys))) if r.id not in seen]
    changed: list[tuple[ChannelListing, int | None]] = []
    for row in rows:
        old = row.inventory_item_id
        item_id, status, note, suggested = None, MatchStatus.UNMATCHED, NOTE_NO_ITEM, None
        key = sku_key(row.sku)
        if row.problem:
            note = row.problem
        elif key and duplicates.get(key, 0) > 1:
            note = note_duplicate(row.sku, duplicates[key])
        elif key and key in by_key and by_key[key][1] == row.sku:
            item_id, status, note = by_key[key][0], MatchStatus.MATCHED, NOTE_SKU
        elif key and key in by_key:
            suggested, note = by_key[key][0], note_case(by_key[key][1])
        elif row.barcode and len(by_barcode.get(row.barcode, [])) == 1:
            item_id, status, note = by_barcode[row.barcode][0], MatchStatus.MATCHED, NOTE_BARCODE
        elif not key:
            note = NOTE_NO_SKU
        row.inventory_item_id, row.match_status = item_id, status
        row.match_note, row.suggested_item_id = note, suggested
        if old != item_id:
            changed.append((row, old))
    db.session.flush()
    linked_changed(merchant_id, channel_id, changed)


def _duplicate_keys(channel_id: int, keys: set[str]) -> dict[str, int]:
    """How many live listings of the channel share each of these SKU keys (>1: duplicate)."""
    if not keys:
        return {}
    return dict(db.session.execute(
        select(ChannelListing.sku_key, func.count()).where(
            ChannelListing.channel_id == channel_id, ChannelListing.deleted_at.is_(None),
            ChannelListing.match_status != MatchStatus.IGNORED,
            ChannelListing.sku_key.in_(keys)).group_by(ChannelListing.sku_key)).all())


def linked_changed(merchant_id: int, channel_id: int,
                   changed: list[tuple[ChannelListing, int | None]]) -> None:
    """Listings whose item changed: their quantities are pushed, their orders' lines linked.

    Open order lines of the channel that had no item and carry the listing's SKU get the
    item (fulfilling them moves stock from now on; fulfillments already made keep what
    they moved, recorded on their own lines). Flushes.
    """
    from app.stock.push import mark_dirty  # local: app.stock.push imports the models only

    if not changed:
        return
    items = {row.inventory_item_id for row, _ in changed if row.inventory_item_id is not None}
    for row, _ in changed:
        if row.inventory_item_id is None or not row.sku:
            continue
        db.session.execute(update(OrderLine).where(
            OrderLine.merchant_id == merchant_id, OrderLine.inventory_item_id.is_(None),
            OrderLine.sku == row.sku,
            OrderLine.order_id.in_(select(Order.id).where(Order.channel_id == channel_id)))
            .values(inventory_item_id=row.inventory_item_id)
            .execution_options(synchronize_session="fetch"))
    if items:
        mark_dirty(merchant_id, channel_id=channel_id, item_ids=items)
    db.session.flush()


def record_remote_levels(merchant_id: int, channel_id: int,
                         levels: Iterable[RemoteLevel]) -> int:
    """Keep the platform's quantities (per listing and platform location) as just read.

    Levels of listings or locations Stockroom doesn't know are dropped (the adapter reads
    locations before products). Returns how many were recorded. Flushes.
    """
    levels = list(levels)
    if not levels:
        return 0
    listings = dict(db.session.execute(select(ChannelListing.remote_variant_id, ChannelListing.id)
                                       .where(ChannelListing.channel_id == channel_id,
                                              ChannelListing.merchant_id == merchant_id,
                                              ChannelListing.remote_variant_id.in_(
                                                  {lv.remote_variant_id for lv in levels}))).all())
    locations = dict(db.session.execute(select(ChannelLocation.remote_id, ChannelLocation.id)
                                        .where(ChannelLocation.channel_id == channel_id,
                                               ChannelLocation.merchant_id == merchant_id)).all())
    wanted = {(locations[lv.location_remote_id], listings[lv.remote_variant_id]): lv
              for lv in levels
              if lv.location_remote_id in locations and lv.remote_variant_id in listings}
    if not wanted:
        return 0
    existing = {(r.channel_location_id, r.listing_id): r for r in db.session.scalars(
        select(ChannelListingLevel).where(
            ChannelListingLevel.channel_id == channel_id,
            ChannelListingLevel.listing_id.in_({li for _, li in wanted})))}
    now = utcnow()
    for (cl_id, listing_id), lv in wanted.items():
        row = existing.get((cl_id, listing_id))
        if row is None:
            row = ChannelListingLevel(merchant_id=merchant_id, channel_id=channel_id,
                                      channel_location_id=cl_id, listing_id=listing_id)
            db.session.add(row)
        row.on_hand, row.available, row.committed = lv.on_hand, lv.available, lv.committed
        row.read_at = now
    db.session.flush()
    return len(wanted)


def remove_remote_listings(merchant_id: int, channel_id: int, *,
                           remote_product_id: str | None = None,
                           remote_variant_ids: Iterable[str] | None = None) -> int:
    """The store deleted these listings (a whole product, or some variants): never pushed
    to again, kept (deleted) so history and orders still name them. Returns how many."""
    query = select(ChannelListing).where(ChannelListing.merchant_id == merchant_id,
                                         ChannelListing.channel_id == channel_id,
                                         ChannelListing.deleted_at.is_(None))
    if remote_product_id is not None:
        query = query.where(ChannelListing.remote_product_id == str(remote_product_id))
    if remote_variant_ids is not None:
        ids = [str(i) for i in remote_variant_ids]
        if not ids:
            return 0
        query = query.where(ChannelListing.remote_variant_id.in_(ids))
    if remote_product_id is None and remote_variant_ids is None:
        raise ValueError("say which listings: a product or variant ids")
    rows = list(db.session.scalars(query))
    now = utcnow()
    for row in rows:
        row.deleted_at, row.match_status = now, MatchStatus.DELETED
        row.match_note = "Deleted on the store: no longer pushed to."
    db.session.flush()
    return len(rows)
