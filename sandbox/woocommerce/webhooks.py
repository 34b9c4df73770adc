"""Webhook delivery like WC_Webhook: a background queue, signed POSTs, pings, failure counting.

Mirrors WooCommerce 9.x: hooks fired during a request are queued at its end, one pending
job per (webhook, resource id) (a second change while one is pending is absorbed, as
Action Scheduler's get_next() check does); the payload is built when the job runs, from
the current state; a response of 200-302 counts as success and resets failure_count,
anything else increments it, and a failure arriving when failure_count is already above 5
disables the webhook (so the 7th consecutive failure). Nothing is retried. A ping
(``webhook_id=N``, form-encoded, no X-WC headers) is sent when a webhook is created, and
again on each save while it is active and still pending delivery (or its URL changed).
"""
from __future__ import annotations

import hashlib
import heapq
import hmac
import base64
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from sandbox.woocommerce import serializers
from sandbox.woocommerce.state import WC_VERSION, WP_VERSION, Sandbox, Store, Webhook, utcnow

log = logging.getLogger(__name__)
USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"
MAX_FAILURES = 5
PING_TIMEOUT = 5
DELIVERY_TIMEOUT = 60
VALID_RESOURCES = ("coupon", "customer", "order", "product")
VALID_EVENTS = ("created", "updated", "deleted", "restored")
WEBHOOK_STATUSES = ("active", "paused", "disabled")


def is_valid_topic(topic: str) -> bool:
    """wc_is_webhook_valid_topic(): resource.event, or action.woocommerce_* / action.wc_*."""
    if topic.startswith(("action.woocommerce_", "action.wc_")):
        return True
    resource, _, event = topic.partition(".")
    return resource in VALID_RESOURCES and event in VALID_EVENTS


def generate_signature(body: str, secret: str) -> str:
    """X-WC-Webhook-Signature: base64(HMAC-SHA256(body, secret))."""
    return base64.b64encode(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
                            ).decode()


def new_delivery_id(store: Store, webhook_id: int, now: float | None = None) -> str:
    """wp_hash($id . strtotime('now')): the same value for one webhook within one second."""
    stamp = int(now if now is not None else time.time())
    return hmac.new(store.salt.encode(), f"{webhook_id}{stamp}".encode(), hashlib.md5).hexdigest()


def home_base(sandbox: Sandbox, store: Store, webhook: Webhook) -> str:
    """The store's home URL without trailing slash (config base_url, else where the hook was made)."""
    base = sandbox.config.get("base_url") or webhook.home_base
    return f"{base.rstrip('/')}/stores/{store.slug}"


@dataclass(order=True)
class Job:
    """One queued delivery (woocommerce_deliver_webhook_async action)."""

    due: float
    seq: int
    slug: str = field(compare=False)
    webhook_id: int = field(compare=False)
    resource_id: int = field(compare=False)


