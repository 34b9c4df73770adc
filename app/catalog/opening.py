"""Opening stock: for each platform location mapped onto a stock location, where the truth is.

Before the merchant confirms a mapped platform location, Stockroom pushes no quantity
there (app/stock/push.py skips it), so installing Stockroom can never overwrite a store's
real counts with zeros. The merchant sees both sides (:func:`comparison`) and chooses:

- ``platform``: the platform's on hand becomes Stockroom's on hand at the mapped stock
  location, one ``opening_balance`` movement per level that differs (so the ledger says
  where the number came from); listings whose platform count is unknown, negative, or
  disagrees with another listing of the same item are reported and left as they are;
- ``stockroom``: Stockroom's counts stand, and are pushed.

Either way the location is confirmed and its quantities are marked for a push (with
``platform`` they already agree, so the push finds little to change). Confirming twice
changes nothing the second time.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.models import (ChannelListing, ChannelListingLevel, ChannelLocation, InventoryItem,
                        InventoryLevel, MatchStatus)
from app.models._common import utcnow
from app.catalog.items import OPENING_REASON

TRUTHS = ("platform", "stockroom")


class AlreadyConfirmed(DomainError):
    """The opening stock of this platform location was confirmed before."""


@dataclass(frozen=True)
class ComparisonRow:
    """One matched listing at a platform location: both sides' counts side by side."""

    listing_id: int
    item_id: int
    sku: str
    title: str
    stockroom_on_hand: int
    stockroom_available: int
    platform_on_hand: int | None
    platform_available: int | None
    platform_committed: int | None
    #: What "platform" would do with this row ("" = take it; else why it is kept).
    outcome: str


@dataclass
class Comparison:
    channel_location: ChannelLocation
    rows: list[ComparisonRow]
    total: int
    differing: int
    unmatched: int
    not_read: int = 0
    page: int = 1
    per_page: int = 100
    problems: dict[str, int] = field(default_factory=dict)


def require_channel_location(merchant_id: int, channel_location_id: int, *,
                             for_update: bool = False) -> ChannelLocation:
    query = select(ChannelLocation).where(ChannelLocation.merchant_id == merchant_id,
                                          ChannelLocation.id == channel_location_id)
    if for_update:
        query = query.with_for_update()
    location = db.session.scalar(query)
    if location is None:
        raise NotFound("That platform location does not exist.")
    return location


def _rows_query(merchant_id: int, cl: ChannelLocation):
    level = InventoryLevel
    return (select(ChannelListing.id, InventoryItem.id, InventoryItem.sku, InventoryItem.title,
                   func.coalesce(level.on_hand, 0), func.coalesce(level.on_hand - level.committed, 0),
                   ChannelListingLevel.on_hand, ChannelListingLevel.available,
                   ChannelListingLevel.committed, ChannelListingLevel.id)
            .join(InventoryItem, InventoryItem.id == ChannelListing.inventory_item_id)
            .outerjoin(ChannelListingLevel,
                       and_(ChannelListingLevel.listing_id == ChannelListing.id,
                            ChannelListingLevel.channel_location_id == cl.id))
            .outerjoin(level, and_(level.item_id == InventoryItem.id,
                                   level.location_id == cl.stock_location_id))
            .where(ChannelListing.merchant_id == merchant_id,
                   ChannelListing.channel_id == cl.channel_id,
                   ChannelListing.match_status == MatchStatus.MATCHED,
                   ChannelListing.deleted_at.is_(None)))


def _outcome(stockroom_on_hand: int, on_hand: int | None, read: bool,
             conflicting: bool) -> str:
    if not read:
        return "No quantity read from the platform yet: Stockroom's count is kept."
    if on_hand is None:
        return "The platform does not track this quantity: Stockroom's count is kept."
    if on_hand < 0:
        return f"Negative on the platform ({on_hand}): Stockroom's count is kept; count it."
    if conflicting:
        return ("Another listing of this item shows a different count here: Stockroom's "
                "count is kept; count it.")
    return ""


def _conflicting_items(rows) -> set[int]:
    seen: dict[int, set] = defaultdict(set)
    for r in rows:
        if r[9] is not None and r[6] is not None and r[6] >= 0:
            seen[r[1]].add(r[6])
    return {item for item, values in seen.items() if len(values) > 1}


