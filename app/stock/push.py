"""Inventory out: which platform quantities a stock change made stale, and pushing them.

A stock change writes ``inventory.levels_changed`` (app/stock/levels.py). Its handler here
fans it out: every listing of that item at a platform location mapped to that stock
location gets its push state's generation bumped, and each affected channel gets one
``inventory.push_requested`` job. The platform's handler of that job asks
:func:`pending_pushes` for dirty rows in batches, pushes absolute quantities (read at push
time, so many changes coalesce into one push) and calls :func:`record_pushed`, round by
round (app/sync/rounds.py, which owns the commits between network calls). Everything
here flushes, never commits.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ARRAY, Integer, and_, any_, bindparam, func, literal, select, update

from app.database import dialect_insert
from app.extensions import db
from app.models._common import UTCDateTime, utcnow
from app.models import (Channel, ChannelListing, ChannelLocation, ChannelStatus, InventoryLevel,
                        InventoryPushState, JobStatus, OutboxEvent, RemoteStatus)
from app.sync.queue import Job
from app.sync.topics import Topic

PUSH_TOPIC = Topic.INVENTORY_PUSH_REQUESTED


@dataclass(frozen=True)
class PendingPush:
    """A platform quantity to set: where, which listing, the quantity, what we last saw there."""

    state_id: int
    generation: int
    channel_location_id: int
    location_remote_id: str
    listing_id: int
    remote_product_id: str
    remote_variant_id: str
    remote_inventory_item_id: str | None
    sku: str
    quantity: int
    remote_quantity: int | None


#: How many waiting stock-change events one fan-out job takes along (a bulk change of
#: thousands of items becomes a few jobs, not thousands).
MERGE_LIMIT = 1000


def fan_out_levels_changed(job: Job) -> str:
    """Mark the platform quantities behind stock changes dirty; one push job per channel.

    Takes along the merchant's other waiting ``inventory.levels_changed`` events (not
    claimed by a worker) and marks them done with this job: they only ever bump
    generations, so handling one twice in a race is harmless, and skipping none is the point.
    """
    merged = db.session.execute(
        select(OutboxEvent.id, OutboxEvent.payload).where(
            OutboxEvent.merchant_id == job.merchant_id,
            OutboxEvent.topic == Topic.INVENTORY_LEVELS_CHANGED, OutboxEvent.id != job.id,
            OutboxEvent.status == JobStatus.PENDING, OutboxEvent.locked_by.is_(None))
        .order_by(OutboxEvent.id).limit(MERGE_LIMIT)).all()
    by_location: dict[int, set[int]] = defaultdict(set)
    for payload in [job.payload or {}] + [p or {} for _, p in merged]:
        by_location[payload["location_id"]].update(payload.get("item_ids") or [])
    channels: set[int] = set()
    for location_id, item_ids in sorted(by_location.items()):
        channels |= mark_dirty(job.merchant_id, location_id=location_id, item_ids=item_ids)
    if merged:
        db.session.execute(update(OutboxEvent).where(
            OutboxEvent.id.in_([i for i, _ in merged]), OutboxEvent.status == JobStatus.PENDING,
            OutboxEvent.locked_by.is_(None)).values(
            status=JobStatus.DONE, done_at=utcnow(), last_error=f"merged into job {job.id}"))
    note = f"{len(channels)} channel(s) to push" if channels else "no mapped listing"
    return note + (f"; merged {len(merged)} more change(s)" if merged else "")


def mark_dirty(merchant_id: int, *, location_id: int | None = None,
               item_ids: Iterable[int] | None = None, channel_id: int | None = None,
               channel_location_id: int | None = None,
               except_channel_id: int | None = None) -> set[int]:
    """Bump the push generation of the matching listings × mapped locations. Flushes.

    Narrow by stock location and items (a stock change), by channel and items (a platform
    order that changes what the platform holds committed), by items on every channel but
    one (an order changes what its store holds, which its sister stores subtract), by
    channel location (a new mapping) or by channel (an import). Returns the channels that
    got a push job.

    The rows are upserted by the database itself (INSERT … SELECT … ON CONFLICT): a change
    of 10,000 items at two mapped locations is one statement, not 20,000 rows through Python.
    """
    wanted = None if item_ids is None else sorted(set(item_ids))
    channels: set[int] = set()
    for items in _item_chunks(wanted):
        matches = (select(ChannelLocation.channel_id, ChannelLocation.id.label("cl_id"),
                          ChannelListing.id.label("listing_id"))
                   .join(Channel, Channel.id == ChannelLocation.channel_id)
                   .join(ChannelListing,
                         ChannelListing.channel_id == ChannelLocation.channel_id)
                   .where(ChannelLocation.merchant_id == merchant_id,
                          Channel.status == ChannelStatus.ACTIVE,
                          ChannelLocation.stock_location_id.is_not(None),
                          # Opening stock confirmed: before that nothing is pushed there.
                          ChannelLocation.stock_confirmed_at.is_not(None),
                          # Deactivated or deleted on the platform: nothing to push there.
                          ChannelLocation.remote_status == RemoteStatus.ACTIVE,
                          ChannelListing.inventory_item_id.is_not(None),
                          ChannelListing.deleted_at.is_(None)))
        if location_id is not None:
            matches = matches.where(ChannelLocation.stock_location_id == location_id)
        if items is not None:
            matches = matches.where(_among(ChannelListing.inventory_item_id, items))
        if channel_id is not None:
            matches = matches.where(ChannelLocation.channel_id == channel_id)
        if except_channel_id is not None:
            matches = matches.where(ChannelLocation.channel_id != except_channel_id)
        if channel_location_id is not None:
            matches = matches.where(ChannelLocation.id == channel_location_id)
        found = set(db.session.scalars(
            select(matches.subquery().c.channel_id).distinct()).all())
        if not found:
            continue
        channels |= found
        now = utcnow()
        rows = matches.add_columns(literal(merchant_id), literal(1), literal(0), literal(""),
                                   literal(now, UTCDateTime()))
        insert = dialect_insert(db.session)(InventoryPushState).from_select(
            ["channel_id", "channel_location_id", "listing_id", "merchant_id", "generation",
             "pushed_generation", "last_error", "updated_at"], rows)
        db.session.execute(insert.on_conflict_do_update(
            index_elements=["channel_location_id", "listing_id"],
            set_={"generation": InventoryPushState.generation + 1, "updated_at": now}))
    for ch in sorted(channels):
        _request_push(merchant_id, ch)
    db.session.flush()
    return channels


#: SQLite binds at most 32,766 parameters per statement: item lists go in chunks there.
SQLITE_ITEMS = 10_000


def _item_chunks(item_ids: list[int] | None):
    if item_ids is None or db.session.get_bind().dialect.name == "postgresql":
        yield item_ids
        return
    yield from _chunks(item_ids, SQLITE_ITEMS)


def _among(column, values: list[int]):
    """``column IN values``; on PostgreSQL one array parameter (``= ANY``), not one each."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("item_ids", values, type_=ARRAY(Integer)))
    return column.in_(values)


