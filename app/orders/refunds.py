"""Refunds from the platforms: recorded once per remote id, restocking what left Stockroom's stock.

Stockroom takes stock when an order is fulfilled, not when it is placed. So a refund puts
units back only where the platform restocked them *and* Stockroom had taken them: at most
the units of the line that left a Stockroom location in a live fulfillment, less what
earlier refunds put back. Units refunded before they shipped never left; the order's
re-read quantity (Shopify's currentQuantity) simply stops asking for them.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.errors import DomainError
from app.extensions import db
from app.locking import orders_for_update
from app.models import (ChannelLocation, Fulfillment, FulfillmentLine, FulfillmentStatus,
                        OrderLine, OutboxEvent, Refund, RefundLine, StockLocation)
from app.orders.returns import refund_restocks, return_restocks
from app.stock.levels import Reference, apply_movements
from app.sync.queue import Job
from app.sync.topics import Topic

#: The ledger reason of units a platform refund put back.
RESTOCK_REASON = "refund_restock"


@dataclass(frozen=True)
class RefundLineData:
    """One line of a platform refund: units of an order line, restocked there or not."""

    remote_line_id: str
    quantity: int
    #: The platform put these units back in stock (Shopify RETURN; Woo with restock).
    restock: bool
    #: The platform location they went back to (Shopify's location_id; a Woo store's one).
    remote_location_id: str | None = None
    #: Why the platform didn't restock, for the timeline ("canceled before shipping").
    reason: str = ""


@dataclass(frozen=True)
class RefundData:
    """A refund as the platform reports it."""

    remote_id: str
    lines: list[RefundLineData] = field(default_factory=list)
    label: str = ""  # how the merchant knows it ("Refund 12345")


class UnmappedRestockLocation(DomainError):
    """Units went back to a platform location mapped to no stock location: nothing applied."""

    def __init__(self, names: list[str]):
        self.names = names
        places = ", ".join(names)
        super().__init__(
            f"The platform restocked items at {places}, which is not mapped to a stock "
            "location: nothing was put back. Map it on the Locations page, then retry.")


def _returnable(order_id: int) -> dict[tuple[int, int], int]:
    """(order line id, item id) -> units that left a Stockroom location in live fulfillments,
    less what earlier refunds put back."""
    out: dict[tuple[int, int], int] = defaultdict(int)
    for line_id, item_id, qty in db.session.execute(
            select(FulfillmentLine.order_line_id, FulfillmentLine.inventory_item_id,
                   func.sum(FulfillmentLine.quantity))
            .join(Fulfillment, Fulfillment.id == FulfillmentLine.fulfillment_id)
            .where(Fulfillment.order_id == order_id, FulfillmentLine.stock_moved.is_(True),
                   FulfillmentLine.inventory_item_id.is_not(None),
                   Fulfillment.status != FulfillmentStatus.CANCELED)
            .group_by(FulfillmentLine.order_line_id, FulfillmentLine.inventory_item_id)):
        out[(line_id, item_id)] += int(qty)
    back = refund_restocks(order_id)
    # A return recorded in Stockroom put its units back already: a refund of them must not.
    for line_id, qty in return_restocks(sorted({k[0] for k in out})).items():
        back[line_id] = back.get(line_id, 0) + qty
    for line_id, qty in back.items():
        left = int(qty or 0)
        for key in sorted(k for k in out if k[0] == line_id):
            taken = min(left, out[key])
            out[key] -= taken
            left -= taken
    return out


def _location(channel_id: int, remote_location_id: str | None
              ) -> tuple[StockLocation | None, str]:
    """The stock location mapped to a platform location, and the platform location's name."""
    mapping = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.channel_id == channel_id,
        ChannelLocation.remote_id == (remote_location_id or "")))
    if mapping is None:
        return None, f"location {remote_location_id or '(none given)'}"
    stock = db.session.get(StockLocation, mapping.stock_location_id) \
        if mapping.stock_location_id else None
    return stock, mapping.name or mapping.remote_id


