"""Fixtures: one live sandbox (HTTP + HTTPS listeners) per session, reset before each test,
and a recording HTTP(S) receiver standing in for the app's webhook and callback endpoints."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from woocommerce import API

from sandbox.server import start_in_thread
from sandbox.tls import ensure_local_tls
from sandbox.woocommerce import create_app


@dataclass
class Sandbox:
    """The running sandbox: its two base URLs, the CA bundle, and control helpers."""

    http_url: str
    https_url: str
    ca_bundle: str
    app: Any

    def control(self, method: str, path: str, **kwargs) -> Any:
        """Call the JSON control API (over plain HTTP) and return the decoded body."""
        response = requests.request(method, f"{self.http_url}/_sandbox/api{path}", timeout=10,
                                    **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    def store_url(self, slug: str = "demo-store", *, https: bool = False) -> str:
        """The store URL an app is given."""
        return f"{self.https_url if https else self.http_url}/stores/{slug}"

    def key(self, slug: str = "demo-store", permissions: str = "read_write") -> dict[str, Any]:
        """A fresh API key made through the controls."""
        return self.control("POST", f"/stores/{slug}/keys", json={"permissions": permissions})

    def api(self, slug: str = "demo-store", *, permissions: str = "read_write",
            https: bool = False, **kwargs) -> API:
        """The real woocommerce client, as the app will build it."""
        key = self.key(slug, permissions)
        return API(url=self.store_url(slug, https=https), consumer_key=key["consumer_key"],
                   consumer_secret=key["consumer_secret"], wp_api=True, version="wc/v3",
                   timeout=10, **kwargs)

    def drain(self) -> None:
        """Wait until the webhook queue is empty."""
        assert self.control("POST", "/webhooks/drain", json={"timeout": 10})["queued"] == 0

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """The delivery log, filtered."""
        return self.control("GET", "/deliveries", params=filters)


@dataclass
class Receiver:
    """Records every request; answers with the status set for its path (default 200)."""

    url: str = ""
    https_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO", "")
        with self.lock:
            self.requests.append({"method": environ["REQUEST_METHOD"], "path": path,
                                  "query": environ.get("QUERY_STRING", ""),
                                  "headers": headers, "body": body,
                                  "scheme": environ["wsgi.url_scheme"]})
        status = self.statuses.get(path, 200)
        start_response(f"{status} X", [("Content-Type", "text/plain")])
        return [b"ok"]

    def to(self, path: str) -> list[dict[str, Any]]:
        """Requests received on one path."""
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until ``count`` requests reached ``path``."""
        return wait_until(lambda: len(self.to(path)) >= count, timeout) and self.to(path)


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until predicate() is truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail("timed out waiting")


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    """A local CA and loopback certificate for this test session."""
    return ensure_local_tls(tmp_path_factory.mktemp("wc-sandbox-tls"))


@pytest.fixture(scope="session")
def live_sandbox(tls):
    """The sandbox app on an HTTP and an HTTPS port (port 0), webhooks delivered at once."""
    app = create_app({"webhook_delay_seconds": 0, "outbound_verify": str(tls.ca_bundle)})
    http = start_in_thread(app)
    https = start_in_thread(app, ssl_context=tls.server_context())
    yield Sandbox(http.url, https.url, str(tls.ca_bundle), app)
    http.stop()
    https.stop()
    app.extensions["wc_sandbox"].dispatcher.stop()


@pytest.fixture
def wc(live_sandbox):
    """The sandbox, reset to its seed and default config before each test."""
    live_sandbox.control("PUT", "/config", json={"allow_insecure_http": False,
                                                  "webhook_delay_seconds": 0, "base_url": None})
    live_sandbox.control("POST", "/reset")
    yield live_sandbox
    live_sandbox.drain()


@pytest.fixture(scope="session")
def _receiver_servers(tls):
    receiver = Receiver()
    http = start_in_thread(receiver)
    https = start_in_thread(receiver, ssl_context=tls.server_context())
    receiver.url, receiver.https_url = http.url, https.url
    yield receiver
    http.stop()
    https.stop()


@pytest.fixture
def receiver(_receiver_servers):
    """The app stand-in, emptied before each test."""
    with _receiver_servers.lock:
        _receiver_servers.requests.clear()
        _receiver_servers.statuses.clear()
    return _receiver_servers
