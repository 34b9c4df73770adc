"""The scenarios of Shopify's "Manage fulfillments as an order management app" guide, over HTTP."""
from __future__ import annotations

import json

from .conftest import SHOP

FO_FIELDS = """
  id status requestStatus
  assignedLocation { location { id } }
  supportedActions { action externalUrl }
  lineItems(first: 10) { nodes { id totalQuantity remainingQuantity sku } }
"""

ORDER_FOS = """
query OrderFulfillmentOrders($id: ID!) {
  order(id: $id) { id fulfillmentOrders(first: 10) { nodes { %s } } }
}""" % FO_FIELDS

MOVE = """
mutation Move($id: ID!, $loc: ID!, $lines: [FulfillmentOrderLineItemInput!]) {
  fulfillmentOrderMove(id: $id, newLocationId: $loc, fulfillmentOrderLineItems: $lines) {
    originalFulfillmentOrder { %s }
    movedFulfillmentOrder { %s }
    remainingFulfillmentOrder { %s }
    userErrors { field message code }
  }
}""" % (FO_FIELDS, FO_FIELDS, FO_FIELDS)

CREATE = """
mutation Create($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status displayStatus totalQuantity trackingInfo { company number url }
      fulfillmentOrders(first: 5) { nodes { id status } } }
    userErrors { field message }
  }
}"""

SUBMIT = """
mutation Submit($id: ID!, $lines: [FulfillmentOrderLineItemInput!]) {
  fulfillmentOrderSubmitFulfillmentRequest(id: $id, message: "Please ship",
      notifyCustomer: false, fulfillmentOrderLineItems: $lines) {
    originalFulfillmentOrder { %s }
    submittedFulfillmentOrder { %s }
    unsubmittedFulfillmentOrder { %s }
    userErrors { field message }
  }
}""" % (FO_FIELDS, FO_FIELDS, FO_FIELDS)

CANCEL_FO = """
mutation Cancel($id: ID!) {
  fulfillmentOrderCancel(id: $id) {
    fulfillmentOrder { %s }
    replacementFulfillmentOrder { %s }
    userErrors { field message }
  }
}""" % (FO_FIELDS, FO_FIELDS)

REQUEST_CANCEL = """
mutation RequestCancel($id: ID!) {
  fulfillmentOrderSubmitCancellationRequest(id: $id, message: "Customer changed their mind") {
    fulfillmentOrder { %s }
    userErrors { field message }
  }
}""" % FO_FIELDS

HOLD = """
mutation Hold($id: ID!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: {reason: AWAITING_PAYMENT, reasonNotes: "wait"}) {
    fulfillmentHold { id reason }
    fulfillmentOrder { %s }
    userErrors { field message }
  }
}""" % FO_FIELDS

RELEASE = """
mutation Release($id: ID!) {
  fulfillmentOrderReleaseHold(id: $id) { fulfillmentOrder { %s } userErrors { field message } }
}""" % FO_FIELDS

CANCEL_FULFILLMENT = """
mutation CancelFulfillment($id: ID!) {
  fulfillmentCancel(id: $id) { fulfillment { id status } userErrors { field message } }
}"""

TRACKING = """
mutation Tracking($id: ID!, $info: FulfillmentTrackingInput!) {
  fulfillmentTrackingInfoUpdate(fulfillmentId: $id, trackingInfoInput: $info, notifyCustomer: true) {
    fulfillment { id trackingInfo { company number url } } userErrors { field message }
  }
}"""

EVENT = """
mutation Event($event: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $event) {
    fulfillmentEvent { id status } userErrors { field message }
  }
}"""

FULFILLMENT = """
query F($id: ID!) { fulfillment(id: $id) { id status displayStatus deliveredAt inTransitAt
  events(first: 5) { nodes { status } } } }"""


def _actions(fo: dict) -> list[str]:
    return [a["action"] for a in fo["supportedActions"]]


