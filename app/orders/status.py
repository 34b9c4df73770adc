"""Derived order fulfillment status: computed from the lines, stored on the order for lists."""
from __future__ import annotations

import enum
from collections import Counter

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from app.models import Channel, Order, OrderLine, OrderStatusCount


class OrderStatus(enum.StrEnum):
    """What the merchant sees as the order's fulfillment status."""

    UNFULFILLED = "unfulfilled"
    PARTIALLY_FULFILLED = "partially_fulfilled"
    FULFILLED = "fulfilled"
    CANCELED = "canceled"

    @property
    def label(self) -> str:
        """Human label: "Partially fulfilled"."""
        return self.value.replace("_", " ").capitalize()


def order_status(order: Order) -> OrderStatus:
    """Canceled if the order is; else from ordered vs fulfilled units of its lines."""
    if order.cancelled_at is not None:
        return OrderStatus.CANCELED
    # Lines not flushed yet may still lack their column defaults (None = 0).
    ordered = sum(line.quantity or 0 for line in order.lines)
    fulfilled = sum(line.fulfilled_quantity or 0 for line in order.lines)
    if ordered > 0 and fulfilled >= ordered:
        return OrderStatus.FULFILLED
    if fulfilled > 0:
        return OrderStatus.PARTIALLY_FULFILLED
    return OrderStatus.UNFULFILLED


#: session.info key: the status count deltas of the flush under way.
_DELTAS = "stockroom.order_status_deltas"


@event.listens_for(Session, "before_flush")
def _store_fulfillment_status(session: Session, _context, _instances) -> None:
    """Recompute ``Order.fulfillment_status`` of every order flushed with changes.

    Any change of an order (cancelled_at) or of its lines (quantity, fulfilled_quantity,
    new lines) goes through a flush, wherever it was made, so the stored status can't
    drift from :func:`order_status`. Only ORM changes are seen: a bulk UPDATE of lines
    must set the status itself (demo/seed_bulk.py does).

    Each status that appears, changes or goes (a new, changed or deleted order) is noted
    as a count delta, written after the flush (:func:`_write_status_deltas`).
    """
    deltas: list[tuple[Order | tuple[int, int], str, int]] = []
    session.info[_DELTAS] = deltas
    orders = set()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Order):
            orders.add(obj)
        elif isinstance(obj, OrderLine):
            with session.no_autoflush:
                order = obj.order
            if order is not None:
                orders.add(order)
    with session.no_autoflush:
        for order in orders:
            if order in session.deleted:
                continue
            status = order_status(order).value
            if order.fulfillment_status != status:
                if order.fulfillment_status is not None and order not in session.new:
                    deltas.append((order, order.fulfillment_status, -1))
                deltas.append((order, status, +1))
                order.fulfillment_status = status
            elif order in session.new:
                deltas.append((order, status, +1))
        gone_channels = {obj.id for obj in session.deleted if isinstance(obj, Channel)}
        for obj in session.deleted:
            # An order deleted with its channel takes its counts along (ON DELETE CASCADE).
            if isinstance(obj, Order) and obj.channel_id not in gone_channels:
                deltas.append(((obj.merchant_id, obj.channel_id), obj.fulfillment_status, -1))


@event.listens_for(Session, "after_flush")
def _write_status_deltas(session: Session, _context) -> None:
    """Append the flush's status count deltas: one row per (channel, status) that moved.

    Inserts only, in the flush's transaction: the deltas commit or roll back with the
    orders they count, and no two transactions ever wait on the same counter row.
    """
    deltas = session.info.pop(_DELTAS, None)
    if not deltas:
        return
    net: Counter[tuple[int, int, str]] = Counter()
    for who, status, n in deltas:
        merchant_id, channel_id = (who.merchant_id, who.channel_id) if isinstance(who, Order) \
            else who
        net[(merchant_id, channel_id, status)] += n
    rows = [{"merchant_id": m, "channel_id": c, "status": s, "n": n}
            for (m, c, s), n in sorted(net.items()) if n]
    if rows:
        session.connection().execute(insert(OrderStatusCount), rows)
