"""Webhooks: REST management, ping, signed asynchronous deliveries, failures, faults, owner actions."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from tests.sandbox.woocommerce.conftest import wait_until

SECRET = "s3cret-for-tests"


def create_webhook(wc, receiver, topic: str, path: str = "/hooks/wc", *, api=None, **extra):
    """Register a webhook through the REST API, as the app will."""
    api = api or wc.api()
    response = api.post("webhooks", {"name": f"Stockroom {topic}", "topic": topic,
                                     "delivery_url": receiver.url + path, "secret": SECRET,
                                     **extra})
    assert response.status_code == 201, response.text
    return response


def expected_signature(body: bytes, secret: str = SECRET) -> str:
    """base64(HMAC-SHA256(raw body, secret)), computed here independently."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliveries_to(receiver, path: str = "/hooks/wc") -> list[dict]:
    """Signed deliveries (pings excluded) received on a path."""
    return [r for r in receiver.to(path) if "X-Wc-Webhook-Signature" in r["headers"]]


def first_order(api, status: str = "processing") -> dict:
    return api.get("orders", params={"status": status, "orderby": "id", "order": "asc"}).json()[0]


def test_create_webhook_answers_201_and_pings_form_encoded_without_signature(wc, receiver):
    response = create_webhook(wc, receiver, "order.updated")
    hook = response.json()
    assert response.headers["Location"].endswith(f"/wp-json/wc/v3/webhooks/{hook['id']}")
    assert {k: hook[k] for k in ("status", "topic", "resource", "event")} == {
        "status": "active", "topic": "order.updated", "resource": "order", "event": "updated"}
    assert "secret" not in hook
    assert isinstance(hook["id"], int)
    [ping] = receiver.wait_for("/hooks/wc")
    assert ping["body"] == f"webhook_id={hook['id']}".encode()
    assert ping["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert not any(h.startswith("X-Wc-Webhook") for h in ping["headers"])
    assert ping["headers"]["User-Agent"].startswith("WooCommerce/9.")
    [stored] = wc.control("GET", "/stores/demo-store")["webhooks"]
    assert stored["pending_delivery"] is False


def test_create_webhook_invalid_topic_and_url_are_refused(wc, receiver):
    api = wc.api()
    bad_topic = api.post("webhooks", {"topic": "order.exploded", "delivery_url": receiver.url})
    assert bad_topic.status_code == 400
    assert bad_topic.json()["code"] == "woocommerce_rest_shop_webhook_invalid_topic"
    bad_url = api.post("webhooks", {"topic": "order.updated", "delivery_url": "ftp://x"})
    assert bad_url.json() == {
        "code": "woocommerce_rest_shop_webhook_invalid_delivery_url",
        "message": "Webhook delivery URL must be a valid URL starting with http:// or https://.",
        "data": {"status": 400}}
    hook = create_webhook(wc, receiver, "order.updated", api=api).json()
    bad_update = api.put(f"webhooks/{hook['id']}", {"delivery_url": "ftp://x"})
    assert (bad_update.status_code, bad_update.json()) == (400, bad_url.json())
    assert api.get(f"webhooks/{hook['id']}").json()["delivery_url"] == hook["delivery_url"]


def test_delivery_headers_are_produced_like_wc_webhook(wc, receiver):
    api = wc.api()
    hook = create_webhook(wc, receiver, "order.updated", api=api).json()
    order = first_order(api)
    assert api.put(f"orders/{order['id']}", {"status": "completed"}).status_code == 200
    wait_until(lambda: deliveries_to(receiver))
    [delivery] = deliveries_to(receiver)
    headers, body = delivery["headers"], delivery["body"]
    assert headers["X-Wc-Webhook-Source"] == wc.store_url() + "/"
    assert headers["X-Wc-Webhook-Topic"] == "order.updated"
    assert headers["X-Wc-Webhook-Resource"] == "order"
    assert headers["X-Wc-Webhook-Event"] == "updated"
    assert headers["X-Wc-Webhook-Id"] == str(hook["id"])
    assert len(headers["X-Wc-Webhook-Delivery-Id"]) == 32
    assert headers["X-Wc-Webhook-Signature"] == expected_signature(body)
    assert headers["Content-Type"] == "application/json"
    assert b"\\/wp-json\\/" in body  # PHP's json_encode escapes slashes: verify the raw bytes
    payload = json.loads(body)
    assert (payload["id"], payload["status"]) == (order["id"], "completed")
    assert payload["date_completed"] is not None


def test_delivery_payload_is_built_at_delivery_time_and_coalesced(wc, receiver):
    api = wc.api()
    create_webhook(wc, receiver, "order.updated", api=api)
    wc.control("PUT", "/config", json={"webhook_delay_seconds": 0.5})
    order = first_order(api)
    api.put(f"orders/{order['id']}", {"status": "on-hold"})
    api.put(f"orders/{order['id']}", {"status": "completed"})
    assert deliveries_to(receiver) == []  # asynchronous: nothing sent with the response
    wc.drain()
    deliveries = deliveries_to(receiver)
    assert len(deliveries) == 1
    assert json.loads(deliveries[0]["body"])["status"] == "completed"


def test_webhook_disabled_after_seventh_consecutive_failure_and_reenabled_by_put(wc, receiver):
    api = wc.api()
    receiver.statuses["/fail"] = 500
    hook = create_webhook(wc, receiver, "product.updated", "/fail", api=api).json()
    product = api.get("products", params={"sku": "TOTE-CANVAS"}).json()[0]
    for quantity in range(1, 9):
        api.put(f"products/{product['id']}", {"stock_quantity": quantity})
        wc.drain()
    sent = wc.deliveries(kind="delivery", webhook_id=hook["id"])
    assert len(sent) == 7 and {d["code"] for d in sent} == {500}
    stored = api.get(f"webhooks/{hook['id']}").json()
    assert stored["status"] == "disabled"
    reenabled = api.put(f"webhooks/{hook['id']}", {"status": "active"})
    assert reenabled.json()["status"] == "active"
    # WooCommerce keeps failure_count on re-activation: one more failure disables it again.
    api.put(f"products/{product['id']}", {"stock_quantity": 20})
    wc.drain()
    assert api.get(f"webhooks/{hook['id']}").json()["status"] == "disabled"
    receiver.statuses["/fail"] = 200
    api.put(f"webhooks/{hook['id']}", {"status": "active"})
    api.put(f"products/{product['id']}", {"stock_quantity": 21})
    wc.drain()
    [summary] = wc.control("GET", "/stores/demo-store")["webhooks"]
    assert (summary["status"], summary["failure_count"]) == ("active", 0)


def test_order_deleted_payload_is_only_the_id(wc, receiver):
    api = wc.api()
    create_webhook(wc, receiver, "order.deleted", api=api)
    order = first_order(api, "on-hold")
    assert api.delete(f"orders/{order['id']}").json()["status"] == "trash"
    [delivery] = wait_until(lambda: deliveries_to(receiver))
    assert json.loads(delivery["body"]) == {"id": order["id"]}


def test_owner_place_order_emits_created_updated_and_stock_webhooks(wc, receiver):
    api = wc.api()
    for topic in ("order.created", "order.updated", "product.updated"):
        create_webhook(wc, receiver, topic, f"/{topic}", api=api)
    order = wc.control("POST", "/stores/demo-store/orders",
                       json={"line_items": [{"sku": "HOODIE-M", "quantity": 2}]})
    wc.drain()
    [created] = deliveries_to(receiver, "/order.created")
    [updated] = deliveries_to(receiver, "/order.updated")
    assert json.loads(created["body"])["id"] == order["id"]
    assert json.loads(updated["body"])["status"] == "processing"
    products = [json.loads(r["body"]) for r in deliveries_to(receiver, "/product.updated")]
    variation = next(p for p in products if p["sku"] == "HOODIE-M")
    assert (variation["type"], variation["stock_quantity"]) == ("variation", 5)  # 8 - 1 - 2
    line = json.loads(created["body"])["line_items"][0]
    assert (line["sku"], line["quantity"], line["variation_id"]) == ("HOODIE-M", 2,
                                                                      variation["id"])


def test_owner_complete_cancel_refund_emit_order_updated(wc, receiver):
    api = wc.api()
    create_webhook(wc, receiver, "order.updated", api=api)
    first, second = api.get("orders", params={"status": "processing", "orderby": "id",
                                              "order": "asc"}).json()[:2]
    wc.control("POST", f"/stores/demo-store/orders/{first['id']}/complete",
               json={"tracking": {"tracking_number": "1Z999", "tracking_provider": "UPS"}})
    wc.drain()
    wc.control("POST", f"/stores/demo-store/orders/{second['id']}/cancel")
    wc.drain()
    wc.control("POST", f"/stores/demo-store/orders/{first['id']}/refund",
               json={"amount": 5, "reason": "damaged"})
    wc.drain()
    bodies = [json.loads(r["body"]) for r in deliveries_to(receiver)]
    assert [(b["id"], b["status"]) for b in bodies] == [
        (first["id"], "completed"), (second["id"], "cancelled"), (first["id"], "completed")]
    assert bodies[2]["refunds"][0]["total"] == "-5.00"
    tracking = api.get(f"orders/{first['id']}").json()
    assert tracking["date_completed"] is not None


def test_faults_duplicate_reorder_and_fail(wc, receiver):
    api = wc.api()
    hook = create_webhook(wc, receiver, "order.updated", api=api).json()
    first, second = api.get("orders", params={"status": "processing", "orderby": "id",
                                              "order": "asc"}).json()[:2]
    wc.control("PUT", "/stores/demo-store/faults", json={"duplicate": 1})
    api.put(f"orders/{first['id']}", {"customer_note": "dup"})
    wc.drain()
    one, two = deliveries_to(receiver)
    assert one["body"] == two["body"]
    assert one["headers"]["X-Wc-Webhook-Delivery-Id"] == two["headers"]["X-Wc-Webhook-Delivery-Id"]

    receiver.requests.clear()
    wc.control("PUT", "/stores/demo-store/faults", json={"reorder": 2})
    api.put(f"orders/{first['id']}", {"customer_note": "a"})
    wc.drain()
    assert deliveries_to(receiver) == []  # held back until the second one is queued
    api.put(f"orders/{second['id']}", {"customer_note": "b"})
    wc.drain()
    assert [json.loads(r["body"])["id"] for r in deliveries_to(receiver)] == [second["id"],
                                                                              first["id"]]

    receiver.requests.clear()
    wc.control("PUT", "/stores/demo-store/faults", json={"fail": 1})
    api.put(f"orders/{first['id']}", {"customer_note": "lost"})
    wc.drain()
    assert deliveries_to(receiver) == []
    last = wc.deliveries(kind="delivery", webhook_id=hook["id"])[-1]
    assert (last["code"], last["fault"]) == ("http_request_failed", "fail")
    [summary] = wc.control("GET", "/stores/demo-store")["webhooks"]
    assert summary["failure_count"] == 1


def test_webhooks_list_update_and_delete(wc, receiver):
    api = wc.api()
    ids = [create_webhook(wc, receiver, t, api=api).json()["id"]
           for t in ("order.created", "order.updated", "order.deleted", "product.updated")]
    page = api.get("webhooks", params={"per_page": 3})
    assert (page.headers["X-WP-Total"], page.headers["X-WP-TotalPages"]) == ("4", "2")
    assert [w["id"] for w in page.json()] == sorted(ids, reverse=True)[:3]
    paused = api.put(f"webhooks/{ids[0]}", {"status": "paused"}).json()
    assert paused["status"] == "paused"
    refused = api.delete(f"webhooks/{ids[0]}")
    assert refused.status_code == 501
    assert refused.json()["code"] == "woocommerce_rest_trash_not_supported"
    assert api.delete(f"webhooks/{ids[0]}", params={"force": "true"}).status_code == 200
    assert api.get(f"webhooks/{ids[0]}").status_code == 404


def test_delivery_source_is_the_store_url_the_webhook_was_created_through(wc, receiver,
                                                                         monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", wc.ca_bundle)
    api = wc.api(https=True)
    create_webhook(wc, receiver, "product.updated", api=api)
    product = api.get("products", params={"sku": "MUG-ENAMEL"}).json()[0]
    api.put(f"products/{product['id']}", {"stock_quantity": 3})
    [delivery] = wait_until(lambda: deliveries_to(receiver))
    assert delivery["headers"]["X-Wc-Webhook-Source"] == wc.store_url(https=True) + "/"
    payload = json.loads(delivery["body"])
    assert (payload["sku"], payload["stock_quantity"], payload["stock_status"]) == (
        "MUG-ENAMEL", 3, "instock")
