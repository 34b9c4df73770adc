"""The adapter registry: every subscribed topic handled, nothing handled that nobody sends."""
from pathlib import Path

import pytest

from app.models import Platform
from app.platforms.base import CONTRACT, ChannelAdapter
from app.platforms.registry import adapters, contract_gaps
from app.platforms.shopify.settings import load_settings
from app.platforms.woocommerce.adapter import WooCommerceAdapter
from app.sync.handlers import find_inbox_handler, find_outbox_handler, inbox_topics, outbox_topics
from app.sync.topics import Topic

TOML = Path(__file__).parents[3] / "shopify.app.toml"


def toml_topics() -> set[str]:
    """The webhook subscriptions as written in shopify.app.toml (compliance topics too)."""
    return set(load_settings({"SHOPIFY_API_SECRET": "-"}, toml_path=TOML).webhook_topics)


@pytest.mark.parametrize("adapter", adapters(), ids=lambda a: a.platform)
def test_adapter_fills_the_contract(app, adapter):
    assert isinstance(adapter, ChannelAdapter)
    assert contract_gaps(adapter) == []


def test_every_toml_subscription_has_a_registered_handler_and_nothing_else(app):
    assert toml_topics() >= {"orders/create", "refunds/create", "shop/redact"}
    assert set(inbox_topics(Platform.SHOPIFY)) == toml_topics()


def test_every_woocommerce_webhook_has_a_registered_handler_and_nothing_else(app):
    from app.platforms.woocommerce.settings import WEBHOOK_TOPICS

    assert set(inbox_topics(Platform.WOOCOMMERCE)) == set(WEBHOOK_TOPICS)
    assert all(find_inbox_handler(Platform.WOOCOMMERCE, t) for t in WEBHOOK_TOPICS)


@pytest.mark.parametrize("platform", [Platform.SHOPIFY, Platform.WOOCOMMERCE])
def test_every_contract_topic_is_routed_to_the_platforms_adapter(app, platform):
    for topic, method in CONTRACT:
        handler = find_outbox_handler(topic, platform)
        assert handler is not None and handler.__name__ == method, (topic, platform)


def test_every_registered_outbox_topic_is_a_topic_and_every_topic_is_handled(app):
    registered = set(outbox_topics(None)) | set(outbox_topics(Platform.SHOPIFY)) | set(
        outbox_topics(Platform.WOOCOMMERCE))
    # Other tests register handlers of their own, all named test.*: not the app's.
    assert {t for t in registered if not t.startswith("test.")} == {t.value for t in Topic}


def test_contract_gaps_names_a_missing_and_an_unsubscribed_handler(app):
    class Incomplete(WooCommerceAdapter):
        def subscribed_topics(self):
            return super().subscribed_topics() | {"coupon.created"}

        def inbound(self):
            table = dict(super().inbound())
            del table["order.deleted"]
            table["customer.created"] = table["order.created"]
            return table

        def payload_checks(self):
            table = dict(super().payload_checks())
            del table["product.restored"]
            table["coupon.created"] = table["customer.created"] = table["order.created"]
            table["coupon.deleted"] = table["order.created"]
            return table

    assert contract_gaps(Incomplete()) == [
        "woocommerce: coupon.created is subscribed but has no handler",
        "woocommerce: order.deleted is subscribed but has no handler",
        "woocommerce: customer.created has a handler but nobody subscribes to it",
        "woocommerce: product.restored is subscribed but its body is not checked",
        "woocommerce: coupon.deleted has a payload check but nobody subscribes to it",
        "woocommerce: customer.created has a payload check but nobody subscribes to it"]


@pytest.mark.parametrize("adapter", adapters(), ids=lambda a: a.platform)
def test_every_subscribed_topic_has_its_adapters_payload_check_registered(app, adapter):
    from app.sync.handlers import find_payload_check

    checks = adapter.payload_checks()
    assert set(checks) == adapter.subscribed_topics()
    for topic in adapter.subscribed_topics():
        assert find_payload_check(adapter.platform, topic) is checks[topic], topic


def test_contract_gaps_refuses_an_object_that_is_no_adapter(app):
    class NotAnAdapter:
        platform = "nowhere"

    assert contract_gaps(NotAnAdapter()) == ["NotAnAdapter does not implement ChannelAdapter"]
