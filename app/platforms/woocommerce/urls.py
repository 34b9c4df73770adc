"""Store URLs: normalization and the SSRF guard every request to a store goes through.

Stockroom's servers call the URL an owner typed, so the URL must not lead into our own
network: only https, and only hosts whose every resolved address is public. The check
and the connection share one resolution (:func:`store_session`, transport.py), so a DNS
answer that changes after the check is never connected to. Redirects are never followed
blindly: each hop is resolved and checked the same way (see probe_store). The sandbox
setting (WOOCOMMERCE_SANDBOX_ORIGINS) lets exact local origins through for tests and the
demo; nothing else bypasses the check.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from app.errors import InvalidInput
from app.platforms.woocommerce.settings import WooSettings
from app.platforms.woocommerce.transport import pinned_session

MAX_REDIRECTS = 3


class UnsafeStoreURL(InvalidInput):
    """The store URL is malformed, not https, or leads to a non-public address."""

    def __init__(self, message: str):
        super().__init__(message, field="store_url")


def normalize_store_url(raw: str) -> str:
    """``https://Shop.example.com/`` -> ``https://shop.example.com`` (path kept, no query).

    Raises UnsafeStoreURL for anything that is not a plain http(s) URL with a host.
    """
    raw = (raw or "").strip()
    if not raw:
        raise UnsafeStoreURL("Enter your store's address, e.g. https://shop.example.com.")
    if "://" not in raw:
        raw = "https://" + raw  # like WooCommerce does for a URL without a scheme
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise UnsafeStoreURL("That is not a valid web address.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeStoreURL("Only https:// store addresses can be connected.")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise UnsafeStoreURL("Enter the store's address without a user name or password.")
    if parts.query or parts.fragment:
        raise UnsafeStoreURL("Enter the store's address without ?… or #… at the end.")
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    scheme = parts.scheme.lower()
    netloc = host if port is None or port == (443 if scheme == "https" else 80) \
        else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), "", ""))


def _public(address: str, settings: WooSettings) -> bool:
    if address in settings.test_public_addresses:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6 and ip.sixtofour is not None:
        ip = ip.sixtofour
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local
                                 or ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve_addresses(host: str, port: int, settings: WooSettings) -> list[str]:
    """Every address the host resolves to, in the resolver's order (an IP literal: itself)."""
    try:
        infos = settings.resolver(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeStoreURL(f"We couldn't find {host}: check the store's address.") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url_form(url: str, settings: WooSettings) -> str:
    """The checks that need no DNS: an http(s) URL with a host; https unless a sandbox origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeStoreURL("Only https:// store addresses can be connected.")
    if scheme != "https" and not settings.is_sandbox_origin(url):
        raise UnsafeStoreURL("Only https:// store addresses can be connected (WooCommerce "
                             "sends API keys only over https).")
    return url


def checked_addresses(url: str, settings: WooSettings) -> list[str]:
    """Resolve ``url``'s host once and return its addresses if they may be connected to.

    Every address must be public (a sandbox origin's need not be). The caller connects
    to exactly these addresses (:func:`store_session`), so a DNS answer that changes
    after this check is never used. Raises UnsafeStoreURL.
    """
    parts = urlsplit(check_url_form(url, settings))
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    addresses = resolve_addresses(parts.hostname, port, settings)
    if settings.is_sandbox_origin(url):
        return addresses
    bad = [a for a in addresses if not _public(a, settings)]
    if bad or not addresses:
        raise UnsafeStoreURL(f"{parts.hostname} points to a private or local network address "
                             f"({bad[0] if bad else 'none'}): Stockroom only connects stores on "
                             "the public internet.")
    return addresses


def store_session(settings: WooSettings) -> requests.Session:
    """The session for every request to a store: each one (each redirect hop too) is
    resolved once, checked by :func:`checked_addresses` and sent to those addresses."""
    return pinned_session(lambda url: checked_addresses(url, settings))


@dataclass(frozen=True)
class ProbeResult:
    """What the store's REST index told us."""

    store_url: str
    name: str
    namespaces: tuple[str, ...]
    timezone: str = ""  # IANA name, "" when WordPress is set to a fractional UTC offset

    @property
    def has_shipment_tracking(self) -> bool:
        """The Shipment Tracking extension's REST namespace is present."""
        return "wc-shipment-tracking/v3" in self.namespaces


def probe_store(store_url: str, settings: WooSettings) -> ProbeResult:
    """GET ``{store}/wp-json/``: is it a WooCommerce store? Redirects checked hop by hop.

    A redirect (http -> https, a new domain) is followed only to a URL that passes the
    same checks, connecting to the addresses checked for it; the store URL becomes
    wherever the index was finally found.
    """
    url = normalize_store_url(store_url) + "/wp-json/"
    with store_session(settings) as session:
        for hop in range(MAX_REDIRECTS + 1):
            try:
                response = session.get(url, headers={"Accept": "application/json"},
                                       allow_redirects=False,
                                       timeout=settings.timeout_seconds, verify=settings.verify)
            except UnsafeStoreURL as exc:
                if hop == 0:
                    raise
                raise UnsafeStoreURL(f"The store redirected to {url}, which Stockroom "
                                     f"refuses: {exc.message}") from None
            except requests.RequestException as exc:
                raise UnsafeStoreURL(f"We couldn't reach the store ({type(exc).__name__}). "
                                     "Check the address and that the site is online.") from None
            if not response.is_redirect:
                return _read_index(url, response)
            url = urljoin(url, response.headers.get("Location", ""))
            try:
                check_url_form(url, settings)  # file:, ftp: ... refused with the hop named
            except UnsafeStoreURL as exc:
                raise UnsafeStoreURL(f"The store redirected to {url}, which Stockroom "
                                     f"refuses: {exc.message}") from None
    raise UnsafeStoreURL("The store redirected too many times.")


def _read_index(url: str, response: requests.Response) -> ProbeResult:
    try:
        index = response.json() if response.status_code == 200 else None
    except ValueError:
        index = None
    namespaces = tuple(index.get("namespaces") or ()) if isinstance(index, dict) else ()
    if "wc/v3" not in namespaces:
        raise UnsafeStoreURL("That site doesn't look like a WooCommerce store: its REST API "
                             "(/wp-json/) does not offer WooCommerce (wc/v3). Is WooCommerce "
                             "installed and are permalinks enabled?")
    base = url.split("/wp-json", 1)[0]
    return ProbeResult(normalize_store_url(base), str(index.get("name") or ""), namespaces,
                       site_timezone(index))


def site_timezone(index: dict) -> str:
    """The site's zone from WordPress's REST index: ``timezone_string`` ("Europe/Berlin")
    when the site chose a city; a whole-hour ``gmt_offset`` (Settings > General "UTC+2")
    as its fixed IANA zone ("Etc/GMT-2": POSIX signs are inverted), never a daylight-saving
    one; "" otherwise: UTC+0 (WordPress's default, likely never chosen, so a later store may
    still give the merchant's zone), a fractional offset, or a value that is no number)."""
    name = index.get("timezone_string")
    if isinstance(name, str) and name.strip():
        return name.strip()
    offset = index.get("gmt_offset")
    if isinstance(offset, bool) or not isinstance(offset, (int, float, str)):
        return ""
    try:
        hours = float(offset)
    except ValueError:
        return ""
    if hours == 0 or not hours.is_integer() or not -12 <= hours <= 14:
        return ""
    return f"Etc/GMT{-int(hours):+d}"
