"""Payload checks and helpers of the lifecycle topics (locations/*, fulfillment-order
changes, app/scopes_update) against Shopify's published examples and forged bodies."""
import pytest

from app.models import Platform
from app.platforms.shopify.lifecycle import FULFILLMENT_ORDER_TOPICS, LOCATION_TOPICS, \
    fulfillment_order_gids
from app.platforms.shopify.settings import load_settings
from app.sync.errors import Rejected
from app.sync.handlers import find_inbox_handler, find_payload_check
from tests.unit.platforms.shopify.test_payload_checks import example, run_check

NEW_TOPICS = [*LOCATION_TOPICS, *FULFILLMENT_ORDER_TOPICS, "app/scopes_update"]


def test_every_subscribed_topic_has_a_handler_and_a_check(app):
    settings = load_settings({"SHOPIFY_API_SECRET": "x"})
    subscribed = set(settings.webhook_topics)
    assert set(NEW_TOPICS) <= subscribed
    assert sorted(t for t in subscribed if find_inbox_handler(Platform.SHOPIFY, t) is None) == []
    assert sorted(t for t in subscribed if find_payload_check(Platform.SHOPIFY, t) is None) == []


def test_consciously_unsubscribed_topics_stay_out():
    settings = load_settings({"SHOPIFY_API_SECRET": "x"})
    for topic in ("orders/fulfilled", "orders/partially_fulfilled"):
        assert topic not in settings.webhook_topics


@pytest.mark.parametrize("topic", NEW_TOPICS)
def test_check_accepts_shopifys_example_payload(app, topic):
    run_check(topic, example(topic))


@pytest.mark.parametrize("topic", LOCATION_TOPICS)
def test_check_location_refuses_another_resources_id(app, topic):
    payload = example(topic)
    if "admin_graphql_api_id" in payload:
        payload["admin_graphql_api_id"] = "gid://shopify/Order/866550311766439020"
    else:
        payload["id"] = "866550311766439020"  # a string: not a REST id
    with pytest.raises(Rejected):
        run_check(topic, payload)


def test_check_location_refuses_ids_that_disagree(app):
    payload = example("locations/update")
    payload["id"] = 42
    with pytest.raises(Rejected, match="name different Locations"):
        run_check("locations/update", payload)


@pytest.mark.parametrize("topic", ["fulfillment_orders/split", "fulfillment_orders/rescheduled",
                                   "fulfillment_holds/added", "fulfillment_holds/released"])
def test_check_fulfillment_order_change_refuses_an_id_of_another_kind(app, topic):
    payload = example(topic)
    payload["fulfillment_order"]["id"] = "gid://shopify/Order/1"
    with pytest.raises(Rejected, match="fulfillment_order.id"):
        run_check(topic, payload)


def test_check_split_refuses_a_malformed_remaining_fulfillment_order(app):
    payload = example("fulfillment_orders/split")
    payload["remaining_fulfillment_order"] = "gid://shopify/FulfillmentOrder/2"
    with pytest.raises(Rejected, match="remaining_fulfillment_order"):
        run_check("fulfillment_orders/split", payload)


def test_check_merged_accepts_a_list_of_merges_and_refuses_bad_intents(app):
    payload = example("fulfillment_orders/merged")
    payload["fulfillment_order_merges"] = [payload["fulfillment_order_merges"]]
    run_check("fulfillment_orders/merged", payload)
    payload["merge_intents"][0]["fulfillment_order_id"] = -1
    with pytest.raises(Rejected, match="fulfillment_order_id"):
        run_check("fulfillment_orders/merged", payload)


def test_check_scopes_update_refuses_a_non_list_of_scopes(app):
    payload = example("app/scopes_update")
    payload["current"] = "read_products,write_products"
    with pytest.raises(Rejected, match="current"):
        run_check("app/scopes_update", payload)
    payload = example("app/scopes_update")
    payload["shop_id"] = "gid://shopify/Order/548380009"
    with pytest.raises(Rejected, match="shop_id"):
        run_check("app/scopes_update", payload)


def test_fulfillment_order_gids_of_every_payload_shape():
    assert fulfillment_order_gids(example("fulfillment_orders/split")) == [
        "gid://shopify/FulfillmentOrder/1", "gid://shopify/FulfillmentOrder/2",
        "gid://shopify/FulfillmentOrder/3"]
    assert fulfillment_order_gids(example("fulfillment_orders/merged")) == [
        "gid://shopify/FulfillmentOrder/1", "gid://shopify/FulfillmentOrder/2"]
    assert fulfillment_order_gids(example("fulfillment_holds/added")) == [
        "gid://shopify/FulfillmentOrder/1"]
    assert fulfillment_order_gids({"nothing": "here"}) == []
