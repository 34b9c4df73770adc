"""What the onboarding page shows: each step's live state, read from the merchant's rows only."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.catalog.opening import Comparison
from app.extensions import db
from app.models import (Channel, ChannelListing, ChannelListingLevel, ChannelLocation,
                        ChannelStatus, InventoryItem, MatchStatus, OutboxEvent, StockLocation)
from app.models.sync import JobStatus
from app.sync.topics import Topic

#: The outbox topic of "Read the quantities again" (each platform's handler re-reads).
REFRESH_TOPIC = Topic.CATALOG_REFRESH_REQUESTED
#: What a run's step means to a merchant (Shopify and WooCommerce checkpoint steps).
STEP_LABELS = {"webhooks": "registering webhooks", "locations": "reading locations",
               "committed": "reading the units held by open orders",
               "products": "reading products", "orders": "importing open orders",
               "done": "done"}


@dataclass
class ImportProgress:
    """One run of a channel's import (or catalog refresh) as its checkpoint says."""

    kind: str               # "import" | "catalog_refresh"
    state: str              # "queued" | "running" | "done" | "none"
    step: str = ""
    listings: int = 0       # listings read so far (the checkpoint's count, else the table's)
    total_products: int | None = None   # WooCommerce: products in the store
    counts: dict = field(default_factory=dict)
    total_variants: int | None = None   # Shopify: variants in the shop

    @property
    def running(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def step_label(self) -> str:
        return STEP_LABELS.get(self.step, self.step.replace("_", " "))


@dataclass
class ChannelCatalog:
    """A channel in onboarding: its import, its listings' matching, its platform locations."""

    channel: Channel
    imports: ImportProgress
    refresh: ImportProgress
    listings: int
    matched: int
    unmatched: int
    ignored: int
    created_items: int
    reasons: list[tuple[str, int]]
    locations: list[ChannelLocation]

    @property
    def seedable(self) -> bool:
        """Its catalog may seed Stockroom's items: read completely, and active."""
        return (self.channel.status == ChannelStatus.ACTIVE and self.imports.state == "done"
                and self.listings > 0)

    @property
    def mapped(self) -> list[ChannelLocation]:
        return [cl for cl in self.locations if cl.stock_location_id is not None]


@dataclass
class Onboarding:
    """Every step's state (see templates/web/onboarding/_steps.html)."""

    stock_locations: list[StockLocation]
    channels: list[ChannelCatalog]
    item_count: int
    seeded_channel: ChannelCatalog | None
    needs_decision: int
    unconfirmed: list[ChannelLocation]

    @property
    def has_locations(self) -> bool:
        return bool(self.stock_locations)

    @property
    def has_channels(self) -> bool:
        return bool(self.channels)

    @property
    def importing(self) -> bool:
        return any(c.imports.running or c.refresh.running for c in self.channels)

    @property
    def imported(self) -> bool:
        return self.has_channels and not any(c.imports.running for c in self.channels)

    @property
    def catalog_chosen(self) -> bool:
        """Items exist (seeded from a store, made by hand, or from before onboarding)."""
        return self.item_count > 0 or self.seeded_channel is not None

    @property
    def mapped(self) -> list[ChannelLocation]:
        return [cl for c in self.channels for cl in c.mapped]

    @property
    def locations_mapped(self) -> bool:
        return self.has_channels and all(c.mapped for c in self.channels)

    @property
    def stock_confirmed(self) -> bool:
        return bool(self.mapped) and not self.unconfirmed

    @property
    def complete(self) -> bool:
        return (self.has_locations and self.imported and self.catalog_chosen
                and self.locations_mapped and self.stock_confirmed)

    @property
    def seedable(self) -> list[ChannelCatalog]:
        return [c for c in self.channels if c.seedable]


def _progress(merchant_id: int, channel: Channel, kind: str, listings: int) -> ImportProgress:
    state = dict((channel.sync_cursors or {}).get(kind) or {})
    done = bool(state.get("finished_at")) or state.get("step") == "done"
    if not state or done:
        topics = ((Topic.CHANNEL_INSTALLED, Topic.CHANNEL_CONNECTED) if kind == "import"
                  else (REFRESH_TOPIC,))
        queued = db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.merchant_id == merchant_id, OutboxEvent.channel_id == channel.id,
            OutboxEvent.topic.in_(topics),
            OutboxEvent.status.in_((JobStatus.PENDING, JobStatus.FAILED)))) or 0
        if queued:  # a new run was asked for and has not written its checkpoint yet
            return ImportProgress(kind, "queued")
    if not state:
        if kind == "import" and listings:  # imported before checkpoints existed
            return ImportProgress(kind, "done", "done", listings)
        return ImportProgress(kind, "none")
    counts = dict(state.get("counts") or {})
    read = counts.get("variants", counts.get("listings"))
    return ImportProgress(kind, "done" if done else "running", str(state.get("step") or ""),
                          int(read if read is not None else listings),
                          state.get("total_products"), counts, state.get("variants_total"))


def _listing_counts(merchant_id: int) -> dict[tuple[int, str], int]:
    return {(c, s): n for c, s, n in db.session.execute(
        select(ChannelListing.channel_id, ChannelListing.match_status, func.count())
        .where(ChannelListing.merchant_id == merchant_id, ChannelListing.deleted_at.is_(None))
        .group_by(ChannelListing.channel_id, ChannelListing.match_status))}


