"""Sandbox settings and app registration from a shopify.app.toml."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .reference import reference_dir
from .schema import API_VERSION
from .state import App

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET = "stockroom-dev-secret"


@dataclass
class SandboxConfig:
    """Everything ``create_app`` needs; defaults suit ``python -m sandbox.shopify``."""

    schema_dir: Path = field(default_factory=reference_dir)  # vendor/shopify
    app_toml: Path | None = field(default_factory=lambda: REPO_ROOT / "shopify.app.toml")
    api_secret: str = field(default_factory=lambda: os.environ.get("SHOPIFY_API_SECRET",
                                                                   DEV_SECRET))
    seed: int = 1
    api_version: str = API_VERSION
    public_url: str = "http://127.0.0.1:5100"  # where browsers reach the admin (host param)
    access_token_ttl: int = 3600
    online_token_ttl: int = 86399
    refresh_token_ttl: int = 90 * 24 * 3600
    session_token_ttl: int = 60
    auth_code_ttl: int = 600
    webhook_timeout: float = 5.0
    webhook_time_scale: float = 1.0  # < 1 compresses Shopify's 4-hour retry schedule
    webhook_retry_delays: list[float] | None = None
    webhook_verify: object = True  # requests' verify= for HTTPS webhook endpoints (CA bundle)
    start_webhook_worker: bool = True


def load_app(toml_path: Path | str, secret: str, *, application_url: str | None = None,
             redirect_urls: list[str] | None = None) -> App:
    """An :class:`App` from a shopify.app.toml, with optional URL overrides (tests, random ports)."""
    data = tomllib.loads(Path(toml_path).read_text())
    return app_from_dict(data, secret, application_url=application_url,
                         redirect_urls=redirect_urls)


def app_from_dict(data: dict, secret: str, *, application_url: str | None = None,
                  redirect_urls: list[str] | None = None) -> App:
    """An :class:`App` from parsed TOML data."""
    scopes = [s.strip() for s in data.get("access_scopes", {}).get("scopes", "").split(",")
              if s.strip()]
    webhooks = data.get("webhooks", {})
    declared = []
    for sub in webhooks.get("subscriptions", []):
        for topic in sub.get("topics", []):
            declared.append({"topic": topic, "uri": sub["uri"], "compliance": False})
        for topic in sub.get("compliance_topics", []):
            declared.append({"topic": topic, "uri": sub["uri"], "compliance": True})
    return App(client_id=data["client_id"], secret=secret, name=data.get("name", "App"),
               handle=data.get("handle", data["client_id"]),
               application_url=application_url or data["application_url"], scopes=scopes,
               redirect_urls=redirect_urls or list(data.get("auth", {}).get("redirect_urls", [])),
               embedded=bool(data.get("embedded", True)),
               webhook_api_version=webhooks.get("api_version", API_VERSION),
               declared_webhooks=declared)
