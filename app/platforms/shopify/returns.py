"""Shopify returns: a return recorded in Stockroom pushed (returnCreate, returnProcess), and the returns/* topics.

Push (``order.return_recorded``): returnCreate with a line per fulfillment line item the units
were shipped in (each line's returnReasonNote names the Stockroom return, so a retry after a
lost answer finds the return it made: returnCreate has no idempotency key), then
returnProcess disposing every line NOT_RESTOCKED: Stockroom already put the units back and its
inventory push carries the count; a RESTOCKED disposition would add them on Shopify a second
time (docs/decisions/0008-returns.md).

Webhooks: returns/process and returns/close re-read the return and apply its RESTOCKED
dispositions once each (at the mapped stock location, at most what left Stockroom's stock);
a return pushed from here is recognized by its id and restocks nothing again; while its push
is in flight the delivery waits (the return's sync lock). The other topics are shown on the
order's timeline.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, update

from app.extensions import db
from app.models import (Fulfillment, FulfillmentLine, Order, OrderLine, OrderReturn, Platform,
                        SyncState, WebhookInbox)
from app.orders.refunds import UnmappedRestockLocation
from app.orders.returns import (TOPIC, DispositionData, PlatformReturnData, known_return,
                                record_platform_return)
from app.platforms.shopify.inbound import _payload
from app.platforms.shopify.mapping import gid
from app.platforms.shopify.paging import _follow, complete_fulfillment
from app.platforms.shopify.payload_checks import _gid_number, _positive_int, _show
from app.platforms.shopify.sync import ShopifyCall, pull_order
from app.sync.errors import Deferred, PermanentError, Rejected, RetryableError
from app.sync.handlers import Delivery
from app.sync.lock import push_in_flight
from app.sync.queue import Job
from app.sync.transactions import end_read

SHOPIFY = Platform.SHOPIFY
#: Topics that only go on the order's timeline (the return's state; no stock moves).
STATE_TOPICS = ("returns/request", "returns/approve", "returns/decline", "returns/cancel",
                "returns/reopen", "returns/update")
#: Topics after which dispositions may have put units back in stock on Shopify.
RESTOCK_TOPICS = ("returns/process", "returns/close")


def note_of(return_id: int) -> str:
    """The returnReasonNote every line of a pushed return carries."""
    return f"Stockroom return #{return_id}"


# --- push --------------------------------------------------------------------------------------

def _plan(record: OrderReturn) -> dict:
    """What the push needs, read before any call: the order, and per fulfillment its
    remote id with the order lines' units to return."""
    order = db.session.get(Order, record.order_id)
    by_fulfillment: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in record.lines:
        fl = db.session.get(FulfillmentLine, line.fulfillment_line_id) \
            if line.fulfillment_line_id else None
        if fl is None:
            raise PermanentError(f"Return #{record.id}: a returned line's fulfillment is gone.")
        remote_line = db.session.scalar(select(OrderLine.remote_id).where(
            OrderLine.id == line.order_line_id))
        by_fulfillment[fl.fulfillment_id][remote_line] += line.quantity
    remotes = {}
    for fulfillment_id in by_fulfillment:
        fulfillment = db.session.get(Fulfillment, fulfillment_id)
        if not fulfillment.remote_id and fulfillment.sync_state == SyncState.FAILED:
            raise PermanentError(f"Fulfillment #{fulfillment_id} did not reach Shopify: retry it "
                                 "on the Sync page, then this return.")
        if not fulfillment.remote_id:
            raise Deferred(f"fulfillment #{fulfillment_id} has not reached Shopify yet",
                           seconds=5.0)
        remotes[fulfillment.remote_id] = dict(by_fulfillment[fulfillment_id])
    return {"order_gid": order.remote_id, "return_id": record.id, "summary": record.summary,
            "fulfillments": remotes}


