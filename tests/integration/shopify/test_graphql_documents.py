"""Every GraphQL document the app sends (fragments appended): valid, and read to its end."""
import pytest
from graphql import GraphQLSchema, parse, specified_rules, validate
from graphql.validation import NoDeprecatedCustomRule

from app.platforms.shopify.client import FRAGMENTS, QUERIES, load_document, load_fragment
from sandbox.shopify.reference import admin_schema as vendored_admin_schema

DOCUMENTS = sorted(QUERIES.glob("*.graphql"))
FRAGMENT_FILES = sorted(FRAGMENTS.glob("*.graphql"))


def admin_schema() -> GraphQLSchema:
    """The Admin API schema vendored in the repository (vendor/shopify/, built once)."""
    return vendored_admin_schema().schema


def test_documents_found():
    names = {path.stem for path in DOCUMENTS}
    assert {"OrderForSync", "FulfillmentOrderMove", "FulfillmentOrderHold"} <= names
    assert "MirroredFulfillmentOrder" in {path.stem for path in FRAGMENT_FILES}


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_document_valid_without_deprecated_fields(path):
    # As sent: the file and the fragments it spreads (unknown or unused ones are errors).
    document = parse(load_document(path.stem))
    errors = validate(admin_schema(), document,
                      [*specified_rules, NoDeprecatedCustomRule])
    assert not errors, "\n".join(f"{path.name}: {e.message}" for e in errors)
    operations = [d for d in document.definitions if d.kind == "operation_definition"]
    # One operation per file, named after the file: the client sends it by that name.
    assert [op.name.value for op in operations] == [path.stem]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_document_defines_no_fragment_of_its_own(path):
    """A selection two documents share lives once, in fragments/: none is defined inline."""
    inline = [d.name.value for d in parse(path.read_text()).definitions
              if d.kind == "fragment_definition"]
    assert not inline, f"{path.name} defines {inline}: move them to {FRAGMENTS.name}/"


@pytest.mark.parametrize("path", FRAGMENT_FILES, ids=lambda p: p.stem)
def test_fragment_file_holds_one_fragment_named_after_it(path):
    definitions = parse(path.read_text()).definitions
    assert [(d.kind, d.name.value) for d in definitions] == [
        ("fragment_definition", path.stem)]


def test_every_fragment_file_is_spread_and_every_spread_resolves():
    spread: set[str] = set()
    for path in DOCUMENTS:
        sent = parse(load_document(path.stem))  # raises on a spread without its file
        spread |= {d.name.value for d in sent.definitions if d.kind == "fragment_definition"}
    unused = {path.stem for path in FRAGMENT_FILES} - spread
    assert not unused, f"fragments no document spreads: {sorted(unused)}"


def test_fragment_without_its_file_named():
    """The check itself: a spread whose fragment file is missing says which file."""
    with pytest.raises(LookupError, match=r"queries/fragments/NoSuchFragment\.graphql"):
        load_fragment("NoSuchFragment")


def test_fragments_appended_once_and_only_those_spread():
    """OrderForSync spreads MirroredFulfillmentOrder, which spreads its line's fragment:
    both follow the operation, once each; fragments it doesn't spread are not sent."""
    sent = parse(load_document("OrderForSync"))
    assert [(d.kind, d.name.value) for d in sent.definitions] == [
        ("operation_definition", "OrderForSync"),
        ("fragment_definition", "SyncedLineItem"),
        ("fragment_definition", "MirroredFulfillmentOrder"),
        ("fragment_definition", "MirroredFulfillmentOrderLineItem")]


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
    unpaged = [key for key in _unpaged_reads(parse(load_document(path.stem)), admin_schema())
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


def test_unpaged_connection_inside_a_fragment_found():
    """The check itself, through fragments: a connection read inside a fragment is checked,
    and a connection's pageInfo selected through a fragment counts."""
    document = parse("""query Q($id: ID!) { order(id: $id) {
        fulfillmentOrders(first: 5) { ...Paged }
        lineItems(first: 5) { nodes { id } pageInfo { hasNextPage endCursor } }
    } }
    fragment Paged on FulfillmentOrderConnection {
        nodes { lineItems(first: 5) { nodes { id } } }
        pageInfo { hasNextPage endCursor }
    }""")
    assert _unpaged_reads(document, admin_schema()) == [("FulfillmentOrder", "lineItems")]
