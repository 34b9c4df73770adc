"""Shopify access tokens: token exchange, code grant, expiring-token refresh, stored encrypted."""
from __future__ import annotations

import time
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from sqlalchemy import select, update

from app.extensions import db
from app.models import Channel, ChannelStatus, Merchant, OutboxEvent, Platform
from app.models._common import utcnow
from app.platforms.shopify.settings import ShopifySettings
from app.security.keyring import get_keyring
from app.sync.topics import Topic
from app.sync.transactions import commit_step, end_read

ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
#: Refresh this long before the access token expires.
REFRESH_MARGIN_SECONDS = 300


class TokenRequestError(Exception):
    """Shopify refused a token request (bad code, revoked refresh token, …)."""


class TokenRefused(TokenRequestError):
    """Shopify answered the token request with a refusal (4xx), not a failure to answer: for
    a refresh, the refresh token is revoked or expired (the app was uninstalled)."""


@dataclass(frozen=True)
class Credentials:
    """An offline access token with its expiry and refresh token (all times epoch seconds)."""

    access_token: str
    scope: str
    expires_at: float | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: float | None = None

    def needs_refresh(self, now: float | None = None, *,
                      margin: float = REFRESH_MARGIN_SECONDS) -> bool:
        """True when the access token expires within ``margin`` (and can be refreshed)."""
        now = time.time() if now is None else now
        return bool(self.refresh_token and self.expires_at
                    and self.expires_at - now < margin)


def _post_token(settings: ShopifySettings, shop: str, grant_type: str, **params: str
                ) -> Credentials:
    """One call to the shop's token endpoint, made by Authlib's OAuth 2 client.

    The client id and secret go in the form body (client_secret_post), as Shopify asks.
    """
    url = f"{settings.shop_url(shop)}/admin/oauth/access_token"
    client = OAuth2Session(settings.client_id, settings.client_secret,
                           token_endpoint_auth_method="client_secret_post")
    client.register_compliance_hook("access_token_response", _refuse_non_200)
    try:
        token = client.fetch_token(url, grant_type=grant_type, timeout=settings.timeout_seconds,
                                   verify=settings.verify,
                                   headers={"Accept": "application/json"}, **params)
    except OAuthError as exc:
        raise TokenRefused(f"token request refused: {exc.error}") from None
    except (requests.RequestException, ValueError) as exc:
        raise TokenRequestError(f"token request failed: {type(exc).__name__}") from None
    finally:
        client.close()
    now = time.time()
    return Credentials(
        access_token=token["access_token"], scope=token.get("scope", ""),
        expires_at=now + int(token["expires_in"]) if token.get("expires_in") else None,
        refresh_token=token.get("refresh_token"),
        refresh_token_expires_at=(now + int(token["refresh_token_expires_in"])
                                  if token.get("refresh_token_expires_in") else None))


def _refuse_non_200(response: requests.Response) -> requests.Response:
    # Shopify answers refusals with {"errors": …}, which is not an OAuth error body.
    if response.status_code in (400, 401, 403):
        raise TokenRefused(f"token request refused: HTTP {response.status_code}")
    if response.status_code != 200:
        raise TokenRequestError(f"token request failed: HTTP {response.status_code}")
    return response


def exchange_session_token(settings: ShopifySettings, shop: str, id_token: str) -> Credentials:
    """Token exchange: the embedded load's id token for an expiring offline access token."""
    return _post_token(settings, shop, TOKEN_EXCHANGE, subject_token=id_token,
                       subject_token_type=ID_TOKEN_TYPE, requested_token_type=OFFLINE_TOKEN_TYPE,
                       expiring="1")


def exchange_code(settings: ShopifySettings, shop: str, code: str) -> Credentials:
    """Authorization-code grant: the callback's code for an expiring offline access token."""
    return _post_token(settings, shop, "authorization_code", code=code, expiring="1")


def _refresh(settings: ShopifySettings, shop: str, refresh_token: str) -> Credentials:
    return _post_token(settings, shop, "refresh_token", refresh_token=refresh_token)


def _encrypt(credentials: Credentials) -> bytes:
    return get_keyring().encrypt_json(credentials.__dict__)


def read_credentials(channel: Channel) -> Credentials | None:
    """Decrypt the channel's stored credentials (None when there are none)."""
    if not channel.credentials_encrypted:
        return None
    return Credentials(**get_keyring().decrypt_json(channel.credentials_encrypted))


