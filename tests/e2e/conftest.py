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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app.extensions import db
from sandbox.server import start_in_thread

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


@pytest.fixture
def live_app(tmp_path):
    """The app on a freshly migrated SQLite database, served on a free loopback port."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "e2e",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
                      "STOCKROOM_SECURE_COOKIES": False})
    with app.app_context():
        upgrade()
    server = start_in_thread(app)
    app.config["E2E_URL"] = server.url
    try:
        yield app
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def shopify_world(tmp_path):
    """Shopify sandbox (HTTP for the browser, HTTPS for the app) + Stockroom on a migrated
    SQLite file + a worker thread, configured the way production reads its environment."""
    from flask_migrate import upgrade

    from app import create_app
    from app.platforms.shopify.settings import load_settings
    from sandbox.shopify import SandboxConfig, create_app as create_sandbox
    from sandbox.tls import ensure_local_tls
    from tests.conftest import TEST_ENCRYPTION_KEY

    tls = ensure_local_tls(tmp_path / "tls")
    config = SandboxConfig(api_secret=SHOPIFY_SECRET, webhook_retry_delays=[0.2, 0.5, 1.0],
                           webhook_verify=str(tls.ca_bundle))
    sandbox = create_sandbox(config)
    http = start_in_thread(sandbox)
    https = start_in_thread(sandbox, ssl_context=tls.server_context())
    config.public_url = http.url
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_settings({
        "SHOPIFY_API_SECRET": SHOPIFY_SECRET, "SHOPIFY_APP_URL": f"{url}/shopify/app",
        "SHOPIFY_SHOP_URL_TEMPLATE": f"{https.url}/shops/{{shop}}",
        "SHOPIFY_ADMIN_ORIGINS": http.url,
        "SHOPIFY_APP_BRIDGE_URL": f"{http.url}/_sandbox/app-bridge.js",
        "SHOPIFY_CA_BUNDLE": str(tls.ca_bundle)})
    app = create_app({"TESTING": True, "SECRET_KEY": "e2e", "STOCKROOM_SECURE_COOKIES": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
                      "ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY], "SHOPIFY_SETTINGS": settings})
    with app.app_context():
        upgrade()
    server = start_in_thread(app, port=port)
    world = ShopifyWorld(app, url, http.url, https.url)
    world.control("POST", "apps", {"client_id": SHOPIFY_CLIENT_ID, "secret": SHOPIFY_SECRET,
                                   "application_url": f"{url}/shopify/app",
                                   "redirect_urls": [f"{url}/shopify/auth/callback"]})
    try:
        with running_worker(app, "e2e-worker"):
            yield world
    finally:
        server.stop()
        sandbox.extensions["shopify_sandbox"].webhooks.stop()
        https.stop()
        http.stop()
        with app.app_context():
            db.engine.dispose()


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
    from flask_migrate import upgrade

    from app import create_app
    from app.platforms.woocommerce.settings import WooSettings, origin_of
    from sandbox.tls import ensure_local_tls
    from sandbox.woocommerce import create_app as create_woo_sandbox
    from tests.conftest import TEST_ENCRYPTION_KEY

    tls = ensure_local_tls(tmp_path / "tls")
    sandbox = create_woo_sandbox({"webhook_delay_seconds": 0,
                                  "outbound_verify": str(tls.ca_bundle)})
    http = start_in_thread(sandbox)
    https = start_in_thread(sandbox, ssl_context=tls.server_context())
    settings = WooSettings(sandbox_origins=frozenset(origin_of(u) for u in (http.url, https.url)),
                           ca_bundle=str(tls.ca_bundle), timeout_seconds=10)
    app = create_app({"TESTING": True, "SECRET_KEY": "e2e-woo",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
                      "ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY], "WOOCOMMERCE_SETTINGS": settings})
    with app.app_context():
        upgrade()
    server = start_in_thread(app, ssl_context=tls.server_context())
    try:
        with running_worker(app, "e2e-woo-worker"):
            yield WooWorld(app, server.url, http.url, https.url, str(tls.ca_bundle))
    finally:
        server.stop()
        sandbox.extensions["wc_sandbox"].dispatcher.stop()
        https.stop()
        http.stop()
        with app.app_context():
            db.engine.dispose()
