"""Embedded-app authentication: Shopify session tokens (JWT HS256) via the ShopifyAPI library."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import shopify
from flask import Response, abort, current_app, g, redirect, render_template, request, url_for
from shopify.session_token import SessionTokenError
from shopify.utils import shop_url
from sqlalchemy import select

from app.extensions import db, htmx
from app.models import Channel, ChannelStatus, Platform
from app.auth import Identity


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
    # PyJWT checks exp and nbf only when present; Shopify's tokens always carry both.
    if not all(isinstance(claims.get(k), int) for k in ("exp", "nbf")):
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


def launch_token() -> str | None:
    """``?id_token=`` of a document load: how Shopify opens the app in the admin
    (``/?embedded=1&host=…&id_token=…&shop=…``) and how the bounce page reloads it. Only a
    GET that is not htmx counts; None on any other request."""
    if request.method != "GET" or htmx:
        return None
    return request.args.get("id_token") or None


def bearer_token() -> str | None:
    """The session token of this request: ``Authorization: Bearer …``, or the launch token."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer "):]
    return launch_token()


def session_token_authenticator() -> Identity | None:
    """Authenticator for app.auth: a valid session token of an installed, active shop.

    A token in the URL of anything but a document load is refused with 401 rather than
    ignored: a URL ends up in logs, history and Referer, so a leaked one must not work
    for a POST (or an htmx request), and the caller learns why.
    """
    token = bearer_token()
    if not token:
        if request.args.get("id_token"):
            abort(401, description="Session tokens are accepted in the Authorization header "
                                   "(in the URL only when the app is opened).")
        return None
    claims = verify_session_token(token)
    channel = active_channel(claims.shop) if claims else None
    if channel is None:
        g.shopify_auth_failed = True
        return None
    # The one place that names a shop for frame-ancestors (views._frame_policy): its
    # admin may frame this response because the token proves the request comes from it.
    g.shopify_shop = claims.shop
    g.channel_id = channel.id
    return Identity(merchant_id=channel.merchant_id, method="shopify_session_token",
                    cookie_based=False)


def app_bridge_context() -> dict:
    """Template context: ``app_bridge`` (API key + script URL) on session-token requests, so
    base.html loads App Bridge only when the page is embedded in Shopify admin."""
    identity = g.get("identity")
    settings = current_app.extensions.get("stockroom.shopify")
    if settings is None or identity is None or identity.method != "shopify_session_token":
        return {"app_bridge": None}
    return {"app_bridge": {"api_key": settings.client_id, "src": settings.app_bridge_url}}


def _framed() -> bool:
    """A page load inside the admin's iframe (a reload, or a link opened there)."""
    return (request.headers.get("Sec-Fetch-Dest") == "iframe"
            or request.args.get("embedded") == "1")


def bounce_challenge() -> Response | None:
    """Challenge for app.auth: a framed page load without a usable session token gets
    Shopify's bounce page (App Bridge supplies a token, the page reloads with it). A valid
    token of a shop that isn't installed yet goes to the install (token exchange)."""
    settings = current_app.extensions.get("stockroom.shopify")
    if settings is None or htmx or not _framed():
        return None
    token = launch_token()
    claims = verify_session_token(token) if token else None
    if claims is not None:  # valid, but the shop has no active channel: install it
        return redirect(url_for("shopify.open_app", shop=claims.shop, embedded="1",
                                host=request.args.get("host", ""), id_token=token))
    if request.args.get("bounced") == "1":  # App Bridge's fresh token failed too: give up
        return None
    return bounce_page(settings)


def bounce_page(settings, *, shop: str | None = None) -> Response:
    """The page that asks App Bridge for a session token and reloads with it.

    It holds nothing but that script, so the admin of ``shop`` (the one the install link
    names, unverified) or, when the shop is unknown until the token comes back, any
    Shopify admin may frame it.
    """
    response = Response(render_template("shopify/bounce.html", api_key=settings.client_id,
                                        app_bridge_url=settings.app_bridge_url))
    response.headers["Content-Security-Policy"] = "frame-ancestors " + " ".join(
        (f"https://{shop}" if shop else "https://*.myshopify.com", *settings.admin_origins))
    return response
