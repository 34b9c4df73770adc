"""DNS rebinding against the SSRF guard, as an attacker would run it: a store domain whose
DNS answers a public address to one lookup and an internal one to the next.

Loopback plays both sides (no other address is ever contacted): PUBLIC (127.0.0.2) is
"the public internet" (the test settings' ``test_public_addresses``), where the
WooCommerce sandbox serves the attacker's store with a certificate for
``*.attacker.test``; INTERNAL (127.0.0.3) is an internal service on the same port that
records every connection made to it. The attacker's DNS is the app's ``resolver``
setting: the environment, not Stockroom's code.
"""
import itertools
import socket
import socketserver
import threading

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import JobStatus, OutboxEvent
from app.platforms.woocommerce.settings import WooSettings
from app.platforms.woocommerce.transport import PinnedAdapter
from sandbox.server import start_in_thread
from tests.integration.woocommerce.conftest import (ATTACKER_DOMAIN, Owner, release_session,
                                                    running_stockroom, woo_channel)

PUBLIC = "127.0.0.2"
INTERNAL = "127.0.0.3"
STORE_HOST = f"shop.{ATTACKER_DOMAIN}"
_system_getaddrinfo = socket.getaddrinfo  # the system resolver, asked for IP literals only
REDIRECT_HOST = f"www.{ATTACKER_DOMAIN}"


class AttackerDNS:
    """The attacker's name server: per name, a cycle of answers, one per lookup."""

    def __init__(self):
        self.plans: dict[str, itertools.cycle] = {}
        self.lookups: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def answer(self, name: str, *addresses: str) -> None:
        """From now on ``name`` answers ``addresses[0]``, then ``addresses[1]``, ... round."""
        with self.lock:
            self.plans[name] = itertools.cycle(addresses)
            self.lookups.clear()

    def lookups_of(self, name: str) -> list[str]:
        return [address for host, address in self.lookups if host == name]

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        with self.lock:
            plan = self.plans.get(host)
            if plan is not None:
                address = next(plan)
                self.lookups.append((host, address))
                return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                         (address, port))]
        # Only IP literals: no other name may reach a real DNS server from a test.
        return _system_getaddrinfo(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)


class InternalService(socketserver.ThreadingTCPServer):
    """An internal service (think metadata endpoint, admin panel): records every connection."""

    daemon_threads = True

    def __init__(self, port: int):
        self.connections: list[bytes] = []
        super().__init__((INTERNAL, port), _RecordConnection)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _RecordConnection(socketserver.BaseRequestHandler):
    def handle(self):
        self.server.connections.append(b"")
        self.request.settimeout(2)
        try:
            self.server.connections[-1] = self.request.recv(512)  # e.g. a TLS ClientHello
        except OSError:
            pass


class Attacker:
    """The attacker's infrastructure: DNS, the store on PUBLIC, a redirector, and the
    internal service on INTERNAL listening on the store's port."""

    def __init__(self, woo_sandbox, woo_tls):
        self.dns = AttackerDNS()
        self.store_seen: list[tuple[str, str, str]] = []  # (Host header, method, path)
        self.sni_seen: list[str] = []
        context = woo_tls.server_context()
        context.sni_callback = lambda sock, name, ctx: self.sni_seen.append(name)
        self.store_server = start_in_thread(self._recorded(woo_sandbox.app), host=PUBLIC,
                                            ssl_context=context)
        self.port = self.store_server.port
        self.internal = InternalService(self.port)
        self.redirect_to = ""
        self.redirect_server = start_in_thread(self._redirect, host=PUBLIC,
                                               ssl_context=context)
        self.store_url = f"https://{STORE_HOST}:{self.port}/stores/demo-store"
        self.redirect_url = f"https://{REDIRECT_HOST}:{self.redirect_server.port}/shop"

    def _recorded(self, app):
        def wsgi(environ, start_response):
            self.store_seen.append((environ.get("HTTP_HOST", ""), environ["REQUEST_METHOD"],
                                    environ["PATH_INFO"]))
            return app(environ, start_response)
        return wsgi

    def _redirect(self, environ, start_response):
        start_response("302 Found", [("Location", self.redirect_to), ("Content-Length", "0")])
        return [b""]

    def reset(self) -> None:
        self.store_seen.clear()
        self.sni_seen.clear()
        self.internal.connections.clear()
        self.dns.answer(STORE_HOST, PUBLIC)
        self.dns.answer(REDIRECT_HOST, PUBLIC)

    def stop(self) -> None:
        self.redirect_server.stop()
        self.internal.stop()
        self.store_server.stop()


