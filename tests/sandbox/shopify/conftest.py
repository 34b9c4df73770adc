"""Fixtures: one live Shopify sandbox (HTTP + HTTPS listeners) and one webhook receiver per session,
reset before every test; helpers to call GraphQL and the /_sandbox/ controls over real sockets."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest
import requests
from flask import Flask, request

from sandbox.server import start_in_thread
from sandbox.shopify import SandboxConfig, create_app
from sandbox.tls import ensure_local_tls

SHOP = "demo-shop.myshopify.com"
OTHER_SHOP = "second-shop.myshopify.com"
CLIENT_ID = "d5b2c0a4f1e34c9b8a7d6e5f4c3b2a19"
SECRET = "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"  # Shopify format, 32+ bytes
RETRY_DELAYS = [0.2, 0.4, 0.6]


@dataclass
class Receiver:
    """A stand-in app server: records every request, can fail or stall on demand."""

    url: str = ""
    received: list[dict] = field(default_factory=list)
    fail_next: int = 0
    fail_topic: str | None = None  # only deliveries of this topic fail (None: any request)
    stall_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.fail_next = 0
            self.fail_topic = None
            self.stall_seconds = 0.0

    def webhooks(self, topic: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.received
                    if r["path"] == "/shopify/webhooks"
                    and (topic is None or r["headers"].get("X-Shopify-Topic") == topic)]

    def wait_for(self, topic: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """Poll until ``count`` deliveries of ``topic`` arrived (fails the test otherwise)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.webhooks(topic)
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {topic} webhook(s), got {len(self.webhooks(topic))}")


def make_receiver_app(receiver: Receiver) -> Flask:
    app = Flask("receiver")

    @app.route("/<path:path>", methods=["GET", "POST"])
    def catch_all(path):
        with receiver.lock:
            receiver.received.append({"path": "/" + path, "headers": dict(request.headers),
                                      "body": request.get_data(), "args": request.args.to_dict(),
                                      "at": time.monotonic()})
            topic = request.headers.get("X-Shopify-Topic")
            fail = receiver.fail_next > 0 and receiver.fail_topic in (None, topic)
            if fail:
                receiver.fail_next -= 1
            stall = receiver.stall_seconds
        if stall:
            time.sleep(stall)
        return ("boom", 500) if fail else ("", 200)

    return app


@dataclass
class SandboxHandle:
    """URLs and helpers for the running sandbox."""

    http_url: str
    https_url: str
    ca_bundle: str
    http: requests.Session

    def shop_url(self, shop: str = SHOP) -> str:
        """The shop URL template applied: https://127.0.0.1:<port>/shops/<shop>."""
        return f"{self.https_url}/shops/{shop}"

    def control(self, method: str, path: str, json=None, expect: int | None = 200):
        resp = self.http.request(method, f"{self.http_url}/_sandbox/{path}", json=json, timeout=10)
        if expect is not None:
            assert resp.status_code == expect, resp.text
        return resp.json()

    def install(self, shop: str = SHOP, **body) -> str:
        """Install the app directly and return an offline access token."""
        return self.control("POST", f"shops/{shop}/install", {"client_id": CLIENT_ID, **body})[
            "access_token"]

    def gql_raw(self, token: str, query: str, variables=None, shop: str = SHOP):
        return requests.post(f"{self.shop_url(shop)}/admin/api/2026-10/graphql.json",
                             json={"query": query, "variables": variables},
                             headers={"X-Shopify-Access-Token": token},
                             verify=self.ca_bundle, timeout=15)

    def gql(self, token: str, query: str, variables=None, shop: str = SHOP) -> dict:
        resp = self.gql_raw(token, query, variables, shop)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def state(self, shop: str = SHOP) -> dict:
        return self.control("GET", f"shops/{shop}")


@pytest.fixture(scope="session")
def receiver():
    rec = Receiver()
    running = start_in_thread(make_receiver_app(rec))
    rec.url = running.url
    yield rec
    running.stop()


@pytest.fixture(scope="session")
def sandbox_servers(tmp_path_factory, receiver):
    tls = ensure_local_tls(tmp_path_factory.mktemp("tls"))
    config = SandboxConfig(api_secret=SECRET, webhook_retry_delays=RETRY_DELAYS,
                           webhook_timeout=1.0, webhook_verify=str(tls.ca_bundle))
    started = time.monotonic()
    app = create_app(config)
    http = start_in_thread(app)
    https = start_in_thread(app, ssl_context=tls.server_context())
    config.public_url = http.url
    startup = time.monotonic() - started
    handle = SandboxHandle(http.url, https.url, str(tls.ca_bundle), requests.Session())
    handle.startup_seconds = startup
    handle.flask_app = app
    yield handle
    app.extensions["shopify_sandbox"].webhooks.stop()
    https.stop()
    http.stop()


@pytest.fixture
def sandbox(sandbox_servers, receiver):
    """A freshly reset sandbox whose app points at the receiver (webhooks, redirect URL)."""
    sandbox_servers.control("POST", "reset", {"seed": 1})
    sandbox_servers.control("POST", "webhooks/settings",
                            {"retry_delays": RETRY_DELAYS, "timeout": 1.0, "time_scale": 1.0})
    sandbox_servers.control("POST", "apps", {
        "secret": SECRET, "application_url": f"{receiver.url}/shopify/app",
        "redirect_urls": [f"{receiver.url}/shopify/auth/callback"]})
    receiver.reset()
    return sandbox_servers


@pytest.fixture
def token(sandbox) -> str:
    """An offline access token with every scope of shopify.app.toml on the demo shop."""
    return sandbox.install()
