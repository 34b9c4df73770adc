"""Embedded-app authentication: Shopify session tokens (JWT HS256) via the ShopifyAPI library."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import shopify
from flask import current_app, g, request
from shopify.session_token import SessionTokenError
from shopify.utils import shop_url
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelStatus, Platform
from app.web.auth import Identity


@dataclass(frozen=True)
class SessionClaims:
    """What a verified session token tells us."""

    shop: str
    user: str
    session_id: str


def verify_session_token(token: str) -> SessionClaims | None:
    """Verify signature (app secret), aud (API key), exp/nbf (10 s leeway), iss/dest match.

    ShopifyAPI's ``decode_from_header`` does the JWT checks with PyJWT; the shop must be a
    valid ``*.myshopify.com`` domain. Returns None for any invalid token.
    """
    settings = current_app.extensions.get("stockroom.shopify")
    if settings is None or not token:
        return None
    try:
        claims = shopify.session_token.decode_from_header(
            f"Bearer {token}", settings.client_id, settings.client_secret)
    except SessionTokenError:
        return None
    shop = urlsplit(claims["dest"]).hostname or ""
    if not shop_url.sanitize_shop_domain(shop):
        return None
    return SessionClaims(shop=shop, user=str(claims.get("sub", "")),
                         session_id=str(claims.get("sid", "")))


def active_channel(shop: str) -> Channel | None:
    """The installed, active Shopify channel of this shop, if any."""
    return db.session.scalar(select(Channel).where(
        Channel.platform == Platform.SHOPIFY, Channel.domain == shop,
        Channel.status == ChannelStatus.ACTIVE))


def bearer_token() -> str | None:
    """The session token of this request: Authorization: Bearer …, or ?id_token= on a load."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer "):]
    return request.args.get("id_token")


def session_token_authenticator() -> Identity | None:
    """Authenticator for app.web.auth: a valid session token of an installed, active shop."""
    token = bearer_token()
    if not token:
        return None
    claims = verify_session_token(token)
    channel = active_channel(claims.shop) if claims else None
    if channel is None:
        g.shopify_auth_failed = True
        return None
    g.shopify_shop = claims.shop
    g.channel_id = channel.id
    return Identity(merchant_id=channel.merchant_id, method="shopify_session_token",
                    cookie_based=False)
