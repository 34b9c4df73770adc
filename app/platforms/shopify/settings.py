"""Shopify app settings: shopify.app.toml is the one source of truth; secrets from the environment."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

API_VERSION = "2026-10"
DEFAULT_TOML = Path(__file__).resolve().parents[3] / "shopify.app.toml"
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


@dataclass(frozen=True)
class ShopifySettings:
    """Everything the integration needs to know about the app and where Shopify is."""

    client_id: str
    client_secret: str
    application_url: str
    scopes: tuple[str, ...]
    redirect_urls: tuple[str, ...]
    webhook_api_version: str
    #: topic -> absolute delivery URL (compliance topics included)
    webhook_topics: dict[str, str] = field(default_factory=dict)
    #: The toml's compliance topics (Shopify: declared in the toml only, never via the API).
    compliance_topics: tuple[str, ...] = ()
    #: "https://{shop}" in production; the sandbox's "https://127.0.0.1:5143/shops/{shop}"
    shop_url_template: str = "https://{shop}"
    #: Origins allowed to frame the app besides the shop itself (Content-Security-Policy).
    admin_origins: tuple[str, ...] = ("https://admin.shopify.com",)
    app_bridge_url: str = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
    #: CA bundle for TLS to Shopify (the sandbox's local CA); None = system roots.
    ca_bundle: str | None = None
    timeout_seconds: float = 10.0
    #: Refresh an expiring access token this long before it expires (worker and on use).
    refresh_margin_seconds: float = 300.0
    #: Page size of the post-install import (orders, variants); pages are checkpointed.
    import_page_size: int = 50
    #: Pages one import job takes before handing over to a continuation job (short leases).
    import_pages_per_job: int = 20
    #: Inventory levels read per variant in a catalog page (0: as many as the shop has
    #: locations). Fewer makes bigger pages for shops with very many locations; a variant
    #: with more levels is completed by follow-up queries (platforms/shopify/catalog.py).
    catalog_levels_per_variant: int = 0
    #: A shop with at least this many variants is imported through a bulk query
    #: (platforms/shopify/bulk.py); 0: every shop, negative: none.
    bulk_import_min_variants: int = 10_000
    #: Scheduled reconciliation: how often, and how far before the last sync it looks again.
    reconcile_interval_seconds: float = 900.0
    reconcile_overlap_seconds: float = 300.0
    #: "toml": Shopify delivers the toml's (app-specific) subscriptions, deployed with
    #: `shopify app deploy`; "api": the app creates them per shop with webhookSubscriptionCreate.
    webhooks_via: str = "toml"

    def shop_url(self, shop: str) -> str:
        """Base URL of a shop's admin endpoints (no trailing slash)."""
        return self.shop_url_template.format(shop=shop).rstrip("/")

    def graphql_url(self, shop: str) -> str:
        """The shop's Admin GraphQL endpoint for our API version."""
        return f"{self.shop_url(shop)}/admin/api/{API_VERSION}/graphql.json"

    @property
    def verify(self) -> str | bool:
        """``verify=`` for requests."""
        return self.ca_bundle or True


def load_settings(env: dict[str, str] | None = None, *, toml_path: str | Path | None = None
                  ) -> ShopifySettings | None:
    """Read the toml and the environment; None when SHOPIFY_API_SECRET is unset (not configured)."""
    env = os.environ if env is None else env
    secret = env.get("SHOPIFY_API_SECRET")
    if not secret:
        return None
    path = Path(toml_path or env.get("SHOPIFY_APP_TOML") or DEFAULT_TOML)
    data = tomllib.loads(path.read_text())
    application_url = env.get("SHOPIFY_APP_URL") or data["application_url"]
    origin = _origin(application_url)
    redirect_urls = tuple(_rebase(u, origin, data["application_url"])
                          for u in data.get("auth", {}).get("redirect_urls", []))
    webhooks = data.get("webhooks", {})
    topics: dict[str, str] = {}
    compliance: list[str] = []
    for sub in webhooks.get("subscriptions", []):
        compliance += sub.get("compliance_topics", [])
        uri = urljoin(origin + "/", sub["uri"].lstrip("/")) if sub["uri"].startswith("/") \
            else sub["uri"]
        for topic in sub.get("topics", []) + sub.get("compliance_topics", []):
            topics[topic] = uri
    admin = tuple(o for o in env.get("SHOPIFY_ADMIN_ORIGINS", "https://admin.shopify.com")
                  .split(",") if o)
    return ShopifySettings(
        client_id=data["client_id"], client_secret=secret, application_url=application_url,
        scopes=tuple(s.strip() for s in data["access_scopes"]["scopes"].split(",") if s.strip()),
        redirect_urls=redirect_urls, webhook_api_version=webhooks.get("api_version", API_VERSION),
        webhook_topics=topics, compliance_topics=tuple(compliance),
        shop_url_template=env.get("SHOPIFY_SHOP_URL_TEMPLATE", "https://{shop}"),
        admin_origins=admin,
        app_bridge_url=env.get("SHOPIFY_APP_BRIDGE_URL",
                               "https://cdn.shopify.com/shopifycloud/app-bridge.js"),
        ca_bundle=env.get("SHOPIFY_CA_BUNDLE") or None,
        timeout_seconds=float(env.get("SHOPIFY_TIMEOUT_SECONDS", "10")),
        refresh_margin_seconds=float(env.get("SHOPIFY_REFRESH_MARGIN_SECONDS", "300")),
        import_page_size=int(env.get("SHOPIFY_IMPORT_PAGE_SIZE", "50")),
        import_pages_per_job=int(env.get("SHOPIFY_IMPORT_PAGES_PER_JOB", "20")),
        catalog_levels_per_variant=int(env.get("SHOPIFY_CATALOG_LEVELS_PER_VARIANT", "0")),
        bulk_import_min_variants=int(env.get("SHOPIFY_BULK_IMPORT_MIN_VARIANTS", "10000")),
        reconcile_interval_seconds=float(env.get("SHOPIFY_RECONCILE_INTERVAL_SECONDS", "900")),
        reconcile_overlap_seconds=float(env.get("SHOPIFY_RECONCILE_OVERLAP_SECONDS", "300")),
        webhooks_via=_webhooks_via(env.get("SHOPIFY_WEBHOOKS_VIA", "toml")))


def _webhooks_via(value: str) -> str:
    if value not in ("toml", "api"):
        raise ValueError("SHOPIFY_WEBHOOKS_VIA must be 'toml' or 'api'")
    return value


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _rebase(url: str, origin: str, toml_application_url: str) -> str:
    """Redirect URLs on the toml's host follow SHOPIFY_APP_URL (local ports, tunnels)."""
    if _origin(url) == _origin(toml_application_url):
        return origin + urlsplit(url).path
    return url
