"""Stockroom (served over HTTPS) and the WooCommerce sandbox on real sockets; owners as browsers."""
from __future__ import annotations

import re
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
import requests
from flask import has_app_context
from sqlalchemy import select

from app.extensions import db
from app.models import (Channel, ChannelLocation, InventoryItem, JobStatus, Merchant,
                        OutboxEvent, StockLocation)
from app.stock.levels import apply_movements
from app.platforms.woocommerce.settings import WooSettings, origin_of
from app.sync.worker import Worker
from sandbox.server import start_in_thread
from sandbox.tls import ensure_local_tls
from sandbox.woocommerce import create_app as create_woo_sandbox
from tests.conftest import make_test_app, truncate_all

PASSWORD = "correct horse battery"


def release_session() -> None:
    """End the test's own transaction (on SQLite it holds the write lock)."""
    if has_app_context():
        db.session.remove()


@dataclass
class WooSandbox:
    """The running WooCommerce sandbox (both listeners) and its controls."""

    http_url: str
    https_url: str
    ca_bundle: str
    tls: object
    app: object

    def control(self, method: str, path: str, expect: int | None = None, *,
                timeout: float = 15, **kwargs):
        release_session()
        response = requests.request(method, f"{self.http_url}/_sandbox/api{path}",
                                    timeout=timeout, **kwargs)
        if expect is not None:
            assert response.status_code == expect, response.text
        else:
            assert response.status_code < 400, response.text
        return response.json()

    def store_url(self, slug: str = "demo-store", *, https: bool = False) -> str:
        return f"{self.https_url if https else self.http_url}/stores/{slug}"

    def store(self, slug: str = "demo-store") -> dict:
        return self.control("GET", f"/stores/{slug}")

    def drain(self, timeout: float = 60) -> None:
        """Until every queued webhook was delivered. A test that pushes hundreds of products
        leaves as many product.updated deliveries behind; on a loaded machine they take
        longer than 10 s (the wait ends as soon as the queue is empty)."""
        assert self.control("POST", "/webhooks/drain", json={"timeout": timeout},
                            timeout=timeout + 15)["queued"] == 0

    def deliveries(self, **filters) -> list[dict]:
        return self.control("GET", "/deliveries", params=filters)

    def requests_made(self, slug: str = "demo-store") -> dict[str, int]:
        return self.control("GET", f"/stores/{slug}/requests")

    def rest(self, slug: str, method: str, path: str, version: str = "wc/v3", **kwargs):
        """A REST call with the store's seeded read_write key (Basic auth over https)."""
        release_session()
        key = next(k for k in self.store(slug)["keys"] if k["permissions"] == "read_write")
        response = requests.request(
            method, f"{self.store_url(slug, https=True)}/wp-json/{version}/{path}",
            auth=(key["consumer_key"], key["consumer_secret"]), verify=self.ca_bundle,
            timeout=15, **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    def product_by_sku(self, sku: str, slug: str = "demo-store") -> dict:
        found = self.rest(slug, "GET", "products", params={"sku": sku})
        if found:
            return found[0]
        for product in self.rest(slug, "GET", "products", params={"type": "variable"}):
            for variation in self.rest(slug, "GET", f"products/{product['id']}/variations"):
                if variation["sku"] == sku:
                    return variation
        raise AssertionError(f"no product {sku}")


#: The domain the DNS-rebinding tests' attacker owns (test_dns_rebinding.py): the
#: sandbox's certificate is valid for it too, as a real attacker's store would be.
ATTACKER_DOMAIN = "attacker.test"


@pytest.fixture(scope="session")
def woo_tls(tmp_path_factory):
    return ensure_local_tls(tmp_path_factory.mktemp("woo-tls"),
                            dns_names=(f"*.{ATTACKER_DOMAIN}",))


@pytest.fixture(scope="session")
def woo_sandbox(woo_tls):
    """One sandbox per run (reset per test); webhooks delivered at once."""
    app = create_woo_sandbox({"webhook_delay_seconds": 0,
                              "outbound_verify": str(woo_tls.ca_bundle)})
    http = start_in_thread(app)
    https = start_in_thread(app, ssl_context=woo_tls.server_context())
    yield WooSandbox(http.url, https.url, str(woo_tls.ca_bundle), woo_tls, app)
    app.extensions["wc_sandbox"].dispatcher.stop()
    https.stop()
    http.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def woo_settings(woo_sandbox: WooSandbox, *extra_origins: str) -> WooSettings:
    """Production settings, plus the sandbox's two origins (and any test origin) allowed."""
    return WooSettings(
        sandbox_origins=frozenset(origin_of(u) for u in (woo_sandbox.http_url,
                                                          woo_sandbox.https_url, *extra_origins)),
        ca_bundle=woo_sandbox.ca_bundle, timeout_seconds=30)


@dataclass
class Stockroom:
    """The running app (https), its URL, and helpers to drive the worker."""

    app: object
    url: str
    sandbox: WooSandbox
    ca_bundle: str
    worker_runs: list = field(default_factory=list)

    def run_worker(self, *, until=None, timeout: float = 60.0) -> None:
        """Worker passes until ``until()`` holds (or, without it, the queues stay idle)."""
        release_session()
        worker = Worker(self.app, worker_id="test-worker", poll_seconds=0.05)
        deadline = time.monotonic() + timeout
        idle = 0
        while time.monotonic() < deadline:
            ran = worker.run_pass()
            db.session.remove()
            if until is not None and until():
                db.session.remove()
                return
            idle = idle + 1 if ran == 0 else 0
            if until is None and idle >= 5:
                return
            time.sleep(0.05)
        raise AssertionError("the worker did not reach the expected state in time")

    def settle(self) -> None:
        """Let the sandbox deliver everything, then the worker apply everything."""
        for _ in range(3):
            self.sandbox.drain()
            self.run_worker()
        release_session()


def serve_stockroom(database_url, woo_sandbox, **config):
    """Stockroom on a free port over HTTPS (the sandbox trusts the same local CA)."""
    port = free_port()
    app = make_test_app(database_url, **config)
    server = start_in_thread(app, port=port, ssl_context=woo_sandbox.tls.server_context())
    return app, server, f"https://127.0.0.1:{port}"


@dataclass
class Redirector:
    """A loopback site the test allows as a store origin, redirecting every request to
    ``location``; ``trap_url`` is a loopback server that is NOT allowed (must stay unhit)."""

    url: str = ""
    trap_url: str = ""
    location: str = ""
    hits: list = field(default_factory=list)
    trapped: list = field(default_factory=list)

    def redirect_app(self, environ, start_response):
        self.hits.append(environ.get("PATH_INFO"))
        start_response("302 Found", [("Location", self.location), ("Content-Length", "0")])
        return [b""]

    def trap_app(self, environ, start_response):
        self.trapped.append(environ.get("PATH_INFO"))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"namespaces": ["wc/v3"]}']