class Dispatcher:
    """The background worker that stands in for WooCommerce's job queue."""

    def __init__(self, sandbox: Sandbox, *, delay: float = 2.0) -> None:
        self.sandbox = sandbox
        self.delay = delay
        self.cond = threading.Condition()
        self.jobs: list[Job] = []
        self.pending: set[tuple[str, int, int]] = set()
        self.held: dict[str, list[Job]] = {}
        self.seq = itertools.count()
        self.active = 0
        self.stopped = False
        self.thread = threading.Thread(target=self.run, name="wc-sandbox-webhooks", daemon=True)

    # ------------------------------------------------------------ queue

    def start(self) -> None:
        """Start the worker thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop the worker thread (jobs still queued are dropped)."""
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        self.thread.join(timeout=5)

    def clear(self) -> None:
        """Forget every queued job (sandbox reset)."""
        with self.cond:
            self.jobs.clear()
            self.pending.clear()
            self.held.clear()

    def schedule(self, slug: str, resource: str, event: str, resource_id: int) -> None:
        """Queue a job for every active webhook of the store listening to resource.event."""
        topic = f"{resource}.{event}"
        with self.sandbox.lock:
            store = self.sandbox.store(slug)
            if store is None or not self.is_valid_resource(store, resource, event, resource_id):
                return
            hooks = [w.id for w in store.webhooks.values()
                     if w.status == "active" and w.topic == topic]
            delay = self.delay + float(store.faults.get("delay", 0) or 0)
        with self.cond:
            for webhook_id in hooks:
                key = (slug, webhook_id, resource_id)
                if key in self.pending:
                    continue
                self.pending.add(key)
                heapq.heappush(self.jobs, Job(time.monotonic() + delay, next(self.seq), slug,
                                              webhook_id, resource_id))
            self.cond.notify_all()

    @staticmethod
    def is_valid_resource(store: Store, resource: str, event: str, resource_id: int) -> bool:
        """WC_Webhook::is_valid_resource(): no deliveries for draft orders."""
        if resource == "order" and event != "deleted":
            order = store.orders.get(resource_id)
            return order is None or order.status not in ("checkout-draft", "auto-draft", "new")
        return True

    def queued(self) -> int:
        """Jobs waiting or being delivered (jobs held by the 'reorder' fault not counted)."""
        with self.cond:
            return len(self.jobs) + self.active

    def run(self) -> None:
        """Worker loop: wait for the next due job, deliver it."""
        while True:
            job = self.next_due_job()
            if job is None:
                return
            try:
                for ready in self.apply_reorder(job):
                    self.deliver(ready)
            except Exception:  # pragma: no cover - keep the worker alive
                log.exception("webhook delivery crashed")
            finally:
                with self.cond:
                    self.active -= 1

    def next_due_job(self) -> Job | None:
        """Block until a job is due (None when stopping)."""
        with self.cond:
            while not self.stopped:
                if self.jobs and self.jobs[0].due <= time.monotonic():
                    job = heapq.heappop(self.jobs)
                    self.pending.discard((job.slug, job.webhook_id, job.resource_id))
                    self.active += 1
                    return job
                timeout = self.jobs[0].due - time.monotonic() if self.jobs else None
                self.cond.wait(timeout)
            return None

    def apply_reorder(self, job: Job) -> list[Job]:
        """The 'reorder' fault holds N jobs of a store back and releases them reversed."""
        with self.sandbox.lock:
            store = self.sandbox.store(job.slug)
            size = int(store.faults.get("reorder", 0) or 0) if store else 0
            if size < 2:
                return [job]
            held = self.held.setdefault(job.slug, [])
            held.append(job)
            if len(held) < size:
                return []
            store.faults.pop("reorder", None)
            self.held.pop(job.slug, None)
            return list(reversed(held))

    # ------------------------------------------------------------ delivery

    def deliver(self, job: Job) -> None:
        """WC_Webhook::deliver(): build the payload now, sign, POST, log, count failures."""
        prepared = self.prepare(job)
        if prepared is None:
            return
        url, body, headers, fault, copies = prepared
        for copy in range(copies):
            outcome = post(url, body, headers, self.verify(), DELIVERY_TIMEOUT, fault=fault)
            self.record(job, url, headers, body, outcome, duplicate=copy > 0, fault=fault)
        self.after_delivery(job.slug, job.webhook_id, outcome["code"])

    def verify(self) -> Any:
        """TLS verification for outbound calls: a CA bundle path, or True."""
        return self.sandbox.config.get("outbound_verify", True)

    def prepare(self, job: Job) -> tuple | None:
        """Under the lock: payload, headers, and which faults apply."""
        with self.sandbox.lock:
            store = self.sandbox.store(job.slug)
            webhook = store.webhooks.get(job.webhook_id) if store else None
            if webhook is None:
                return None
            base = home_base(self.sandbox, store, webhook)
            payload = build_payload(store, webhook, job.resource_id, f"{base}/wp-json")
            body = serializers.php_json(payload).strip()
            headers = {
                "User-Agent": USER_AGENT, "Content-Type": "application/json",
                "X-WC-Webhook-Source": f"{base}/", "X-WC-Webhook-Topic": webhook.topic,
                "X-WC-Webhook-Resource": webhook.resource, "X-WC-Webhook-Event": webhook.event,
                "X-WC-Webhook-Signature": generate_signature(body, webhook.secret),
                "X-WC-Webhook-ID": str(webhook.id),
                "X-WC-Webhook-Delivery-ID": new_delivery_id(store, webhook.id),
            }
            fault = take_fault(store, "fail")
            copies = 2 if take_fault(store, "duplicate") else 1
            return webhook.delivery_url, body, headers, fault, copies

    def record(self, job: Job, url: str, headers: dict, body: str, outcome: dict, *,
               duplicate: bool, fault: bool) -> None:
        """Append to the delivery log the controls expose."""
        with self.sandbox.lock:
            self.sandbox.deliveries.append({
                "seq": len(self.sandbox.deliveries) + 1, "kind": "delivery",
                "store": job.slug, "webhook_id": job.webhook_id,
                "resource_id": job.resource_id, "topic": headers["X-WC-Webhook-Topic"],
                "url": url, "request_headers": headers, "body": body,
                "duplicate": duplicate, "fault": "fail" if fault else None, **outcome,
                "delivered_at": serializers.gmt_date(utcnow())})

    def after_delivery(self, slug: str, webhook_id: int, code: Any) -> None:
        """log_delivery(): reset or count failures; save() may ping."""
        with self.sandbox.lock:
            store = self.sandbox.store(slug)
            webhook = store.webhooks.get(webhook_id) if store else None
            if webhook is None:
                return
            if isinstance(code, int) and 200 <= code < 303:
                webhook.failure_count = 0
            elif webhook.failure_count > MAX_FAILURES:
                webhook.status = "disabled"
            else:
                webhook.failure_count += 1
            ping_needed = save_webhook(webhook, url_changed=False)
        if ping_needed:
            deliver_ping(self.sandbox, slug, webhook_id)


