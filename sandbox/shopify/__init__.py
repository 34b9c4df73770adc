"""The Shopify sandbox: a local HTTP emulator of Shopify (Admin GraphQL, OAuth, webhooks, admin).

``create_app(config)`` returns a Flask WSGI app; serve it on HTTPS and HTTP listeners (see
``__main__``). State is in memory, per process, reset through ``POST /_sandbox/reset``.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from .config import DEV_SECRET, SandboxConfig, load_app
from .oauth import Auth
from .schema import load_schema
from .state import Store
from .throttle import Buckets
from .webhooks import Dispatcher, WebhookSettings

__all__ = ["create_app", "SandboxConfig", "DEV_SECRET"]


@dataclass
class Sandbox:
    """The pieces every request handler reaches through ``app.extensions['shopify_sandbox']``."""

    config: SandboxConfig
    store: Store
    auth: Auth
    buckets: Buckets
    faults: object
    webhooks: Dispatcher

    def reset(self, seed: int | None = None) -> None:
        """Back to the seeded world: state, buckets, faults, queued webhooks."""
        with self.store.lock:
            self.webhooks.reset()
            self.store.reset(self.config.seed if seed is None else seed)
            self.buckets.reset()
            self.faults.clear()


def create_app(config: SandboxConfig | None = None) -> Flask:
    """Build the sandbox WSGI app (schema loaded, default app registered, webhook worker running)."""
    from . import (admin, bulk_operations, controls, fo_changes, graphql_api,  # noqa: F401
                   locations, oauth)
    from . import returns  # noqa: F401 (returnCreate/returnProcess, the admin's returns)
    from .faults import ApiFaults

    config = config or SandboxConfig()
    load_schema(str(config.schema_dir))  # fail fast on a missing or broken schema
    store = Store(config.seed)
    if config.app_toml:
        app_reg = load_app(config.app_toml, config.api_secret)
        app_reg.id = 1
        store.apps[app_reg.client_id] = app_reg
    buckets = Buckets()
    settings = WebhookSettings(timeout=config.webhook_timeout, time_scale=config.webhook_time_scale,
                               verify=config.webhook_verify)
    if config.webhook_retry_delays is not None:
        settings.retry_delays = list(config.webhook_retry_delays)
    dispatcher = Dispatcher(store, settings, config.schema_dir)
    sandbox = Sandbox(config, store, Auth(store, config), buckets, ApiFaults(buckets), dispatcher)
    flask_app = Flask(__name__)
    flask_app.extensions["shopify_sandbox"] = sandbox
    for bp in (graphql_api.bp, oauth.bp, admin.bp, controls.bp, bulk_operations.bp):
        flask_app.register_blueprint(bp)
    if config.start_webhook_worker:
        dispatcher.start()
    return flask_app
