"""Fulfill whole orders (bulk, from the list) or the auto split's parts, each order all or nothing."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.fulfillment.allocation import auto_split, location_options
from app.fulfillment.service import create_fulfillment
from app.models import Fulfillment, Order


def fulfill_whole_order(merchant_id: int, order_id: int, location_id: int | None) -> Fulfillment:
    """Fulfill every unfulfilled unit of one order.

    ``location_id`` None: the one location that covers every tracked line from real stock
    (else from a location that allows negative stock); an order no single location can
    cover is left for the order page. Raises DomainError; flushes, never commits.
    """
    order = _order(merchant_id, order_id)
    wanted = {ln.id: ln.not_shipped_quantity for ln in order.lines if ln.not_shipped_quantity > 0}
    if order.cancelled_at is not None or not wanted:
        raise InvalidInput("Nothing left to fulfill.")
    if location_id is None:
        options = location_options(merchant_id, list(order.lines), wanted)
        split = auto_split(options, list(order.lines), wanted)
        if not split or len(split) > 1:
            raise InvalidInput("No single location has every tracked item: "
                               "fulfill it from the order page.")
        location_id = split[0].location.id
    return create_fulfillment(order.id, wanted, location_id, merchant_id=merchant_id)


def fulfill_auto_split(merchant_id: int, order_id: int, wanted: dict[int, int]
                       ) -> list[Fulfillment]:
    """Fulfill ``wanted`` units from the auto-split proposal: one fulfillment per location.

    All or nothing: the caller commits once, or rolls back every part on an error.
    Raises InvalidInput when no combination of locations covers the units. Flushes.
    """
    order = _order(merchant_id, order_id)
    lines = list(order.lines)
    split = auto_split(location_options(merchant_id, lines, wanted), lines, wanted)
    if not split:
        raise InvalidInput("No combination of locations has enough stock for these items.",
                           field="location")
    return [create_fulfillment(order.id, part.quantities, part.location.id,
                               merchant_id=merchant_id) for part in split]


def _order(merchant_id: int, order_id: int) -> Order:
    # Read without a lock: create_fulfillment locks the order and checks every quantity again.
    order = db.session.scalar(select(Order).where(Order.merchant_id == merchant_id,
                                                  Order.id == order_id)
                              .options(selectinload(Order.lines)))
    if order is None:
        raise NotFound("That order does not exist.")
    return order
