"""Read model of the order page's Shopify fulfillment orders: each open one with the actions offered on it."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import ChannelLocation, FulfillmentOrder, Order
from app.platforms.shopify.actions import FINISHED, offered_actions


@dataclass
class FulfillmentOrderPanel:
    """One fulfillment order as the order page shows it, with what can be done to it."""

    fo: FulfillmentOrder
    actions: list[str]
    move_locations: list[ChannelLocation] = field(default_factory=list)
    #: Query arguments opening the fulfill form on this fulfillment order's lines/location.
    fulfill_args: dict[str, int] = field(default_factory=dict)
    unmapped_location: bool = False


def fulfillment_order_panels(merchant_id: int, order: Order) -> list[FulfillmentOrderPanel]:
    """The order's open fulfillment orders (finished ones left out), each with its actions."""
    fos = list(db.session.scalars(
        select(FulfillmentOrder).where(FulfillmentOrder.merchant_id == merchant_id,
                                       FulfillmentOrder.order_id == order.id,
                                       FulfillmentOrder.status.not_in(FINISHED))
        .order_by(FulfillmentOrder.id).options(selectinload(FulfillmentOrder.lines))))
    if not fos:
        return []
    locations = list(db.session.scalars(
        select(ChannelLocation).where(ChannelLocation.merchant_id == merchant_id,
                                      ChannelLocation.channel_id == order.channel_id)
        .order_by(ChannelLocation.name, ChannelLocation.id)))
    by_remote = {loc.remote_id: loc for loc in locations}
    panels = []
    for fo in fos:
        here = by_remote.get(fo.assigned_location_remote_id)
        remaining: dict[int, int] = {}
        for fol in fo.lines:
            if fol.order_line_id is not None:
                remaining[fol.order_line_id] = (remaining.get(fol.order_line_id, 0)
                                                + fol.remaining_quantity)
        args = {f"qty-{line.id}": min(remaining.get(line.id, 0), line.not_shipped_quantity)
                for line in order.lines}
        if here is not None and here.stock_location_id is not None:
            args["location_id"] = here.stock_location_id
        panels.append(FulfillmentOrderPanel(
            fo=fo, actions=offered_actions(fo),
            # Shopify moves nothing to a deactivated or deleted location.
            move_locations=[loc for loc in locations
                            if loc.remote_id != fo.assigned_location_remote_id
                            and loc.active_on_platform],
            fulfill_args=args, unmapped_location=here is None or here.stock_location_id is None))
    return panels