def _request_push(merchant_id: int, channel_id: int) -> None:
    # One waiting job per channel is enough: it reads every dirty row when it runs. A job
    # already claimed may have read its last batch, so it does not count as waiting.
    waiting = db.session.scalar(select(OutboxEvent.id).where(
        OutboxEvent.channel_id == channel_id, OutboxEvent.topic == PUSH_TOPIC,
        OutboxEvent.status.in_([JobStatus.PENDING, JobStatus.FAILED]),
        OutboxEvent.locked_by.is_(None)).limit(1))
    if waiting is None:
        db.session.add(OutboxEvent(merchant_id=merchant_id, channel_id=channel_id,
                                   topic=PUSH_TOPIC, payload={}))


def pending_pushes(channel_id: int, *, limit: int, after_id: int = 0) -> list[PendingPush]:
    """Dirty platform quantities of a channel (by id, after ``after_id``), with what to set.

    The quantity is Stockroom's available at the mapped stock location now (never below 0:
    a platform can't sell a negative count). Listings whose item or mapping went away, that
    were deleted on the store, whose location's opening stock is not confirmed yet, or
    whose location was deactivated or deleted on the platform are skipped (their rows are not dirty any more once the mapping is gone: see mark_dirty).
    """
    return pending_batch(channel_id, limit=limit, after_id=after_id)[0]