def _location_ids(sandbox) -> dict[str, str]:
    return {loc["kind"] + ":" + loc["name"]: loc["gid"] for loc in sandbox.state()["locations"]}


def _order(sandbox, sku_qty: dict[str, int], location: str | None = None) -> dict:
    body = {"lines": [{"sku": s, "quantity": q} for s, q in sku_qty.items()]}
    if location:
        body["location_id"] = location
    return sandbox.control("POST", f"shops/{SHOP}/orders", body)


def _fos(sandbox, token, order_gid) -> list[dict]:
    data = sandbox.gql(token, ORDER_FOS, {"id": order_gid})
    return data["data"]["order"]["fulfillmentOrders"]["nodes"]


def _locs(sandbox):
    locs = sandbox.state()["locations"]
    merchant = [loc["gid"] for loc in locs if loc["kind"] == "merchant"]
    third_party = next(loc["gid"] for loc in locs if loc["kind"] == "fulfillment_service")
    external = next(loc["gid"] for loc in locs if loc["kind"] == "external")
    return merchant, third_party, external


def _level(sandbox, sku: str, location_gid: str) -> dict:
    loc_id = int(location_gid.rsplit("/", 1)[1])
    return next(lv for lv in sandbox.state()["levels"]
                if lv["sku"] == sku and lv["location_id"] == loc_id)


def test_supported_actions_by_location_kind(sandbox, token):
    merchant, third_party, external = _locs(sandbox)
    actions = {}
    for loc in (merchant[0], third_party, external):
        order = _order(sandbox, {"MUG-WHT": 2}, loc)
        actions[loc] = _fos(sandbox, token, order["gid"])[0]
    assert _actions(actions[merchant[0]]) == ["CREATE_FULFILLMENT", "MOVE", "HOLD", "SPLIT"]
    assert _actions(actions[third_party]) == ["REQUEST_FULFILLMENT", "MOVE", "HOLD", "SPLIT"]
    ext = actions[external]["supportedActions"]
    assert ext[0]["action"] == "EXTERNAL" and ext[0]["externalUrl"].startswith("https://")


def test_fulfillment_order_move_all_moves_in_place(sandbox, token):
    merchant, _, _ = _locs(sandbox)
    order = _order(sandbox, {"TOTE-NAT": 2, "MUG-WHT": 1}, merchant[0])
    fo = _fos(sandbox, token, order["gid"])[0]
    before_src = _level(sandbox, "TOTE-NAT", merchant[0])["committed"]
    before_dst = _level(sandbox, "TOTE-NAT", merchant[1])["committed"]
    out = sandbox.gql(token, MOVE, {"id": fo["id"], "loc": merchant[1]})
    r = out["data"]["fulfillmentOrderMove"]
    assert r["userErrors"] == []
    assert r["movedFulfillmentOrder"]["id"] == fo["id"]
    assert r["movedFulfillmentOrder"]["assignedLocation"]["location"]["id"] == merchant[1]
    assert r["originalFulfillmentOrder"]["status"] == "OPEN"
    assert r["remainingFulfillmentOrder"] is None
    assert _level(sandbox, "TOTE-NAT", merchant[0])["committed"] == before_src - 2
    assert _level(sandbox, "TOTE-NAT", merchant[1])["committed"] == before_dst + 2