def _return_line_items(call: ShopifyCall, plan: dict) -> list[dict]:
    """returnLineItems: the units of each order line, from the fulfillment line items of the
    fulfillments they were shipped in."""
    note, items = note_of(plan["return_id"]), []
    for fulfillment_gid, wanted in sorted(plan["fulfillments"].items()):
        node = call("FulfillmentForSync", {"id": fulfillment_gid}).get("fulfillment")
        if node is None:
            raise PermanentError(f"Fulfillment {fulfillment_gid} no longer exists on Shopify.")
        left = dict(wanted)
        for li in complete_fulfillment(call, node)["fulfillmentLineItems"]["nodes"]:
            take = min(left.get(li["lineItem"]["id"], 0), li["quantity"])
            if take:
                items.append({"fulfillmentLineItemId": li["id"], "quantity": take,
                              "returnReasonNote": note})
                left[li["lineItem"]["id"]] -= take
        if any(left.values()):
            raise PermanentError(f"Shopify's fulfillment {fulfillment_gid} no longer holds the "
                                 "returned units.")
    return items


def _made_before(call: ShopifyCall, order_gid: str, note: str) -> str | None:
    """The return a previous attempt made (its lines carry ``note``), if any."""
    after = None
    while True:
        order = call("OrderReturns", {"id": order_gid, "after": after}).get("order")
        if order is None:
            return None
        for node in order["returns"]["nodes"]:
            first = node["returnLineItems"]["nodes"]
            if first and first[0].get("returnReasonNote") == note:
                return node["id"]
        page = order["returns"]["pageInfo"]
        if not page["hasNextPage"]:
            return None
        after = page["endCursor"]


def read_return(call: ShopifyCall, return_gid: str) -> dict | None:
    """ReturnForSync's ``return`` with every line, reverse fulfillment order and its lines."""
    node = call("ReturnForSync", {"id": return_gid}).get("return")
    if node is None:
        return None
    _follow(call, node["returnLineItems"], "ReturnLineItemPage", return_gid, "return",
            "returnLineItems")
    _follow(call, node["reverseFulfillmentOrders"], "ReturnReverseFulfillmentOrderPage",
            return_gid, "return", "reverseFulfillmentOrders")
    for rfo in node["reverseFulfillmentOrders"]["nodes"]:
        _follow(call, rfo["lineItems"], "ReverseFulfillmentOrderLineItemPage", rfo["id"],
                "reverseFulfillmentOrder", "lineItems")
    return node


def _errors(result: dict, what: str) -> None:
    errors = result.get("userErrors") or []
    if errors:
        raise PermanentError(f"Shopify refused {what}: "
                             + "; ".join(e.get("message") or "" for e in errors))


def _process(call: ShopifyCall, node: dict) -> None:
    """returnProcess every line still processable, each disposed NOT_RESTOCKED."""
    rfo_lines = {li["fulfillmentLineItem"]["id"]: li
                 for rfo in node["reverseFulfillmentOrders"]["nodes"]
                 for li in rfo["lineItems"]["nodes"] if li.get("fulfillmentLineItem")}
    items = []
    for line in node["returnLineItems"]["nodes"]:
        quantity = line.get("processableQuantity") or 0
        rfo_line = rfo_lines.get((line.get("fulfillmentLineItem") or {}).get("id"))
        if quantity and rfo_line:
            items.append({"id": line["id"], "quantity": quantity, "dispositions": [{
                "reverseFulfillmentOrderLineItemId": rfo_line["id"], "quantity": quantity,
                "dispositionType": "NOT_RESTOCKED"}]})
    if items:
        result = call("ReturnProcess", {"input": {"returnId": node["id"], "notifyCustomer": False,
                                                  "returnLineItems": items}},
                      idempotent=False)["returnProcess"]
        _errors(result, "to process the return")


def push_return(job: Job) -> str:
    """returnCreate (or adopt the one a lost answer made), then returnProcess."""
    record = db.session.get(OrderReturn, (job.payload or {}).get("return_id"))
    if record is None or record.merchant_id != job.merchant_id:
        end_read()
        return "the return is no longer in Stockroom"
    if record.remote_id:
        end_read()
        return f"already on Shopify as {record.remote_id}"
    plan = _plan(record)
    call = ShopifyCall(job.channel_id)  # ends the read
    note = note_of(plan["return_id"])
    return_gid = _made_before(call, plan["order_gid"], note)
    if return_gid is None:
        result = call("ReturnCreate", {"returnInput": {
            "orderId": plan["order_gid"], "notifyCustomer": False,
            "returnLineItems": _return_line_items(call, plan)}}, idempotent=False)["returnCreate"]
        _errors(result, "the return")
        return_gid = result["return"]["id"]
    node = read_return(call, return_gid)
    if node is None:
        raise RetryableError(f"Shopify does not show return {return_gid} yet")
    _process(call, node)
    record = db.session.get(OrderReturn, plan["return_id"])
    record.remote_id = return_gid
    return f"{plan['summary']} Sent to Shopify as return {node.get('name') or return_gid}."


