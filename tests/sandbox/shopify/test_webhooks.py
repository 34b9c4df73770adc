"""Webhook deliveries: signatures and headers checked by independent code, payload shapes against
Shopify's published schemas, retries, faults, API subscriptions, compliance topics."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime

from sandbox.shopify.reference import webhook_payload_schema

from .conftest import SECRET, SHOP

HEADERS = ("X-Shopify-Topic", "X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain",
           "X-Shopify-Api-Version", "X-Shopify-Webhook-Id", "X-Shopify-Event-Id",
           "X-Shopify-Triggered-At")
SUBSCRIBE = """mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri } userErrors { field message } } }"""
LIST = "{ webhookSubscriptions(first: 10) { nodes { id topic uri } } }"


def _verify(delivery: dict) -> bool:
    digest = hmac.new(SECRET.encode(), delivery["body"], hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(),
                               delivery["headers"]["X-Shopify-Hmac-Sha256"])


def _order(sandbox, sku="MUG-WHT", qty=1) -> dict:
    return sandbox.control("POST", f"shops/{SHOP}/orders",
                           {"lines": [{"sku": sku, "quantity": qty}]})


def _required(topic: str) -> list[str]:
    return webhook_payload_schema(topic)["required"]


def _deliveries(sandbox, topic: str) -> list[dict]:
    return sandbox.control("GET", f"webhooks/deliveries?topic={topic}")


def _wait_state(sandbox, topic: str, state: str, timeout: float = 8.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [d for d in _deliveries(sandbox, topic) if d["state"] == state]
        if done:
            return done[0]
        time.sleep(0.05)
    raise AssertionError(f"no {state} {topic} delivery: {_deliveries(sandbox, topic)}")


def test_webhook_signed_with_shopify_headers(sandbox, token, receiver):
    order = _order(sandbox)
    hook = receiver.wait_for("orders/create")[0]
    assert _verify(hook)
    h = hook["headers"]
    assert all(name in h for name in HEADERS)
    assert h["X-Shopify-Shop-Domain"] == SHOP and h["X-Shopify-Api-Version"] == "2026-10"
    datetime.fromisoformat(h["X-Shopify-Triggered-At"].replace("Z", "+00:00"))
    payload = json.loads(hook["body"])
    assert payload["id"] == order["id"] and payload["admin_graphql_api_id"] == order["gid"]
    assert set(_required("orders/create")) <= set(payload)
    tampered = dict(hook, body=hook["body"].replace(b"MUG-WHT", b"MUG-BLK"))
    assert not _verify(tampered)


def test_webhook_payload_shapes_match_published_schemas(sandbox, token, receiver):
    sub = sandbox.gql(token, SUBSCRIBE, {"topic": "INVENTORY_LEVELS_UPDATE",
                                         "uri": f"{receiver.url}/shopify/webhooks"})
    assert sub["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    order = _order(sandbox, qty=2)
    fo = order["fulfillment_orders"][0]["id"]
    f = sandbox.control("POST", f"shops/{SHOP}/fulfillments", {"fulfillment_order_id": fo})
    sandbox.control("POST", f"shops/{SHOP}/fulfillments/{f['id']}/tracking",
                    {"company": "UPS", "number": "1Z2"})
    for topic in ("fulfillments/create", "fulfillments/update", "orders/updated",
                  "inventory_levels/update"):
        payload = json.loads(receiver.wait_for(topic)[0]["body"])
        assert set(_required(topic)) <= set(payload), topic
    update = json.loads(receiver.wait_for("fulfillments/update")[-1]["body"])
    assert update["tracking_number"] == "1Z2" and update["tracking_numbers"] == ["1Z2"]


def test_webhook_retries_with_backoff_keep_ids(sandbox, token, receiver):
    receiver.fail_next, receiver.fail_topic = 2, "orders/create"
    _order(sandbox)
    hooks = receiver.wait_for("orders/create", 3)
    assert len({h["headers"]["X-Shopify-Event-Id"] for h in hooks}) == 1
    assert len({h["headers"]["X-Shopify-Webhook-Id"] for h in hooks}) == 1
    gaps = [b["at"] - a["at"] for a, b in zip(hooks, hooks[1:])]
    assert gaps[0] >= 0.18 and gaps[1] >= 0.38  # 0.2 s then 0.4 s (compressed schedule)
    delivery = _wait_state(sandbox, "orders/create", "delivered")
    assert [a["status"] for a in delivery["attempts"]] == [500, 500, 200]


def test_webhook_gives_up_after_last_retry(sandbox, token, receiver):
    receiver.fail_next, receiver.fail_topic = 100, "orders/create"
    _order(sandbox)
    failed = _wait_state(sandbox, "orders/create", "failed")
    assert len(failed["attempts"]) == 4  # first attempt + 3 retries in this configuration
    assert len(receiver.webhooks("orders/create")) == 4


def test_webhook_timeout_counts_as_failure(sandbox, token, receiver):
    receiver.stall_seconds = 1.3  # longer than the configured 1 s delivery timeout
    _order(sandbox)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        attempts = [a for d in _deliveries(sandbox, "orders/create") for a in d["attempts"]]
        if attempts:
            break
        time.sleep(0.05)
    receiver.stall_seconds = 0
    assert attempts[0]["status"] is None and "Timeout" in attempts[0]["error"]
    _wait_state(sandbox, "orders/create", "delivered")


def test_webhook_fault_duplicate_keeps_event_id(sandbox, token, receiver):
    sandbox.control("POST", "webhooks/faults", {"duplicate": 1, "topics": ["orders/create"]})
    _order(sandbox)
    hooks = receiver.wait_for("orders/create", 2)
    assert hooks[0]["headers"]["X-Shopify-Event-Id"] == hooks[1]["headers"]["X-Shopify-Event-Id"]
    assert hooks[0]["body"] == hooks[1]["body"]
    assert all(_verify(h) for h in hooks)


def test_webhook_fault_drop_then_retry(sandbox, token, receiver):
    sandbox.control("POST", "webhooks/faults", {"drop": 1, "topics": ["orders/create"]})
    started = time.monotonic()
    _order(sandbox)
    hook = receiver.wait_for("orders/create")[0]
    assert hook["at"] - started >= 0.18
    delivery = _wait_state(sandbox, "orders/create", "delivered")
    assert "dropped" in delivery["attempts"][0]["error"]
    time.sleep(0.3)
    assert len(receiver.webhooks("orders/create")) == 1


def test_webhook_fault_reorder(sandbox, token, receiver):
    sandbox.control("POST", "webhooks/faults", {"reorder": 2, "reorder_batch": 2,
                                                "topics": ["orders/create"]})
    first, second = _order(sandbox), _order(sandbox)
    hooks = receiver.wait_for("orders/create", 2)
    assert [json.loads(h["body"])["id"] for h in hooks] == [second["id"], first["id"]]


def test_webhook_fault_delay(sandbox, token, receiver):
    sandbox.control("POST", "webhooks/faults", {"delay": 1, "delay_seconds": 0.5,
                                                "topics": ["orders/create"]})
    started = time.monotonic()
    _order(sandbox)
    assert receiver.wait_for("orders/create")[0]["at"] - started >= 0.45


def test_webhook_subscription_create_and_delivery(sandbox, token, receiver):
    uri = f"{receiver.url}/api-hooks"
    out = sandbox.gql(token, SUBSCRIBE, {"topic": "ORDERS_CANCELLED", "uri": uri})
    created = out["data"]["webhookSubscriptionCreate"]
    assert created["userErrors"] == [] and created["webhookSubscription"]["uri"] == uri
    dup = sandbox.gql(token, SUBSCRIBE, {"topic": "ORDERS_CANCELLED", "uri": uri})
    assert dup["data"]["webhookSubscriptionCreate"]["userErrors"]
    insecure = sandbox.gql(token, SUBSCRIBE, {"topic": "ORDERS_CANCELLED",
                                              "uri": "http://example.com/hooks"})
    assert insecure["data"]["webhookSubscriptionCreate"]["userErrors"]
    nodes = sandbox.gql(token, LIST)["data"]["webhookSubscriptions"]["nodes"]
    assert [(n["topic"], n["uri"]) for n in nodes] == [("ORDERS_CANCELLED", uri)]
    order = _order(sandbox)
    sandbox.control("POST", f"shops/{SHOP}/orders/{order['id']}/cancel", {})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
            r["path"] == "/api-hooks" for r in receiver.received):
        time.sleep(0.02)
    api_hook = next(r for r in receiver.received if r["path"] == "/api-hooks")
    assert api_hook["headers"]["X-Shopify-Topic"] == "orders/cancelled" and _verify(api_hook)
    toml_hook = receiver.wait_for("orders/cancelled")[0]
    assert toml_hook["headers"]["X-Shopify-Event-Id"] == api_hook["headers"]["X-Shopify-Event-Id"]


def test_webhook_compliance_topics(sandbox, token, receiver):
    for control, topic in (("customers_data_request", "customers/data_request"),
                           ("customers_redact", "customers/redact"),
                           ("shop_redact", "shop/redact")):
        sandbox.control("POST", f"shops/{SHOP}/compliance/{control}", {})
        hook = receiver.wait_for(topic)[0]
        assert _verify(hook)
        assert set(_required(topic)) <= set(json.loads(hook["body"]))


def test_webhook_not_sent_to_uninstalled_app(sandbox, token, receiver):
    sandbox.control("POST", f"shops/{SHOP}/uninstall", {})
    receiver.wait_for("app/uninstalled")
    _order(sandbox)
    time.sleep(0.3)
    assert receiver.webhooks("orders/create") == []


def test_webhook_api_subscription_deleted_after_retries_exhausted(sandbox, token, receiver):
    uri = f"{receiver.url}/always-failing"
    sandbox.gql(token, SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": uri})
    sandbox.control("POST", "webhooks/settings", {"retry_delays": [0.05, 0.05]})
    receiver.fail_next, receiver.fail_topic = 100, "orders/create"
    _order(sandbox)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sandbox.gql(token, LIST)["data"][
            "webhookSubscriptions"]["nodes"]:
        time.sleep(0.05)
    assert sandbox.gql(token, LIST)["data"]["webhookSubscriptions"]["nodes"] == []


def test_webhook_subscriptions_removed_on_uninstall(sandbox, token, receiver):
    sandbox.gql(token, SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": f"{receiver.url}/x"})
    sandbox.control("POST", f"shops/{SHOP}/uninstall", {})
    fresh = sandbox.install()
    assert sandbox.gql(fresh, LIST)["data"]["webhookSubscriptions"]["nodes"] == []


def test_webhook_subscription_needs_topic_scope(sandbox, receiver):
    token = sandbox.install(scopes=["read_locations"])
    out = sandbox.gql(token, SUBSCRIBE, {"topic": "ORDERS_CREATE", "uri": f"{receiver.url}/x"})
    errors = out["data"]["webhookSubscriptionCreate"]["userErrors"]
    assert errors and "orders/create" in errors[0]["message"]
    _order(sandbox)
    time.sleep(0.3)
    assert receiver.webhooks("orders/create") == []  # the toml subscription needs read_orders too