def comparison(merchant_id: int, channel_location_id: int, *, q: str = "",
               only_differing: bool = False, page: int = 1, per_page: int = 100) -> Comparison:
    """Stockroom's and the platform's counts of every matched listing at this location."""
    cl = require_channel_location(merchant_id, channel_location_id)
    if cl.stock_location_id is None:
        raise InvalidInput(f"Map {cl.name or 'this platform location'} onto a stock location "
                           "first.", field="stock_location")
    all_rows = db.session.execute(_rows_query(merchant_id, cl).order_by(InventoryItem.sku)).all()
    conflicting = _conflicting_items(all_rows)
    built = []
    for r in all_rows:
        outcome = _outcome(r[4], r[6], r[9] is not None, r[1] in conflicting)
        built.append(ComparisonRow(listing_id=r[0], item_id=r[1], sku=r[2], title=r[3],
                                   stockroom_on_hand=int(r[4]), stockroom_available=int(r[5]),
                                   platform_on_hand=r[6], platform_available=r[7],
                                   platform_committed=r[8], outcome=outcome))
    differing = [row for row in built if row.platform_on_hand != row.stockroom_on_hand]
    problems: dict[str, int] = defaultdict(int)
    for row in built:
        if row.outcome:
            problems[row.outcome.split(":")[0]] += 1
    shown = differing if only_differing else built
    if q:
        needle = q.strip().casefold()
        shown = [r for r in shown if needle in r.sku.casefold() or needle in r.title.casefold()]
    page = max(page, 1)
    unmatched = db.session.scalar(select(func.count()).select_from(ChannelListing).where(
        ChannelListing.merchant_id == merchant_id, ChannelListing.channel_id == cl.channel_id,
        ChannelListing.match_status == MatchStatus.UNMATCHED,
        ChannelListing.deleted_at.is_(None))) or 0
    return Comparison(channel_location=cl, rows=shown[(page - 1) * per_page: page * per_page],
                      total=len(shown), differing=len(differing), unmatched=unmatched,
                      not_read=sum(1 for r in all_rows if r[9] is None), page=page,
                      per_page=per_page, problems=dict(problems))


def confirm_opening_stock(merchant_id: int, channel_location_id: int, truth: str) -> dict:
    """Confirm where this platform location's truth is (module docstring). Flushes.

    Returns ``{"truth", "changed": levels changed, "kept": {sku: why}}``.
    """
    from app.stock.levels import Reference, apply_movements, require_location
    from app.stock.push import mark_dirty

    if truth not in TRUTHS:
        raise InvalidInput("Choose whose quantities are right today: the platform's or "
                           "Stockroom's.", field="truth")
    cl = require_channel_location(merchant_id, channel_location_id, for_update=True)
    if cl.stock_confirmed_at is not None:
        raise AlreadyConfirmed(
            f"The opening stock of {cl.name or 'this location'} was confirmed on "
            f"{cl.stock_confirmed_at:%Y-%m-%d %H:%M} UTC ({cl.stock_truth}'s counts); "
            "change counts from Inventory now.")
    if cl.stock_location_id is None:
        raise InvalidInput(f"Map {cl.name or 'this platform location'} onto a stock location "
                           "first.", field="stock_location")
    changed, kept = 0, {}
    if truth == "platform":
        rows = db.session.execute(_rows_query(merchant_id, cl).order_by(InventoryItem.id)).all()
        conflicting = _conflicting_items(rows)
        deltas: dict[int, int] = {}
        for r in rows:
            why = _outcome(r[4], r[6], r[9] is not None, r[1] in conflicting)
            if why:
                kept[r[2]] = why
            elif r[1] not in deltas and int(r[6]) != int(r[4]):
                deltas[r[1]] = int(r[6]) - int(r[4])
        if deltas:
            location = require_location(merchant_id, cl.stock_location_id)
            apply_movements(merchant_id, location, deltas, reason=OPENING_REASON,
                            reference=Reference("channel_location", cl.id), check_stock=False,
                            note=f"Opening balance from {cl.name or 'the platform'}.")
        changed = len(deltas)
    cl.stock_truth, cl.stock_confirmed_at = truth, utcnow()
    db.session.flush()
    mark_dirty(merchant_id, channel_location_id=cl.id)
    return {"truth": truth, "changed": changed, "kept": kept}


def unconfirmed_locations(merchant_id: int) -> list[ChannelLocation]:
    """Mapped platform locations still waiting for the merchant's opening-stock choice
    (no inventory push goes to them: the Sync page and the dashboard say so)."""
    return list(db.session.scalars(select(ChannelLocation).where(
        ChannelLocation.merchant_id == merchant_id,
        ChannelLocation.stock_location_id.is_not(None),
        ChannelLocation.stock_confirmed_at.is_(None)).order_by(ChannelLocation.id)))


def is_confirmed(cl: ChannelLocation) -> bool:
    return cl.stock_confirmed_at is not None


__all__ = ["AlreadyConfirmed", "Comparison", "ComparisonRow", "TRUTHS", "comparison",
           "confirm_opening_stock", "is_confirmed", "require_channel_location",
           "unconfirmed_locations"]