def save_install(shop: str, credentials: Credentials, *, merchant_id: int | None = None
                 ) -> tuple[Channel, bool]:
    """Create (first install) or reactivate (reinstall) the merchant's channel; flushes.

    A first install creates a merchant for the shop unless ``merchant_id`` names the one
    that connects it (the demo; later: linking a shop to a WooCommerce owner's account).
    Returns (channel, first_install). A ``channel.installed`` outbox event starts the
    initial import (locations, products, open orders) in the worker.
    """
    channel = db.session.scalar(select(Channel).where(
        Channel.platform == Platform.SHOPIFY, Channel.domain == shop).with_for_update())
    first = channel is None
    if first:
        if merchant_id is None:
            merchant = Merchant(name=shop.removesuffix(".myshopify.com"))
            db.session.add(merchant)
            db.session.flush()
            merchant_id = merchant.id
        channel = Channel(merchant_id=merchant_id, platform=Platform.SHOPIFY, domain=shop,
                          name=shop.removesuffix(".myshopify.com"))
        db.session.add(channel)
    channel.credentials_encrypted = _encrypt(credentials)
    channel.scopes = credentials.scope
    channel.status = ChannelStatus.ACTIVE
    channel.uninstalled_at = channel.uninstall_confirmed_at = None
    db.session.flush()
    db.session.add(OutboxEvent(merchant_id=channel.merchant_id, channel_id=channel.id,
                               topic=Topic.CHANNEL_INSTALLED, payload={"first": first}))
    db.session.flush()
    return channel, first


def access_token_for(settings: ShopifySettings, channel_id: int, *, force_refresh: bool = False
                     ) -> str:
    """A usable access token for the channel, refreshing it first when it is about to expire.

    Refresh is compare-and-swap on the encrypted blob, with no lock held during the HTTP
    call: if another worker stored a new token meanwhile, ours (never used) is dropped and
    theirs is returned. Shopify keeps the old refresh token valid until a new access token
    is first used, so a dropped, unused pair can't lock the shop out. A refresh refused
    because another worker already rotated (and used) the pair is no failure either: the
    stored blob changed, and its token is the one to use. Commits.
    """
    channel = db.session.get(Channel, channel_id, populate_existing=True)
    if channel is None or channel.status != ChannelStatus.ACTIVE:
        db.session.rollback()
        raise TokenRequestError("the shop is not connected")
    old_blob, shop = channel.credentials_encrypted, channel.domain
    credentials = read_credentials(channel)
    end_read()  # no transaction (nor SQLite write lock) across the HTTP call
    if credentials is None:
        raise TokenRequestError("the shop has no access token; reinstall the app")
    due = force_refresh or credentials.needs_refresh(margin=settings.refresh_margin_seconds)
    if not due or not credentials.refresh_token:
        return credentials.access_token
    try:
        fresh = _refresh(settings, shop, credentials.refresh_token)
    except TokenRequestError:
        winner = _rotated_since(channel_id, old_blob)
        if winner is None:
            raise
        return winner.access_token
    swapped = db.session.execute(
        update(Channel).where(Channel.id == channel_id,
                              Channel.credentials_encrypted == old_blob)
        .values(credentials_encrypted=_encrypt(fresh), scopes=fresh.scope)).rowcount
    commit_step()
    if swapped:
        return fresh.access_token
    winner = _rotated_since(channel_id, old_blob)
    if winner is None:
        raise TokenRequestError("the shop was disconnected during the refresh")
    return winner.access_token


def _rotated_since(channel_id: int, old_blob: bytes | None) -> Credentials | None:
    """The channel's credentials if another worker replaced ``old_blob`` meanwhile; commits."""
    blob = db.session.scalar(select(Channel.credentials_encrypted).where(
        Channel.id == channel_id, Channel.status == ChannelStatus.ACTIVE))
    end_read()
    if blob is None or blob == old_blob:
        return None
    return Credentials(**get_keyring().decrypt_json(blob))


def refresh_if_due(settings: ShopifySettings, channel_id: int, *, margin: float | None = None
                   ) -> bool:
    """The worker's scheduled refresh: rotate the token now if it expires within ``margin``
    (default: the settings' margin). Returns True when it rotated. Commits."""
    margin = settings.refresh_margin_seconds if margin is None else margin
    channel = db.session.get(Channel, channel_id, populate_existing=True)
    credentials = read_credentials(channel) if channel is not None else None
    end_read()
    if credentials is None or not credentials.needs_refresh(margin=margin):
        return False
    access_token_for(settings, channel_id, force_refresh=True)
    return True


def mark_uninstalled(channel: Channel) -> None:
    """The app is confirmed uninstalled (Shopify refused the token, see installation.py):
    the channel goes inactive and its token is deleted; flushes."""
    now = utcnow()
    channel.status = ChannelStatus.UNINSTALLED
    channel.uninstalled_at = channel.uninstalled_at or now
    channel.uninstall_confirmed_at = channel.uninstall_confirmed_at or now
    channel.credentials_encrypted = None
    db.session.flush()
