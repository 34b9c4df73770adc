"""Shopify blueprint: embedded entry (managed install + token exchange), OAuth code grant."""
from __future__ import annotations

import base64
import hmac
import secrets

import shopify
from flask import (abort, current_app, g, make_response, redirect, render_template,
                   request, url_for)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from shopify.utils import shop_url
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import UsedNonce
from app.platforms.shopify import bp
from app.platforms.shopify.session_tokens import (active_channel, bounce_page, launch_token,
                                                  verify_session_token)
from app.platforms.shopify.tokens import (TokenRequestError, exchange_code,
                                          exchange_session_token, read_credentials, save_install)

STATE_COOKIE = "shopify_oauth_state"
STATE_MAX_AGE = 600


def _settings():
    settings = current_app.extensions.get("stockroom.shopify")
    if settings is None:
        abort(404)
    return settings


def _valid_shop(shop: str | None) -> str:
    shop = (shop or "").strip().lower()
    if not shop or not shop_url.sanitize_shop_domain(shop) or not shop.endswith(".myshopify.com"):
        abort(400, description="That is not a Shopify shop domain (*.myshopify.com).")
    return shop


@bp.get("/app")
def open_app():
    """The embedded app's URL. Managed install: a verified id_token, exchanged if needed."""
    settings = _settings()
    shop = _valid_shop(request.args.get("shop"))
    token = launch_token()
    claims = verify_session_token(token) if token else None
    if claims is None or claims.shop != shop:
        return bounce_page(settings, shop=shop)
    g.shopify_shop = shop  # this shop's install: its admin frames the answer
    channel = active_channel(shop)
    credentials = read_credentials(channel) if channel else None
    db.session.commit()  # no transaction (SQLite: the write lock) across the exchange call
    # channel.scopes: what the shop grants now (app/scopes_update re-reads it), which a
    # token issued before scopes were revoked and granted again does not show.
    if credentials is None or not _has_scopes(credentials.scope, settings.scopes) \
            or not _has_scopes(channel.scopes, settings.scopes):
        try:
            fresh = exchange_session_token(settings, shop, token)
        except TokenRequestError as exc:
            return render_template("shopify/error.html", message=str(exc)), 502
        save_install(shop, fresh)
        db.session.commit()
    return redirect(url_for("web.show_home", shop=shop, host=request.args.get("host", ""),
                            embedded="1", id_token=token))


def _has_scopes(granted: str, required: tuple[str, ...]) -> bool:
    have = {s.strip() for s in granted.split(",")}
    # A write scope implies its read scope at Shopify.
    have |= {s.replace("write_", "read_", 1) for s in have if s.startswith("write_")}
    return set(required) <= have


def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="shopify-oauth-state")


@bp.get("/auth/install")
def start_install():
    """OAuth code grant from outside the admin: check the install request, send to consent."""
    settings = _settings()
    if not shopify.Session.validate_params(request.args.to_dict()):
        abort(400, description="The install link's signature is invalid or expired.")
    shop = _valid_shop(request.args.get("shop"))
    nonce = secrets.token_urlsafe(24)
    state = _state_serializer().dumps({"shop": shop, "nonce": nonce})
    session = shopify.Session(shop, "2026-10")
    session.url = settings.shop_url(shop).split("://", 1)[1]
    target = session.create_permission_url(
        scope=list(settings.scopes), redirect_uri=settings.redirect_urls[0], state=state)
    # create_permission_url writes https://; the shop URL template decides the scheme.
    target = settings.shop_url(shop) + target.split(session.url, 1)[1]
    response = make_response(redirect(target))
    # Bound to this browser: the callback must come back with the same nonce cookie.
    response.set_cookie(STATE_COOKIE, nonce, max_age=STATE_MAX_AGE, httponly=True,
                        secure=request.is_secure, samesite="Lax", path="/shopify/auth")
    return response


@bp.get("/auth/callback")
def finish_install():
    """OAuth callback: HMAC, state (signed, this browser's, single use), then the code, once."""
    settings = _settings()
    params = request.args.to_dict()
    if not shopify.Session.validate_params(params):
        abort(400, description="The callback's signature is invalid or expired.")
    shop = _valid_shop(params.get("shop"))
    try:
        state = _state_serializer().loads(params.get("state", ""), max_age=STATE_MAX_AGE)
    except BadSignature:
        abort(400, description="The install request expired or was not started here.")
    cookie = request.cookies.get(STATE_COOKIE, "")
    if state.get("shop") != shop or not hmac.compare_digest(cookie, state.get("nonce", "")):
        abort(400, description="The install was started in another browser. Start again.")
    try:
        db.session.add(UsedNonce(purpose="shopify-oauth", nonce=state["nonce"]))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        abort(400, description="This install link was already used. Start again.")
    try:
        credentials = exchange_code(settings, shop, params["code"])
    except (TokenRequestError, KeyError) as exc:
        return render_template("shopify/error.html", message=str(exc)), 502
    save_install(shop, credentials)
    db.session.commit()
    response = make_response(redirect(_embedded_url(settings, params.get("host", ""), shop)))
    response.delete_cookie(STATE_COOKIE, path="/shopify/auth")
    return response


def _embedded_url(settings, host: str, shop: str) -> str:
    """Where the app lives in the admin: https://{decoded host}/apps/{api key}."""
    try:
        admin = base64.urlsafe_b64decode(host + "=" * (-len(host) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        admin = ""
    for origin in settings.admin_origins:
        bare = origin.split("://", 1)[1]
        if admin.startswith(bare + "/"):
            return f"{origin.split('://', 1)[0]}://{admin}/apps/{settings.client_id}"
    return url_for("shopify.open_app", shop=shop, host=host, _external=True)


@bp.teardown_app_request
def _forget_embedded_state(exc):
    # ``g`` outlives a request when the caller holds the app context (tests): a shop named
    # for one request must not let the next one be framed.
    for name in ("shopify_shop", "shopify_auth_failed", "channel_id"):
        g.pop(name, None)


@bp.after_app_request
def _frame_policy(response):
    """Clickjacking: a page may be framed only by the admin of the shop it is for.

    ``g.shopify_shop`` names that shop only on an embedded request a verified session token
    of an installed shop authenticated, or on that shop's install (``open_app``); every
    other page, a standalone owner's included, answers ``'none'``. The query string never
    widens it: anyone can add ``?shop=`` to a link they frame.
    """
    shop = g.get("shopify_shop")
    settings = current_app.extensions.get("stockroom.shopify")
    if settings and shop:
        ancestors = " ".join((f"https://{shop}", *settings.admin_origins))
    else:
        ancestors = "'none'"
    response.headers.setdefault("Content-Security-Policy", f"frame-ancestors {ancestors}")
    if g.get("shopify_auth_failed"):
        response.headers["X-Shopify-Retry-Invalid-Session-Request"] = "1"
    return response
