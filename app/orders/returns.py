"""Returns recorded in Stockroom: fulfilled units that came back, restocked per line through the ledger.

A return takes units of an order's live fulfillments (never more than were fulfilled,
less what earlier returns took and what platform refunds already put back), oldest
fulfillment first, so a platform push can name the fulfillment line items they came from.
Restocked units go back at the stock location the merchant chose (by default the one the
line was fulfilled from), through the ledger; the ``order.return_recorded`` outbox event,
written in the same transaction, shows it on the order's timeline and pushes it to the
platform (app/platforms/*/returns.py). docs/decisions/0008-returns.md says why.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.locking import orders_for_update
from app.models import (Fulfillment, FulfillmentLine, FulfillmentStatus, OrderLine,
                        OrderReturn, OrderReturnLine, OutboxEvent, Refund, RefundLine,
                        StockLocation)
from app.stock.levels import Reference, apply_movements, require_location
from app.sync.queue import Job
from app.sync.topics import Topic

#: The ledger reason of units a return put back.
RESTOCK_REASON = "return_restock"
TOPIC = Topic.ORDER_RETURN_RECORDED


@dataclass(frozen=True)
class ReturnLineRequest:
    """What the merchant asks for one order line: units back, restocked or not, and where."""

    order_line_id: int
    quantity: int
    restock: bool
    #: None: where the units were fulfilled from.
    location_id: int | None = None


@dataclass(frozen=True)
class Returnable:
    """Units of an order line that can still come back, per live fulfillment line."""

    order_line_id: int
    #: (fulfillment line id, units left to return, stock location it was fulfilled from)
    parts: tuple[tuple[int, int, int | None], ...]

    @property
    def quantity(self) -> int:
        """Units of the line that can still be returned."""
        return sum(left for _, left, _ in self.parts)

    @property
    def default_location_id(self) -> int | None:
        """The stock location the first returnable units were fulfilled from."""
        return next((loc for _, left, loc in self.parts if left > 0 and loc), None)


class ReturnNotAllowed(InvalidInput):
    """Some lines ask for more than can come back, or are otherwise invalid; ``fields`` maps
    each form field to its message, so every problem shows at once."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("Fix the highlighted lines: nothing was returned.",
                         field=next(iter(fields), None))
        self.fields = fields


def returnable_lines(merchant_id: int, order_id: int) -> dict[int, Returnable]:
    """Order line id -> what can still be returned: fulfilled in live fulfillments, less
    earlier returns (per fulfillment line), platform refunds' restocks and platform returns
    (from the oldest fulfillment first)."""
    rows = db.session.execute(
        select(FulfillmentLine.order_line_id, FulfillmentLine.id, FulfillmentLine.quantity,
               Fulfillment.location_id)
        .join(Fulfillment, Fulfillment.id == FulfillmentLine.fulfillment_id)
        .where(Fulfillment.merchant_id == merchant_id, Fulfillment.order_id == order_id,
               Fulfillment.status != FulfillmentStatus.CANCELED)
        .order_by(Fulfillment.id, FulfillmentLine.id)).all()
    returned = dict(db.session.execute(
        select(OrderReturnLine.fulfillment_line_id, func.sum(OrderReturnLine.quantity))
        .where(OrderReturnLine.fulfillment_line_id.in_([r[1] for r in rows] or [0]))
        .group_by(OrderReturnLine.fulfillment_line_id)).all())
    refunded = refund_restocks(order_id)
    # Units of platform returns name no fulfillment line: taken from the oldest, as refunds.
    for line_id, n in db.session.execute(
            select(OrderReturnLine.order_line_id, func.sum(OrderReturnLine.quantity))
            .join(OrderReturn, OrderReturn.id == OrderReturnLine.return_id)
            .where(OrderReturn.order_id == order_id,
                   OrderReturnLine.fulfillment_line_id.is_(None))
            .group_by(OrderReturnLine.order_line_id)):
        refunded[line_id] = refunded.get(line_id, 0) + int(n or 0)
    parts: dict[int, list] = defaultdict(list)
    for line_id, fl_id, quantity, location_id in rows:
        left = quantity - int(returned.get(fl_id) or 0)
        taken = min(max(left, 0), refunded.get(line_id, 0))
        refunded[line_id] = refunded.get(line_id, 0) - taken
        parts[line_id].append((fl_id, max(left - taken, 0), location_id))
    return {line_id: Returnable(line_id, tuple(p)) for line_id, p in parts.items()}