# --- webhooks ----------------------------------------------------------------------------------

def _order_gid(payload: dict) -> str | None:
    order = payload.get("order")
    if isinstance(order, dict):
        return order.get("admin_graphql_api_id") or (gid("Order", order["id"])
                                                     if order.get("id") else None)
    return gid("Order", payload["order_id"]) if payload.get("order_id") else None


def check_return(delivery: Delivery) -> None:
    """The Return: its gid (and id when sent, the same return); its order's ids well-formed."""
    payload = delivery.payload
    number = _gid_number(payload.get("admin_graphql_api_id"), "Return", "admin_graphql_api_id")
    if payload.get("id") is not None and float(_positive_int(payload, "id")) != float(number):
        raise Rejected(f"the body's id {_show(payload['id'])} and admin_graphql_api_id name "
                       "different Returns")
    order = payload.get("order")
    if order is not None:
        if not isinstance(order, dict):
            raise Rejected(f"the body's order is {_show(order)}, not an object")
        if order.get("admin_graphql_api_id") is not None:
            _gid_number(order["admin_graphql_api_id"], "Order", "order.admin_graphql_api_id")
        if order.get("id") is not None:
            _positive_int(order, "id")
    if payload.get("order_id") is not None:
        _positive_int(payload, "order_id")


def _join_timeline(job: Job, order_gid: str) -> None:
    """The body may name no order (returns/update): found now, it joins its timeline."""
    db.session.execute(update(WebhookInbox).where(WebhookInbox.id == job.id,
                                                  WebhookInbox.merchant_id == job.merchant_id)
                       .values(order_remote_id=order_gid))


def _data(node: dict) -> PlatformReturnData:
    dispositions = []
    for rfo in node["reverseFulfillmentOrders"]["nodes"]:
        for li in rfo["lineItems"]["nodes"]:
            line_gid = ((li.get("fulfillmentLineItem") or {}).get("lineItem") or {}).get("id")
            for d in li.get("dispositions") or []:
                if line_gid and d["type"] in ("RESTOCKED", "NOT_RESTOCKED", "MISSING"):
                    dispositions.append(DispositionData(
                        d["id"], line_gid, int(d["quantity"]), d["type"] == "RESTOCKED",
                        (d.get("location") or {}).get("id")))
    return PlatformReturnData(node["id"], f"Shopify return {node.get('name') or node['id']}",
                              tuple(dispositions))


def apply_return(job: Job) -> str:
    """Re-read the return; a pushed one changes nothing again, dispositions apply once."""
    payload = _payload(job)
    return_gid = payload["admin_graphql_api_id"]
    known = known_return(job.channel_id, return_gid)
    if known is not None and known.origin == "app":
        end_read()
        return f"made in Stockroom (return #{known.id}): restocked when it was recorded"
    order_gid = _order_gid(payload)
    order = db.session.scalar(select(Order).where(Order.channel_id == job.channel_id,
                                                  Order.remote_id == order_gid)) \
        if order_gid else (db.session.get(Order, known.order_id) if known else None)
    if order is not None and push_in_flight(order.id, topic=TOPIC):  # the sync lock
        raise Deferred(f"a return of order {order.name} is being sent to Shopify")
    end_read()
    call = ShopifyCall(job.channel_id)
    node = read_return(call, return_gid)
    if node is None:
        return "the return no longer exists on Shopify"
    status = node["status"].lower()
    if not order_gid:
        _join_timeline(job, node["order"]["id"])
    if job.topic not in RESTOCK_TOPICS:
        return f"return {node.get('name') or return_gid} is {status} on Shopify"
    order = pull_order(call, job.merchant_id, job.channel_id, node["order"]["id"])
    if order is None:
        return "the order no longer exists on Shopify: nothing to restock"
    try:
        _, changed = record_platform_return(job.merchant_id, order.id, _data(node))
    except UnmappedRestockLocation as exc:
        raise PermanentError(exc.message) from None
    return f"{changed} (return {status} on Shopify)"