def take_fault(store: Store, name: str) -> bool:
    """Consume one unit of a counted fault ('fail': N, 'duplicate': N)."""
    left = int(store.faults.get(name, 0) or 0)
    if left <= 0:
        return False
    if left == 1:
        store.faults.pop(name, None)
    else:
        store.faults[name] = left - 1
    return True


def build_payload(store: Store, webhook: Webhook, resource_id: int, rest_base: str) -> Any:
    """build_payload(): {'id'} for deleted, else what GET /wc/v3/{resource}s/{id} returns now."""
    if webhook.event == "deleted":
        return {"id": resource_id}
    if webhook.resource == "order":
        order = store.orders.get(resource_id)
        if order is None:
            return {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
                    "data": {"status": 404}}
        return serializers.order_data(store, order, rest_base)
    if webhook.resource == "product":
        item = store.find_product_or_variation(resource_id)
        if item is None:
            return {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                    "data": {"status": 404}}
        return serializers.product_data(store, item, rest_base)
    if webhook.resource == "action":
        return {"action": webhook.topic.removeprefix("action."), "arg": resource_id}
    return {}


def save_webhook(webhook: Webhook, *, url_changed: bool) -> bool:
    """WC_Webhook_Data_Store::update(): True when WooCommerce would ping after this save."""
    webhook.date_modified = utcnow()
    return webhook.status == "active" and (url_changed or webhook.pending_delivery)


def post(url: str, body: str, headers: dict[str, str], verify: Any, timeout: float, *,
         fault: bool = False) -> dict[str, Any]:
    """One outbound POST (no redirects followed); failures become WP_Error-like codes."""
    started = time.monotonic()
    if fault:
        return {"code": "http_request_failed", "message": "cURL error 7: Failed to connect "
                "(sandbox fault: fail)", "response_body": "", "response_headers": {},
                "duration": 0.0}
    try:
        response = requests.post(url, data=body.encode(), headers=headers, timeout=timeout,
                                 allow_redirects=False, verify=verify)
    except requests.RequestException as exc:
        return {"code": "http_request_failed", "message": str(exc), "response_body": "",
                "response_headers": {}, "duration": round(time.monotonic() - started, 5)}
    return {"code": response.status_code, "message": response.reason or "",
            "response_body": response.text[:2000], "response_headers": dict(response.headers),
            "duration": round(time.monotonic() - started, 5)}


def deliver_ping(sandbox: Sandbox, slug: str, webhook_id: int) -> bool:
    """WC_Webhook::deliver_ping(): ``webhook_id=N`` form body; 200 clears pending_delivery."""
    with sandbox.lock:
        store = sandbox.store(slug)
        webhook = store.webhooks.get(webhook_id) if store else None
        if webhook is None:
            return False
        url = webhook.delivery_url
    body = f"webhook_id={webhook_id}"
    headers = {"User-Agent": USER_AGENT, "Content-Type": "application/x-www-form-urlencoded"}
    outcome = post(url, body, headers, sandbox.config.get("outbound_verify", True), PING_TIMEOUT)
    with sandbox.lock:
        sandbox.deliveries.append({
            "seq": len(sandbox.deliveries) + 1, "kind": "ping", "store": slug,
            "webhook_id": webhook_id, "resource_id": None, "topic": None, "url": url,
            "request_headers": headers, "body": body, "duplicate": False, "fault": None,
            **outcome, "delivered_at": serializers.gmt_date(utcnow())})
        ok = outcome["code"] == 200
        if ok and webhook_id in store.webhooks:
            store.webhooks[webhook_id].pending_delivery = False
    return ok