def test_fulfillment_order_move_partial_closes_original(sandbox, token):
    merchant, _, _ = _locs(sandbox)
    order = _order(sandbox, {"TOTE-NAT": 3, "MUG-WHT": 1}, merchant[0])
    fo = _fos(sandbox, token, order["gid"])[0]
    tote = next(li for li in fo["lineItems"]["nodes"] if li["sku"] == "TOTE-NAT")
    out = sandbox.gql(token, MOVE, {"id": fo["id"], "loc": merchant[1],
                                    "lines": [{"id": tote["id"], "quantity": 2}]})
    r = out["data"]["fulfillmentOrderMove"]
    assert r["userErrors"] == []
    assert r["originalFulfillmentOrder"]["id"] == fo["id"]
    assert r["originalFulfillmentOrder"]["status"] == "CLOSED"
    assert _actions(r["originalFulfillmentOrder"]) == []
    moved, remaining = r["movedFulfillmentOrder"], r["remainingFulfillmentOrder"]
    assert moved["id"] != fo["id"] and remaining["id"] not in (fo["id"], moved["id"])
    assert moved["assignedLocation"]["location"]["id"] == merchant[1]
    assert [(li["sku"], li["remainingQuantity"]) for li in moved["lineItems"]["nodes"]] == [
        ("TOTE-NAT", 2)]
    assert remaining["assignedLocation"]["location"]["id"] == merchant[0]
    assert sorted((li["sku"], li["remainingQuantity"]) for li in remaining["lineItems"]["nodes"]) \
        == [("MUG-WHT", 1), ("TOTE-NAT", 1)]


def test_fulfillment_order_move_rejects_excess_quantity(sandbox, token):
    merchant, _, _ = _locs(sandbox)
    order = _order(sandbox, {"MUG-WHT": 1}, merchant[0])
    fo = _fos(sandbox, token, order["gid"])[0]
    line = fo["lineItems"]["nodes"][0]
    out = sandbox.gql(token, MOVE, {"id": fo["id"], "loc": merchant[1],
                                    "lines": [{"id": line["id"], "quantity": 5}]})
    r = out["data"]["fulfillmentOrderMove"]
    assert r["movedFulfillmentOrder"] is None
    assert r["userErrors"] and "quantity" in r["userErrors"][0]["message"]


def test_fulfillment_create_partial_then_complete(sandbox, token, receiver):
    merchant, _, _ = _locs(sandbox)
    order = _order(sandbox, {"BEANIE-GRY": 3}, merchant[0])
    fo = _fos(sandbox, token, order["gid"])[0]
    line = fo["lineItems"]["nodes"][0]
    on_hand = _level(sandbox, "BEANIE-GRY", merchant[0])["on_hand"]
    tracking = {"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}
    out = sandbox.gql(token, CREATE, {"fulfillment": {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"],
                                         "fulfillmentOrderLineItems": [{"id": line["id"],
                                                                        "quantity": 1}]}],
        "trackingInfo": tracking, "notifyCustomer": True}})
    r = out["data"]["fulfillmentCreate"]
    assert r["userErrors"] == []
    assert r["fulfillment"]["status"] == "SUCCESS" and r["fulfillment"]["totalQuantity"] == 1
    assert r["fulfillment"]["trackingInfo"] == [tracking]
    assert r["fulfillment"]["fulfillmentOrders"]["nodes"] == [{"id": fo["id"],
                                                               "status": "IN_PROGRESS"}]
    assert _level(sandbox, "BEANIE-GRY", merchant[0])["on_hand"] == on_hand - 1
    out = sandbox.gql(token, CREATE, {"fulfillment": {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}})
    assert out["data"]["fulfillmentCreate"]["fulfillment"]["totalQuantity"] == 2
    assert _fos(sandbox, token, order["gid"])[0]["status"] == "CLOSED"
    assert _level(sandbox, "BEANIE-GRY", merchant[0])["on_hand"] == on_hand - 3
    receiver.wait_for("fulfillments/create", 2)