def pending_batch(channel_id: int, *, limit: int, after_id: int = 0
                  ) -> tuple[list[PendingPush], int | None]:
    """The next ``limit`` dirty rows after ``after_id`` and the last id looked at (None: no
    dirty row left), so a batch whose rows were all skipped still moves the reader on.

    The dirty ids are limited first (a subquery on the partial index of dirty rows, in id
    order) and only those rows are joined to their listing, location and level: never a
    join and sort of every dirty row, whatever the planner believes about how many there are.
    """
    state = InventoryPushState
    dirty = (select(state.id, state.generation, state.channel_location_id, state.listing_id,
                    state.remote_quantity)
             .where(state.channel_id == channel_id, state.generation > state.pushed_generation,
                    state.id > after_id)
             .order_by(state.id).limit(limit).subquery())
    level = InventoryLevel
    rows = db.session.execute(
        select(dirty.c.id, dirty.c.generation, ChannelLocation.id, ChannelLocation.remote_id,
               ChannelListing.id, ChannelListing.remote_product_id,
               ChannelListing.remote_variant_id, ChannelListing.remote_inventory_item_id,
               ChannelListing.sku, func.coalesce(level.on_hand - level.committed, 0),
               dirty.c.remote_quantity, ChannelLocation.stock_location_id,
               ChannelListing.inventory_item_id,
               ChannelLocation.stock_confirmed_at, ChannelListing.deleted_at,
               ChannelLocation.remote_status)
        .join(ChannelLocation, ChannelLocation.id == dirty.c.channel_location_id)
        .join(ChannelListing, ChannelListing.id == dirty.c.listing_id)
        .outerjoin(level, and_(level.location_id == ChannelLocation.stock_location_id,
                               level.item_id == ChannelListing.inventory_item_id))
        .order_by(dirty.c.id)).all()
    if not rows:
        return [], None
    return [PendingPush(state_id=r[0], generation=r[1], channel_location_id=r[2],
                        location_remote_id=r[3], listing_id=r[4], remote_product_id=r[5],
                        remote_variant_id=r[6], remote_inventory_item_id=r[7], sku=r[8],
                        quantity=max(int(r[9]), 0), remote_quantity=r[10])
            for r in rows if r[11] is not None and r[12] is not None and r[13] is not None
            and r[14] is None and r[15] == RemoteStatus.ACTIVE], rows[-1][0]


def record_pushed(pushes: Iterable[PendingPush]) -> None:
    """The platform now shows these quantities: the generations read are pushed. Flushes.

    A change that bumped a generation since the read keeps its row dirty for the next push.
    """
    pushes = list(pushes)
    if not pushes:
        return
    table = InventoryPushState.__table__
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement for the whole batch: the rows come as three arrays (unnest).
        rows = (select(func.unnest(bindparam("ids", type_=ARRAY(Integer))).label("id"),
                       func.unnest(bindparam("pushed", type_=ARRAY(Integer))).label("pushed"),
                       func.unnest(bindparam("quantities", type_=ARRAY(Integer)))
                       .label("quantity")).subquery())
        db.session.execute(
            update(table).where(table.c.id == rows.c.id).values(
                pushed_generation=func.greatest(table.c.pushed_generation, rows.c.pushed),
                remote_quantity=rows.c.quantity, last_error="", updated_at=now),
            {"ids": [p.state_id for p in pushes], "pushed": [p.generation for p in pushes],
             "quantities": [p.quantity for p in pushes]})
    else:
        db.session.connection().execute(
            update(table).where(table.c.id == bindparam("state_id")).values(
                pushed_generation=func.max(table.c.pushed_generation, bindparam("pushed")),
                remote_quantity=bindparam("quantity"), last_error="", updated_at=now),
            [{"state_id": p.state_id, "pushed": p.generation, "quantity": p.quantity}
             for p in pushes])
    db.session.flush()


def record_remote_quantities(quantities: dict[int, int | None]) -> None:
    """What the platform shows now, read back (state id -> quantity). Flushes."""
    _update_states([{"state_id": i, "remote_quantity": q} for i, q in quantities.items()])


def record_push_failed(pushes: Iterable[PendingPush], error: str) -> None:
    """Note why the platform refused these quantities (shown on Inventory). Flushes.

    Their generation counts as tried, so one refused row can't keep its channel's push
    job failing forever; the next stock change makes it dirty again and tries once more.
    """
    _update_states([{"state_id": p.state_id, "pushed_generation": p.generation,
                     "last_error": error[:2000]} for p in pushes])


def _update_states(params: list[dict]) -> None:
    """One UPDATE executed for many push states (a batch is one round trip). Flushes."""
    if not params:
        return
    table = InventoryPushState.__table__
    columns = {key: bindparam(key) for key in params[0] if key != "state_id"}
    db.session.connection().execute(
        update(table).where(table.c.id == bindparam("state_id")).values(**columns), params)
    db.session.flush()


def _chunks(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]
