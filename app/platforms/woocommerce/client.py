"""The REST client of one store: the real `woocommerce` library, behind the SSRF guard.

Every call goes through the pinned store session (app/platforms/woocommerce/urls.py:
the host resolved and checked, and connected to at the checked address), never follows
a redirect, and turns WooCommerce's answers into what the worker understands: 4xx bodies
become :class:`WooError` (readable, permanent), 429/5xx/network errors RetryableError.
"""
from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from json import dumps as jsonencode
from urllib.parse import urlencode

import requests
from requests.auth import HTTPBasicAuth
from woocommerce import API

from app.platforms.woocommerce.settings import WooSettings
from app.platforms.woocommerce.urls import UnsafeStoreURL, store_session
from app.sync.errors import PermanentError, RetryableError

WC_API = "wc/v3"
TRACKING_API = "wc-shipment-tracking/v3"
PER_PAGE = 100


class WooError(PermanentError):
    """WooCommerce refused a request (4xx): its code and message, readable by a merchant."""

    def __init__(self, what: str, status: int, code: str, message: str):
        self.what, self.status, self.code, self.message = what, status, code, message
        hint = ""
        if status == 401 and code.startswith("woocommerce_rest_authentication"):
            hint = " Reconnect the store from Connections."
        elif status == 401:
            hint = " The API key may lack permissions: reconnect the store from Connections."
        super().__init__(f"WooCommerce refused {what}: {message} ({code}, HTTP {status}).{hint}")


@dataclass(frozen=True)
class Keys:
    """A store's REST API key pair (from wc-auth), decrypted only while in use."""

    consumer_key: str
    consumer_secret: str
    key_id: int | None = None
    permissions: str = "read_write"


class SessionAPI(API):
    """The library's ``API``, sending through ``session`` instead of ``requests.request``.

    ``woocommerce.API.__request`` (3.0.0) ends in a module-level ``requests.request``,
    which opens its own session and resolves the host again. This is that method with
    the same URL building, OAuth 1.0a signing and Basic auth (the library's own), and
    only the last call changed: ``self.session.request``.
    """

    def __init__(self, url: str, consumer_key: str, consumer_secret: str, *,
                 session: requests.Session, **kwargs: Any):
        super().__init__(url, consumer_key, consumer_secret, **kwargs)
        self.session = session

    def _API__request(self, method, endpoint, data, params=None, **kwargs):
        params = {} if params is None else params
        url = self._API__get_url(endpoint)
        auth = None
        headers = {"user-agent": self.user_agent, "accept": "application/json"}
        if self.is_ssl and not self.query_string_auth:
            auth = HTTPBasicAuth(self.consumer_key, self.consumer_secret)
        elif self.is_ssl:
            params.update({"consumer_key": self.consumer_key,
                           "consumer_secret": self.consumer_secret})
        else:
            url = self._API__get_oauth_url(f"{url}?{urlencode(params)}", method, **kwargs)
        if data is not None:
            data = jsonencode(data, ensure_ascii=False).encode("utf-8")
            headers["content-type"] = "application/json;charset=utf-8"
        return self.session.request(method=method, url=url, verify=self.verify_ssl, auth=auth,
                                    params=params, data=data, timeout=self.timeout,
                                    headers=headers, **kwargs)


