"""Bulk query operations: the mutation's checks, the worker's states, the JSONL file with
__parentId lines, cancel, node lookups and the bulk_operations/finish webhook."""
from __future__ import annotations

import json
import time

import requests

from sandbox.shopify.reference import webhook_example, webhook_payload_schema

from .conftest import OTHER_SHOP, SHOP
from .test_webhooks import SUBSCRIBE, _verify

RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status } userErrors { field message code } } }"""

CURRENT = """{ currentBulkOperation { id status errorCode objectCount rootObjectCount fileSize
  url partialDataUrl createdAt completedAt type } }"""

NODE = """query($id: ID!) { node(id: $id) { ... on BulkOperation { id status } }
  bulkOperation(id: $id) { id status } }"""

CANCEL = """mutation($id: ID!) { bulkOperationCancel(id: $id) {
  bulkOperation { id status } userErrors { field message } } }"""

VARIANTS = """{ productVariants { edges { node { id sku
  inventoryItem { id inventoryLevels { edges { node { id location { id }
    quantities(names: ["available", "on_hand"]) { name quantity } } } } } } } } }"""

ORDERS = """{ orders(query: "status:open") { edges { node { id name
  lineItems { edges { node { id sku quantity } } } } } } }"""


def _run(sandbox, token, query, shop=SHOP) -> dict:
    return sandbox.gql(token, RUN, {"q": query}, shop=shop)["data"]["bulkOperationRunQuery"]


def _wait_done(sandbox, token, shop=SHOP, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op = sandbox.gql(token, CURRENT, shop=shop)["data"]["currentBulkOperation"]
        if op["status"] in ("COMPLETED", "FAILED", "CANCELED"):
            return op
        time.sleep(0.05)
    raise AssertionError("bulk operation did not finish")


def _lines(sandbox, url: str) -> list[dict]:
    resp = requests.get(url, verify=sandbox.ca_bundle, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/jsonl"
    return [json.loads(line) for line in resp.text.splitlines()]


def _catalog_shop(sandbox, variants=300, domain="bulk-shop.myshopify.com") -> str:
    sandbox.control("POST", "shops", {"domain": domain, "locations": 3})
    sandbox.control("POST", f"shops/{domain}/catalog",
                    {"variants": variants, "products": variants // 3, "locations": 3})
    return sandbox.install(domain)


def test_bulk_operation_run_query_writes_nested_connections_as_parent_id_lines(sandbox):
    shop = "bulk-shop.myshopify.com"
    token = _catalog_shop(sandbox, variants=300)  # more than one 250-object page
    started = _run(sandbox, token, VARIANTS, shop=shop)
    assert started["userErrors"] == [] and started["bulkOperation"]["status"] == "CREATED"
    op = _wait_done(sandbox, token, shop=shop)
    assert op["status"] == "COMPLETED" and op["errorCode"] is None and op["type"] == "QUERY"
    lines = _lines(sandbox, op["url"])
    variants = [x for x in lines if "__parentId" not in x]
    levels = [x for x in lines if "__parentId" in x]
    assert len(variants) == 300 and len(levels) == 900
    assert len({v["sku"] for v in variants}) == 300
    ids = {v["id"] for v in variants}
    assert {lv["__parentId"] for lv in levels} == ids
    assert "inventoryLevels" not in variants[0]["inventoryItem"]
    assert variants[0]["inventoryItem"]["id"].startswith("gid://shopify/InventoryItem/")
    # a child line follows its parent, as the JSONL file is read top to bottom
    seen = set()
    for line in lines:
        assert line.get("__parentId") in seen | {None}
        seen.add(line["id"])
    assert op["objectCount"] == str(len(lines)) and op["rootObjectCount"] == "300"
    assert int(op["fileSize"]) == len(requests.get(op["url"], verify=sandbox.ca_bundle).content)
    assert op["completedAt"] >= op["createdAt"] and op["partialDataUrl"] is None


def test_bulk_operation_run_query_reads_orders_with_line_items(sandbox, token):
    _run(sandbox, token, ORDERS)
    op = _wait_done(sandbox, token)
    lines = _lines(sandbox, op["url"])
    orders = [x for x in lines if x["id"].startswith("gid://shopify/Order/")]
    items = [x for x in lines if x["id"].startswith("gid://shopify/LineItem/")]
    assert len(orders) == 3 and items
    assert {i["__parentId"] for i in items} <= {o["id"] for o in orders}


def test_bulk_operation_run_query_refuses_a_second_running_operation(sandbox, token):
    sandbox.control("POST", "bulk/pause", {"paused": True})
    first = _run(sandbox, token, ORDERS)["bulkOperation"]
    second = _run(sandbox, token, VARIANTS)
    assert second["bulkOperation"] is None
    assert second["userErrors"] == [{"field": None, "code": "OPERATION_IN_PROGRESS",
                                     "message": "A bulk query operation for this app and shop "
                                                f"is already in progress: {first['id']}."}]
    running = sandbox.gql(token, CURRENT)["data"]["currentBulkOperation"]
    assert running["status"] == "RUNNING" and running["url"] is None
    other = sandbox.install(OTHER_SHOP)  # another shop runs its own operation meanwhile
    assert _run(sandbox, other, ORDERS, shop=OTHER_SHOP)["userErrors"] == []
    sandbox.control("POST", "bulk/pause", {"paused": False})
    assert _wait_done(sandbox, token)["status"] == "COMPLETED"
    assert _run(sandbox, token, VARIANTS)["userErrors"] == []  # done: the next may start


def test_bulk_operation_run_query_rejects_what_shopify_rejects(sandbox, token):
    cases = {
        "{ shop { nme } }": "Invalid bulk query: Cannot query field 'nme' on type 'Shop'.",
        "{ shop { name } }": "Invalid bulk query: the sandbox runs bulk queries whose one",
        "query($n: String) { orders(query: $n) { edges { node { id } } } }":
            "Invalid bulk query: bulk queries cannot use variables.",
        "{ orders { edges { node { name lineItems { edges { node { id } } } } } } }":
            "The parent 'node' field for a nested connection must select the 'id' field",
        """{ products { edges { node { id variants { edges { node { id
            inventoryItem { id inventoryLevels { edges { node { id } } } } } } } } } } }""":
            "Bulk queries cannot contain connections with a nesting depth greater than 2.",
        """{ orders { edges { node { id a: lineItems { nodes { id } } b: lineItems { nodes { id } }
            c: lineItems { nodes { id } } d: lineItems { nodes { id } }
            e: lineItems { nodes { id } } } } } }""":
            "Bulk queries cannot contain more than 5 connections.",
        "{ orders { edges { node { id } } ": "Invalid bulk query: Syntax Error",
    }
    for query, message in cases.items():
        out = _run(sandbox, token, query)
        assert out["bulkOperation"] is None, query
        (err,) = out["userErrors"]
        assert err["code"] == "INVALID" and err["field"] == ["query"], query
        assert err["message"].startswith(message), (query, err["message"])
    assert sandbox.gql(token, CURRENT)["data"]["currentBulkOperation"] is None


def test_bulk_operation_finish_webhook_is_signed_with_the_documented_payload(
        sandbox, token, receiver):
    uri = f"{receiver.url}/bulk-hooks"
    sub = sandbox.gql(token, SUBSCRIBE, {"topic": "BULK_OPERATIONS_FINISH", "uri": uri})
    assert sub["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    op_id = _run(sandbox, token, ORDERS)["bulkOperation"]["id"]
    op = _wait_done(sandbox, token)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(r["path"] == "/bulk-hooks"
                                                  for r in receiver.received):
        time.sleep(0.02)
    hook = next(r for r in receiver.received if r["path"] == "/bulk-hooks")
    assert hook["headers"]["X-Shopify-Topic"] == "bulk_operations/finish" and _verify(hook)
    assert json.loads(hook["body"]) == {
        "admin_graphql_api_id": op_id, "completed_at": op["completedAt"],
        "created_at": op["createdAt"], "error_code": None, "status": "completed",
        "type": "query"}
    body = json.loads(hook["body"])
    schema = webhook_payload_schema("bulk_operations/finish")
    assert set(schema["required"]) <= set(body)
    assert set(body) == set(webhook_example("bulk_operations/finish"))


def test_bulk_operation_cancel_stops_the_worker(sandbox, token):
    sandbox.control("POST", "bulk/pause", {"paused": True})
    op_id = _run(sandbox, token, VARIANTS)["bulkOperation"]["id"]
    canceled = sandbox.gql(token, CANCEL, {"id": op_id})["data"]["bulkOperationCancel"]
    assert canceled == {"bulkOperation": {"id": op_id, "status": "CANCELING"}, "userErrors": []}
    sandbox.control("POST", "bulk/pause", {"paused": False})
    op = _wait_done(sandbox, token)
    assert op["status"] == "CANCELED" and op["url"] is None
    again = sandbox.gql(token, CANCEL, {"id": op_id})["data"]["bulkOperationCancel"]
    assert again["userErrors"] == [{"field": ["id"], "message":
                                    "A bulk operation cannot be canceled when it is canceled"}]


def test_bulk_operation_node_is_scoped_to_the_shop(sandbox, token):
    op_id = _run(sandbox, token, ORDERS)["bulkOperation"]["id"]
    _wait_done(sandbox, token)
    mine = sandbox.gql(token, NODE, {"id": op_id})["data"]
    assert mine == {"node": {"id": op_id, "status": "COMPLETED"},
                    "bulkOperation": {"id": op_id, "status": "COMPLETED"}}
    other = sandbox.install(OTHER_SHOP)
    assert sandbox.gql(other, NODE, {"id": op_id}, shop=OTHER_SHOP)["data"] == {
        "node": None, "bulkOperation": None}
    bad = sandbox.gql(other, CANCEL, {"id": op_id}, shop=OTHER_SHOP)
    assert bad["data"]["bulkOperationCancel"]["userErrors"][0]["message"] == (
        "Bulk operation does not exist")


def test_bulk_operation_file_needs_its_signed_token(sandbox, token):
    _run(sandbox, token, ORDERS)
    url = _wait_done(sandbox, token)["url"]
    forged = url.rsplit("token=", 1)[0] + "token=0000"
    assert requests.get(forged, verify=sandbox.ca_bundle, timeout=10).status_code == 403
    stats = sandbox.control("GET", f"shops/{SHOP}/bulk-operations")["bulk_operations"]
    assert stats[0]["status"] == "COMPLETED" and stats[0]["objects_per_second"] > 0
