"""Shopify changes around the orders: locations created, renamed, (de)activated or deleted;
fulfillment orders split, merged, rescheduled or held; the app's granted scopes changed.

Every handler re-reads what changed from Shopify (the body only says which resource): a
location's state, the order behind a fulfillment order, the installation's scopes. So a
replayed or reordered delivery applies Shopify's current view, never a stale one.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select, update

from app.extensions import db
from app.models import (Channel, ChannelLocation, FulfillmentOrder, Order, Platform, RemoteStatus,
                        WebhookInbox)
from app.models._common import utcnow
from app.platforms.shopify import lifecycle_checks  # noqa: F401 (the topics' payload checks)
from app.platforms.shopify.inbound import _payload
from app.platforms.shopify.mapping import gid
from app.platforms.shopify.sync import ShopifyCall, pull_order
from app.stock.push import mark_dirty
from app.sync.queue import Job
from app.sync.transactions import commit_step, end_read

SHOPIFY = Platform.SHOPIFY
LOCATION_TOPICS = ("locations/create", "locations/update", "locations/activate",
                   "locations/deactivate", "locations/delete")
#: Topics whose payload names fulfillment orders only: the order behind them is re-read.
FULFILLMENT_ORDER_TOPICS = ("fulfillment_orders/split", "fulfillment_orders/merged",
                            "fulfillment_orders/rescheduled", "fulfillment_holds/added",
                            "fulfillment_holds/released")


# --- locations ------------------------------------------------------------------------------

def apply_location(job: Job) -> str:
    """locations/*: Shopify's current view of the location, recorded on its ChannelLocation."""
    payload = _payload(job)
    location_gid = payload.get("admin_graphql_api_id") or gid("Location", payload["id"])
    end_read()
    node = ShopifyCall(job.channel_id)("LocationForSync", {"id": location_gid}).get("location")
    return record_location(job.merchant_id, job.channel_id, location_gid, node)


def record_location(merchant_id: int, channel_id: int, location_gid: str,
                    node: dict | None) -> str:
    """Create, rename, (de)activate or mark deleted one platform location. Flushes.

    ``node`` is LocationForSync's location (None: Shopify no longer has it). A new one is
    listed unmapped ("needs mapping"); a deactivated or deleted one keeps its mapping but
    gets no inventory push (app/stock/push.py); a reactivated, mapped and confirmed one has
    its quantities pushed again. Returns what changed, for the Sync page.
    """
    location = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.merchant_id == merchant_id, ChannelLocation.channel_id == channel_id,
        ChannelLocation.remote_id == location_gid).with_for_update())
    if node is None:
        if location is None:
            return "a location Stockroom never had is gone from Shopify: nothing to change"
        if location.remote_status == RemoteStatus.DELETED:
            return f"{location.name} was already recorded as deleted"
        _set_status(location, RemoteStatus.DELETED)
        return f"{location.name} deleted on Shopify: " + _push_note(location)
    status = RemoteStatus.ACTIVE if node.get("isActive", True) else RemoteStatus.INACTIVE
    if location is None:
        location = ChannelLocation(merchant_id=merchant_id, channel_id=channel_id,
                                   remote_id=location_gid, remote_status=status)
        db.session.add(location)
        _describe(location, node)
        db.session.flush()
        return f"new Shopify location {location.name}: needs mapping on the Locations page"
    notes = []
    if location.name != node["name"]:
        notes.append(f"renamed from {location.name} to {node['name']}")
    _describe(location, node)
    if location.remote_status != status:
        was = location.remote_status
        _set_status(location, status)
        if status == RemoteStatus.INACTIVE:
            notes.append("deactivated on Shopify: " + _push_note(location))
        else:
            notes.append(f"active again on Shopify (was {was})")
            if location.stock_location_id and location.stock_confirmed_at:
                mark_dirty(merchant_id, channel_location_id=location.id)
                notes.append("its quantities are pushed again")
    db.session.flush()
    return f"{location.name}: " + ("; ".join(notes) if notes else "nothing changed")


def reconcile_locations(call: ShopifyCall, merchant_id: int, channel_id: int) -> int:
    """Missed locations/* webhooks: every location Shopify lists (deactivated ones too) goes
    through record_location, and a known one it no longer lists is asked for by id (null:
    deleted). Returns how many locations changed. Commits after each page."""
    seen: set[str] = set()
    changed, after = 0, None
    while True:
        page = call("LocationsForReconcile", {"after": after})["locations"]
        for node in page["nodes"]:
            seen.add(node["id"])
            changed += _changed(record_location(merchant_id, channel_id, node["id"], node))
        commit_step()
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    missing = db.session.scalars(select(ChannelLocation.remote_id).where(
        ChannelLocation.merchant_id == merchant_id, ChannelLocation.channel_id == channel_id,
        ChannelLocation.remote_status != RemoteStatus.DELETED)).all()
    end_read()
    for remote_id in (r for r in missing if r not in seen):
        node = call("LocationForSync", {"id": remote_id}).get("location")
        changed += _changed(record_location(merchant_id, channel_id, remote_id, node))
        commit_step()
    return changed


def _changed(note: str) -> int:
    return int(not note.endswith(("nothing changed", "already recorded as deleted")))


def _describe(location: ChannelLocation, node: dict) -> None:
    location.name = node["name"]
    location.kind = "fulfillment_service" if node.get("fulfillmentService") \
        else "merchant_managed"


def _set_status(location: ChannelLocation, status: str) -> None:
    location.remote_status, location.remote_status_changed_at = status, utcnow()
    db.session.flush()


def _push_note(location: ChannelLocation) -> str:
    if location.stock_location_id is None:
        return "it was not mapped"
    return "no more inventory pushes there (it stays mapped; the Sync page lists what waits)"


# --- fulfillment orders ---------------------------------------------------------------------

def fulfillment_order_gids(payload) -> list[str]:
    """Every fulfillment order a payload names, in order: ``*fulfillment_order`` objects
    (split, rescheduled, holds) and ``fulfillment_order_id`` values (merged's intents)."""
    found: list[str] = []

    def walk(value, key: str = "") -> None:
        if isinstance(value, dict):
            if key.endswith("fulfillment_order") and value.get("id") is not None:
                found.append(gid("FulfillmentOrder", value["id"]))
            for k, v in value.items():
                if k == "fulfillment_order_id" and isinstance(v, int | str) and v:
                    found.append(gid("FulfillmentOrder", v))
                else:
                    walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)

    walk(payload)
    return list(dict.fromkeys(found))


def refresh_fulfillment_orders(job: Job) -> str:
    """split / merged / rescheduled / holds: re-read the order and mirror its fulfillment orders.

    Found through the mirror (any fulfillment order named), else asked from Shopify for the
    first one (a split's new fulfillment orders are not mirrored yet).
    """
    fo_gids = fulfillment_order_gids(_payload(job))
    if not fo_gids:
        return "no fulfillment order in the payload: the scheduled reconciliation will catch up"
    order_gid = db.session.scalar(
        select(Order.remote_id).join(FulfillmentOrder, FulfillmentOrder.order_id == Order.id)
        .where(FulfillmentOrder.merchant_id == job.merchant_id,
               FulfillmentOrder.channel_id == job.channel_id,
               FulfillmentOrder.remote_id.in_(fo_gids)).limit(1))
    end_read()
    call = ShopifyCall(job.channel_id)
    for fo_gid in ([] if order_gid else fo_gids):
        node = call("FulfillmentOrderOrder", {"id": fo_gid}).get("fulfillmentOrder")
        if node is not None:
            order_gid = node["orderId"]
            break
    if order_gid is None:
        return "its fulfillment orders no longer exist on Shopify"
    order = pull_order(call, job.merchant_id, job.channel_id, order_gid)
    if order is None:
        return "the order no longer exists on Shopify"
    # The body names no order: found now, the delivery joins the order's timeline.
    db.session.execute(update(WebhookInbox).where(WebhookInbox.id == job.id,
                                                  WebhookInbox.merchant_id == job.merchant_id)
                       .values(order_remote_id=order_gid))
    return f"fulfillment orders of {order.name} refreshed"


# --- scopes ---------------------------------------------------------------------------------

def _granted(scopes: str) -> set[str]:
    have = {s.strip() for s in (scopes or "").split(",") if s.strip()}
    # A write scope implies its read scope at Shopify.
    return have | {s.replace("write_", "read_", 1) for s in have if s.startswith("write_")}


def missing_scopes(channel: Channel) -> list[str]:
    """The scopes shopify.app.toml requires that the shop has not granted (Shopify channels
    of an installed app; [] otherwise): non-empty means "needs re-authorization"."""
    settings = current_app.extensions.get("stockroom.shopify")
    if settings is None or channel.platform != SHOPIFY or channel.status != "active" \
            or not channel.credentials_encrypted:
        return []
    have = _granted(channel.scopes)
    return [s for s in settings.scopes if s not in have]


def reauthorize_url(channel: Channel) -> str:
    """Where the merchant grants the missing scopes: with Shopify-managed installation, the
    shop's ``/admin/oauth/install?client_id=`` (Shopify opens the app in the admin and asks
    for the app's required scopes first, then the app exchanges a new token)."""
    settings = current_app.extensions["stockroom.shopify"]
    return f"{settings.shop_url(channel.domain)}/admin/oauth/install?client_id={settings.client_id}"


def apply_scopes_update(job: Job) -> str:
    """app/scopes_update: the installation's scopes as Shopify answers them now, recorded."""
    end_read()
    node = ShopifyCall(job.channel_id)("AppAccessScopes")["currentAppInstallation"]
    granted = ",".join(sorted(s["handle"] for s in node["accessScopes"]))
    channel = db.session.get(Channel, job.channel_id, with_for_update=True)
    channel.scopes = granted
    db.session.flush()
    missing = missing_scopes(channel)
    if missing:
        return "needs re-authorization: missing " + ", ".join(missing)
    return "every scope Stockroom needs is granted"