@pytest.fixture(scope="session")
def _redirector_servers():
    redirector = Redirector()
    redirect_server = start_in_thread(redirector.redirect_app)
    trap_server = start_in_thread(redirector.trap_app)
    redirector.url, redirector.trap_url = redirect_server.url, trap_server.url
    yield redirector
    redirect_server.stop()
    trap_server.stop()


@pytest.fixture
def redirector(_redirector_servers):
    _redirector_servers.hits.clear()
    _redirector_servers.trapped.clear()
    return _redirector_servers


@contextmanager
def running_stockroom(database_url, woo_sandbox, settings: WooSettings):
    """Stockroom with these WooCommerce settings against the reset sandbox; cleaned up after."""
    woo_sandbox.control("PUT", "/config", json={"allow_insecure_http": False,
                                                "webhook_delay_seconds": 0, "base_url": None})
    woo_sandbox.control("POST", "/reset")
    woo_sandbox.control("DELETE", "/deliveries")
    app, server, url = serve_stockroom(database_url, woo_sandbox, WOOCOMMERCE_SETTINGS=settings)
    with app.app_context():
        try:
            yield Stockroom(app, url, woo_sandbox, woo_sandbox.ca_bundle)
        finally:
            release_session()
            woo_sandbox.drain()
            server.stop()
            truncate_all()
            db.engine.dispose()


@pytest.fixture
def stockroom(database_url, woo_sandbox, _redirector_servers):
    """Stockroom configured like production except that the sandbox origins are allowed."""
    with running_stockroom(database_url, woo_sandbox,
                           woo_settings(woo_sandbox, _redirector_servers.url)) as running:
        yield running


class Forms(HTMLParser):
    """Every form of a page: action, method and fields; and every link."""

    def __init__(self):
        super().__init__()
        self.forms, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""),
                               "method": (attrs.get("method") or "get").lower(), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif tag == "a" and attrs.get("href"):
            self.links.append((attrs.get("class") or "", attrs["href"]))


def parse(html: str) -> Forms:
    forms = Forms()
    forms.feed(html)
    return forms


