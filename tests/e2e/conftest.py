"""Browser tests: the real app on a real socket, driven by Debian's chromium through Playwright.

No browser is downloaded: Playwright launches /usr/bin/chromium (apt-get install chromium),
or the executable in STOCKROOM_CHROMIUM. Screenshots of every main page go to
artifacts/screenshots/ on every run.
"""
from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app.extensions import db
from sandbox.server import start_in_thread
from sandbox.tls import ensure_local_tls

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("STOCKROOM_CHROMIUM", "/usr/bin/chromium")
SHOPIFY_CLIENT_ID = "d5b2c0a4f1e34c9b8a7d6e5f4c3b2a19"  # shopify.app.toml
SHOPIFY_SECRET = "shpss_e2e_browser_test_secret_0123456789abcdef"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextmanager
def running_worker(app, name: str):
    """The real sync worker on a background thread for the block; stopped and joined after."""
    from app.sync.worker import Worker

    worker = Worker(app, worker_id=name, poll_seconds=0.1)
    thread = threading.Thread(target=worker.run, name=name, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def chromium():
    """A headless chromium for the session (skipped with the reason if it is not installed)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("STOCKROOM_REQUIRE_E2E") == "1":
            pytest.fail(f"{CHROMIUM} not found: apt-get install chromium")
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def serving_stockroom(tmp_path: Path, config: dict, *, port: int = 0, ssl_context=None,
                      worker: str | None = None) -> Iterator[tuple[object, str]]:
    """Stockroom on a freshly migrated SQLite file, served on a loopback port (0: any free
    one), with the real sync worker named ``worker`` when given: (app, its URL)."""
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import TEST_ENCRYPTION_KEY

    app = create_app({"TESTING": True, "ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY],
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
                      **config})
    with app.app_context():
        upgrade()
    server = start_in_thread(app, port=port, ssl_context=ssl_context)
    try:
        if worker is None:
            yield app, server.url
        else:
            with running_worker(app, worker):
                yield app, server.url
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


@contextmanager
def http_and_https(app, tls) -> Iterator[tuple]:
    """``app`` on two loopback sockets, plain and TLS (the test CA's certificate)."""
    http = start_in_thread(app)
    https = start_in_thread(app, ssl_context=tls.server_context())
    try:
        yield http, https
    finally:
        https.stop()
        http.stop()


@contextmanager
def shopify_sandbox(tls) -> Iterator[tuple[str, str]]:
    """The Shopify sandbox on HTTP (the browser's admin) and HTTPS (the app's API calls),
    webhooks retried fast and verified against the test CA: (http URL, https URL)."""
    from sandbox.shopify import SandboxConfig, create_app as create_sandbox

    config = SandboxConfig(api_secret=SHOPIFY_SECRET, webhook_retry_delays=[0.2, 0.5, 1.0],
                           webhook_verify=str(tls.ca_bundle))
    sandbox = create_sandbox(config)
    with http_and_https(sandbox, tls) as (http, https):
        config.public_url = http.url
        try:
            yield http.url, https.url
        finally:
            sandbox.extensions["shopify_sandbox"].webhooks.stop()


def shopify_settings(app_url: str, sandbox_http: str, sandbox_https: str, tls):
    """The app's Shopify settings for the sandbox, read the way production reads its env."""
    from app.platforms.shopify.settings import load_settings

    return load_settings({
        "SHOPIFY_API_SECRET": SHOPIFY_SECRET, "SHOPIFY_APP_URL": f"{app_url}/shopify/app",
        "SHOPIFY_SHOP_URL_TEMPLATE": f"{sandbox_https}/shops/{{shop}}",
        "SHOPIFY_ADMIN_ORIGINS": sandbox_http,
        "SHOPIFY_APP_BRIDGE_URL": f"{sandbox_http}/_sandbox/app-bridge.js",
        "SHOPIFY_CA_BUNDLE": str(tls.ca_bundle)})


def shopify_app_registration(app_url: str) -> dict:
    """The sandbox's record of this app (shopify.app.toml's client id, the test secret)."""
    return {"client_id": SHOPIFY_CLIENT_ID, "secret": SHOPIFY_SECRET,
            "application_url": f"{app_url}/shopify/app",
            "redirect_urls": [f"{app_url}/shopify/auth/callback"]}


@contextmanager
def woo_sandbox(tls) -> Iterator[tuple[str, str]]:
    """The WooCommerce sandbox (webhooks at once, verified against the test CA) on HTTP and
    HTTPS: (http URL, https URL)."""
    from sandbox.woocommerce import create_app as create_woo_sandbox

    sandbox = create_woo_sandbox({"webhook_delay_seconds": 0,
                                  "outbound_verify": str(tls.ca_bundle)})
    with http_and_https(sandbox, tls) as (http, https):
        try:
            yield http.url, https.url
        finally:
            sandbox.extensions["wc_sandbox"].dispatcher.stop()


def woo_settings(sandbox_http: str, sandbox_https: str, tls):
    """The app's WooCommerce settings: the sandbox's origins trusted, the test CA."""
    from app.platforms.woocommerce.settings import WooSettings, origin_of

    return WooSettings(sandbox_origins=frozenset(origin_of(u) for u in (sandbox_http,
                                                                        sandbox_https)),
                       ca_bundle=str(tls.ca_bundle), timeout_seconds=10)


def sign_up(page, base: str, email: str, password: str, business: str = "Juniper & Co.") -> None:
    """Sign up on the standalone pages as a new merchant would; lands on Connections."""
    from playwright.sync_api import expect

    page.goto(base + "/sign-up")
    page.get_by_label("Business name").fill(business)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(base + "/connections")


@pytest.fixture
def live_app(tmp_path):
    """The app on a freshly migrated SQLite database, served on a free loopback port."""
    config = {"SECRET_KEY": "e2e", "STOCKROOM_SECURE_COOKIES": False}
    with serving_stockroom(tmp_path, config) as (app, url):
        app.config["E2E_URL"] = url
        yield app


@pytest.fixture
def page(chromium):
    """A fresh browser context and page (1280 px wide), closed afterwards."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class Screenshots:
    """Saves full-page screenshots into artifacts/; ``publish`` copies them to docs/."""

    def __init__(self):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def take(self, page, name: str) -> None:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)

    def publish(self) -> None:
        """Copy this run's screenshots to docs/screenshots/ (STOCKROOM_PUBLISH_SCREENSHOTS=1)."""
        if os.environ.get("STOCKROOM_PUBLISH_SCREENSHOTS") != "1":
            return
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for path in self.taken:
            shutil.copyfile(path, target / path.name)


@pytest.fixture
def screenshots():
    """Screenshot helper for one test."""
    shots = Screenshots()
    yield shots
    shots.publish()


@dataclass
class ShopifyWorld:
    """The Shopify sandbox and Stockroom (with its worker) on real sockets."""

    app: object
    url: str
    sandbox_http: str
    sandbox_https: str

    def control(self, method: str, path: str, json=None) -> dict:
        resp = requests.request(method, f"{self.sandbox_http}/_sandbox/{path}", json=json,
                                timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()


def free_port() -> int:
    """A loopback port free now (for an app whose own URL its settings must name)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def shopify_world(tmp_path):
    """Shopify sandbox (HTTP for the browser, HTTPS for the app) + Stockroom on a migrated
    SQLite file + a worker thread, configured the way production reads its environment."""
    tls = ensure_local_tls(tmp_path / "tls")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with shopify_sandbox(tls) as (http, https), serving_stockroom(
            tmp_path, {"SECRET_KEY": "e2e", "STOCKROOM_SECURE_COOKIES": False,
                       "SHOPIFY_SETTINGS": shopify_settings(url, http, https, tls)},
            port=port, worker="e2e-worker") as (app, _):
        world = ShopifyWorld(app, url, http, https)
        world.control("POST", "apps", shopify_app_registration(url))
        yield world


@dataclass
class WooWorld:
    """The WooCommerce sandbox and Stockroom (over HTTPS, as wc-auth requires) + worker."""

    app: object
    url: str
    sandbox_http: str
    sandbox_https: str
    ca_bundle: str

    def control(self, method: str, path: str, **kwargs):
        resp = requests.request(method, f"{self.sandbox_http}/_sandbox/api{path}", timeout=10,
                                **kwargs)
        assert resp.status_code < 400, resp.text
        return resp.json()

    def rest(self, path: str, slug: str = "demo-store", version: str = "wc/v3"):
        """GET from the store's REST API with its seeded read_write key."""
        key = next(k for k in self.control("GET", f"/stores/{slug}")["keys"]
                   if k["permissions"] == "read_write")
        resp = requests.get(f"{self.sandbox_https}/stores/{slug}/wp-json/{version}/{path}",
                            auth=(key["consumer_key"], key["consumer_secret"]),
                            verify=self.ca_bundle, timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture
def woo_world(tmp_path):
    """WooCommerce sandbox (webhooks at once) + Stockroom on HTTPS with a worker thread."""
    tls = ensure_local_tls(tmp_path / "tls")
    with woo_sandbox(tls) as (http, https), serving_stockroom(
            tmp_path, {"SECRET_KEY": "e2e-woo",
                       "WOOCOMMERCE_SETTINGS": woo_settings(http, https, tls)},
            ssl_context=tls.server_context(), worker="e2e-woo-worker") as (app, url):
        yield WooWorld(app, url, http, https, str(tls.ca_bundle))
