"""Shopify Admin GraphQL client: named documents, timeouts, retries, cost-based pacing, typed errors."""
from __future__ import annotations

import json
import logging
import random
import re
import time
from functools import cache
from pathlib import Path

import requests
from graphql import Visitor, parse, visit

from app.platforms.shopify.rate_limit import bucket_for
from app.platforms.shopify.settings import ShopifySettings

log = logging.getLogger("stockroom.shopify")
QUERIES = Path(__file__).parent / "queries"
#: One fragment a file, named after it: the selections several documents share.
FRAGMENTS = QUERIES / "fragments"


class ShopifyError(Exception):
    """Base of the client's errors; the message never contains a response body."""


class ShopifyUnavailable(ShopifyError):
    """Network error, timeout or 5xx after the client's own retries: try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 maybe_applied: bool = True):
        super().__init__(message)
        self.retry_after = retry_after
        #: False when Shopify certainly did not run the operation (throttled, never connected).
        self.maybe_applied = maybe_applied


class ShopifyThrottled(ShopifyUnavailable):
    """THROTTLED after the client's own retries (the operation did not run)."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message, retry_after=retry_after, maybe_applied=False)


class ShopifyUnauthorized(ShopifyError):
    """401: the access token is invalid or expired (refresh, or the app was uninstalled)."""


class ShopifyAccessDenied(ShopifyError):
    """ACCESS_DENIED: a scope is missing."""


class ShopifyQueryError(ShopifyError):
    """The document or its variables were rejected (a bug on our side, not transient)."""


@cache
def load_document(name: str) -> str:
    """The GraphQL document in queries/<name>.graphql, followed by every fragment it spreads.

    Shopify, like any GraphQL server, wants each fragment a document spreads defined in
    the same request, and rejects one defined but not spread: only those reached from the
    operation (through fragments that spread others, too) are appended, each once.
    """
    document = (QUERIES / f"{name}.graphql").read_text()
    needed: list[str] = []
    pending = _spread_names(document)
    while pending:
        fragment = pending.pop(0)
        if fragment not in needed:
            needed.append(fragment)
            pending += _spread_names(load_fragment(fragment))
    return "\n".join([document, *(load_fragment(f) for f in needed)])


@cache
def load_fragment(name: str) -> str:
    """The fragment definition in queries/fragments/<name>.graphql."""
    path = FRAGMENTS / f"{name}.graphql"
    if not path.is_file():
        raise LookupError(f"...{name} is spread, but {path.relative_to(QUERIES.parent)} "
                          "does not exist")
    return path.read_text()