def _reasons(merchant_id: int, channel_id: int, *, limit: int = 6) -> list[tuple[str, int]]:
    """Why the channel's listings are unmatched, most frequent first (SKU-specific notes
    counted under their general reason)."""
    counter: Counter = Counter()
    for note, count in db.session.execute(
            select(ChannelListing.match_note, func.count()).where(
                ChannelListing.merchant_id == merchant_id,
                ChannelListing.channel_id == channel_id,
                ChannelListing.match_status == MatchStatus.UNMATCHED,
                ChannelListing.deleted_at.is_(None)).group_by(ChannelListing.match_note)):
        counter[_general(note)] += count
    return counter.most_common(limit)


def _general(note: str) -> str:
    note = note or "Not matched."
    if note.startswith("SKU ") and " listings of this store" in note:
        return "The same SKU is on several listings of this store"
    if note.startswith("Its SKU differs only in case or spacing"):
        return "Its SKU differs only in case or spacing from an item's"
    return note.split(":")[0].rstrip(".")


def onboarding(merchant_id: int) -> Onboarding:
    """The state of every onboarding step for this merchant."""
    channels = list(db.session.scalars(select(Channel).where(
        Channel.merchant_id == merchant_id).order_by(Channel.id)))
    counts = _listing_counts(merchant_id)
    created = dict(db.session.execute(
        select(InventoryItem.source_channel_id, func.count()).where(
            InventoryItem.merchant_id == merchant_id,
            InventoryItem.source_channel_id.is_not(None))
        .group_by(InventoryItem.source_channel_id)).all())
    locations = list(db.session.scalars(select(ChannelLocation).where(
        ChannelLocation.merchant_id == merchant_id)
        .order_by(ChannelLocation.channel_id, ChannelLocation.name, ChannelLocation.id)))
    built = []
    for channel in channels:
        n = {s: counts.get((channel.id, s), 0) for s in (MatchStatus.MATCHED,
                                                         MatchStatus.UNMATCHED,
                                                         MatchStatus.IGNORED)}
        total = sum(n.values())
        built.append(ChannelCatalog(
            channel=channel, imports=_progress(merchant_id, channel, "import", total),
            refresh=_progress(merchant_id, channel, "catalog_refresh", total), listings=total,
            matched=n[MatchStatus.MATCHED], unmatched=n[MatchStatus.UNMATCHED],
            ignored=n[MatchStatus.IGNORED], created_items=created.get(channel.id, 0),
            reasons=_reasons(merchant_id, channel.id) if n[MatchStatus.UNMATCHED] else [],
            locations=[cl for cl in locations if cl.channel_id == channel.id]))
    seeded = [c for c in built if c.channel.catalog_seeded_at is not None]
    seeded.sort(key=lambda c: c.channel.catalog_seeded_at)
    return Onboarding(
        stock_locations=list(db.session.scalars(select(StockLocation).where(
            StockLocation.merchant_id == merchant_id).order_by(StockLocation.name))),
        channels=built,
        item_count=db.session.scalar(select(func.count()).select_from(InventoryItem).where(
            InventoryItem.merchant_id == merchant_id)) or 0,
        seeded_channel=seeded[0] if seeded else None,
        needs_decision=sum(c.unmatched for c in built),
        unconfirmed=[cl for cl in locations
                     if cl.stock_location_id is not None and cl.stock_confirmed_at is None])


def needs_decision(merchant_id: int) -> int:
    """Live listings no item matches and the merchant has not ignored."""
    return db.session.scalar(select(func.count()).select_from(ChannelListing).where(
        ChannelListing.merchant_id == merchant_id,
        ChannelListing.match_status == MatchStatus.UNMATCHED,
        ChannelListing.deleted_at.is_(None))) or 0


@dataclass
class Preview:
    """What confirming a platform location's opening stock would do, before it is done."""

    truth: str
    changes: int  # levels that change (platform) / store counts overwritten (stockroom)
    kept: list[tuple[str, int]]               # (why, how many) for "platform"
    examples: list[tuple[str, int | None, int]]  # (SKU, platform's count, what it becomes)
    rows: int


def preview(view: Comparison, truth: str, *, examples: int = 5) -> Preview:
    """The confirm step's summary, from the full comparison (every row, one page)."""
    if truth == "platform":
        changing = {r.item_id: r for r in view.rows
                    if not r.outcome and r.platform_on_hand != r.stockroom_on_hand}
        kept = Counter(re.sub(r" \(-?\d+\)", "", r.outcome.split(":")[0])
                       for r in view.rows if r.outcome)
        return Preview(truth, len(changing), kept.most_common(), [
            (r.sku, r.stockroom_on_hand, r.platform_on_hand)
            for r in list(changing.values())[:examples]], len(view.rows))
    overwritten = [r for r in view.rows if r.platform_available != r.stockroom_available]
    return Preview(truth, len(overwritten), [], [
        (r.sku, r.platform_available, max(r.stockroom_available, 0))
        for r in overwritten[:examples]], len(view.rows))


def last_read_at(merchant_id: int, channel_location_id: int):
    """When the platform's quantities at this location were last read (None: never)."""
    return db.session.scalar(select(func.max(ChannelListingLevel.read_at)).where(
        ChannelListingLevel.merchant_id == merchant_id,
        ChannelListingLevel.channel_location_id == channel_location_id))


def refresh_pending(merchant_id: int, channel_id: int) -> bool:
    """A "read the quantities again" for this channel is queued and not started."""
    return bool(db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.merchant_id == merchant_id, OutboxEvent.channel_id == channel_id,
        OutboxEvent.topic == REFRESH_TOPIC, OutboxEvent.status == JobStatus.PENDING)))
