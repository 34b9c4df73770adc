"""What needs the merchant: platform locations to map or that the platform retired, pushes
held for them, and shops that no longer grant the scopes Stockroom needs."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (Channel, ChannelLocation, ChannelStatus, InventoryPushState,
                        RemoteStatus)
from app.platforms.shopify.lifecycle import missing_scopes, reauthorize_url


@dataclass(frozen=True)
class Reauthorization:
    """A shop that must grant scopes again before Stockroom works fully there."""

    channel: Channel
    missing: list[str]
    url: str


@dataclass(frozen=True)
class HeldPushes:
    """Quantities waiting for a platform location that no push may reach (and why)."""

    location: ChannelLocation
    waiting: int
    reason: str


def reauthorizations(merchant_id: int) -> list[Reauthorization]:
    """The merchant's installed Shopify shops missing a scope shopify.app.toml requires."""
    channels = db.session.scalars(select(Channel).where(
        Channel.merchant_id == merchant_id, Channel.status == ChannelStatus.ACTIVE)
        .order_by(Channel.id))
    return [Reauthorization(c, missing, reauthorize_url(c)) for c in channels
            if (missing := missing_scopes(c))]


def location_attention(merchant_id: int) -> dict[str, list[ChannelLocation]]:
    """``unmapped``: active platform locations with no stock location ("needs mapping");
    ``retired``: mapped ones deactivated or deleted on the platform (no push goes there)."""
    rows = db.session.scalars(
        select(ChannelLocation).join(Channel, Channel.id == ChannelLocation.channel_id)
        .where(ChannelLocation.merchant_id == merchant_id,
               Channel.status == ChannelStatus.ACTIVE)
        .order_by(ChannelLocation.channel_id, ChannelLocation.name, ChannelLocation.id)
        .options(selectinload(ChannelLocation.channel))).all()
    return {"unmapped": [cl for cl in rows if cl.stock_location_id is None
                         and cl.remote_status == RemoteStatus.ACTIVE],
            "retired": [cl for cl in rows if cl.stock_location_id is not None
                        and cl.remote_status != RemoteStatus.ACTIVE]}


def held_pushes(merchant_id: int) -> list[HeldPushes]:
    """Unfinished inventory pushes to platform locations deactivated or deleted there."""
    state = InventoryPushState
    rows = db.session.execute(
        select(ChannelLocation, func.count(state.id))
        .join(state, state.channel_location_id == ChannelLocation.id)
        .where(ChannelLocation.merchant_id == merchant_id, state.merchant_id == merchant_id,
               ChannelLocation.remote_status != RemoteStatus.ACTIVE,
               state.generation > state.pushed_generation)
        .group_by(ChannelLocation.id).order_by(ChannelLocation.id)
        .options(selectinload(ChannelLocation.channel))).all()
    reasons = {RemoteStatus.INACTIVE: "deactivated on the platform: its quantities are pushed "
                                      "once it is active again",
               RemoteStatus.DELETED: "deleted on the platform: nothing is pushed there again"}
    return [HeldPushes(cl, count, reasons.get(cl.remote_status, cl.remote_status))
            for cl, count in rows]