class Owner:
    """A store owner in a browser: signed in to Stockroom, then approving on the store."""

    def __init__(self, stockroom: Stockroom, email: str = "owner@example.test"):
        self.stockroom = stockroom
        self.http = requests.Session()
        self.http.verify = stockroom.ca_bundle
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.email = email

    def csrf(self, path: str = "/connections") -> str:
        page = self.http.get(self.stockroom.url + path, timeout=15)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text[:500]
        return match.group(1)

    def sign_up(self, business: str = "Acme Goods") -> int:
        release_session()
        token = self.csrf("/sign-up")
        response = self.http.post(self.stockroom.url + "/sign-up", data={
            "email": self.email, "password": PASSWORD, "business_name": business,
            "csrf_token": token}, timeout=15, allow_redirects=False)
        assert response.status_code == 303, response.text[:500]
        from app.models import User
        merchant_id = db.session.scalar(select(User.merchant_id).where(User.email == self.email))
        release_session()
        return merchant_id

    def start_connect(self, store_url: str) -> requests.Response:
        """Submit the Connections form; the answer is not followed."""
        release_session()
        return self.http.post(self.stockroom.url + "/woocommerce/connect",
                              data={"store_url": store_url, "csrf_token": self.csrf()},
                              timeout=30, allow_redirects=False)

    def grant_page(self, store_url: str) -> requests.Response:
        """Connect, then log in on the store: the Approve / Deny page."""
        start = self.start_connect(store_url)
        assert start.status_code == 303, start.text[:500]
        assert "/wc-auth/v1/authorize?" in start.headers["Location"]
        login = self.http.get(start.headers["Location"], timeout=15)  # -> login form
        form = parse(login.text).forms[0]
        fields = dict(form["fields"], username="admin", password="password")
        page = self.http.post(requests.compat.urljoin(login.url, form["action"]), data=fields,
                              timeout=15)
        assert "Approve" in page.text, page.text[:800]
        return page

    def approve(self, store_url: str) -> requests.Response:
        """Approve on the store; follows the redirects back to Stockroom's Connections."""
        page = self.grant_page(store_url)
        href = next(h for c, h in parse(page.text).links if "access_granted" in h)
        return self.http.get(requests.compat.urljoin(page.url, href.replace("&amp;", "&")),
                             timeout=30)

    def deny(self, store_url: str) -> requests.Response:
        page = self.grant_page(store_url)
        href = next(h for c, h in parse(page.text).links if "wc-auth-deny" in c)
        return self.http.get(href.replace("&amp;", "&"), timeout=30)


def make_owner_location(merchant_id: int, name: str = "Warehouse") -> int:
    location = StockLocation(merchant_id=merchant_id, name=name)
    db.session.add(location)
    db.session.commit()
    location_id = location.id
    release_session()
    return location_id


def woo_channel() -> Channel | None:
    return db.session.scalar(select(Channel).where(Channel.platform == "woocommerce"))


def merchant(merchant_id: int) -> Merchant:
    return db.session.get(Merchant, merchant_id)


def connected(stockroom, *, https=False, skus=("TEE-CLASSIC", "HOODIE-M", "BEANIE-BLK"),
              stock: int = 0, truth: str | None = "stockroom"):
    """An owner with a Warehouse and some items, connected to demo-store and imported.

    ``truth``: the opening stock the owner then confirms for the store's location, as on
    the onboarding page ("stockroom": Stockroom's counts are pushed; "platform": the
    store's become Stockroom's); None leaves it unconfirmed (nothing is pushed).
    """
    owner = Owner(stockroom)
    merchant_id = owner.sign_up()
    location_id = make_owner_location(merchant_id)
    location = db.session.get(StockLocation, location_id)
    for sku in skus:
        item = InventoryItem(merchant_id=merchant_id, sku=sku, title=sku)
        db.session.add(item)
        db.session.flush()
        if stock:
            apply_movements(merchant_id, location, {item.id: stock}, reason="received")
    db.session.commit()
    final = owner.approve(stockroom.sandbox.store_url(https=https))
    assert final.url.endswith("/connections"), final.url
    stockroom.run_worker(until=lambda: db.session.scalar(select(OutboxEvent.status).where(
        OutboxEvent.topic == "channel.connected")) == JobStatus.DONE)
    if truth is not None:
        confirm_store_stock(merchant_id, truth)
    return owner, merchant_id, location_id


def store_location() -> ChannelLocation:
    """The WooCommerce channel's one platform location (the store)."""
    return db.session.scalar(select(ChannelLocation).join(Channel).where(
        Channel.platform == "woocommerce"))


def confirm_store_stock(merchant_id: int, truth: str) -> dict:
    """The owner confirms the store location's opening stock (the catalog core's function)."""
    from app.catalog import confirm_opening_stock

    result = confirm_opening_stock(merchant_id, store_location().id, truth)
    db.session.commit()
    release_session()
    return result
