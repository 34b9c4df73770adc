"""Every GraphQL document the app sends is valid against Shopify's real 2026-10 schema."""
from pathlib import Path

import pytest
from graphql import GraphQLSchema, parse, specified_rules, validate
from graphql.validation import NoDeprecatedCustomRule

from sandbox.shopify.reference import admin_schema as vendored_admin_schema

REPO = Path(__file__).resolve().parents[3]
DOCUMENTS = sorted((REPO / "app" / "platforms" / "shopify").rglob("*.graphql"))


def admin_schema() -> GraphQLSchema:
    """The Admin API schema vendored in the repository (vendor/shopify/, built once)."""
    return vendored_admin_schema().schema


def test_documents_found():
    names = {path.stem for path in DOCUMENTS}
    assert {"OrderForSync", "FulfillmentOrderMove", "FulfillmentOrderHold"} <= names


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_document_valid_without_deprecated_fields(path):
    document = parse(path.read_text())
    errors = validate(admin_schema(), document,
                      [*specified_rules, NoDeprecatedCustomRule])
    assert not errors, "\n".join(f"{path.name}: {e.message}" for e in errors)
    operations = [d for d in document.definitions if d.kind == "operation_definition"]
    # One operation per file, named after the file: the client sends it by that name.
    assert [op.name.value for op in operations] == [path.stem]


def test_deprecated_field_rejected():
    """The check itself: a deprecated field (FulfillmentOrder.channelId) is reported."""
    document = parse("query Q($id: ID!) { fulfillmentOrder(id: $id) { id channelId } }")
    errors = validate(admin_schema(), document, [*specified_rules, NoDeprecatedCustomRule])
    assert [e.message for e in errors] == [
        "The field FulfillmentOrder.channelId is deprecated. "
        "Use [`order.attribution.handle`](https://shopify.dev/docs/api/admin-graphql/latest/"
        "objects/OrderAttribution#field-OrderAttribution.fields.handle) instead."]