@pytest.fixture(scope="module")
def _attacker(woo_sandbox, woo_tls):
    attacker = Attacker(woo_sandbox, woo_tls)
    yield attacker
    attacker.stop()


@pytest.fixture
def attacker(_attacker):
    _attacker.reset()
    return _attacker


@pytest.fixture
def stockroom(database_url, woo_sandbox, attacker):
    """Stockroom with production settings (no sandbox origins), on the attacker's DNS."""
    settings = WooSettings(ca_bundle=woo_sandbox.ca_bundle, timeout_seconds=30,
                           resolver=attacker.dns.getaddrinfo,
                           test_public_addresses=frozenset({PUBLIC}))
    with running_stockroom(database_url, woo_sandbox, settings) as running:
        yield running


def assert_only_the_store_was_reached(attacker):
    assert attacker.internal.connections == []  # not even a connection attempt
    assert attacker.store_seen, "the store (the checked address) was not asked"
    assert {host for host, _, _ in attacker.store_seen} == {f"{STORE_HOST}:{attacker.port}"}
    assert set(attacker.sni_seen) >= {STORE_HOST}  # TLS to the name, at the checked address


def test_connect_goes_to_the_address_checked_when_dns_rebinds(stockroom, attacker):
    owner = Owner(stockroom)
    owner.sign_up()
    attacker.dns.answer(STORE_HOST, PUBLIC, INTERNAL)  # public to the check, then internal

    answer = owner.start_connect(attacker.store_url)

    assert attacker.internal.connections == []
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(attacker.store_url + "/wc-auth/v1/authorize?")
    assert_only_the_store_was_reached(attacker)
    assert ("GET", "/stores/demo-store/wp-json/") in [(m, p) for _, m, p in attacker.store_seen]
    assert attacker.dns.lookups_of(STORE_HOST) == [PUBLIC]  # resolved once: checked = used


def test_redirect_hop_goes_to_the_address_checked_when_its_dns_rebinds(stockroom, attacker):
    owner = Owner(stockroom)
    owner.sign_up()
    attacker.redirect_to = attacker.store_url + "/wp-json/"
    attacker.dns.answer(STORE_HOST, PUBLIC, INTERNAL)

    answer = owner.start_connect(attacker.redirect_url)

    assert attacker.internal.connections == []
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(attacker.store_url + "/wc-auth/v1/authorize?")
    assert_only_the_store_was_reached(attacker)
    assert attacker.dns.lookups_of(REDIRECT_HOST) == [PUBLIC]
    assert attacker.dns.lookups_of(STORE_HOST) == [PUBLIC]


def test_rest_calls_after_connect_never_reach_the_rebound_address(stockroom, attacker):
    owner = Owner(stockroom)
    owner.sign_up()
    # The owner's browser reaches the store by its (stable, to the browser) public address.
    owner.http.mount(f"https://{STORE_HOST}:{attacker.port}",
                     PinnedAdapter(lambda url: [PUBLIC]))
    final = owner.approve(attacker.store_url)
    assert final.url.endswith("/connections"), final.url
    assert woo_channel().domain == attacker.store_url
    release_session()
    attacker.store_seen.clear()
    attacker.dns.answer(STORE_HOST, PUBLIC, INTERNAL)  # now the name flips on every lookup

    def connect_job_ended():
        status = db.session.scalar(select(OutboxEvent.status).where(
            OutboxEvent.topic == "channel.connected"))
        return status in (JobStatus.DONE, JobStatus.DEAD) or attacker.internal.connections
    stockroom.run_worker(until=connect_job_ended)

    assert attacker.internal.connections == []
    job = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "channel.connected"))
    assert job.status == JobStatus.DEAD
    assert "refuses to call this store" in job.last_error and INTERNAL in job.last_error
    assert_only_the_store_was_reached(attacker)  # the calls made while it answered PUBLIC
    # One lookup per REST call, each call at the address its own lookup was checked at.
    assert attacker.dns.lookups_of(STORE_HOST) == [PUBLIC, INTERNAL]
    assert [(m, p) for _, m, p in attacker.store_seen] == [
        ("GET", "/stores/demo-store/wp-json/wc/v3/webhooks")]