def test_fulfillment_create_spans_fulfillment_orders_of_same_location(sandbox, token):
    merchant, _, _ = _locs(sandbox)
    order = _order(sandbox, {"TOTE-NAT": 2, "MUG-WHT": 1}, merchant[0])
    fo = _fos(sandbox, token, order["gid"])[0]
    mug = next(li for li in fo["lineItems"]["nodes"] if li["sku"] == "MUG-WHT")
    # Split off the mug by moving it away and back: two open FOs at the same location.
    moved = sandbox.gql(token, MOVE, {"id": fo["id"], "loc": merchant[1],
                                      "lines": [{"id": mug["id"], "quantity": 1}]})
    moved_fo = moved["data"]["fulfillmentOrderMove"]["movedFulfillmentOrder"]
    remaining = moved["data"]["fulfillmentOrderMove"]["remainingFulfillmentOrder"]
    back = sandbox.gql(token, MOVE, {"id": moved_fo["id"], "loc": merchant[0]})
    assert back["data"]["fulfillmentOrderMove"]["userErrors"] == []
    out = sandbox.gql(token, CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": remaining["id"]}, {"fulfillmentOrderId": moved_fo["id"]}]}})
    r = out["data"]["fulfillmentCreate"]
    assert r["userErrors"] == []
    assert r["fulfillment"]["totalQuantity"] == 3
    assert {n["status"] for n in r["fulfillment"]["fulfillmentOrders"]["nodes"]} == {"CLOSED"}


def test_fulfillment_create_rejects_mixed_locations(sandbox, token):
    merchant, _, _ = _locs(sandbox)
    a = _fos(sandbox, token, _order(sandbox, {"MUG-WHT": 1}, merchant[0])["gid"])[0]
    b = _fos(sandbox, token, _order(sandbox, {"MUG-WHT": 1}, merchant[1])["gid"])[0]
    out = sandbox.gql(token, CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": a["id"]}, {"fulfillmentOrderId": b["id"]}]}})
    r = out["data"]["fulfillmentCreate"]
    assert r["fulfillment"] is None and r["userErrors"]


def test_fulfillment_create_refused_at_third_party_location(sandbox, token):
    _, third_party, _ = _locs(sandbox)
    fo = _fos(sandbox, token, _order(sandbox, {"MUG-WHT": 1}, third_party)["gid"])[0]
    out = sandbox.gql(token, CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo["id"]}]}})
    assert out["data"]["fulfillmentCreate"]["userErrors"]


def test_fulfillment_request_partial_splits_and_3pl_accepts(sandbox, token, receiver):
    _, third_party, _ = _locs(sandbox)
    order = _order(sandbox, {"TOTE-BLK": 2, "MUG-WHT": 1}, third_party)
    fo = _fos(sandbox, token, order["gid"])[0]
    tote = next(li for li in fo["lineItems"]["nodes"] if li["sku"] == "TOTE-BLK")
    out = sandbox.gql(token, SUBMIT, {"id": fo["id"], "lines": [{"id": tote["id"],
                                                                 "quantity": 1}]})
    r = out["data"]["fulfillmentOrderSubmitFulfillmentRequest"]
    assert r["userErrors"] == []
    assert r["originalFulfillmentOrder"]["status"] == "CLOSED"
    sub, unsub = r["submittedFulfillmentOrder"], r["unsubmittedFulfillmentOrder"]
    assert (sub["status"], sub["requestStatus"]) == ("OPEN", "SUBMITTED")
    assert _actions(sub) == ["CANCEL_FULFILLMENT_ORDER", "REQUEST_CANCELLATION"]
    assert [(li["sku"], li["remainingQuantity"]) for li in sub["lineItems"]["nodes"]] == [
        ("TOTE-BLK", 1)]
    assert unsub["requestStatus"] == "UNSUBMITTED"
    assert sorted((li["sku"], li["remainingQuantity"]) for li in unsub["lineItems"]["nodes"]) == [
        ("MUG-WHT", 1), ("TOTE-BLK", 1)]
    fo_num = sub["id"].rsplit("/", 1)[1]
    sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/{fo_num}/accept",
                    {"message": "Ships tomorrow"})
    after = [f for f in _fos(sandbox, token, order["gid"]) if f["id"] == sub["id"]][0]
    assert (after["status"], after["requestStatus"]) == ("IN_PROGRESS", "ACCEPTED")
    assert _actions(after) == ["REQUEST_CANCELLATION"]
    hook = receiver.wait_for("fulfillment_orders/fulfillment_request_accepted")[0]
    assert b"Ships tomorrow" in hook["body"]
    sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/{fo_num}/fulfill", {})
    done = [f for f in _fos(sandbox, token, order["gid"]) if f["id"] == sub["id"]][0]
    assert (done["status"], done["requestStatus"]) == ("CLOSED", "CLOSED")
    receiver.wait_for("fulfillments/create")