def refund_restocks(order_id: int) -> dict[int, int]:
    """Order line id -> units platform refunds of the order put back in Stockroom."""
    return {line_id: int(n or 0) for line_id, n in db.session.execute(
        select(RefundLine.order_line_id, func.sum(RefundLine.restocked))
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(Refund.order_id == order_id).group_by(RefundLine.order_line_id))}


def return_restocks(order_line_ids: list[int]) -> dict[int, int]:
    """Order line id -> units returns recorded in Stockroom put back (refunds and cancels
    count them as already back: app/orders/refunds.py)."""
    if not order_line_ids:
        return {}
    return {line_id: int(n or 0) for line_id, n in db.session.execute(
        select(OrderReturnLine.order_line_id, func.sum(OrderReturnLine.restocked))
        .where(OrderReturnLine.order_line_id.in_(order_line_ids))
        .group_by(OrderReturnLine.order_line_id))}


def _restock_location(merchant_id: int, location_id: int | None, field: str
                      ) -> StockLocation:
    if location_id is None:
        raise ReturnNotAllowed({field: "Choose the stock location the items go back to."})
    try:
        return require_location(merchant_id, location_id, for_stock_out=True)
    except NotFound:
        raise ReturnNotAllowed({field: "That stock location does not exist."}) from None
    except InvalidInput as error:
        raise ReturnNotAllowed({field: error.message}) from None


def record_return(merchant_id: int, order_id: int, requests: list[ReturnLineRequest]
                  ) -> OrderReturn:
    """Record a return of the order's fulfilled units, restocking the lines asked. Flushes.

    All or nothing: a line asking for more than can come back (``qty-<line id>``), a
    location that isn't the merchant's or is deactivated (``location-<line id>``) raises
    ReturnNotAllowed naming every such field. Restocked units go back through the ledger
    (``return_restock``); one ``order.return_recorded`` outbox event says what happened
    and pushes the return to the platform. A double submit is stopped by the form token.
    """
    order = orders_for_update(merchant_id, [order_id])[order_id]
    lines = {line.id: line for line in db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id))}
    returnable = returnable_lines(merchant_id, order.id)
    errors: dict[str, str] = {}
    wanted = [r for r in requests if r.quantity]
    for r in wanted:
        line, can = lines.get(r.order_line_id), returnable.get(r.order_line_id)
        left = can.quantity if can else 0
        if line is None:
            errors[f"qty-{r.order_line_id}"] = "That item is not on this order."
        elif r.quantity < 0:
            errors[f"qty-{r.order_line_id}"] = "Can't be negative."
        elif r.quantity > left:
            errors[f"qty-{r.order_line_id}"] = (
                f"Only {left} fulfilled and not returned yet." if left else
                "Nothing of this item was fulfilled and not returned yet.")
    if not wanted and not errors:
        errors["quantities"] = "Choose at least one item to return."
    if errors:
        raise ReturnNotAllowed(errors)
    record = OrderReturn(merchant_id=merchant_id, channel_id=order.channel_id,
                         order_id=order.id, origin="app")
    moves: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    locations: dict[int, StockLocation] = {}
    notes = []
    for r in wanted:
        line, can = lines[r.order_line_id], returnable[r.order_line_id]
        what = f"{r.quantity} × {line.sku or line.title or 'item'}"
        location = None
        if r.restock and line.inventory_item_id:
            location = _restock_location(merchant_id, r.location_id or can.default_location_id,
                                         f"location-{line.id}")
            locations[location.id] = location
            moves[location.id][line.inventory_item_id] += r.quantity
        left = r.quantity
        for fl_id, units, _ in can.parts:
            taken = min(left, units)
            if taken:
                record.lines.append(OrderReturnLine(
                    merchant_id=merchant_id, order_line_id=line.id, fulfillment_line_id=fl_id,
                    quantity=taken, restock=r.restock,
                    location_id=location.id if location else None,
                    restocked=taken if location else 0))
                left -= taken
        notes.append(f"{what} put back at {location.name}" if location else
                     f"{what} not tracked in Stockroom, nothing to put back"
                     if r.restock else f"{what} not restocked")
    db.session.add(record)
    db.session.flush()
    for location_id, deltas in sorted(moves.items()):
        apply_movements(merchant_id, locations[location_id], dict(deltas),
                        reason=RESTOCK_REASON, reference=Reference("return", record.id),
                        note=f"Return #{record.id} of order {order.name}"[:500],
                        check_stock=False)
    record.summary = (f"Return #{record.id}: " + "; ".join(notes) + ".")[:2000]
    db.session.add(OutboxEvent(merchant_id=merchant_id, channel_id=order.channel_id,
                               order_id=order.id, topic=TOPIC,
                               payload={"return_id": record.id, "source": "app",
                                        "summary": record.summary}))
    db.session.flush()
    return record


