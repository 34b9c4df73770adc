"""The Admin GraphQL endpoint: schema validation, error shapes, scopes, cost and throttling,
input limits, API faults."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from .conftest import SHOP

FOS = "{ fulfillmentOrders(first: 20) { nodes { id assignedLocation { location { id } } } } }"
FO_BY_ID = "query($id: ID!) { fulfillmentOrder(id: $id) { id status } }"
SUBMIT = """mutation($id: ID!) { fulfillmentOrderSubmitFulfillmentRequest(id: $id) {
  submittedFulfillmentOrder { id } userErrors { message } } }"""
MOVE = """mutation($id: ID!, $loc: ID!) { fulfillmentOrderMove(id: $id, newLocationId: $loc) {
  movedFulfillmentOrder { id } userErrors { message } } }"""
ORDERS = "query($n: Int!) { orders(first: $n) { nodes { id } } }"
MERCHANT_ONLY = ["read_merchant_managed_fulfillment_orders",
                 "write_merchant_managed_fulfillment_orders", "read_orders", "read_locations"]


def _fo_by_kind(sandbox, kind: str) -> str:
    state = sandbox.state()
    loc_ids = {loc["id"] for loc in state["locations"] if loc["kind"] == kind}
    return next(fo["gid"] for fo in state["fulfillment_orders"] if fo["location_id"] in loc_ids)


def test_graphql_validation_error_shape(sandbox, token):
    out = sandbox.gql(token, "{ shop { nme } }")
    assert "data" not in out
    err = out["errors"][0]
    assert err["message"] == "Field 'nme' doesn't exist on type 'Shop'"
    assert err["extensions"]["code"] == "undefinedField"
    assert err["locations"] == [{"line": 1, "column": 10}]


def test_graphql_rejects_wrong_argument_types(sandbox, token):
    out = sandbox.gql(token, '{ orders(first: "ten") { nodes { id } } }')
    assert out["errors"] and "data" not in out
    out = sandbox.gql(token, "{ fulfillmentOrder { id } }")
    assert out["errors"] and "id" in out["errors"][0]["message"]


def test_graphql_unemulated_field_fails_loudly(sandbox, token):
    out = sandbox.gql(token, "{ shop { name billingAddress { city } } }")
    err = out["errors"][0]
    assert err["extensions"]["code"] == "NOT_EMULATED"
    assert err["path"] == ["shop", "billingAddress"]


def test_graphql_bad_token_gets_401(sandbox):
    resp = sandbox.gql_raw("shpat_not-a-token", "{ shop { name } }")
    assert resp.status_code == 401
    assert "Invalid API key or access token" in resp.json()["errors"]


def test_graphql_token_is_per_shop(sandbox, token):
    resp = sandbox.gql_raw(token, "{ shop { name } }", shop="second-shop.myshopify.com")
    assert resp.status_code == 401


def test_graphql_scope_missing_gives_access_denied(sandbox):
    token = sandbox.install(scopes=["read_locations"])
    out = sandbox.gql(token, "{ orders(first: 1) { nodes { id } } }")
    err = out["errors"][0]
    assert err["extensions"]["code"] == "ACCESS_DENIED"
    assert "read_orders" in err["extensions"]["requiredAccess"]
    assert out["data"] is None


def test_graphql_fulfillment_orders_split_by_location_kind_scopes(sandbox):
    token = sandbox.install(scopes=MERCHANT_ONLY)
    state = sandbox.state()
    merchant_ids = {f"gid://shopify/Location/{loc['id']}" for loc in state["locations"]
                    if loc["kind"] == "merchant"}
    nodes = sandbox.gql(token, FOS)["data"]["fulfillmentOrders"]["nodes"]
    assert nodes and {n["assignedLocation"]["location"]["id"] for n in nodes} <= merchant_ids
    third_party_fo = _fo_by_kind(sandbox, "fulfillment_service")
    out = sandbox.gql(token, FO_BY_ID, {"id": third_party_fo})
    assert out["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "third_party" in out["errors"][0]["extensions"]["requiredAccess"]
    moved = sandbox.gql(token, MOVE, {"id": third_party_fo, "loc": sorted(merchant_ids)[0]})
    assert moved["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert moved["data"]["fulfillmentOrderMove"] is None
    submit = sandbox.gql(token, SUBMIT, {"id": third_party_fo})
    assert submit["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"


def test_graphql_cost_extension_and_defaults(sandbox, token):
    out = sandbox.gql(token, ORDERS, {"n": 10})
    cost = out["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 12  # connection 2 + 10 nodes x 1
    assert cost["actualQueryCost"] == 2 + len(out["data"]["orders"]["nodes"])
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0
    mutation = sandbox.gql(token, MOVE, {"id": "gid://shopify/FulfillmentOrder/1",
                                         "loc": "gid://shopify/Location/1"})
    assert mutation["extensions"]["cost"]["requestedQueryCost"] == 10


def test_graphql_plan_changes_restore_rate(sandbox, token):
    sandbox.control("POST", f"shops/{SHOP}/plan", {"plan": "plus"})
    status = sandbox.gql(token, "{ shop { name } }")["extensions"]["cost"]["throttleStatus"]
    assert (status["restoreRate"], status["maximumAvailable"]) == (1000.0, 20000.0)


def test_graphql_throttled_when_bucket_empty(sandbox, token):
    sandbox.control("POST", f"shops/{SHOP}/plan", {"restore_rate": 1, "bucket_size": 50})
    first = sandbox.gql(token, ORDERS, {"n": 45})
    cost = first["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 47
    available = cost["throttleStatus"]["currentlyAvailable"]
    assert 50 - cost["actualQueryCost"] - 1 <= available <= 50 - cost["actualQueryCost"] + 1
    second = sandbox.gql(token, ORDERS, {"n": 45})
    assert second["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert second["errors"][0]["message"] == "Throttled"
    assert "data" not in second
    assert second["extensions"]["cost"]["actualQueryCost"] is None
    assert second["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 47
    assert sandbox.control("GET", f"shops/{SHOP}/rate-limit") == {"calls": 2, "throttled": 1}


def test_graphql_rate_limit_counts_every_answer_of_concurrent_requests(sandbox, token):
    """Requests at once on a nearly empty bucket: each answer is counted once, as run or
    THROTTLED (what the multi-node test reads to count throttling)."""
    from concurrent.futures import ThreadPoolExecutor

    sandbox.control("POST", f"shops/{SHOP}/plan", {"restore_rate": 0.001, "bucket_size": 100})
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: sandbox.gql(token, ORDERS, {"n": 45}), range(12)))
    throttled = sum(1 for a in answers if "data" not in a)
    assert 0 < throttled < 12
    assert sandbox.control("GET", f"shops/{SHOP}/rate-limit") == {"calls": 12,
                                                                   "throttled": throttled}
    sandbox.control("POST", "reset")
    assert sandbox.control("GET", f"shops/{SHOP}/rate-limit") == {"calls": 0, "throttled": 0}


def test_graphql_max_cost_exceeded(sandbox, token):
    query = "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }"
    out = sandbox.gql(token, query)
    err = out["errors"][0]
    assert err["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert err["extensions"]["maxCost"] == 1000 and err["extensions"]["cost"] > 1000
    assert "data" not in out


def test_graphql_input_array_over_250_rejected(sandbox, token):
    quantities = [{"inventoryItemId": "gid://shopify/InventoryItem/1", "locationId":
                   "gid://shopify/Location/1", "quantity": 1, "changeFromQuantity": None}] * 251
    query = """mutation($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) @idempotent(key: "k-251") { userErrors { message } } }"""
    out = sandbox.gql(token, query, {"input": {"name": "available", "reason": "correction",
                                               "quantities": quantities}})
    err = out["errors"][0]
    assert err["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "251" in err["message"] and "250" in err["message"]


@pytest.mark.parametrize("status", [500, 503])
def test_api_fault_error_then_recovers(sandbox, token, status):
    sandbox.control("POST", "faults/api", {"kind": "error", "status": status, "count": 1})
    assert sandbox.gql_raw(token, "{ shop { name } }").status_code == status
    assert sandbox.gql_raw(token, "{ shop { name } }").status_code == 200


def test_api_fault_slow_and_throttle(sandbox, token):
    sandbox.control("POST", "faults/api", {"kind": "slow", "seconds": 0.3})
    started = time.monotonic()
    assert sandbox.gql_raw(token, "{ shop { name } }").status_code == 200
    assert time.monotonic() - started >= 0.3
    sandbox.control("POST", "faults/api", {"kind": "throttle"})
    out = sandbox.gql(token, "{ shop { name } }")
    assert out["errors"][0]["extensions"]["code"] == "THROTTLED"


def test_api_fault_timeout_exceeds_client_timeout(sandbox, token):
    import requests
    sandbox.control("POST", "faults/api", {"kind": "timeout", "seconds": 1.0})
    with pytest.raises(requests.Timeout):
        requests.post(f"{sandbox.shop_url()}/admin/api/2026-10/graphql.json",
                      json={"query": "{ shop { name } }"},
                      headers={"X-Shopify-Access-Token": token}, verify=sandbox.ca_bundle,
                      timeout=0.3)


def test_graphql_pagination_with_cursors(sandbox, token):
    query = """query($after: String) { orders(first: 2, after: $after) {
      edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
    page1 = sandbox.gql(token, query)["data"]["orders"]
    assert len(page1["edges"]) == 2 and page1["pageInfo"]["hasNextPage"]
    page2 = sandbox.gql(token, query, {"after": page1["pageInfo"]["endCursor"]})["data"]["orders"]
    assert len(page2["edges"]) == 1 and not page2["pageInfo"]["hasNextPage"]
    ids = [e["node"]["id"] for e in page1["edges"] + page2["edges"]]
    assert len(set(ids)) == 3


def test_graphql_literal_input_array_over_250_rejected(sandbox, token):
    ids = ", ".join(f'"gid://shopify/Order/{i}"' for i in range(251))
    out = sandbox.gql(token, "{ nodes(ids: [%s]) { id } }" % ids)
    assert out["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "data" not in out


def test_graphql_invalid_global_id(sandbox, token):
    out = sandbox.gql(token, '{ order(id: "1001") { id } }')
    assert out["errors"][0]["message"] == "Invalid global id '1001'"
    assert out["data"] == {"order": None}


def test_graphql_orders_updated_since_for_reconciliation(sandbox, token):
    query = "query($q: String) { orders(first: 50, query: $q) { nodes { id updatedAt } } }"
    everything = sandbox.gql(token, query)["data"]["orders"]["nodes"]
    sandbox.control("POST", "clock", {"advance_seconds": 120})
    order = sandbox.control("POST", f"shops/{SHOP}/orders",
                            {"lines": [{"sku": "MUG-WHT", "quantity": 1}]})
    since = max(n["updatedAt"] for n in everything)
    recent = sandbox.gql(token, query, {"q": f"updated_at:>'{since}'"})["data"]["orders"]["nodes"]
    assert [n["id"] for n in recent] == [order["gid"]]


def test_graphql_order_total_is_the_sum_of_its_lines(sandbox, token):
    out = sandbox.gql(token, """{ orders(first: 5) { nodes {
        totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount } }
        lineItems(first: 20) { nodes { quantity originalUnitPriceSet { shopMoney { amount } } } }
    } } }""")
    orders = out["data"]["orders"]["nodes"]
    assert orders
    for order in orders:
        lines = order["lineItems"]["nodes"]
        expected = sum(Decimal(li["originalUnitPriceSet"]["shopMoney"]["amount"]) * li["quantity"]
                       for li in lines)
        money = order["totalPriceSet"]["shopMoney"]
        assert Decimal(money["amount"]) == expected > 0 and money["currencyCode"] == "USD"
        assert order["totalPriceSet"]["presentmentMoney"]["amount"] == money["amount"]


INLINE = """query($n: Int!) { orders(first: 3) { nodes { id
  lineItems(first: $n) { nodes { id sku variant { id } } pageInfo { hasNextPage endCursor } }
} } }"""
SPREAD = """query($n: Int!) { orders(first: 3) { nodes { ...O } } }
fragment O on Order { id lineItems(first: $n) { nodes { ...L } pageInfo { ...P } } }
fragment L on LineItem { id sku ...V }
fragment V on LineItem { variant { id } }
fragment P on PageInfo { hasNextPage endCursor }"""


def test_graphql_fragment_spreads_read_and_cost_as_inline_fields(sandbox, token):
    """Fragments, nested ones and an operation variable used inside one, answer the same
    data at the same requested cost as the selection written inline."""
    inline, spread = (sandbox.gql(token, q, {"n": 2}) for q in (INLINE, SPREAD))
    assert "errors" not in spread
    assert spread["data"] == inline["data"] and inline["data"]["orders"]["nodes"]
    assert inline["data"]["orders"]["nodes"][0]["lineItems"]["nodes"][0]["variant"]["id"]
    cost = [out["extensions"]["cost"]["requestedQueryCost"] for out in (inline, spread)]
    assert cost[0] == cost[1] > 0


@pytest.mark.parametrize("query, message", [
    ("{ shop { ...Missing } }", "Fragment Missing was used, but not defined"),
    ("{ shop { id } } fragment Unused on Shop { id }",
     "Fragment Unused was defined, but not used"),
])
def test_graphql_fragment_undefined_or_unused_rejected(sandbox, token, query, message):
    out = sandbox.gql(token, query)
    assert "data" not in out
    assert [(e["message"], e["extensions"]["code"]) for e in out["errors"]] == [
        (message, "useAndDefineFragment")]


def test_locations_list_fulfillment_service_locations_only_with_include_legacy(sandbox, token):
    query = """query L($legacy: Boolean) { locations(first: 50, includeLegacy: $legacy) {
      nodes { id isFulfillmentService } } }"""
    plain = sandbox.gql(token, query, {"legacy": False})["data"]["locations"]["nodes"]
    legacy = sandbox.gql(token, query, {"legacy": True})["data"]["locations"]["nodes"]
    assert plain and not any(n["isFulfillmentService"] for n in plain)
    assert {n["id"] for n in plain} < {n["id"] for n in legacy}
    assert any(n["isFulfillmentService"] for n in legacy)
