"""Every GraphQL document the app sends is valid against Shopify's real 2026-10 schema."""
from functools import cache
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, specified_rules, validate
from graphql.validation import NoDeprecatedCustomRule

REPO = Path(__file__).resolve().parents[3]
DOCUMENTS = sorted((REPO / "app" / "platforms" / "shopify").rglob("*.graphql"))


@cache
def admin_schema(root: Path) -> GraphQLSchema:
    """The Admin API schema shipped beside the repository (../shared/shopify/)."""
    return build_schema((root.parent / "shared" / "shopify" / "admin-2026-10.graphql").read_text())


def test_documents_found():
    names = {path.stem for path in DOCUMENTS}
    assert {"OrderForSync", "FulfillmentOrderMove", "FulfillmentOrderHold"} <= names


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_document_valid_without_deprecated_fields(path, repo_root):
    document = parse(path.read_text())
    errors = validate(admin_schema(repo_root), document,
                      [*specified_rules, NoDeprecatedCustomRule])
    assert not errors, "\n".join(f"{path.name}: {e.message}" for e in errors)
    operations = [d for d in document.definitions if d.kind == "operation_definition"]
    # One operation per file, named after the file: the client sends it by that name.
    assert [op.name.value for op in operations] == [path.stem]


def test_deprecated_field_rejected(repo_root):
    """The check itself: a deprecated field (FulfillmentOrder.channelId) is reported."""
    document = parse("query Q($id: ID!) { fulfillmentOrder(id: $id) { id channelId } }")
    errors = validate(admin_schema(repo_root), document, [*specified_rules, NoDeprecatedCustomRule])
    assert [e.message for e in errors] == [
        "The field FulfillmentOrder.channelId is deprecated. "
        "Use [`order.attribution.handle`](https://shopify.dev/docs/api/admin-graphql/latest/"
        "objects/OrderAttribution#field-OrderAttribution.fields.handle) instead."]