class _Spreads(Visitor):
    """Collects the names of the fragments a document spreads, in reading order."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node, *_) -> None:
        self.names.append(node.name.value)


def _spread_names(text: str) -> list[str]:
    """The fragments ``text`` spreads (``...Name``, not ``... on Type``)."""
    spreads = _Spreads()
    visit(parse(text, no_location=True), spreads)
    return spreads.names


@cache
def _safe_to_resend(name: str) -> bool:
    """A query, or a mutation carrying an @idempotent key: sending it twice does it once.

    Any other mutation (fulfillmentCreate has no idempotency key in 2026-10) may have been
    applied when the answer is a timeout or a 5xx: it is not re-sent here; the worker
    retries the whole job, whose handler reconciles with Shopify's state first.
    """
    document = load_document(name)
    is_mutation = re.search(r"^\s*mutation\b", document, re.MULTILINE) is not None
    return not is_mutation or "@idempotent" in document


#: Process-wide call figures (for logs and bench/onboard_catalog.py): calls made, points
#: Shopify reported (requested, actual), and the time spent waiting for the bucket.
STATS: dict = {"calls": 0, "requested": 0.0, "actual": 0.0, "throttle_waits": 0,
               "throttle_wait_seconds": 0.0, "throttled": 0, "operations": {}}
#: operation -> the requested cost Shopify reported for it last (for pacing and throttle waits)
_requested_costs: dict[str, float] = {}


class ShopifyClient:
    """One shop's GraphQL endpoint, authenticated with an access token."""

    def __init__(self, settings: ShopifySettings, shop: str, access_token: str, *,
                 session: requests.Session | None = None, max_tries: int = 4):
        self.settings = settings
        self.shop = shop
        self.url = settings.graphql_url(shop)
        self.session = session or requests.Session()
        self.headers = {"X-Shopify-Access-Token": access_token,
                        "Content-Type": "application/json", "Accept": "application/json"}
        self.max_tries = max_tries

    def execute(self, operation: str, variables: dict | None = None, *,
                expected_cost: float = 10.0, idempotent: bool = True) -> dict:
        """Run the named document; returns ``data``. Raises the typed errors above.

        ``idempotent=False`` (a mutation a person is waiting for) retries only what Shopify
        certainly did not run; a timeout or 5xx is raised at once, the outcome unknown.
        """
        body = json.dumps({"query": load_document(operation), "operationName": operation,
                           "variables": variables or {}})
        bucket = bucket_for(self.shop)
        for attempt in range(1, self.max_tries + 1):
            # Shopify takes a query's *requested* cost before running it (and refunds the
            # rest): wait until the bucket holds what this operation asked for last time.
            cost = max(expected_cost, _requested_costs.get(operation, 0.0))
            wait = min(bucket.reserve(cost), 30)
            if wait > 0:
                started = time.monotonic()
                bucket.settle(wait)
                STATS["throttle_waits"] += 1
                STATS["throttle_wait_seconds"] += time.monotonic() - started
            try:
                response = self.session.post(self.url, data=body, headers=self.headers,
                                             timeout=self.settings.timeout_seconds,
                                             verify=self.settings.verify)
            except requests.RequestException as exc:
                error: ShopifyUnavailable = ShopifyUnavailable(
                    f"{operation}: network error ({type(exc).__name__})",
                    maybe_applied=not isinstance(exc, requests.ConnectTimeout))
                # Never connected: nothing was charged; otherwise it may have run.
                bucket.observe(None, reserved=cost,
                               charged=None if error.maybe_applied else 0.0)
            else:
                result = self._interpret(operation, response, bucket, cost)
                if not isinstance(result, ShopifyUnavailable):
                    return result
                error = result
            log.info(json.dumps({"event": "shopify_retry", "shop": self.shop,
                                 "operation": operation, "attempt": attempt,
                                 "error": str(error)}))
            if error.maybe_applied and not (idempotent and _safe_to_resend(operation)):
                break
            if attempt < self.max_tries:
                time.sleep(error.retry_after or min(8.0, 0.25 * 2 ** attempt) * random.uniform(1, 1.5))
        raise error

    def _interpret(self, operation: str, response: requests.Response, bucket, reserved: float):
        status = response.status_code
        if status != 200:
            bucket.observe(None, reserved=reserved, charged=None)
        if status == 401:
            raise ShopifyUnauthorized(f"{operation}: 401 Unauthorized")
        if status == 429 or status >= 500:
            retry_after = _float(response.headers.get("Retry-After"))
            if status == 429:
                return ShopifyThrottled(f"{operation}: HTTP 429", retry_after=retry_after)
            return ShopifyUnavailable(f"{operation}: HTTP {status}", retry_after=retry_after)
        if status != 200:
            raise ShopifyQueryError(f"{operation}: HTTP {status}")
        try:
            payload = response.json()
        except ValueError:
            bucket.observe(None, reserved=reserved, charged=None)
            return ShopifyUnavailable(f"{operation}: response was not JSON")
        errors = payload.get("errors") or []
        codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
        requested = self._note_cost(payload, bucket, reserved, throttled="THROTTLED" in codes)
        STATS["calls"] += 1
        STATS["operations"][operation] = STATS["operations"].get(operation, 0) + 1
        if requested:
            _requested_costs[operation] = requested
            STATS["requested"] += requested
            actual = ((payload.get("extensions") or {}).get("cost") or {}).get("actualQueryCost")
            STATS["actual"] += float(actual or 0)
        if "THROTTLED" in codes:
            STATS["throttled"] += 1
            cost = requested or _requested_costs.get(operation, 10.0)
            return ShopifyThrottled(f"{operation}: THROTTLED", retry_after=bucket.retry_after(cost))
        if "ACCESS_DENIED" in codes:
            raise ShopifyAccessDenied(f"{operation}: access denied (missing scope)")
        if errors:
            messages = "; ".join(str(e.get("message", ""))[:200] for e in errors
                                 if isinstance(e, dict))
            raise ShopifyQueryError(f"{operation}: {messages or 'GraphQL error'}")
        return payload.get("data") or {}

    @staticmethod
    def _note_cost(payload: dict, bucket, reserved: float, *, throttled: bool) -> float | None:
        """Tell the bucket what Shopify charged and reported; returns the requested cost."""
        cost = (payload.get("extensions") or {}).get("cost") or {}
        requested = cost.get("requestedQueryCost")
        actual = cost.get("actualQueryCost")
        if throttled:
            charged = 0.0  # a THROTTLED request did not run and cost nothing
        elif actual is not None:
            charged = float(actual)
        else:
            charged = float(requested) if requested is not None else None
        bucket.observe(cost.get("throttleStatus"), reserved=reserved, charged=charged)
        return float(requested) if requested is not None else None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
