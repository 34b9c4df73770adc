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


# --- no silent truncation ----------------------------------------------------------------------

#: (parent type, field) read without paging, each with the reason it can't truncate.
BOUNDED = {
    ("Order", "fulfillments"): "a plain list Shopify doesn't page: read with first: 250 beside "
                               "fulfillmentsCount, and paging.read_order_fulfillments refuses "
                               "an order with more instead of reading it incomplete",
    ("Fulfillment", "trackingInfo"): "Stockroom keeps one tracking number per fulfillment "
                                     "(the first); the rest are Shopify's to show",
    ("ProductVariant", "media"): "first: 1 on purpose: the listing's image is the variant's "
                                 "first one (or its product's featured media); further images "
                                 "are Shopify's to show",
    ("Order", "refunds"): "a plain list Shopify doesn't page and doesn't count: read as ids "
                          "only, first: 250, to find refunds a webhook missed; each refund "
                          "also arrives by refunds/create, applied whatever the list shows",
}


def _unpaged_reads(document, schema) -> list[tuple[str, str]]:
    """(parent type, field) of every connection read without pageInfo { hasNextPage
    endCursor }, and of every list field sized by ``first`` (lists can't be paged)."""
    from graphql import TypeInfo, TypeInfoVisitor, Visitor, get_named_type, visit
    from graphql.type import is_list_type, is_non_null_type

    found: list[tuple[str, str]] = []
    fragments = {d.name.value: d for d in document.definitions
                 if d.kind == "fragment_definition"}

    def selected(selection_set, name):
        for sel in selection_set.selections if selection_set else []:
            if sel.kind == "field" and sel.name.value == name:
                return sel
            if sel.kind == "inline_fragment":
                hit = selected(sel.selection_set, name)
                if hit:
                    return hit
            if sel.kind == "fragment_spread":
                hit = selected(fragments[sel.name.value].selection_set, name)
                if hit:
                    return hit
        return None

    type_info = TypeInfo(schema)

    class Walk(Visitor):
        def enter_field(self, node, *_):
            field, parent = type_info.get_field_def(), type_info.get_parent_type()
            if field is None or parent is None:
                return
            named = get_named_type(field.type)
            key = (parent.name, node.name.value)
            if named.name.endswith("Connection") and "pageInfo" in getattr(named, "fields", {}):
                page_info = selected(node.selection_set, "pageInfo")
                if page_info is None or not {"hasNextPage", "endCursor"} <= {
                        s.name.value for s in page_info.selection_set.selections
                        if s.kind == "field"}:
                    found.append(key)
                return
            inner = field.type.of_type if is_non_null_type(field.type) else field.type
            if is_list_type(inner) and "first" in field.args and not parent.name.endswith(
                    "Payload"):
                found.append(key)

    visit(document, TypeInfoVisitor(type_info, Walk()))
    return found


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_document_reads_every_connection_to_its_end(path):
    unpaged = [key for key in _unpaged_reads(parse(path.read_text()), admin_schema())
               if key not in BOUNDED]
    assert not unpaged, (f"{path.name} reads {unpaged} without pageInfo: page them to the end "
                         "(paging.py) or list them in BOUNDED with the reason they can't "
                         "truncate")


def test_unpaged_connection_found():
    """The check itself: a connection without pageInfo, one without endCursor, and a list
    sized by first are found; a paged connection is not."""
    document = parse("""query Q($id: ID!) { order(id: $id) {
        lineItems(first: 5) { nodes { id } }
        fulfillmentOrders(first: 5) { nodes { id } pageInfo { hasNextPage } }
        refunds(first: 3) { id }
        events: fulfillmentOrders(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } }
    } }""")
    assert _unpaged_reads(document, admin_schema()) == [
        ("Order", "lineItems"), ("Order", "fulfillmentOrders"), ("Order", "refunds")]
