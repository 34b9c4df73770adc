"""The payload checks against Shopify's published example payloads and against forged bodies."""
import json
from pathlib import Path

import pytest

from app.models import Platform
from app.sync.errors import Rejected
from app.sync.handlers import Delivery, find_payload_check, inbox_topics

EXAMPLES = Path(__file__).parents[4] / "vendor/shopify/webhooks/2026-07/metadatas"


def example(topic: str) -> dict:
    """Shopify's example payload of a topic, as vendored (byte-identical)."""
    return json.loads((EXAMPLES / f"{topic}.json").read_text())["response"]


def run_check(topic: str, payload: dict, domain: str = "{shop}.myshopify.com") -> None:
    check = find_payload_check(Platform.SHOPIFY, topic)
    assert check is not None, topic
    check(Delivery(topic=topic, headers={"X-Shopify-Shop-Domain": domain}, payload=payload,
                   channel_domain=domain))


def test_every_handled_topic_has_a_check(app):
    topics = inbox_topics(Platform.SHOPIFY)
    assert "app/uninstalled" in topics and "shop/redact" in topics
    assert [t for t in topics if find_payload_check(Platform.SHOPIFY, t) is None] == []


@pytest.mark.parametrize("topic", [
    "app/uninstalled", "shop/redact", "customers/redact", "customers/data_request",
    "orders/create", "orders/updated", "orders/cancelled", "fulfillments/create",
    "fulfillments/update", "fulfillment_orders/moved", "fulfillment_orders/hold_released",
    "fulfillment_orders/placed_on_hold", "fulfillment_orders/cancelled",
    "fulfillment_orders/fulfillment_request_accepted",
    "fulfillment_orders/fulfillment_request_rejected",
    "fulfillment_orders/cancellation_request_accepted",
    "fulfillment_orders/cancellation_request_rejected",
    "products/create", "products/update", "products/delete", "refunds/create"])
def test_check_accepts_shopifys_example_payload(app, topic):
    # The compliance examples name the shop "{shop}.myshopify.com": the delivery is for it.
    run_check(topic, example(topic))


def test_check_order_accepts_the_examples_imprecise_id_and_refuses_another_order(app):
    payload = example("orders/create")
    assert payload["id"] != int(payload["admin_graphql_api_id"].rsplit("/", 1)[1])
    run_check("orders/create", payload)
    with pytest.raises(Rejected, match="name different Orders"):
        run_check("orders/create", {**payload, "id": 450789469})
    with pytest.raises(Rejected, match="not gid://shopify/Order/<id>"):
        run_check("orders/create", {**payload, "admin_graphql_api_id": "gid://shopify/Shop/1"})
    with pytest.raises(Rejected, match="not a Shopify id"):
        run_check("orders/updated", {**payload, "id": "820982911946154508"})


@pytest.mark.parametrize("topic,field", [
    ("shop/redact", "shop_domain"), ("customers/redact", "shop_domain"),
    ("customers/data_request", "shop_domain"), ("app/uninstalled", "myshopify_domain"),
    ("app/uninstalled", "domain")])
def test_check_refuses_a_body_naming_another_shop(app, topic, field):
    payload = {**example(topic), field: "attacker.myshopify.com"}
    with pytest.raises(Rejected, match=f"{field} is 'attacker.myshopify.com', but it was "
                                       "delivered for victim.myshopify.com"):
        run_check(topic, payload, domain="victim.myshopify.com")


def test_check_shop_compares_domains_case_insensitively_and_ignores_a_custom_domain(app):
    run_check("app/uninstalled", {"id": 1, "myshopify_domain": "Victim.myshopify.com",
                                  "domain": "shop.victim.example"}, domain="victim.myshopify.com")


def test_check_compliance_refuses_a_missing_shop_or_malformed_order_ids(app):
    with pytest.raises(Rejected, match="shop_domain is None"):
        run_check("shop/redact", {"shop_id": 1})
    with pytest.raises(Rejected, match="orders_to_redact"):
        run_check("customers/redact", {**example("customers/redact"),
                                       "orders_to_redact": ["1 OR 1=1"]})


def test_check_fulfillment_orders_refuses_an_id_of_another_kind(app):
    payload = {"fulfillment_order": {"id": "gid://shopify/Order/1", "status": "open"}}
    with pytest.raises(Rejected, match="fulfillment_order.id is 'gid://shopify/Order/1'"):
        run_check("fulfillment_orders/hold_released", payload)


def test_check_refund_refuses_another_resource_and_malformed_line_items(app):
    payload = example("refunds/create")
    with pytest.raises(Rejected, match="not gid://shopify/Refund/<id>"):
        run_check("refunds/create", {**payload, "admin_graphql_api_id": "gid://shopify/Order/1"})
    with pytest.raises(Rejected, match="order_id"):
        run_check("refunds/create", {**payload, "order_id": "1 OR 1=1"})
    line = payload["refund_line_items"][0]
    with pytest.raises(Rejected, match="quantity"):
        run_check("refunds/create", {**payload, "refund_line_items": [{**line, "quantity": -2}]})
    with pytest.raises(Rejected, match="location_id"):
        run_check("refunds/create", {**payload,
                                     "refund_line_items": [{**line, "location_id": "here"}]})


@pytest.mark.parametrize("topic, field, value, message", [
    ("products/update", "variants", "v1", "the body's variants is 'v1', not a list"),
    ("products/update", "variants", [7], "the body's variant 7 is not a variant"),
    ("refunds/create", "refund_line_items", {"id": 1},
     "the body's refund_line_items is {'id': 1}, not a list"),
    ("refunds/create", "refund_line_items", ["x"], "a refund line item is 'x', not an object"),
    ("fulfillment_orders/merged", "merge_intents", [],
     "the body's merge_intents is [], not a list of intents"),
    ("fulfillment_orders/merged", "merge_intents", None,
     "the body's merge_intents is None, not a list of intents"),
    ("fulfillment_orders/merged", "merge_intents", [None],
     "the body's merge intent None is not an object"),
])
def test_check_lists_of_objects_refused_with_their_reason(app, topic, field, value, message):
    """One walk (payload_checks._objects) for every list of objects, each reason its own."""
    with pytest.raises(Rejected) as err:
        run_check(topic, {**example(topic), field: value})
    assert str(err.value) == message


@pytest.mark.parametrize("topic, field", [("products/update", "variants"),
                                          ("refunds/create", "refund_line_items")])
def test_check_optional_list_of_objects_may_be_absent(app, topic, field):
    payload = example(topic)
    del payload[field]
    run_check(topic, payload)
