"""Fulfillment lifecycle: every state change validated, stock and outbox in one unit of work."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select

from app.errors import (AlreadyCanceled, IllegalTransition, InsufficientStock, InvalidInput,
                        LineExcess, NotFound, OrderCanceled, QuantityExceedsUnfulfilled)
from app.extensions import db
from app.locking import fulfillments_for_update, orders_for_update
from app.models import (Fulfillment, FulfillmentLine, FulfillmentStatus, Order, Origin,
                        OutboxEvent, StockLocation, SyncState)
from app.models._common import utcnow
from app.orders.refunds import units_already_returned
from app.stock.levels import Reference, apply_movements, require_location
from app.sync.topics import Topic

S = FulfillmentStatus

#: Which statuses each action may start from.
_ALLOWED_FROM = {
    "shipped": {S.PENDING},
    "delivered": {S.PENDING, S.SHIPPED},
    "canceled": {S.PENDING, S.SHIPPED},
    "re-tracked": {S.PENDING, S.SHIPPED, S.DELIVERED},
}


@dataclass(frozen=True)
class Tracking:
    """Tracking details of a shipment; all optional, validated by :meth:`validated`."""

    number: str = ""
    company: str = ""
    url: str = ""

    def validated(self) -> Tracking:
        """Stripped copy; raises InvalidInput on an over-long value or a non-web URL."""
        number, company, url = self.number.strip(), self.company.strip(), self.url.strip()
        if len(number) > 255:
            raise InvalidInput("The tracking number is too long.", field="tracking_number")
        if len(company) > 255:
            raise InvalidInput("The carrier name is too long.", field="tracking_company")
        if url:
            parts = urlsplit(url)
            # Only web links: a javascript: or data: URL would run in the merchant's admin.
            if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2048:
                raise InvalidInput("The tracking URL must be a web address (https://…).",
                                   field="tracking_url")
        return Tracking(number, company, url)


NOTHING_CHOSEN = "Choose at least one item to fulfill."
NO_LOCATION = "Choose the stock location to fulfill from."


def line_quantity_problems(order: Order, quantities: Mapping[int, int]) -> dict[int, str]:
    """Line id -> why its quantity can't be fulfilled (negative, more than is left), for
    every line at once, so a form shows them all; :func:`create_fulfillment` checks again."""
    problems = {}
    for line in order.lines:
        qty = quantities.get(line.id, 0)
        if qty < 0:
            problems[line.id] = "Can't be negative."
        elif qty > line.not_shipped_quantity:
            problems[line.id] = f"Only {line.not_shipped_quantity} left to fulfill."
    return problems


def fulfillment_input_problems(quantities: Mapping[int, int], location_id: int | None,
                               tracking: Tracking) -> dict[str, str]:
    """What else is wrong with a fulfill request, by field ("quantities", "location", a
    tracking field), all at once; :func:`create_fulfillment` raises the first of them."""
    problems = {}
    if not any(q > 0 for q in quantities.values()):
        problems["quantities"] = NOTHING_CHOSEN
    if location_id is None:
        problems["location"] = NO_LOCATION
    try:
        tracking.validated()
    except InvalidInput as error:
        problems[error.field or "tracking_url"] = error.message
    return problems


def create_fulfillment(order: Order | int, quantities: Mapping[int, int],
                       location: StockLocation | int | None, *, merchant_id: int,
                       tracking: Tracking | None = None, notify_customer: bool = False,
                       origin: Origin = Origin.APP, remote_id: str | None = None,
                       stock_note: str = "") -> Fulfillment:
    """Fulfill some units of an order's lines from one stock location.

    ``quantities`` maps order-line id -> units (partial or full). Every quantity must be
    a positive whole number no larger than the line's unfulfilled quantity, the location
    must be the merchant's and active, and stock must be available there (unless the
    location allows negative stock). Stock is decremented through the ledger; the
    fulfillment starts Pending, or Shipped when it has a tracking number (a platform's is
    packed too: it left from there); a ``fulfillment.created`` outbox event is written in
    the same unit of work. ``location`` None is only for platform-origin fulfillments at an
    unmapped platform location: recorded, no stock moved, ``stock_note`` says why.
    Flushes, never commits.
    """
    tracking = (tracking or Tracking()).validated()
    order_id = order.id if isinstance(order, Order) else order
    wanted = _validated_quantities(quantities)
    if location is None and origin != Origin.PLATFORM:
        raise InvalidInput(NO_LOCATION, field="location")
    stock_location = None
    if location is not None:
        location_id = location.id if isinstance(location, StockLocation) else location
        stock_location = require_location(merchant_id, location_id, for_stock_out=True)

    order = orders_for_update(merchant_id, [order_id]).get(order_id)
    if order is None:
        raise NotFound("That order does not exist.")
    if order.cancelled_at is not None:
        raise OrderCanceled(f"Order {order.name} is canceled: nothing can be fulfilled.")
    lines = {line.id: line for line in order.lines}
    unknown = sorted(set(wanted) - set(lines))
    if unknown:
        raise InvalidInput(f"Order {order.name} has no line {unknown[0]}.", field="quantities")
    excesses = [LineExcess(lid, lines[lid].title, qty, lines[lid].not_shipped_quantity)
                for lid, qty in sorted(wanted.items()) if qty > lines[lid].not_shipped_quantity]
    if excesses:
        raise QuantityExceedsUnfulfilled(excesses)

    # The order's row is locked (above): no other fulfillment of it takes this number.
    number = 1 + (db.session.scalar(select(func.max(Fulfillment.number)).where(
        Fulfillment.order_id == order.id)) or 0)
    shipped = bool(tracking.number)
    now = utcnow()
    fulfillment = Fulfillment(
        merchant_id=merchant_id, channel_id=order.channel_id, order_id=order.id, number=number,
        location_id=stock_location.id if stock_location else None,
        status=S.SHIPPED if shipped else S.PENDING, shipped_at=now if shipped else None,
        # Made shipped on the platform: packed there. Ours is packed on the pack screen.
        packed_at=now if shipped and origin == Origin.PLATFORM else None,
        origin=origin, remote_id=remote_id, tracking_number=tracking.number,
        tracking_company=tracking.company, tracking_url=tracking.url,
        notify_customer=notify_customer, stock_note=stock_note,
        # A platform fulfillment is already on the platform: nothing to push.
        sync_state=SyncState.SYNCED if origin == Origin.PLATFORM else SyncState.PENDING)
    db.session.add(fulfillment)
    db.session.flush()  # the id is the ledger's reference

    per_item: dict[int, int] = defaultdict(int)
    for line_id, qty in sorted(wanted.items()):
        line = lines[line_id]
        moves_stock = stock_location is not None and line.inventory_item_id is not None
        if moves_stock:
            per_item[line.inventory_item_id] -= qty
        line.fulfilled_quantity += qty
        fulfillment.lines.append(FulfillmentLine(
            merchant_id=merchant_id, order_line_id=line.id, quantity=qty,
            inventory_item_id=line.inventory_item_id, stock_moved=moves_stock))
    if per_item:
        apply_movements(merchant_id, stock_location, per_item, reason="fulfillment",
                        reference=Reference("fulfillment", fulfillment.id))
    _emit(fulfillment, Topic.FULFILLMENT_CREATED, origin, shipped=shipped)
    db.session.flush()
    return fulfillment


def create_platform_fulfillment(order_id: int, quantities: Mapping[int, int],
                                location_id: int | None, *, merchant_id: int,
                                tracking: Tracking, remote_id: str, happened: str,
                                unmapped_note: str) -> Fulfillment:
    """A fulfillment the platform made, recorded with its stock taken at ``location_id``.

    The goods have left already, so the record never fails for want of stock: when the
    mapped location can't cover it (or there is none: ``unmapped_note`` says why), it is
    recorded without moving stock and its note says so, e.g. "Shipped on Shopify, but …".
    Flushes, never commits.
    """
    kwargs = dict(merchant_id=merchant_id, tracking=tracking, origin=Origin.PLATFORM,
                  remote_id=remote_id)
    note = "" if location_id else unmapped_note
    try:
        with db.session.begin_nested():
            return create_fulfillment(order_id, quantities, location_id, stock_note=note,
                                      **kwargs)
    except InsufficientStock as exc:
        return create_fulfillment(order_id, quantities, None, stock_note=(
            f"{happened}, but {exc.message} Stock was not adjusted."), **kwargs)


def _validated_quantities(quantities: Mapping[int, int]) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for line_id, qty in quantities.items():
        if isinstance(qty, bool) or not isinstance(qty, int):
            raise InvalidInput("Quantities must be whole numbers.", field="quantities")
        if qty < 0:
            raise InvalidInput("Quantities can't be negative.", field="quantities")
        if qty > 0:
            wanted[int(line_id)] = qty
    if not wanted:
        raise InvalidInput(NOTHING_CHOSEN, field="quantities")
    return wanted


def mark_shipped(fulfillment_id: int, *, merchant_id: int,
                 source: Origin = Origin.APP) -> Fulfillment:
    """Pending -> Shipped, and packed if it was not: it left the building. ``source`` says
    who made the change (platform: not pushed back). A Shipped one is refused."""
    fulfillment = _transition(fulfillment_id, merchant_id, "shipped")
    fulfillment.status = S.SHIPPED
    fulfillment.shipped_at = utcnow()
    fulfillment.packed_at = fulfillment.packed_at or fulfillment.shipped_at
    _emit(fulfillment, Topic.FULFILLMENT_SHIPPED, source, shipped=True)
    return fulfillment


def mark_delivered(fulfillment_id: int, *, merchant_id: int,
                   source: Origin = Origin.APP) -> Fulfillment:
    """Pending or Shipped -> Delivered."""
    fulfillment = _transition(fulfillment_id, merchant_id, "delivered")
    now = utcnow()
    fulfillment.shipped_at = fulfillment.shipped_at or now
    fulfillment.status = S.DELIVERED
    fulfillment.delivered_at = now
    _emit(fulfillment, Topic.FULFILLMENT_DELIVERED, source)
    return fulfillment


def update_tracking(fulfillment_id: int, tracking: Tracking, *, merchant_id: int,
                    notify_customer: bool = False, source: Origin = Origin.APP) -> Fulfillment:
    """Replace the tracking details of a live fulfillment; a tracking number ships a
    Pending one (not packed: that is the pack screen's). Removing it does not un-ship."""
    tracking = tracking.validated()
    fulfillment = _transition(fulfillment_id, merchant_id, "re-tracked")
    fulfillment.tracking_number = tracking.number
    fulfillment.tracking_company = tracking.company
    fulfillment.tracking_url = tracking.url
    fulfillment.notify_customer = notify_customer
    shipped = fulfillment.status == S.PENDING and bool(tracking.number)
    if shipped:
        fulfillment.status = S.SHIPPED
        fulfillment.shipped_at = utcnow()
    _emit(fulfillment, Topic.FULFILLMENT_TRACKING_UPDATED, source, shipped=shipped)
    return fulfillment


def cancel_fulfillment(fulfillment_id: int, *, merchant_id: int,
                       source: Origin = Origin.APP) -> Fulfillment:
    """Pending or Shipped -> Canceled; restores exactly what it took, where it took it, once
    (less the units a platform refund already put back: app/orders/refunds.py)."""
    fulfillment = _transition(fulfillment_id, merchant_id, "canceled")
    returned = units_already_returned(fulfillment)
    restore: dict[int, int] = defaultdict(int)
    for fline in fulfillment.lines:
        fline.order_line.fulfilled_quantity -= fline.quantity
        if fline.stock_moved:
            restore[fline.inventory_item_id] += fline.quantity - returned.get(
                fline.order_line_id, 0)
    if restore:
        apply_movements(merchant_id, fulfillment.location, restore,
                        reason="fulfillment_canceled",
                        reference=Reference("fulfillment", fulfillment.id), check_stock=False)
    fulfillment.status = S.CANCELED
    fulfillment.canceled_at = utcnow()
    _emit(fulfillment, Topic.FULFILLMENT_CANCELED, source)
    return fulfillment


def _transition(fulfillment_id: int, merchant_id: int, action: str) -> Fulfillment:
    """Lock the order then the fulfillment (the fixed lock order); check the transition."""
    probe = db.session.get(Fulfillment, fulfillment_id)
    if probe is None or probe.merchant_id != merchant_id:
        raise NotFound("That fulfillment does not exist.")
    orders_for_update(merchant_id, [probe.order_id])
    fulfillment = fulfillments_for_update(merchant_id, [fulfillment_id])[fulfillment_id]
    if fulfillment.status not in _ALLOWED_FROM[action]:
        if action == "canceled" and fulfillment.status == S.CANCELED:
            raise AlreadyCanceled(fulfillment.id, fulfillment.name)
        raise IllegalTransition(fulfillment.id, fulfillment.status, action,
                                fulfillment.name)
    return fulfillment


def _emit(fulfillment: Fulfillment, topic: str, source: Origin, *,
          shipped: bool = False) -> None:
    # Every change is an outbox event (the order's timeline shows them all); the worker
    # pushes only those made in Stockroom: a change the platform told us about is
    # already there. ``shipped``: this change made it Shipped (one event per change, so
    # the push of that event says so on the platform: Shopify's IN_TRANSIT event).
    payload = {"fulfillment_id": fulfillment.id, "source": str(source)}
    if shipped:
        payload["shipped"] = True
    db.session.add(OutboxEvent(
        merchant_id=fulfillment.merchant_id, channel_id=fulfillment.channel_id,
        order_id=fulfillment.order_id, topic=topic, payload=payload))
    if source == Origin.APP:
        fulfillment.sync_state = SyncState.PENDING
    db.session.flush()
