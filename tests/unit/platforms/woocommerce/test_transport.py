"""The pinned transport on real loopback sockets: where it connects, what it sends, what it
never reuses. Host names here are never looked up (the adapter is given the addresses)."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from app.platforms.woocommerce.transport import pinned_session
from app.platforms.woocommerce.urls import UnsafeStoreURL
from sandbox.tls import ensure_local_tls


class Listener(ThreadingHTTPServer):
    """An HTTP/1.1 server (keep-alive) answering its label; records (Host, client port)."""

    daemon_threads = True

    def __init__(self, label: str, host: str, port: int = 0, ssl_context=None):
        self.label, self.seen = label, []
        super().__init__((host, port), _Answer)
        if ssl_context is not None:
            self.socket = ssl_context.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.seen.append((self.headers.get("Host"), self.client_address[1]))
        body = self.server.label.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def two_hosts():
    """The same port on 127.0.0.2 (A) and 127.0.0.3 (B)."""
    a = Listener("A", "127.0.0.2")
    b = Listener("B", "127.0.0.3", a.port)
    yield a, b, a.port
    a.stop()
    b.stop()


def test_pinned_session_connects_to_the_checked_address_never_a_pooled_old_one(two_hosts):
    a, b, port = two_hosts
    answer = ["127.0.0.2"]
    with pinned_session(lambda url: answer) as session:
        url = f"http://localhost:{port}/"
        assert session.get(url, timeout=5).text == "A"
        assert session.get(url, timeout=5).text == "A"
        assert a.seen[0][1] == a.seen[1][1]  # kept alive: one connection, reused
        answer[:] = ["127.0.0.3"]  # the name now resolves elsewhere
        assert session.get(url, timeout=5).text == "B"  # not the pooled connection to A
    assert [host for host, _ in a.seen + b.seen] == [f"localhost:{port}"] * 3


def test_pinned_session_tries_each_checked_address_in_order(two_hosts):
    a, b, port = two_hosts
    with pinned_session(lambda url: ["127.0.0.4", "127.0.0.3"]) as session:  # .4: no listener
        assert session.get(f"http://localhost:{port}/", timeout=5).text == "B"
    assert a.seen == []


def test_pinned_session_refusal_stops_the_request_before_any_connection(two_hosts):
    a, b, port = two_hosts

    def refuse(url):
        raise UnsafeStoreURL(f"refused {url}")

    with pinned_session(refuse) as session, pytest.raises(UnsafeStoreURL, match="refused"):
        session.get(f"http://localhost:{port}/", timeout=5)
    assert a.seen == [] and b.seen == []


def test_pinned_session_verifies_tls_against_the_name_not_the_address(tmp_path):
    tls = ensure_local_tls(tmp_path, dns_names=("shop.attacker.test",))
    seen_sni = []
    context = tls.server_context()
    context.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
    server = Listener("store", "127.0.0.2", ssl_context=context)
    try:
        with pinned_session(lambda url: ["127.0.0.2"]) as session:
            store = session.get(f"https://shop.attacker.test:{server.port}/", timeout=5,
                                verify=str(tls.ca_bundle))
            assert store.text == "store" and seen_sni == ["shop.attacker.test"]
            with pytest.raises(requests.exceptions.SSLError):  # same address, other name
                session.get(f"https://other.example.test:{server.port}/", timeout=5,
                            verify=str(tls.ca_bundle))
    finally:
        server.stop()
