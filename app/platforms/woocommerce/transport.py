"""Pinned HTTP: each request connects to the addresses its host was checked at, never re-resolved.

A guard that resolves a host, checks the answer and then lets the HTTP library resolve
it again can be fooled by a DNS answer that changes in between (rebinding). Here the
check and the connection use one resolution: per request the adapter asks
``addresses_for(url)`` (resolve once, check, return the addresses) and the connection
opens its socket to those addresses only. Everything else stays on the URL's host name,
as urllib3 does it: the Host header, TLS SNI and certificate hostname verification.

Connection pools are keyed by the pinned addresses too, so a kept-alive connection to an
address checked earlier is never reused for a name that now resolves elsewhere. No
proxy is used (a proxy would resolve the name itself), so the session ignores the
environment's proxy settings.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from socket import timeout as SocketTimeout

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import InvalidURL
from urllib3._collections import RecentlyUsedContainer
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection

#: Pools kept per adapter (one per host, port, addresses and TLS settings).
MAX_POOLS = 8

AddressesFor = Callable[[str], Sequence[str]]


class _PinnedConnectionMixin:
    """A urllib3 connection whose socket goes to ``pinned_addresses``; ``host`` stays the name."""

    def __init__(self, *args, pinned_addresses: Sequence[str], **kwargs):
        self.pinned_addresses = tuple(pinned_addresses)
        super().__init__(*args, **kwargs)

    def _new_conn(self):
        # urllib3's own _new_conn, with (self._dns_host, port) replaced by each checked
        # address in turn: an IP literal is not looked up again.
        error: Exception = NewConnectionError(self, "No address to connect to.")
        for address in self.pinned_addresses:
            try:
                return connection.create_connection(
                    (address, self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
            except SocketTimeout:
                error = ConnectTimeoutError(self, f"Connection to {self.host} ({address}) "
                                                  f"timed out. (connect timeout={self.timeout})")
            except OSError as exc:
                error = NewConnectionError(self, f"Failed to establish a new connection to "
                                                 f"{address}: {exc}")
        raise error


class PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    """Plain http (sandbox origins only) to the pinned addresses."""


class PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    """https to the pinned addresses; SNI and certificate checked against the host name."""


class _PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class _PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    """A requests adapter that resolves and checks (``addresses_for``) every request it sends.

    ``addresses_for(url)`` raises to refuse the URL; whatever it returns is where the
    request connects. Each redirect hop is a request of its own, so it is checked too.
    """

    def __init__(self, addresses_for: AddressesFor, **kwargs):
        self._addresses_for = addresses_for
        self._pools = RecentlyUsedContainer(MAX_POOLS, dispose_func=lambda pool: pool.close())
        self._pools_lock = threading.Lock()
        super().__init__(**kwargs)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        """The pool for this request's host at the addresses checked for it just now."""
        try:
            host_params, pool_kwargs = self.build_connection_pool_key_attributes(
                request, verify, cert)
        except ValueError as exc:
            raise InvalidURL(exc, request=request) from None
        scheme, host = host_params["scheme"], host_params["host"]
        if scheme not in ("http", "https") or not host:
            raise InvalidURL(f"Not an http(s) URL: {request.url}", request=request)
        port = host_params["port"] or (443 if scheme == "https" else 80)
        addresses = tuple(self._addresses_for(request.url))
        key = (scheme, host, port, addresses, tuple(sorted(pool_kwargs.items())))
        with self._pools_lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._new_pool(scheme, host, port, addresses, pool_kwargs)
                self._pools[key] = pool
        return pool

    def _new_pool(self, scheme: str, host: str, port: int, addresses: tuple[str, ...],
                  pool_kwargs: dict) -> HTTPConnectionPool:
        common = {"maxsize": self._pool_maxsize, "block": self._pool_block,
                  "pinned_addresses": addresses}
        if scheme == "https":
            return _PinnedHTTPSConnectionPool(host, port, **common, **pool_kwargs)
        return _PinnedHTTPConnectionPool(host, port, **common)  # no TLS settings for http

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Send without any proxy: the connection goes straight to the pinned address."""
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                            proxies=None)

    def pools(self) -> list[HTTPConnectionPool]:
        """The open connection pools (one per host, port and checked addresses)."""
        with self._pools_lock:
            return [self._pools[key] for key in self._pools.keys()]

    def close(self) -> None:
        """Close every pool (and so every kept-alive connection)."""
        super().close()
        with self._pools_lock:
            self._pools.clear()


def pinned_session(addresses_for: AddressesFor) -> requests.Session:
    """A requests Session sending every http(s) request through :class:`PinnedAdapter`."""
    session = requests.Session()
    session.trust_env = False  # no HTTP(S)_PROXY, no .netrc: nothing re-resolves the host
    adapter = PinnedAdapter(addresses_for)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
