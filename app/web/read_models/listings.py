"""Read models of the listings page: the stores' catalog, matched or not, filtered and paged."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.errors import NotFound
from app.extensions import db
from app.models import Channel, ChannelListing, InventoryItem
from app.web.read_models.common import like_pattern


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
        pattern = like_pattern(term)
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
