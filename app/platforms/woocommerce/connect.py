"""Connecting a store with wc-auth: the signed single-use state, saving the keys, the client."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import DomainError
from app.extensions import db
from app.merchants import adopt_store_timezone
from app.models import (Channel, ChannelLocation, ChannelStatus, OutboxEvent, Platform,
                        StockLocation, UsedNonce)
from app.platforms.woocommerce.client import Keys, StoreClient
from app.platforms.woocommerce.mapping import STORE_LOCATION_ID
from app.platforms.woocommerce.settings import WooSettings
from app.security.keyring import get_keyring
from app.sync.cursors import set_cursors
from app.sync.topics import Topic
from app.sync.transactions import end_read

STATE_SALT = "woocommerce-connect"
#: The owner has this long to approve on the store (WooCommerce's own pages: minutes).
STATE_MAX_AGE = 1800
NONCE_PURPOSE = "woocommerce-connect"


class ConnectRefused(DomainError):
    """The key callback can't be accepted (forged, expired, replayed, wrong permissions)."""


@dataclass(frozen=True)
class ConnectState:
    """What the signed state binds: who asked, for which store, where stock comes from."""

    merchant_id: int
    user_id: int | None
    store_url: str
    location_id: int | None
    nonce: str
    name: str = ""
    timezone: str = ""  # the site's zone from its REST index (ProbeResult.timezone)


def settings() -> WooSettings:
    """The running app's WooCommerce settings."""
    return current_app.extensions["stockroom.woocommerce"]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STATE_SALT)


def sign_state(*, merchant_id: int, user_id: int | None, store_url: str,
               location_id: int | None, name: str = "", timezone: str = "") -> str:
    """The value sent as wc-auth's ``user_id``: signed, URL-safe (A-Z a-z 0-9 - _ .)."""
    return _serializer().dumps({"m": merchant_id, "u": user_id, "s": store_url,
                                "l": location_id, "n": secrets.token_urlsafe(18),
                                "nm": name[:120], "tz": timezone[:64]})


def read_state(token: str) -> ConnectState:
    """Verify the signature and age of a state; raises ConnectRefused."""
    try:
        data = _serializer().loads(token or "", max_age=STATE_MAX_AGE)
        return ConnectState(int(data["m"]), data.get("u"), str(data["s"]), data.get("l"),
                            str(data["n"]), str(data.get("nm") or ""),
                            str(data.get("tz") or ""))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ConnectRefused("This connection request is invalid or expired. "
                             "Start again from Connections.") from None


def consume_state(state: ConnectState) -> None:
    """Mark the state used (single use); raises ConnectRefused when it already was. Flushes."""
    try:
        with db.session.begin_nested():
            db.session.add(UsedNonce(purpose=NONCE_PURPOSE, nonce=state.nonce))
    except IntegrityError:
        raise ConnectRefused("This connection request was already used. "
                             "Start again from Connections.") from None


def store_owner(store_url: str) -> int | None:
    """The merchant a store is connected to (active), if any."""
    return db.session.scalar(select(Channel.merchant_id).where(
        Channel.platform == Platform.WOOCOMMERCE, Channel.domain == store_url,
        Channel.status == ChannelStatus.ACTIVE))


def save_connection(state: ConnectState, keys: Keys, *, app_url: str,
                    name: str = "") -> Channel:
    """Store the keys (encrypted) and a fresh webhook secret; queue the initial sync. Flushes.

    The store becomes one ChannelLocation (kind "store") mapped to the stock location
    chosen at connect time. A ``channel.connected`` outbox event makes the worker
    register webhooks and import products and open orders: the key callback itself
    must answer within seconds.
    """
    channel = db.session.scalar(select(Channel).where(
        Channel.platform == Platform.WOOCOMMERCE, Channel.domain == state.store_url)
        .with_for_update())
    if channel is not None and channel.merchant_id != state.merchant_id:
        if channel.status == ChannelStatus.ACTIVE:
            raise ConnectRefused("This store is already connected to another Stockroom "
                                 "account.")
        channel.merchant_id = state.merchant_id
    if channel is None:
        channel = Channel(merchant_id=state.merchant_id, platform=Platform.WOOCOMMERCE,
                          domain=state.store_url, sync_cursors={})
        db.session.add(channel)
    adopt_store_timezone(state.merchant_id, state.timezone)
    ring = get_keyring()
    channel.name = (name or state.name or channel.name
                    or state.store_url.split("://", 1)[1])[:255]
    channel.credentials_encrypted = ring.encrypt_json(keys.__dict__)
    channel.webhook_secret_encrypted = ring.encrypt(secrets.token_urlsafe(32))
    channel.scopes = keys.permissions
    channel.status = ChannelStatus.ACTIVE
    channel.uninstalled_at = None
    set_cursors(channel, {"app_url": app_url})
    db.session.flush()
    _ensure_store_location(channel, state.location_id)
    db.session.add(OutboxEvent(merchant_id=channel.merchant_id, channel_id=channel.id,
                               topic=Topic.CHANNEL_CONNECTED, payload={}))
    db.session.flush()
    return channel


def _ensure_store_location(channel: Channel, location_id: int | None) -> None:
    location = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.channel_id == channel.id,
        ChannelLocation.remote_id == STORE_LOCATION_ID))
    if location is None:
        location = ChannelLocation(merchant_id=channel.merchant_id, channel_id=channel.id,
                                   remote_id=STORE_LOCATION_ID, kind="store")
        db.session.add(location)
    location.name = channel.name
    if location_id is not None and db.session.scalar(select(StockLocation.id).where(
            StockLocation.merchant_id == channel.merchant_id, StockLocation.id == location_id)):
        location.stock_location_id = location_id
    db.session.flush()


def default_location_id(merchant_id: int) -> int | None:
    """Where a new store's stock comes from until the merchant maps it: the first active."""
    return db.session.scalar(select(StockLocation.id).where(
        StockLocation.merchant_id == merchant_id, StockLocation.active.is_(True))
        .order_by(StockLocation.id).limit(1))


def delivery_url(channel: Channel) -> str:
    """Where this store delivers webhooks: Stockroom's URL as the store reached it."""
    base = settings().app_url or (channel.sync_cursors or {}).get("app_url", "")
    return f"{base}/woocommerce/webhooks/{channel.id}"


def webhook_secret(channel: Channel) -> str | None:
    """The channel's webhook secret in clear (None when it has none)."""
    if not channel.webhook_secret_encrypted:
        return None
    return get_keyring().decrypt(channel.webhook_secret_encrypted)


def client_for(channel_id: int) -> StoreClient:
    """A REST client for the channel's store; ends the read transaction (no lock held)."""
    from app.sync.errors import PermanentError

    channel = db.session.get(Channel, channel_id)
    if channel is None or channel.status != ChannelStatus.ACTIVE \
            or not channel.credentials_encrypted:
        end_read()
        raise PermanentError("The WooCommerce store is not connected: reconnect it from "
                             "Connections.")
    keys = Keys(**get_keyring().decrypt_json(channel.credentials_encrypted))
    store_url = channel.domain
    end_read()
    return StoreClient(store_url, keys, settings())