def record_refund(merchant_id: int, order_id: int, data: RefundData) -> Refund:
    """Record a platform refund of the order once, putting back what it restocked. Flushes.

    Idempotent on the refund's remote id: a refund seen again returns the first record and
    changes nothing. All or nothing: when units to put back went to a platform location
    mapped to no stock location, UnmappedRestockLocation is raised and nothing is recorded
    (a retry after mapping it applies the refund). The order's timeline gets one
    ``order.refund_recorded`` event saying what moved and what did not, and why.
    """
    order = orders_for_update(merchant_id, [order_id])[order_id]
    existing = db.session.scalar(select(Refund).where(
        Refund.channel_id == order.channel_id, Refund.remote_id == data.remote_id))
    if existing is not None:
        return existing
    lines = {line.remote_id: line for line in db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id))}
    returnable = _returnable(order.id)
    refund = Refund(merchant_id=merchant_id, channel_id=order.channel_id, order_id=order.id,
                    remote_id=data.remote_id)
    moves: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))  # loc -> item -> n
    stock_locations: dict[int, StockLocation] = {}
    notes, unmapped = [], []
    for rl in data.lines:
        line = lines.get(rl.remote_line_id)
        if line is None or rl.quantity <= 0:
            continue
        what = f"{rl.quantity} × {line.sku or line.title or 'item'}"
        row = RefundLine(merchant_id=merchant_id, order_line_id=line.id, quantity=rl.quantity)
        refund.lines.append(row)
        if not rl.restock:
            notes.append(f"{what}: not restocked on the platform{_why(rl.reason)}")
            continue
        keys = sorted(k for k in returnable if k[0] == line.id and returnable[k] > 0)
        units = min(rl.quantity, sum(returnable[k] for k in keys))
        if not line.inventory_item_id and not keys:
            notes.append(f"{what}: not tracked in Stockroom, nothing to put back")
            continue
        if units == 0:
            notes.append(f"{what}: never shipped from Stockroom's stock, nothing to put back")
            continue
        location, name = _location(order.channel_id, rl.remote_location_id)
        if location is None:
            unmapped.append(name)
            continue
        stock_locations[location.id] = location
        row.location_id, row.restocked, left = location.id, units, units
        for key in keys:
            taken = min(left, returnable[key])
            returnable[key] -= taken
            moves[location.id][key[1]] += taken
            left -= taken
        notes.append(f"{units} × {line.sku} put back at {location.name}" + (
            f" ({rl.quantity - units} never shipped from Stockroom's stock)"
            if units < rl.quantity else ""))
    if unmapped:
        raise UnmappedRestockLocation(sorted(set(unmapped)))
    db.session.add(refund)
    db.session.flush()
    for location_id, deltas in sorted(moves.items()):
        apply_movements(merchant_id, stock_locations[location_id], dict(deltas),
                        reason=RESTOCK_REASON, reference=Reference("refund", refund.id),
                        note=(data.label or f"Refund {data.remote_id}")[:500],
                        check_stock=False)
    label = data.label or f"Refund {data.remote_id}"
    refund.summary = (f"{label}: " + ("; ".join(notes) if notes else "no items refunded")
                      + ".")[:2000]
    db.session.add(OutboxEvent(merchant_id=merchant_id, channel_id=order.channel_id,
                               order_id=order.id, topic=Topic.ORDER_REFUND_RECORDED,
                               payload={"refund_id": refund.id, "source": "platform",
                                        "summary": refund.summary}))
    db.session.flush()
    return refund


def _why(reason: str) -> str:
    return f" ({reason})" if reason else ""


def show_refund(job: Job) -> str:
    """Timeline only: nothing to push (the refund came from the platform); its note says
    what moved."""
    return (job.payload or {}).get("summary") or "refund recorded"


def units_already_returned(fulfillment: Fulfillment) -> dict[int, int]:
    """Order line id -> units of this live fulfillment that refunds already put back.

    Refunds restock per order line, from the units its live fulfillments took. When one of
    those fulfillments is canceled, the units refunds already returned beyond what the
    line's other live fulfillments took came out of this one: its cancel must not put them
    back a second time (cancel_fulfillment restores the rest).
    """
    line_ids = [fl.order_line_id for fl in fulfillment.lines if fl.stock_moved]
    if not line_ids:
        return {}
    restocked = dict(db.session.execute(
        select(RefundLine.order_line_id, func.sum(RefundLine.restocked))
        .where(RefundLine.order_line_id.in_(line_ids)).group_by(RefundLine.order_line_id)).all())
    for line_id, qty in return_restocks(line_ids).items():  # returns recorded in Stockroom
        restocked[line_id] = int(restocked.get(line_id) or 0) + qty
    if not any(restocked.values()):
        return {}
    shipped = dict(db.session.execute(
        select(FulfillmentLine.order_line_id, func.sum(FulfillmentLine.quantity))
        .join(Fulfillment, Fulfillment.id == FulfillmentLine.fulfillment_id)
        .where(FulfillmentLine.order_line_id.in_(line_ids),
               FulfillmentLine.stock_moved.is_(True),
               Fulfillment.status != FulfillmentStatus.CANCELED)
        .group_by(FulfillmentLine.order_line_id)).all())
    out = {}
    for fl in fulfillment.lines:
        if not fl.stock_moved:
            continue
        others = int(shipped.get(fl.order_line_id) or 0) - fl.quantity
        returned = min(fl.quantity, max(0, int(restocked.get(fl.order_line_id) or 0) - others))
        if returned:
            out[fl.order_line_id] = returned
    return out
