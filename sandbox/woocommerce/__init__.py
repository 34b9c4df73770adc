"""WooCommerce 9.x store emulator: REST v3, OAuth1/Basic auth, wc-auth, webhooks, Shipment Tracking.

``create_app(config)`` builds the WSGI app; serve it on both an HTTP and an HTTPS listener
(see ``__main__`` and docs/sandbox/woocommerce.md). Each store lives under
``/stores/<slug>``, which is its store URL; controls and the owner's admin are under
``/_sandbox/``.
"""
from __future__ import annotations

import os
from typing import Any

from flask import Flask

from sandbox.woocommerce.state import Sandbox

DEFAULTS: dict[str, Any] = {
    "webhook_delay_seconds": 2.0,
    "allow_insecure_http": False,
    "seed": True,
    "base_url": None,
    "outbound_verify": True,
}


def config_from_env(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then WC_SANDBOX_* environment variables, then the given config."""
    merged = dict(DEFAULTS)
    if os.environ.get("WC_SANDBOX_ALLOW_INSECURE_HTTP", "").lower() in ("1", "true", "yes"):
        merged["allow_insecure_http"] = True
    if os.environ.get("WC_SANDBOX_WEBHOOK_DELAY"):
        merged["webhook_delay_seconds"] = float(os.environ["WC_SANDBOX_WEBHOOK_DELAY"])
    merged.update(config or {})
    return merged


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the sandbox app with its in-memory state and its webhook worker thread."""
    from sandbox.woocommerce import admin, api, controls, tracking, wc_auth, webhooks

    settings = config_from_env(config)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "wc-sandbox"
    sandbox = Sandbox(settings)
    sandbox.dispatcher = webhooks.Dispatcher(sandbox, delay=settings["webhook_delay_seconds"])
    sandbox.dispatcher.start()
    sandbox.reset(seed=settings["seed"])
    app.extensions["wc_sandbox"] = sandbox
    _ = tracking  # its routes live on api.bp
    for blueprint in (api.bp, wc_auth.bp, controls.bp, admin.bp):
        app.register_blueprint(blueprint)

    @app.after_request
    def queue_webhooks(response):
        sandbox.flush_events()
        return response

    # A store's web server keeps connections open between requests (HTTP/1.1), so a
    # client that reuses them gains what it would against a real store.
    app.sandbox_keep_alive = True
    return app