def test_fulfillment_request_rejected_can_be_moved(sandbox, token, receiver):
    merchant, third_party, _ = _locs(sandbox)
    fo = _fos(sandbox, token, _order(sandbox, {"MUG-WHT": 1}, third_party)["gid"])[0]
    sandbox.gql(token, SUBMIT, {"id": fo["id"]})
    blocked = sandbox.gql(token, MOVE, {"id": fo["id"], "loc": merchant[0]})
    assert blocked["data"]["fulfillmentOrderMove"]["userErrors"]
    sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/{fo['id'].rsplit('/', 1)[1]}/reject",
                    {"message": "No stock"})
    receiver.wait_for("fulfillment_orders/fulfillment_request_rejected")
    out = sandbox.gql(token, MOVE, {"id": fo["id"], "loc": merchant[0]})
    assert out["data"]["fulfillmentOrderMove"]["userErrors"] == []


def test_fulfillment_order_cancel_creates_replacement(sandbox, token, receiver):
    _, third_party, _ = _locs(sandbox)
    fo = _fos(sandbox, token, _order(sandbox, {"TOTE-BLK": 2}, third_party)["gid"])[0]
    sandbox.gql(token, SUBMIT, {"id": fo["id"]})
    out = sandbox.gql(token, CANCEL_FO, {"id": fo["id"]})
    r = out["data"]["fulfillmentOrderCancel"]
    assert r["userErrors"] == []
    assert r["fulfillmentOrder"]["status"] == "CLOSED"  # "marked as closed" (2026-10 schema)
    assert _actions(r["fulfillmentOrder"]) == []
    rep = r["replacementFulfillmentOrder"]
    assert rep["id"] != fo["id"]
    assert (rep["status"], rep["requestStatus"]) == ("OPEN", "UNSUBMITTED")
    assert rep["lineItems"]["nodes"][0]["remainingQuantity"] == 2
    hook = receiver.wait_for("fulfillment_orders/cancelled")[0]
    assert rep["id"].encode() in hook["body"]


def test_fulfillment_order_cancellation_request_flow(sandbox, token, receiver):
    _, third_party, _ = _locs(sandbox)
    fo = _fos(sandbox, token, _order(sandbox, {"MUG-WHT": 1}, third_party)["gid"])[0]
    num = fo["id"].rsplit("/", 1)[1]
    sandbox.gql(token, SUBMIT, {"id": fo["id"]})
    sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/{num}/accept", {})
    refused = sandbox.gql(token, CANCEL_FO, {"id": fo["id"]})
    assert refused["data"]["fulfillmentOrderCancel"]["userErrors"]
    out = sandbox.gql(token, REQUEST_CANCEL, {"id": fo["id"]})
    r = out["data"]["fulfillmentOrderSubmitCancellationRequest"]
    assert r["userErrors"] == []
    assert r["fulfillmentOrder"]["requestStatus"] == "CANCELLATION_REQUESTED"
    assert _actions(r["fulfillmentOrder"]) == ["CANCEL_FULFILLMENT_ORDER"]
    result = sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/{num}/accept_cancellation",
                             {"message": "Not shipped yet"})
    assert (result["status"], result["request_status"]) == ("CLOSED", "CANCELLATION_ACCEPTED")
    assert result["replacement_id"]
    receiver.wait_for("fulfillment_orders/cancellation_request_accepted")


