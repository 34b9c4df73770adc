"""Webhook delivery: matching events to subscriptions, signing, a worker thread with Shopify's retry
schedule (time-compressible), and fault injection (duplicate, delay, reorder, drop-then-retry)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import requests

from . import payloads
from .reference import webhook_metadata
from .schema import expand_scopes
from .state import Store, WebhookSubscription

# Shopify retries 8 times over 4 hours with exponential backoff; these add up to ~4 h.
SHOPIFY_RETRY_DELAYS = [10, 30, 60, 300, 900, 1800, 3600, 7800]
COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
MULTIWORD_RESOURCES = {"fulfillment_orders", "fulfillment_holds", "fulfillment_events",
                       "inventory_levels", "inventory_items", "app_subscriptions",
                       "app_purchases_one_time", "draft_orders", "order_transactions",
                       "customer_groups", "selling_plan_groups", "bulk_operations"}


def topic_from_enum(value: str) -> str:
    """``FULFILLMENT_ORDERS_MOVED`` -> ``fulfillment_orders/moved``."""
    low = value.lower()
    for resource in sorted(MULTIWORD_RESOURCES, key=len, reverse=True):
        if low.startswith(resource + "_"):
            return f"{resource}/{low[len(resource) + 1:]}"
    head, _, tail = low.partition("_")
    return f"{head}/{tail}"


def topic_to_enum(topic: str) -> str:
    """``orders/create`` -> ``ORDERS_CREATE``."""
    return topic.replace("/", "_").upper()


def topic_scopes(schema_dir: str, topic: str) -> tuple[str, ...]:
    """Read scopes of which an app needs one to receive ``topic`` (from Shopify's metadata)."""
    metadata = webhook_metadata(topic, schema_dir) or {}
    return tuple(f"read_{s}" for s in metadata.get("access_scopes") or ())


def may_receive(schema_dir, granted, topic: str) -> bool:
    """True when the granted scopes (write implies read) cover the topic's access scopes."""
    needed = topic_scopes(str(schema_dir), topic)
    return not needed or bool(expand_scopes(granted) & set(needed))


def sign(secret: str, body: bytes) -> str:
    """X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 of the raw body with the app's client secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    """One webhook delivery (a subscription x an event), retried until 2xx or out of retries."""

    webhook_id: str
    event_id: str
    topic: str
    shop: str
    client_id: str
    url: str
    body: bytes
    triggered_at: str
    api_version: str
    due: float
    attempts: list[dict] = field(default_factory=list)
    state: str = "pending"  # pending | delivered | failed
    drop_first: bool = False
    seq: int = 0
    generation: int = 0  # deliveries from before a reset are dropped, never re-queued
    subscription_id: int | None = None  # API-made subscription (None: declared in the toml)

    def summary(self) -> dict:
        """What the inspection control shows about this delivery."""
        return {"webhook_id": self.webhook_id, "event_id": self.event_id, "topic": self.topic,
                "shop": self.shop, "client_id": self.client_id, "url": self.url,
                "state": self.state, "attempts": self.attempts, "triggered_at": self.triggered_at,
                "payload": json.loads(self.body)}


@dataclass
class WebhookSettings:
    """Delivery timing and faults; changed at runtime by /_sandbox/webhooks/settings."""

    timeout: float = 5.0
    retry_delays: list[float] = field(default_factory=lambda: list(SHOPIFY_RETRY_DELAYS))
    time_scale: float = 1.0
    verify: object = True
    faults: dict = field(default_factory=dict)  # duplicate/delay/reorder/drop (+ topic filter)


class Dispatcher:
    """Turns store events into signed deliveries and sends them from a background thread."""

    def __init__(self, store: Store, settings: WebhookSettings, schema_dir) -> None:
        self.store = store
        self.settings = settings
        self.schema_dir = schema_dir
        self.cond = threading.Condition()
        self.queue: list[Delivery] = []
        self.log: list[Delivery] = []
        self.held: list[Delivery] = []  # reorder fault: waiting to be released reversed
        self.paused = False
        self.busy: Delivery | None = None
        self.generation = 0
        self._seq = 0
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="shopify-webhooks", daemon=True)
        self.http = requests.Session()
        store.listeners.append(self.on_event)

    def start(self) -> None:
        """Start the delivery thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the delivery thread."""
        with self.cond:
            self._stop = True
            self.cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=self.settings.timeout + 2)
        self.http.close()

    def reset(self) -> None:
        """Drop queued and logged deliveries and faults (waits for an attempt in flight)."""
        with self.cond:
            deadline = time.monotonic() + self.settings.timeout + 2
            while self.busy is not None and time.monotonic() < deadline:
                self.cond.wait(timeout=0.05)
            self.generation += 1
            self.queue.clear()
            self.log.clear()
            self.held.clear()
            self.settings.faults = {}
            self.paused = False

    # --- events -> deliveries ---------------------------------------------------------------
    def on_event(self, shop: str, topic: str, payload: dict, *, client_id: str | None = None):
        """Store listener: one delivery per matching subscription, all sharing one event id."""
        payload = payloads.complete_required(payload, topic, self.schema_dir)
        event_id = str(uuid.UUID(int=self.store.rng.getrandbits(128)))
        triggered = datetime.fromtimestamp(self.store.now(), UTC).isoformat(
            timespec="microseconds").replace("+00:00", "Z")
        body = json.dumps(payload).encode()
        for sub_client, url, version, sub_id in self._targets(shop, topic, client_id):
            self._enqueue(Delivery(
                webhook_id=str(uuid.UUID(int=self.store.rng.getrandbits(128))),
                event_id=event_id, topic=topic, shop=shop, client_id=sub_client, url=url,
                body=body, triggered_at=triggered, api_version=version, due=time.monotonic(),
                subscription_id=sub_id))

    def _targets(self, shop: str, topic: str, only_client: str | None):
        """(client_id, url, api_version, subscription id) of every subscription to ``topic``
        on ``shop`` (uninstalled apps still get app/uninstalled and compliance topics)."""
        seen = set()
        for (inst_shop, cid), inst in list(self.store.installations.items()):
            if inst_shop != shop or (only_client and cid != only_client):
                continue
            if not inst.active and topic not in ("app/uninstalled",) + COMPLIANCE_TOPICS:
                continue
            app = self.store.apps.get(cid)
            if app is None or not may_receive(self.schema_dir, inst.scopes, topic):
                continue
            for decl in app.declared_webhooks:
                if decl["topic"] == topic:
                    url = urljoin(app.application_url, decl["uri"])
                    if (cid, url) not in seen:
                        seen.add((cid, url))
                        yield cid, url, app.webhook_api_version, None
            for sub in list(self.store.subscriptions.values()):
                if sub.client_id == cid and sub.shop == shop and sub.topic == topic:
                    if (cid, sub.uri) not in seen:
                        seen.add((cid, sub.uri))
                        yield cid, sub.uri, sub.api_version, sub.id

    def _enqueue(self, d: Delivery) -> None:
        faults = self.settings.faults
        with self.cond:
            if self._fault_applies("drop", d):
                d.drop_first = True
            if self._fault_applies("delay", d):
                d.due += float(faults.get("delay_seconds", 1.0))
            self._seq += 1
            d.seq, d.generation = self._seq, self.generation
            self.log.append(d)
            if self._fault_applies("reorder", d):
                self.held.append(d)
                if len(self.held) >= int(faults.get("reorder_batch", 2)):
                    self._release_held()
            else:
                self.queue.append(d)
            self.cond.notify_all()

    def _fault_applies(self, name: str, d: Delivery) -> bool:
        """Consume one use of fault ``name`` if it is armed (and matches the topic filter)."""
        faults = self.settings.faults
        remaining = faults.get(name, 0)
        if not remaining:
            return False
        topics = faults.get("topics")
        if topics and d.topic not in topics:
            return False
        faults[name] = remaining - 1
        return True

    def flush_held(self) -> None:
        """Release deliveries held by an incomplete reorder batch (in reverse order)."""
        with self.cond:
            self._release_held()
            self.cond.notify_all()

    def _release_held(self) -> None:
        """Queue the held deliveries newest first, all due now (order decided by sequence)."""
        now = time.monotonic()
        for h in reversed(self.held):
            self._seq += 1
            h.seq, h.due = self._seq, max(h.due, now)
            self.queue.append(h)
        self.held.clear()

    # --- sending -------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self.cond:
                while not self._stop and not self._next_due():
                    self.cond.wait(timeout=self._wait_time())
                if self._stop:
                    return
                d = self._next_due()
                self.queue.remove(d)
                self.busy = d
            try:
                self._attempt(d)
            finally:
                with self.cond:
                    self.busy = None
                    self.cond.notify_all()

    def _next_due(self) -> Delivery | None:
        if self.paused:
            return None
        now = time.monotonic()
        due = [d for d in self.queue if d.due <= now]
        return min(due, key=lambda d: (d.due, d.seq)) if due else None

    def _wait_time(self) -> float:
        if not self.queue or self.paused:
            return 0.5
        return max(0.0, min(d.due for d in self.queue) - time.monotonic())

    def _attempt(self, d: Delivery) -> None:
        started = time.time()
        if d.drop_first and not d.attempts:
            self._failed(d, {"at": started, "status": None, "error": "dropped (fault injection)"})
            return
        app = self.store.apps.get(d.client_id)
        headers = {
            "Content-Type": "application/json", "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": d.topic, "X-Shopify-Hmac-Sha256": sign(app.secret, d.body),
            "X-Shopify-Shop-Domain": d.shop, "X-Shopify-API-Version": d.api_version,
            "X-Shopify-Webhook-Id": d.webhook_id, "X-Shopify-Event-Id": d.event_id,
            "X-Shopify-Triggered-At": d.triggered_at,
        }
        try:
            resp = self.http.post(d.url, data=d.body, headers=headers,
                                  timeout=(1.0, self.settings.timeout),
                                  verify=self.settings.verify)
            status, error = resp.status_code, None
        except requests.RequestException as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        attempt = {"at": started, "status": status, "error": error}
        if status is not None and 200 <= status < 300:
            with self.cond:
                d.attempts.append(attempt)
                d.state = "delivered"
            if self._fault_applies("duplicate", d):
                self._enqueue_duplicate(d)
        else:
            self._failed(d, attempt)

    def _enqueue_duplicate(self, d: Delivery) -> None:
        """Deliver the same event again (same X-Shopify-Event-Id, new webhook id)."""
        dup = Delivery(webhook_id=str(uuid.uuid4()), event_id=d.event_id, topic=d.topic,
                       shop=d.shop, client_id=d.client_id, url=d.url, body=d.body,
                       triggered_at=d.triggered_at, api_version=d.api_version,
                       due=time.monotonic())
        with self.cond:
            if d.generation != self.generation:
                return
            self._seq += 1
            dup.seq, dup.generation = self._seq, self.generation
            self.log.append(dup)
            self.queue.append(dup)
            self.cond.notify_all()

    def _failed(self, d: Delivery, attempt: dict) -> None:
        with self.cond:
            d.attempts.append(attempt)
            if d.generation != self.generation:
                return
            retry = len(d.attempts) - 1
            delays = self.settings.retry_delays
            if retry >= len(delays):
                d.state = "failed"
                given_up = d.subscription_id
            else:
                given_up = None
                d.due = time.monotonic() + delays[retry] * self.settings.time_scale
                self.queue.append(d)
                self.cond.notify_all()
        if given_up is not None:
            # Shopify deletes Admin-API subscriptions whose deliveries keep failing. A single
            # dict.pop is atomic; taking the store lock here could stall a concurrent reset,
            # which holds that lock while waiting for this attempt to finish.
            self.store.subscriptions.pop(given_up, None)

    def deliveries(self, **filters) -> list[dict]:
        """Logged deliveries, optionally filtered by topic/shop/state."""
        with self.cond:
            out = [d.summary() for d in self.log]
        for key, value in filters.items():
            if value:
                out = [d for d in out if d[key] == value]
        return out


def subscription_node(sub: WebhookSubscription) -> dict:
    """A WebhookSubscription as GraphQL returns it."""
    from .state import gid, iso
    return {"__typename": "WebhookSubscription", "id": gid("WebhookSubscription", sub.id),
            "legacyResourceId": str(sub.id), "topic": topic_to_enum(sub.topic), "uri": sub.uri,
            "callbackUrl": sub.uri, "format": "JSON", "includeFields": sub.include_fields,
            "metafieldNamespaces": [], "metafields": [], "filter": sub.filter, "name": None,
            "createdAt": iso(sub.created_at), "updatedAt": iso(sub.updated_at),
            "apiVersion": {"__typename": "ApiVersion", "handle": sub.api_version,
                           "displayName": sub.api_version, "supported": True},
            "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.uri}}
