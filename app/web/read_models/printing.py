"""Read models of the printed pages: a pick list over selected orders, a fulfillment's packing slip."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Fulfillment, FulfillmentLine, Merchant, Order
from app.printing.settings import SlipLook, slip_look

UNASSIGNED = "Not assigned to a location yet"
MAX_ORDERS = 250  # as many as a bulk action takes (app/web/bulk.py)


class NothingSelected(InvalidInput):
    """A pick list asked for without any open order of this merchant."""

    def __init__(self):
        super().__init__("Select at least one open order to print a pick list.",
                         field="order_id")


@dataclass
class PickRow:
    """One SKU to take from one location's shelves, and the orders it goes to."""

    sku: str
    title: str
    quantity: int = 0
    orders: dict[str, int] = field(default_factory=dict)  # order name -> units


@dataclass
class PickGroup:
    """A location's rows, by SKU."""

    location: str
    rows: list[PickRow]


@dataclass(frozen=True)
class PickList:
    """What a picker takes off the shelves for the selected orders' open work."""

    orders: list[Order]
    groups: list[PickGroup]


def pick_list(merchant_id: int, order_ids: list[int]) -> PickList:
    """The selected orders' units still to pick, grouped by location, then SKU.

    A fulfillment still to pack (Pending, or Shipped by its tracking before it was packed:
    ``Fulfillment.to_pack``) has taken its units from one location's stock but they are
    still on that location's shelves: picked there. Units in no fulfillment yet (not
    shipped) have no location until someone fulfills them: listed apart. Packed and
    delivered units left already; canceled fulfillments count nothing. There is no bin
    in the stock model, so SKU is the finest shelf order.
    """
    orders = list(db.session.scalars(
        select(Order).where(Order.merchant_id == merchant_id,
                            Order.id.in_(order_ids[:MAX_ORDERS]),
                            Order.cancelled_at.is_(None))
        .options(selectinload(Order.lines)).order_by(Order.placed_at, Order.id)))
    if not orders:
        raise NothingSelected()
    to_pack = db.session.scalars(
        select(FulfillmentLine).join(Fulfillment)
        .where(Fulfillment.merchant_id == merchant_id,
               Fulfillment.order_id.in_([o.id for o in orders]), Fulfillment.to_pack)
        .options(selectinload(FulfillmentLine.order_line),
                 selectinload(FulfillmentLine.fulfillment).selectinload(Fulfillment.location)))
    names = {o.id: o.name for o in orders}
    groups: dict[str, dict[str, PickRow]] = {}

    def add(location: str, sku: str, title: str, order_id: int, quantity: int) -> None:
        row = groups.setdefault(location, {}).setdefault(sku or title, PickRow(sku, title))
        row.quantity += quantity
        row.orders[names[order_id]] = row.orders.get(names[order_id], 0) + quantity

    for fl in to_pack:
        location = fl.fulfillment.location
        add(location.name if location else UNASSIGNED, fl.order_line.sku, fl.order_line.title,
            fl.fulfillment.order_id, fl.quantity)
    for order in orders:
        for line in order.lines:
            if line.not_shipped_quantity > 0:
                add(UNASSIGNED, line.sku, line.title, order.id, line.not_shipped_quantity)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] == UNASSIGNED, kv[0].casefold()))
    return PickList(orders, [PickGroup(loc, sorted(rows.values(),
                                                   key=lambda r: (r.sku.casefold(), r.title)))
                             for loc, rows in ordered])


@dataclass(frozen=True)
class PackingSlip:
    """A fulfillment with its order, shop and the merchant's slip settings."""

    fulfillment: Fulfillment
    order: Order
    shop_name: str
    shop_address: str
    look: SlipLook


def packing_slip(merchant_id: int, fulfillment_id: int) -> PackingSlip:
    """The merchant's fulfillment as a slip, or NotFound."""
    fulfillment = db.session.scalar(
        select(Fulfillment).where(Fulfillment.merchant_id == merchant_id,
                                  Fulfillment.id == fulfillment_id)
        .options(selectinload(Fulfillment.lines).selectinload(FulfillmentLine.order_line),
                 selectinload(Fulfillment.order).selectinload(Order.channel)))
    if fulfillment is None:
        raise NotFound("That fulfillment does not exist.")
    channel = fulfillment.order.channel
    merchant = db.session.get(Merchant, merchant_id)
    # Neither Merchant nor Channel stores a postal address yet: the store's name and URL.
    return PackingSlip(fulfillment, fulfillment.order,
                       channel.name or merchant.name, channel.domain, slip_look(merchant_id))