def test_fulfillment_order_hold_and_release(sandbox, token, receiver):
    merchant, _, _ = _locs(sandbox)
    fo = _fos(sandbox, token, _order(sandbox, {"MUG-WHT": 1}, merchant[0])["gid"])[0]
    held = sandbox.gql(token, HOLD, {"id": fo["id"]})["data"]["fulfillmentOrderHold"]
    assert held["userErrors"] == []
    assert held["fulfillmentOrder"]["status"] == "ON_HOLD"
    assert held["fulfillmentHold"]["reason"] == "AWAITING_PAYMENT"
    assert "RELEASE_HOLD" in _actions(held["fulfillmentOrder"])
    refused = sandbox.gql(token, CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo["id"]}]}})
    assert refused["data"]["fulfillmentCreate"]["userErrors"]
    released = sandbox.gql(token, RELEASE, {"id": fo["id"]})["data"]["fulfillmentOrderReleaseHold"]
    assert released["fulfillmentOrder"]["status"] == "OPEN"
    receiver.wait_for("fulfillment_orders/placed_on_hold")
    receiver.wait_for("fulfillment_orders/hold_released")


def test_fulfillment_order_cancel_refused_for_unsubmitted(sandbox, token):
    merchant, third_party, _ = _locs(sandbox)
    for loc in (merchant[0], third_party):
        fo = _fos(sandbox, token, _order(sandbox, {"MUG-WHT": 1}, loc)["gid"])[0]
        out = sandbox.gql(token, CANCEL_FO, {"id": fo["id"]})["data"]["fulfillmentOrderCancel"]
        assert out["fulfillmentOrder"] is None and out["userErrors"]


def test_fulfillment_tracking_events_and_cancel(sandbox, token, receiver):
    merchant, _, _ = _locs(sandbox)
    fo = _fos(sandbox, token, _order(sandbox, {"MUG-WHT": 2}, merchant[0])["gid"])[0]
    on_hand = _level(sandbox, "MUG-WHT", merchant[0])["on_hand"]
    f = sandbox.gql(token, CREATE, {"fulfillment": {"lineItemsByFulfillmentOrder": [
        {"fulfillmentOrderId": fo["id"]}]}})["data"]["fulfillmentCreate"]["fulfillment"]
    info = {"company": "DHL", "number": "JD0001", "url": "https://dhl.example/JD0001"}
    t = sandbox.gql(token, TRACKING, {"id": f["id"], "info": info})
    assert t["data"]["fulfillmentTrackingInfoUpdate"]["fulfillment"]["trackingInfo"] == [info]
    for status in ("IN_TRANSIT", "DELIVERED"):
        ev = sandbox.gql(token, EVENT, {"event": {"fulfillmentId": f["id"], "status": status}})
        assert ev["data"]["fulfillmentEventCreate"]["fulfillmentEvent"]["status"] == status
    got = sandbox.gql(token, FULFILLMENT, {"id": f["id"]})["data"]["fulfillment"]
    assert got["displayStatus"] == "DELIVERED" and got["deliveredAt"] and got["inTransitAt"]
    assert [e["status"] for e in got["events"]["nodes"]] == ["IN_TRANSIT", "DELIVERED"]
    c = sandbox.gql(token, CANCEL_FULFILLMENT, {"id": f["id"]})["data"]["fulfillmentCancel"]
    assert c["fulfillment"]["status"] == "CANCELLED"
    assert _level(sandbox, "MUG-WHT", merchant[0])["on_hand"] == on_hand
    assert _fos(sandbox, token, _order_gid(sandbox, fo))[0]["status"] == "OPEN"
    receiver.wait_for("fulfillments/update", 4)


def _order_gid(sandbox, fo) -> str:
    fo_num = int(fo["id"].rsplit("/", 1)[1])
    order_id = next(x["order_id"] for x in sandbox.state()["fulfillment_orders"] if x["id"] == fo_num)
    return f"gid://shopify/Order/{order_id}"


