"""Fulfillment orders split, merged, held twice, released and rescheduled on Shopify: the
webhook (from a sandbox control, or Shopify's published example) makes the worker re-read
the order, and the mirror shows Shopify's fulfillment orders."""
from sqlalchemy import select

from app.extensions import db
from app.models import FulfillmentOrder, Order, WebhookInbox
from app.platforms.shopify.tokens import read_credentials
from app.models import Channel
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_forged_webhooks import deliver, example_body, outcome
from tests.integration.shopify.test_fulfillment_sync import place_order, shop  # noqa: F401

HOLD = """mutation Hold($id: ID!, $handle: String) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: {reason: OTHER, reasonNotes: "wait",
                                                   handle: $handle}) {
    fulfillmentHold { id } userErrors { message } } }"""
RELEASE = """mutation Release($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id status } userErrors { message } } }"""


def open_fos(order_id: int) -> list[FulfillmentOrder]:
    db.session.expire_all()
    return db.session.scalars(select(FulfillmentOrder).where(
        FulfillmentOrder.order_id == order_id,
        FulfillmentOrder.status.in_(("OPEN", "IN_PROGRESS", "ON_HOLD")))
        .order_by(FulfillmentOrder.id)).all()


def shape(order_id: int) -> list[list[tuple[int, int]]]:
    """Each open fulfillment order's (order line id, remaining) pairs."""
    return [sorted((fol.order_line_id, fol.remaining_quantity) for fol in fo.lines)
            for fo in open_fos(order_id)]


def note(topic: str) -> str:
    return db.session.scalars(select(WebhookInbox.last_error).where(
        WebhookInbox.topic == topic).order_by(WebhookInbox.id.desc())).first()


def test_split_then_merge_on_shopify_are_mirrored(stockroom, shop):  # noqa: F811
    order, summary = place_order(stockroom, [("TOTE-NAT", 2), ("MUG-WHT", 1)],
                                 location_id=shop.remote["Main Warehouse"])
    order_id, name = order.id, order.name
    lines = {line.sku: line.id for line in order.lines}
    fo = summary["fulfillment_orders"][0]
    assert shape(order_id) == [sorted([(lines["TOTE-NAT"], 2), (lines["MUG-WHT"], 1)])]
    release_session()
    # The merchant splits one tote off onto its own fulfillment order.
    tote_line = next(li for li in fo["line_items"] if li["quantity"] == 2)
    split = stockroom.sandbox.control(
        "POST", f"shops/{SHOP}/fulfillment_orders/{fo['id']}/split",
        {"line_items": [{"id": tote_line["id"], "quantity": 1}]})
    stockroom.run_worker(until=lambda: len(open_fos(order_id)) == 2)
    # (Which of the two keeps the mug is the sandbox's split rule: the order is not asserted.)
    assert sorted(shape(order_id)) == sorted([[(lines["TOTE-NAT"], 1)],
                                              sorted([(lines["TOTE-NAT"], 1),
                                                      (lines["MUG-WHT"], 1)])])
    assert note("fulfillment_orders/split") == f"fulfillment orders of {name} refreshed"
    release_session()
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/merge", {
        "fulfillment_order_ids": [split["id"], split["remaining_id"]]})
    stockroom.run_worker(until=lambda: len(open_fos(order_id)) == 1)
    assert shape(order_id) == [sorted([(lines["TOTE-NAT"], 2), (lines["MUG-WHT"], 1)])]
    assert open_fos(order_id)[0].remote_id == f"gid://shopify/FulfillmentOrder/{split['id']}"
    # Neither body names the order: both deliveries are on its timeline all the same.
    from tests.integration.shopify.test_fulfillment_order_actions import Admin

    timeline = Admin(stockroom).get(f"/orders/{order_id}").text
    name = db.session.get(Order, order_id).name
    assert f"Shopify: Fulfillment order of order {name} split" in timeline
    assert f"Shopify: Fulfillment orders of order {name} merged" in timeline
    assert "<code>fulfillment_orders/split</code>" in timeline  # the topic behind Details


def test_second_hold_and_its_release_reach_the_mirror_through_fulfillment_holds(stockroom, shop):  # noqa: F811
    order, summary = place_order(stockroom, [("MUG-WHT", 1)],
                                 location_id=shop.remote["Main Warehouse"])
    order_id, name, fo_gid = order.id, order.name, summary["fulfillment_orders"][0]["gid"]
    token = read_credentials(db.session.scalar(select(Channel))).access_token
    release_session()
    holds = [stockroom.sandbox.gql(token, HOLD, {"id": fo_gid, "handle": h})["data"][
        "fulfillmentOrderHold"]["fulfillmentHold"]["id"] for h in ("first", "second")]

    def holds_mirrored(n):
        return lambda: [len(fo.holds) for fo in open_fos(order_id)] == [n]

    # placed_on_hold came once (the first hold); fulfillment_holds/added twice.
    stockroom.run_worker(until=holds_mirrored(2))
    assert open_fos(order_id)[0].status == "ON_HOLD"
    release_session()
    out = stockroom.sandbox.gql(token, RELEASE, {"id": fo_gid, "holdIds": [holds[0]]})
    assert out["data"]["fulfillmentOrderReleaseHold"]["fulfillmentOrder"]["status"] == "ON_HOLD"
    # No hold_released (still on hold): fulfillment_holds/released carries the change.
    stockroom.run_worker(until=holds_mirrored(1))
    assert db.session.scalar(select(WebhookInbox.id).where(
        WebhookInbox.topic == "fulfillment_orders/hold_released")) is None
    assert note("fulfillment_holds/released") == f"fulfillment orders of {name} refreshed"


def test_rescheduled_as_shopify_publishes_it_refreshes_the_order(stockroom, shop):  # noqa: F811
    import json

    order, summary = place_order(stockroom, [("MUG-WHT", 1)],
                                 location_id=shop.remote["Main Warehouse"])
    name = order.name
    body = json.loads(example_body("fulfillment_orders/rescheduled"))
    body["fulfillment_order"]["id"] = summary["fulfillment_orders"][0]["gid"]
    row = outcome(stockroom, deliver(stockroom, "fulfillment_orders/rescheduled", body))
    assert (row.status, row.last_error) == ("done", f"fulfillment orders of {name} refreshed")
    # A fulfillment order Shopify never had: nothing to refresh, nothing fails.
    row = outcome(stockroom, deliver(stockroom, "fulfillment_orders/rescheduled",
                                     example_body("fulfillment_orders/rescheduled")))
    assert (row.status, row.last_error) == ("done",
                                            "its fulfillment orders no longer exist on Shopify")
