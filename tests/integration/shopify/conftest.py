"""Stockroom and the Shopify sandbox, both served on real sockets; the worker run on demand."""
from __future__ import annotations

import re
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
import requests
from flask import has_app_context

from app.extensions import db
from app.platforms.shopify.settings import load_settings
from app.sync.worker import Worker
from sandbox.server import start_in_thread
from sandbox.shopify import SandboxConfig, create_app as create_sandbox
from sandbox.tls import ensure_local_tls
from tests.conftest import make_test_app, truncate_all

SHOP = "demo-shop.myshopify.com"
CLIENT_ID = "d5b2c0a4f1e34c9b8a7d6e5f4c3b2a19"
SECRET = "shpss_integration_test_secret_0123456789abcdef"


@dataclass
class SandboxHandle:
    """The running Shopify sandbox."""

    http_url: str
    https_url: str
    ca_bundle: str
    app: object

    def control(self, method: str, path: str, json=None, expect: int = 200) -> dict:
        release_session()  # the sandbox's webhooks make the app write: don't hold the lock
        resp = requests.request(method, f"{self.http_url}/_sandbox/{path}", json=json, timeout=10)
        assert resp.status_code == expect, resp.text
        return resp.json()

    def shop(self, shop: str = SHOP) -> dict:
        return self.control("GET", f"shops/{shop}")

    def gql(self, token: str, query: str, variables=None, shop: str = SHOP) -> dict:
        resp = requests.post(f"{self.https_url}/shops/{shop}/admin/api/2026-10/graphql.json",
                             json={"query": query, "variables": variables or {}},
                             headers={"X-Shopify-Access-Token": token},
                             verify=self.ca_bundle, timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()


def release_session() -> None:
    """End the test's own transaction (on SQLite it holds the write lock, see decision 0001)."""
    if has_app_context():
        db.session.remove()


@pytest.fixture(scope="session")
def shopify_sandbox(tmp_path_factory):
    """One sandbox per run (reset per test), HTTPS for the app's calls, HTTP for browsers."""
    tls = ensure_local_tls(tmp_path_factory.mktemp("tls"))
    config = SandboxConfig(api_secret=SECRET, webhook_retry_delays=[0.2, 0.5, 1.0],
                           webhook_timeout=5.0, webhook_verify=str(tls.ca_bundle))
    app = create_sandbox(config)
    http = start_in_thread(app)
    https = start_in_thread(app, ssl_context=tls.server_context())
    config.public_url = http.url
    yield SandboxHandle(http.url, https.url, str(tls.ca_bundle), app)
    app.extensions["shopify_sandbox"].webhooks.stop()
    https.stop()
    http.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stockroom:
    """The running app, its URL, and helpers to drive the worker."""

    app: object
    url: str
    sandbox: SandboxHandle

    def run_worker(self, *, until=None, timeout: float = 15.0) -> None:
        """Run worker passes until ``until()`` is true (or, without it, the queues are idle)."""
        run_worker_until(self.app, until=until, timeout=timeout)


def run_worker_until(app, *, until=None, timeout: float = 15.0, idle_passes: int = 5,
                     pause: float = 0.05) -> None:
    """Worker passes until ``until()`` is true (without it: ``idle_passes`` idle in a row);
    the session is ended around each check (never hold SQLite's write lock while webhooks
    arrive)."""
    worker = Worker(app, worker_id="test-worker", poll_seconds=0.05)
    deadline = time.monotonic() + timeout
    idle = 0
    while time.monotonic() < deadline:
        ran = worker.run_pass()
        db.session.remove()
        done = until is not None and until()
        db.session.remove()
        if done:
            return
        idle = idle + 1 if ran == 0 else 0
        if until is None and idle >= idle_passes:
            return
        time.sleep(pause)
    raise AssertionError("the worker did not reach the expected state in time")


@contextmanager
def serve_stockroom(database_url, shopify_sandbox, **env):
    """Stockroom on the test database, configured by environment like production (``env``:
    more settings, e.g. SHOPIFY_TIMEOUT_SECONDS), against the reset sandbox (no faults)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_settings({
        "SHOPIFY_API_SECRET": SECRET, "SHOPIFY_APP_URL": f"{url}/shopify/app",
        "SHOPIFY_SHOP_URL_TEMPLATE": f"{shopify_sandbox.https_url}/shops/{{shop}}",
        "SHOPIFY_ADMIN_ORIGINS": shopify_sandbox.http_url,
        "SHOPIFY_APP_BRIDGE_URL": f"{shopify_sandbox.http_url}/_sandbox/app-bridge.js",
        "SHOPIFY_CA_BUNDLE": shopify_sandbox.ca_bundle, **env})
    app = make_test_app(database_url, SHOPIFY_SETTINGS=settings)
    server = start_in_thread(app, port=port)
    shopify_sandbox.control("DELETE", "faults")
    shopify_sandbox.control("POST", "reset", {"seed": 1})
    shopify_sandbox.control("POST", "apps", {
        "client_id": CLIENT_ID, "secret": SECRET, "application_url": f"{url}/shopify/app",
        "redirect_urls": [f"{url}/shopify/auth/callback"]})
    with app.app_context():
        yield Stockroom(app, url, shopify_sandbox)
        server.stop()
        truncate_all()
        db.engine.dispose()


@pytest.fixture
def stockroom(database_url, shopify_sandbox):
    """Stockroom on the test database, configured by environment like production."""
    with serve_stockroom(database_url, shopify_sandbox) as running:
        yield running


class FormParser(HTMLParser):
    """The first form of a page: its action and fields (hidden inputs included)."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self._in_form = None, {}, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action, self._in_form = attrs.get("action", ""), True
        elif tag == "input" and self._in_form and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False


def parse_form(html: str) -> FormParser:
    parser = FormParser()
    parser.feed(html)
    return parser


def iframe_src(html: str) -> str:
    match = re.search(r'<iframe[^>]*id="app-frame"[^>]*src="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1).replace("&amp;", "&")
