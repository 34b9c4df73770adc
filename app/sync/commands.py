"""Inbound domain commands: what an adapter reads a platform's change as, applied in one place.

An adapter's inbound side (webhooks, reconciliation) only translates: it reads what the
platform holds now and says what that means here as commands (platforms/<name>/mapping.py).
``apply_commands`` is the one place they change Stockroom: every change is marked as made on
the platform (never pushed back), replays change nothing, and a fulfillment the platform
made takes its stock at the stock location its platform location is mapped to.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from app.fulfillment import (Tracking, cancel_fulfillment, create_platform_fulfillment,
                             mark_delivered, update_tracking)
from app.extensions import db
from app.models import ChannelLocation, Fulfillment, FulfillmentStatus, Order, OrderLine, Origin

S = FulfillmentStatus


@dataclass(frozen=True)
class LocationRef:
    """A platform location, as the platform names it; resolved through the mapping."""

    remote_id: str
    #: When no location has ``remote_id``: the channel's first location of this kind.
    kind: str | None = None
    name: str = ""


@dataclass(frozen=True)
class RecordFulfillment:
    """A fulfillment made on the platform (the goods have left): recorded here once."""

    order_id: int
    remote_id: str                   # the platform's id for it: recorded once per id
    #: remote line id -> units; None: every unit of the order still unshipped here.
    lines: Mapping[str, int] | None
    #: Where it left from; None: it left before Stockroom counted the stock (no stock moves).
    location: LocationRef | None
    tracking: Tracking
    happened: str                    # "Shipped on Shopify": starts the note of a shortfall
    unmapped_note: str               # the note when no stock moves (no location, not mapped)


@dataclass(frozen=True)
class CancelFulfillment:
    """The platform canceled a fulfillment we hold: stock restored where it was taken."""

    fulfillment_id: int


@dataclass(frozen=True)
class UpdateTracking:
    """The platform's tracking of a fulfillment we hold (an empty number never erases ours)."""

    fulfillment_id: int
    tracking: Tracking


@dataclass(frozen=True)
class MarkDelivered:
    """The platform says a fulfillment we hold was delivered."""

    fulfillment_id: int


Command = RecordFulfillment | CancelFulfillment | UpdateTracking | MarkDelivered


@dataclass(frozen=True)
class Applied:
    """One command's outcome: whether it changed anything, and what to say ('' for nothing)."""

    command: Command
    changed: bool
    note: str = ""
    fulfillment: Fulfillment | None = None


def apply_commands(commands: Iterable[Command], *, merchant_id: int, channel_id: int
                   ) -> list[Applied]:
    """Apply an adapter's commands for one channel, in order. Flushes, never commits.

    Every row is read scoped by merchant and channel: a command naming another's order or
    fulfillment is a programming error (LookupError), never applied.
    """
    return [_APPLY[type(c)](c, merchant_id, channel_id) for c in commands]


def notes_of(applied: Iterable[Applied], *, otherwise: str) -> str:
    """The job's note: what the commands said (each once), or ``otherwise``."""
    notes = list(dict.fromkeys(a.note for a in applied if a.note))
    return ", ".join(notes) or otherwise


def resolve_location(channel_id: int, where: LocationRef) -> int | None:
    """The stock location a platform location is mapped to (None: not mapped)."""
    query = select(ChannelLocation).where(ChannelLocation.channel_id == channel_id)
    if where.kind is None:
        query = query.where(ChannelLocation.remote_id == where.remote_id)
    else:
        query = query.where(ChannelLocation.kind == where.kind).order_by(
            ChannelLocation.remote_id != where.remote_id, ChannelLocation.id)
    mapping = db.session.scalars(query.limit(1)).first()
    return mapping.stock_location_id if mapping else None


def _fulfillment(fulfillment_id: int, merchant_id: int, channel_id: int) -> Fulfillment:
    f = db.session.scalar(select(Fulfillment).where(
        Fulfillment.id == fulfillment_id, Fulfillment.merchant_id == merchant_id,
        Fulfillment.channel_id == channel_id))
    if f is None:
        raise LookupError(f"fulfillment {fulfillment_id} is not this channel's")
    return f


def _record(c: RecordFulfillment, merchant_id: int, channel_id: int) -> Applied:
    order = db.session.scalar(select(Order).where(
        Order.id == c.order_id, Order.merchant_id == merchant_id,
        Order.channel_id == channel_id))
    if order is None:
        raise LookupError(f"order {c.order_id} is not this channel's")
    known = db.session.scalar(select(Fulfillment).where(
        Fulfillment.channel_id == channel_id, Fulfillment.remote_id == c.remote_id))
    if known is not None:
        return Applied(c, False, f"already recorded as {known.name}", known)
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    wanted: dict[int, int] = defaultdict(int)
    if c.lines is None:
        wanted.update({line.id: line.not_shipped_quantity for line in lines})
    else:
        by_remote = {line.remote_id: line.id for line in lines}
        for remote_line, units in c.lines.items():
            if remote_line in by_remote:
                wanted[by_remote[remote_line]] += units
    # Never more than is left here: units already counted can't be counted twice.
    left = {line.id: line.not_shipped_quantity for line in lines}
    quantities = {lid: min(q, left[lid]) for lid, q in wanted.items() if min(q, left[lid]) > 0}
    if not quantities:
        return Applied(c, False, "nothing left to fulfill here: recorded nothing")
    location_id = resolve_location(channel_id, c.location) if c.location else None
    f = create_platform_fulfillment(
        order.id, quantities, location_id,
        merchant_id=merchant_id, tracking=c.tracking, remote_id=c.remote_id,
        happened=c.happened, unmapped_note=c.unmapped_note)
    return Applied(c, True, f"recorded as {f.name}", f)


def _change(c: CancelFulfillment | UpdateTracking | MarkDelivered, merchant_id: int,
            channel_id: int) -> Applied:
    f = _fulfillment(c.fulfillment_id, merchant_id, channel_id)
    if f.status == S.CANCELED:  # a canceled fulfillment takes no further change
        return Applied(c, False, "already canceled", f)
    return _CHANGES[type(c)](c, f)


def _cancel(c: CancelFulfillment, f: Fulfillment) -> Applied:
    if f.status == S.DELIVERED:
        return Applied(c, False, "delivered here: kept", f)
    cancel_fulfillment(f.id, merchant_id=f.merchant_id, source=Origin.PLATFORM)
    return Applied(c, True, "canceled: stock restored", f)


def _track(c: UpdateTracking, f: Fulfillment) -> Applied:
    t = c.tracking
    if not t.number or (t.number, t.company, t.url) == (f.tracking_number, f.tracking_company,
                                                        f.tracking_url):
        return Applied(c, False, "", f)
    update_tracking(f.id, t, merchant_id=f.merchant_id, source=Origin.PLATFORM,
                    notify_customer=f.notify_customer)
    return Applied(c, True, "tracking updated", f)


def _deliver(c: MarkDelivered, f: Fulfillment) -> Applied:
    if f.status == S.DELIVERED:
        return Applied(c, False, "", f)
    mark_delivered(f.id, merchant_id=f.merchant_id, source=Origin.PLATFORM)
    return Applied(c, True, "delivered", f)


_CHANGES = {CancelFulfillment: _cancel, UpdateTracking: _track, MarkDelivered: _deliver}
_APPLY = {RecordFulfillment: _record, **dict.fromkeys(_CHANGES, _change)}
