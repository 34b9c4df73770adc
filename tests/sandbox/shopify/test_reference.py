"""The vendored Shopify reference data (vendor/shopify/) is inside the repository and covers
every webhook topic the app subscribes to in shopify.app.toml."""
import tomllib

import pytest

from sandbox.shopify.reference import (VENDORED_DIR, admin_schema, reference_dir,
                                       webhook_example, webhook_metadata,
                                       webhook_payload_schema)


def test_reference_dir_is_the_vendored_copy_inside_the_repository(repo_root, monkeypatch):
    monkeypatch.delenv("SHOPIFY_SCHEMA_DIR", raising=False)
    assert reference_dir() == VENDORED_DIR == repo_root / "vendor" / "shopify"
    assert (VENDORED_DIR / "admin-2026-10.introspection.json.gz").is_file()
    assert (VENDORED_DIR / "README.md").is_file()


def test_admin_schema_built_from_the_introspection():
    schema = admin_schema()
    assert schema.schema.mutation_type.fields["inventorySetQuantities"]
    assert "read_orders" in schema.type_requirement("Order")[0]
    assert "write_inventory" in schema.field_requirement("Mutation", "inventorySetQuantities")[0]


@pytest.mark.parametrize("kind", ["topics", "compliance_topics"])
def test_every_subscribed_topic_has_metadata_and_example(repo_root, kind):
    toml = tomllib.loads((repo_root / "shopify.app.toml").read_text())
    topics = [t for sub in toml["webhooks"]["subscriptions"] for t in sub.get(kind, [])]
    assert topics
    for topic in topics:
        assert webhook_metadata(topic)["name"], topic
        assert isinstance(webhook_example(topic), dict), topic
        assert webhook_payload_schema(topic)["type"] == "object", topic


def test_webhook_example_is_the_metadata_response_and_a_fresh_copy():
    example = webhook_example("orders/create")
    assert example == webhook_metadata("orders/create")["response"]
    example["id"] = "changed"
    assert webhook_example("orders/create")["id"] != "changed"


def test_webhook_example_unknown_topic_raises():
    with pytest.raises(LookupError, match="orders/teleported"):
        webhook_example("orders/teleported")
    assert webhook_metadata("orders/teleported") is None
