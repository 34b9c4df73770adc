"""WooCommerce integration settings: where Stockroom is reachable, TLS trust, sandbox switches."""
from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

#: The webhook topics registered on every connected store (handled in inbound.py).
WEBHOOK_TOPICS = ("order.created", "order.updated", "order.deleted", "product.created",
                  "product.updated", "product.deleted", "product.restored")


def origin_of(url: str) -> str:
    """``scheme://host:port`` with the port always written (so origins compare exactly)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class WooSettings:
    """Everything the WooCommerce integration reads from the environment."""

    #: Stockroom's public base URL (https in production), for wc-auth's callback/return
    #: URLs and webhook delivery URLs; None = the host the request came in on.
    app_url: str | None = None
    #: Store origins allowed although they are on loopback/private addresses or plain
    #: http: ONLY for the local sandbox (tests, `make demo`). Empty in production.
    sandbox_origins: frozenset[str] = field(default_factory=frozenset)
    #: CA bundle for TLS to stores (the sandbox's local CA); None = system roots.
    ca_bundle: str | None = None
    timeout_seconds: float = 20.0
    #: How often the scheduled reconciliation runs per store, and how far back it
    #: looks before the previous run (clock skew, late writes on the store).
    reconcile_seconds: float = 900.0
    reconcile_overlap_seconds: float = 600.0
    #: Pages (100 products, or 100 orders) one import job reads before it hands over to a
    #: continuation job (short leases; other stores' jobs get their turn).
    import_pages_per_job: int = 20
    app_name: str = "Stockroom"
    #: How store host names are resolved (``socket.getaddrinfo``'s signature): the DNS.
    #: Tests stand in a resolver whose answers change; never read from the environment.
    resolver: Callable[..., list] = socket.getaddrinfo
    #: Addresses the SSRF guard treats as public although they are not: ONLY for tests
    #: that play "the public internet" on loopback. Never read from the environment.
    test_public_addresses: frozenset[str] = field(default_factory=frozenset)

    @property
    def verify(self) -> str | bool:
        """``verify=`` for requests (the woocommerce library passes ``verify_ssl`` through)."""
        return self.ca_bundle or True

    def is_sandbox_origin(self, url: str) -> bool:
        """True when ``url`` is on an origin the sandbox setting allows."""
        return origin_of(url) in self.sandbox_origins


def load_settings(env: dict[str, str] | None = None) -> WooSettings:
    """Read WOOCOMMERCE_* variables (see docs/woocommerce.md)."""
    env = os.environ if env is None else env
    origins = frozenset(origin_of(o) for o in env.get("WOOCOMMERCE_SANDBOX_ORIGINS", "")
                        .split(",") if o.strip())
    return WooSettings(
        app_url=(env.get("WOOCOMMERCE_APP_URL") or "").rstrip("/") or None,
        sandbox_origins=origins,
        ca_bundle=env.get("WOOCOMMERCE_CA_BUNDLE") or None,
        timeout_seconds=float(env.get("WOOCOMMERCE_TIMEOUT_SECONDS", "20")),
        reconcile_seconds=float(env.get("WOOCOMMERCE_RECONCILE_SECONDS", "900")),
        reconcile_overlap_seconds=float(env.get("WOOCOMMERCE_RECONCILE_OVERLAP_SECONDS", "600")),
        import_pages_per_job=int(env.get("WOOCOMMERCE_IMPORT_PAGES_PER_JOB", "20")))