def show_return(job: Job) -> str:
    """A platform with no return to push to: the timeline note says what moved."""
    return (job.payload or {}).get("summary") or "return recorded"


# --- returns made on the platform ------------------------------------------------------------

@dataclass(frozen=True)
class DispositionData:
    """Units of a platform return's line disposed one way (Shopify's reverse fulfillment
    order disposition): restocked at a platform location, or not."""

    remote_id: str  # the disposition's id: applied once
    remote_line_id: str  # the order line's remote id
    quantity: int
    restocked: bool
    remote_location_id: str | None = None


@dataclass(frozen=True)
class PlatformReturnData:
    """A return as the platform reports it, with the dispositions made so far."""

    remote_id: str
    label: str
    dispositions: tuple[DispositionData, ...] = ()


def known_return(channel_id: int, remote_id: str) -> OrderReturn | None:
    """The return recorded for this platform return (pushed from here, or seen before)."""
    return db.session.scalar(select(OrderReturn).where(OrderReturn.channel_id == channel_id,
                                                       OrderReturn.remote_id == remote_id))


def record_platform_return(merchant_id: int, order_id: int, data: PlatformReturnData
                           ) -> tuple[OrderReturn, str]:
    """Apply a platform return's dispositions not applied yet; (record, what changed). Flushes.

    Each disposition is applied once (its remote id is kept on its return line). Restocked
    units go back at the stock location mapped to the platform location, at most what left
    Stockroom's stock for that line (less what refunds and returns already put back: the
    rule of refunds, docs/decisions/0006). A return pushed from Stockroom is never
    restocked again here: it was restocked when it was recorded. All or nothing: units at an
    unmapped platform location raise UnmappedRestockLocation.
    """
    from app.orders.refunds import UnmappedRestockLocation, _location, _returnable

    order = orders_for_update(merchant_id, [order_id])[order_id]
    record = known_return(order.channel_id, data.remote_id)
    if record is not None and record.origin == "app":
        return record, "made in Stockroom and restocked when it was recorded: nothing again"
    if record is None:
        record = OrderReturn(merchant_id=merchant_id, channel_id=order.channel_id,
                             order_id=order.id, origin="platform", remote_id=data.remote_id)
        db.session.add(record)
    applied = {line.remote_id for line in record.lines}
    lines = {line.remote_id: line for line in db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id))}
    returnable = _returnable(order.id)
    moves: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    locations: dict[int, StockLocation] = {}
    notes, unmapped = [], []
    for d in data.dispositions:
        line = lines.get(d.remote_line_id)
        if d.remote_id in applied or line is None or d.quantity <= 0:
            continue
        what = f"{d.quantity} × {line.sku or line.title or 'item'}"
        row = OrderReturnLine(merchant_id=merchant_id, order_line_id=line.id,
                              quantity=d.quantity, restock=d.restocked, remote_id=d.remote_id)
        record.lines.append(row)
        if not d.restocked:
            notes.append(f"{what}: not restocked on the platform")
            continue
        keys = sorted(k for k in returnable if k[0] == line.id and returnable[k] > 0)
        units = min(d.quantity, sum(returnable[k] for k in keys))
        if units == 0:
            notes.append(f"{what}: never shipped from Stockroom's stock, nothing to put back")
            continue
        location, name = _location(order.channel_id, d.remote_location_id)
        if location is None:
            unmapped.append(name)
            continue
        locations[location.id] = location
        row.location_id, row.restocked, left = location.id, units, units
        for key in keys:
            taken = min(left, returnable[key])
            returnable[key] -= taken
            moves[location.id][key[1]] += taken
            left -= taken
        notes.append(f"{units} × {line.sku} put back at {location.name}")
    if unmapped:
        raise UnmappedRestockLocation(sorted(set(unmapped)))
    db.session.flush()
    for location_id, deltas in sorted(moves.items()):
        apply_movements(merchant_id, locations[location_id], dict(deltas),
                        reason=RESTOCK_REASON, reference=Reference("return", record.id),
                        note=data.label[:500], check_stock=False)
    changed = f"{data.label}: " + ("; ".join(notes) if notes else "nothing new to apply") + "."
    if notes:
        record.summary = (f"{record.summary} {changed}".strip())[:2000]
    db.session.flush()
    return record, changed