def test_platform_fulfillment_sends_webhooks(sandbox, token, receiver):
    merchant, _, _ = _locs(sandbox)
    order = _order(sandbox, {"MUG-WHT": 1}, merchant[0])
    fo_num = order["fulfillment_orders"][0]["id"]
    f = sandbox.control("POST", f"shops/{SHOP}/fulfillments",
                        {"fulfillment_order_id": fo_num,
                         "tracking": {"company": "UPS", "number": "1Z1"}})
    sandbox.control("POST", f"shops/{SHOP}/fulfillments/{f['id']}/delivered", {})
    hooks = receiver.wait_for("fulfillments/update")
    assert b'"shipment_status": "delivered"' in hooks[-1]["body"]
    receiver.wait_for("orders/create")
    receiver.wait_for("fulfillments/create")


ORDER_LINES = """
query OrderLines($id: ID!, $after: String) {
  order(id: $id) { lineItems(first: 2, after: $after) {
    nodes { id currentQuantity } pageInfo { hasNextPage endCursor } } }
}"""


def test_split_then_refunds_cancel_return_and_pages_follow_after(sandbox, token, receiver):
    merchant, _, _ = _locs(sandbox)
    order = _order(sandbox, {"TOTE-NAT": 2, "MUG-WHT": 3, "BEANIE-GRY": 1}, merchant[0])
    fo = _fos(sandbox, token, order["gid"])[0]
    by_sku = {ln["sku"]: ln for ln in fo["lineItems"]["nodes"]}
    fo_id = fo["id"].rsplit("/", 1)[1]
    split = sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/{fo_id}/split",
                            {"line_items": [{"id": by_sku["MUG-WHT"]["id"], "quantity": 2}]})
    fos = _fos(sandbox, token, order["gid"])
    assert sorted(sum(ln["totalQuantity"] for ln in f["lineItems"]["nodes"]) for f in fos) == [
        2, 4]
    assert split["remaining_gid"] in {f["id"] for f in fos}
    # Connection paging: first/after walk the 3 lines in 2 pages.
    page = sandbox.gql(token, ORDER_LINES, {"id": order["gid"]})["data"]["order"]["lineItems"]
    assert len(page["nodes"]) == 2 and page["pageInfo"]["hasNextPage"]
    rest = sandbox.gql(token, ORDER_LINES, {"id": order["gid"],
                                            "after": page["pageInfo"]["endCursor"]})
    rest = rest["data"]["order"]["lineItems"]
    assert len(rest["nodes"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    # A cancel refund takes unfulfilled units off the order; committed is released.
    line = next(li for o in sandbox.state()["orders"] if o["id"] == order["id"]
                for li in o["line_items"] if li["sku"] == "MUG-WHT")
    committed = _level(sandbox, "MUG-WHT", merchant[0])["committed"]
    made = sandbox.control("POST", f"shops/{SHOP}/orders/{order['id']}/refunds", {
        "refund_line_items": [{"line_item_id": line["id"], "quantity": 1,
                               "restock_type": "cancel", "location_id": merchant[0]}]})
    payload = json.loads(receiver.wait_for("refunds/create")[-1]["body"])
    assert payload["admin_graphql_api_id"] == made["gid"]
    assert payload["refund_line_items"][0]["restock_type"] == "cancel"
    assert payload["refund_line_items"][0]["line_item"]["current_quantity"] == 2
    assert _level(sandbox, "MUG-WHT", merchant[0])["committed"] == committed - 1
    # A return needs fulfilled units.
    refused = sandbox.control("POST", f"shops/{SHOP}/orders/{order['id']}/refunds", {
        "refund_line_items": [{"line_item_id": line["id"], "quantity": 1,
                               "restock_type": "return", "location_id": merchant[0]}]},
        expect=422)
    assert "exceeds what was fulfilled" in refused["error"]