class StoreClient:
    """REST calls to one store: ``client.get("orders/12", what="reading order 12")``.

    One pinned session for the client's life (a job's calls): kept-alive connections are
    reused, which the ``woocommerce`` library alone never does (a new connection per
    request). Every request is still resolved and checked first, and a connection is only
    reused for the same checked addresses (app/platforms/woocommerce/transport.py).
    """

    def __init__(self, store_url: str, keys: Keys, settings: WooSettings):
        self.store_url = store_url
        self.keys = keys
        self.settings = settings
        self._session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        """The pinned session, made on first use; closed with the client."""
        if self._session is None:
            self._session = store_session(self.settings)
            weakref.finalize(self, self._session.close)
        return self._session

    def close(self) -> None:
        """Close the kept-alive connections now (else when the client is collected)."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> "StoreClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _api(self, version: str, session: requests.Session) -> API:
        return SessionAPI(self.store_url, self.keys.consumer_key, self.keys.consumer_secret,
                          session=session, wp_api=True, version=version,
                          timeout=self.settings.timeout_seconds, verify_ssl=self.settings.verify,
                          user_agent=f"{self.settings.app_name}/1.0")

    def call(self, method: str, endpoint: str, *, data: Any = None,
             params: dict[str, Any] | None = None, what: str = "the request",
             version: str = WC_API) -> tuple[Any, requests.structures.CaseInsensitiveDict]:
        """One request; returns (decoded JSON, headers). Raises WooError / RetryableError.

        The store's host is resolved and checked for this very request (a store whose
        name now points into a private network is refused, permanently).
        """
        kwargs: dict[str, Any] = {"params": dict(params or {}), "allow_redirects": False}
        try:
            api = self._api(version, self.session)
            if method in ("post", "put"):
                response = getattr(api, method)(endpoint, data, **kwargs)
            else:
                response = getattr(api, method)(endpoint, **kwargs)
        except UnsafeStoreURL as exc:
            raise PermanentError(f"Stockroom refuses to call this store: {exc.message}") from None
        except requests.Timeout:
            raise RetryableError(f"WooCommerce did not answer {what} in time.") from None
        except requests.RequestException as exc:
            raise RetryableError(f"Couldn't reach the store for {what}: "
                                 f"{type(exc).__name__}.") from None
        return self._read(response, what), response.headers

    def _read(self, response: requests.Response, what: str) -> Any:
        status = response.status_code
        if response.is_redirect or 300 <= status < 400:
            raise PermanentError(
                f"The store redirected {what} to {response.headers.get('Location', '?')}: "
                "Stockroom does not follow redirects from stores. Reconnect with the store's "
                "current address.")
        if status == 429 or status >= 500:
            retry_after = response.headers.get("Retry-After")
            raise RetryableError(f"WooCommerce answered HTTP {status} to {what}.",
                                 retry_after=float(retry_after) if retry_after and
                                 retry_after.isdigit() else None)
        try:
            body = response.json()
        except ValueError:
            body = None
        if status >= 400:
            code = body.get("code", "") if isinstance(body, dict) else ""
            message = body.get("message", "") if isinstance(body, dict) else ""
            raise WooError(what, status, code or "http_error",
                           message or response.text[:200] or response.reason)
        if body is None and status != 204:
            raise RetryableError(f"WooCommerce's answer to {what} was not JSON "
                                 f"(HTTP {status}).")
        return body

    def get(self, endpoint: str, **kwargs: Any) -> Any:
        """GET; the decoded body."""
        return self.call("get", endpoint, **kwargs)[0]

    def post(self, endpoint: str, data: Any, **kwargs: Any) -> Any:
        """POST JSON; the decoded body."""
        return self.call("post", endpoint, data=data, **kwargs)[0]

    def put(self, endpoint: str, data: Any, **kwargs: Any) -> Any:
        """PUT JSON; the decoded body."""
        return self.call("put", endpoint, data=data, **kwargs)[0]

    def delete(self, endpoint: str, **kwargs: Any) -> Any:
        """DELETE; the decoded body."""
        return self.call("delete", endpoint, **kwargs)[0]

    def pages(self, endpoint: str, *, params: dict[str, Any] | None = None,
              what: str = "a list") -> Iterator[dict]:
        """Every item of a paged collection, 100 per request, to its last page.

        X-WP-TotalPages says where the end is; a store (or a proxy) that leaves the header
        out is read on while pages come back full, never cut after the first one.
        """
        page = 1
        while True:
            query = {**(params or {}), "per_page": PER_PAGE, "page": page}
            items, headers = self.call("get", endpoint, params=query,
                                       what=f"{what} (page {page})")
            if not isinstance(items, list):
                raise RetryableError(f"WooCommerce's answer to {what} (page {page}) was not "
                                     "a list.")
            yield from items
            total_pages = headers.get("X-WP-TotalPages")
            more = (page < int(total_pages) if total_pages and total_pages.isdigit()
                    else len(items) >= PER_PAGE)
            if not items or not more:
                return
            page += 1
