"""Inventory with the 2026-10 rules: levels, set/adjust, changeFromQuantity CAS, @idempotent."""
from __future__ import annotations

import json

from .conftest import SHOP
from .test_webhooks import SUBSCRIBE

LEVELS = """query($id: ID!) { inventoryItem(id: $id) { sku inventoryLevels(first: 10) { nodes {
  location { id } quantities(names: ["available", "on_hand", "committed"]) { name quantity } } } } }"""

SET = """mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""

ADJUST = """mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}"""

SET_NO_KEY = """mutation($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { message } } }"""


def _target(sandbox, sku="MUG-WHT"):
    state = sandbox.state()
    item = next(v["inventory_item_id"] for v in state["variants"] if v["sku"] == sku)
    loc = next(loc for loc in state["locations"] if loc["kind"] == "merchant")
    level = next(lv for lv in state["levels"]
                 if lv["inventory_item_id"] == item and lv["location_id"] == loc["id"])
    return f"gid://shopify/InventoryItem/{item}", loc["gid"], level


def _set_input(item, loc, quantity, change_from="omit", name="available"):
    q = {"inventoryItemId": item, "locationId": loc, "quantity": quantity}
    if change_from != "omit":
        q["changeFromQuantity"] = change_from
    return {"name": name, "reason": "correction", "referenceDocumentUri":
            "stockroom://sync/1", "quantities": [q]}


def test_inventory_levels_quantities(sandbox, token):
    item, loc, level = _target(sandbox)
    data = sandbox.gql(token, LEVELS, {"id": item})["data"]["inventoryItem"]
    assert data["sku"] == "MUG-WHT"
    node = next(n for n in data["inventoryLevels"]["nodes"] if n["location"]["id"] == loc)
    q = {x["name"]: x["quantity"] for x in node["quantities"]}
    assert q == {"available": level["available"], "on_hand": level["on_hand"],
                 "committed": level["committed"]}
    assert q["available"] == q["on_hand"] - q["committed"]


def test_inventory_set_quantities_cas_ok(sandbox, token, receiver):
    # Stockroom's toml does not subscribe to inventory levels: subscribe like an app would.
    sub = sandbox.gql(token, SUBSCRIBE, {"topic": "INVENTORY_LEVELS_UPDATE",
                                         "uri": f"{receiver.url}/shopify/webhooks"})
    assert sub["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    item, loc, level = _target(sandbox)
    out = sandbox.gql(token, SET, {"key": "set-1", "input": _set_input(
        item, loc, 50, level["available"])})
    r = out["data"]["inventorySetQuantities"]
    assert r["userErrors"] == []
    changes = {c["name"]: c for c in r["inventoryAdjustmentGroup"]["changes"]}
    assert changes["available"]["quantityAfterChange"] == 50
    assert changes["available"]["delta"] == 50 - level["available"]
    assert _target(sandbox)[2]["available"] == 50
    hook = receiver.wait_for("inventory_levels/update")[-1]
    assert json.loads(hook["body"])["available"] == 50


def test_inventory_set_quantities_stale_cas_changes_nothing(sandbox, token):
    item, loc, level = _target(sandbox)
    out = sandbox.gql(token, SET, {"key": "set-stale", "input": _set_input(
        item, loc, 7, level["available"] + 3)})
    r = out["data"]["inventorySetQuantities"]
    assert r["inventoryAdjustmentGroup"] is None
    assert r["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert r["userErrors"][0]["field"] == ["input", "quantities", "0", "changeFromQuantity"]
    assert _target(sandbox)[2]["available"] == level["available"]


def test_inventory_set_quantities_requires_explicit_change_from(sandbox, token):
    item, loc, _ = _target(sandbox)
    out = sandbox.gql(token, SET, {"key": "set-omit", "input": _set_input(item, loc, 5)})
    assert out["data"]["inventorySetQuantities"]["userErrors"]
    skip = sandbox.gql(token, SET, {"key": "set-null", "input": _set_input(item, loc, 5, None)})
    assert skip["data"]["inventorySetQuantities"]["userErrors"] == []
    assert _target(sandbox)[2]["available"] == 5


def test_inventory_set_quantities_idempotent_replay(sandbox, token):
    item, loc, level = _target(sandbox)
    variables = {"key": "replay-1", "input": _set_input(item, loc, 30, level["available"])}
    first = sandbox.gql(token, SET, variables)["data"]["inventorySetQuantities"]
    # Stock moves in between; the replay must neither fail the CAS nor apply twice.
    sandbox.control("POST", f"shops/{SHOP}/inventory", {"sku": "MUG-WHT", "location_id": loc,
                                                         "delta": 4})
    again = sandbox.gql(token, SET, variables)["data"]["inventorySetQuantities"]
    assert again == first
    assert _target(sandbox)[2]["available"] == 34
    mismatch = sandbox.gql(token, SET, {"key": "replay-1", "input": _set_input(
        item, loc, 31, None)})["data"]["inventorySetQuantities"]
    assert mismatch["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"


def test_inventory_set_quantities_requires_idempotent_directive(sandbox, token):
    item, loc, level = _target(sandbox)
    out = sandbox.gql(token, SET_NO_KEY, {"input": _set_input(item, loc, 3, None)})
    assert out["errors"] and "@idempotent" in out["errors"][0]["message"]
    assert _target(sandbox)[2]["available"] == level["available"]


def test_inventory_adjust_quantities_delta_and_cas(sandbox, token):
    item, loc, level = _target(sandbox)
    change = {"inventoryItemId": item, "locationId": loc, "delta": -2,
              "changeFromQuantity": level["available"]}
    inp = {"name": "available", "reason": "correction", "changes": [change]}
    ok = sandbox.gql(token, ADJUST, {"key": "adj-1", "input": inp})["data"][
        "inventoryAdjustQuantities"]
    assert ok["userErrors"] == []
    assert _target(sandbox)[2]["available"] == level["available"] - 2
    stale = sandbox.gql(token, ADJUST, {"key": "adj-2", "input": inp})["data"][
        "inventoryAdjustQuantities"]
    assert stale["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    assert _target(sandbox)[2]["available"] == level["available"] - 2


def test_inventory_set_quantities_validates_name_and_reason(sandbox, token):
    item, loc, _ = _target(sandbox)
    bad_name = dict(_set_input(item, loc, 1, None), name="committed")
    out = sandbox.gql(token, SET, {"key": "bad-name", "input": bad_name})
    assert out["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_NAME"
    bad_reason = dict(_set_input(item, loc, 1, None), reason="because")
    out = sandbox.gql(token, SET, {"key": "bad-reason", "input": bad_reason})
    assert out["data"]["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_REASON"


def test_inventory_set_quantities_needs_write_inventory(sandbox):
    token = sandbox.install(scopes=["read_inventory"])
    item, loc, _ = _target(sandbox)
    out = sandbox.gql(token, SET, {"key": "scope", "input": _set_input(item, loc, 1, None)})
    assert out["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
