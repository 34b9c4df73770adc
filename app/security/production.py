"""Production mode (STOCKROOM_ENV=production): HSTS, Secure cookies, no sandbox settings; and
the trusted reverse proxies (STOCKROOM_TRUSTED_PROXIES) in any mode."""
from __future__ import annotations

import os
import socket

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.security.crypto import Keyring, KeyringError

ENVIRONMENTS = ("development", "production")
HSTS = "max-age=31536000; includeSubDomains"
SHOPIFY_ADMIN = ("https://admin.shopify.com",)
SHOPIFY_APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"


class UnsafeProductionConfig(RuntimeError):
    """The app was asked to start in production with settings only a sandbox may use."""


def is_production(config) -> bool:
    """True when the config says production (an unknown STOCKROOM_ENV is refused)."""
    env = config.get("STOCKROOM_ENV") or "development"
    if env not in ENVIRONMENTS:
        raise UnsafeProductionConfig(
            f"STOCKROOM_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    return env == "production"


def init_production(app: Flask) -> None:
    """Trust the configured proxies; in production, refuse unsafe settings, then add HSTS.

    Called last in ``create_app``: ProxyFix wraps every other middleware (the webhook
    intake too), and the platforms' settings are loaded by then.
    """
    proxies = int(app.config.get("STOCKROOM_TRUSTED_PROXIES") or 0)
    if proxies < 0:
        raise UnsafeProductionConfig("STOCKROOM_TRUSTED_PROXIES must be 0 or more")
    if proxies:
        # Each proxy appends one X-Forwarded-For entry; trust exactly that many, so a
        # client can't forge its address, scheme or host by sending the headers itself.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies)
    if not is_production(app.config):
        return
    problems = production_problems(app)
    if problems:
        raise UnsafeProductionConfig(
            "Refusing to start with STOCKROOM_ENV=production:\n- " + "\n- ".join(problems))
    app.config.update(SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")
    app.after_request(_add_hsts)


def _add_hsts(response):
    # Only over https (directly or as the trusted proxy says): browsers ignore it on http.
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def production_problems(app: Flask) -> list[str]:
    """What in this app's settings must not reach production, one readable line each."""
    config = app.config
    problems = []
    if not config.get("SECRET_KEY"):
        problems.append("SECRET_KEY is not set (sessions and CSRF tokens are signed with it)")
    try:
        Keyring(config.get("ENCRYPTION_KEYS") or [])
    except KeyringError as exc:
        problems.append(str(exc))
    if config.get("DEMO"):
        problems.append("DEMO is on: every visitor would be signed in as the demo merchant")
    secure = config.get("STOCKROOM_SECURE_COOKIES", os.environ.get("STOCKROOM_SECURE_COOKIES"))
    if secure is not None and str(secure).lower() in ("0", "false", "no"):
        problems.append("STOCKROOM_SECURE_COOKIES is off: the session cookie must be Secure")
    woo = app.extensions.get("stockroom.woocommerce")
    if woo is not None:
        if woo.sandbox_origins:
            problems.append("WOOCOMMERCE_SANDBOX_ORIGINS is set: it lets store URLs on "
                            "loopback, private addresses or plain http through (sandbox only)")
        if woo.ca_bundle:
            problems.append("WOOCOMMERCE_CA_BUNDLE is set: stores are verified against the "
                            "system's CAs (the bundle is the sandbox's local CA)")
        if woo.test_public_addresses:
            problems.append("WOOCOMMERCE_SETTINGS.test_public_addresses is set: it lets "
                            "store hosts on those addresses past the SSRF check (tests only)")
        if woo.resolver is not socket.getaddrinfo:
            problems.append("WOOCOMMERCE_SETTINGS.resolver is not the system's DNS: a stand-in "
                            "resolver decides what the SSRF check sees (tests only)")
        if woo.app_url and not woo.app_url.startswith("https://"):
            problems.append(f"WOOCOMMERCE_APP_URL must be https, not {woo.app_url}")
    shopify = app.extensions.get("stockroom.shopify")
    if shopify is not None:
        problems += _shopify_problems(shopify)
    return problems


def _shopify_problems(settings) -> list[str]:
    problems = []
    if settings.shop_url_template != "https://{shop}":
        problems.append("SHOPIFY_SHOP_URL_TEMPLATE points away from the shops "
                        f"({settings.shop_url_template}): the sandbox only")
    if tuple(settings.admin_origins) != SHOPIFY_ADMIN:
        problems.append("SHOPIFY_ADMIN_ORIGINS lets other origins frame the app "
                        f"({', '.join(settings.admin_origins)}): the sandbox only")
    if settings.app_bridge_url != SHOPIFY_APP_BRIDGE:
        problems.append(f"SHOPIFY_APP_BRIDGE_URL must be Shopify's ({SHOPIFY_APP_BRIDGE})")
    if settings.ca_bundle:
        problems.append("SHOPIFY_CA_BUNDLE is set: Shopify is verified against the system's "
                        "CAs (the bundle is the sandbox's local CA)")
    urls = (settings.application_url, *settings.redirect_urls)
    plain = [u for u in urls if not u.startswith("https://")]
    if plain:
        problems.append("the Shopify app URL and redirect URLs must be https "
                        f"(SHOPIFY_APP_URL, shopify.app.toml): {', '.join(plain)}")
    return problems
