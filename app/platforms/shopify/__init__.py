"""Shopify integration: install (managed + token exchange, OAuth code grant), embedded session
tokens, webhooks into the inbox, GraphQL client, and the adapter that pushes and pulls."""
from __future__ import annotations

import shopify
from flask import Blueprint, Flask

from app.platforms.shopify.settings import load_settings

bp = Blueprint("shopify", __name__, url_prefix="/shopify")


def init_app(app: Flask) -> None:
    """Read the app's settings (toml + environment) and register the blueprint + authenticator."""
    # The blueprint's routes; job handlers are registered by app/platforms/registry.py.
    from app.platforms.shopify import views  # noqa: F401
    from app.platforms.shopify.embedded import script_session_challenge
    from app.platforms.shopify.webhooks import WebhookIntake
    from app.platforms.shopify.session_tokens import (app_bridge_context, bounce_challenge,
                                                      session_token_authenticator)
    from app.auth import register_authenticator, register_challenge

    settings = app.config.get("SHOPIFY_SETTINGS") or load_settings()
    app.extensions["stockroom.shopify"] = settings
    if settings is not None:
        # ShopifyAPI's HMAC validation (validate_params) reads the class-level secret.
        shopify.Session.setup(api_key=settings.client_id, secret=settings.client_secret)
    app.register_blueprint(bp)
    app.wsgi_app = WebhookIntake(app, app.wsgi_app)
    # A session token outranks a standalone sign-in cookie the same browser may also hold.
    register_authenticator(app, session_token_authenticator, first=True)
    register_challenge(app, script_session_challenge)
    register_challenge(app, bounce_challenge)
    app.context_processor(app_bridge_context)
