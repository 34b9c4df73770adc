"""Reading Shopify's connections to their end: an order, its fulfillment orders and fulfillments whole.

Shopify refuses a single query over 1,000 requested points, so OrderForSync reads the first
page of each connection and the rest comes from follow-up queries, one connection at a time
(tests/integration/shopify/test_graphql_documents.py fails on a connection read without
pageInfo). Order.fulfillments is a plain list Shopify doesn't page: it is read with the
largest ``first`` it takes beside ``fulfillmentsCount``, and an order with more is refused
visibly instead of being mirrored incomplete.
"""
from __future__ import annotations

from typing import Callable

from app.sync.errors import PermanentError

#: Order.fulfillments(first:) in OrderFulfillments / OrderFulfillmentsForSync.
FULFILLMENTS_LIST_LIMIT = 250

Call = Callable[..., dict]


def _follow(call: Call, connection: dict, operation: str, node_id: str, root: str,
            field: str) -> None:
    """Append the pages after ``connection``'s first to its ``nodes`` (in place)."""
    page_info = connection.get("pageInfo") or {}
    while page_info.get("hasNextPage"):
        owner = call(operation, {"id": node_id, "after": page_info["endCursor"]}).get(root)
        if owner is None:  # deleted between two pages: what was read is all there is
            break
        page = owner[field]
        connection["nodes"].extend(page["nodes"])
        page_info = page["pageInfo"]
    connection["pageInfo"] = {"hasNextPage": False, "endCursor": page_info.get("endCursor")}


def complete_fulfillment_order(call: Call, node: dict) -> dict:
    """A fulfillment order node (OrderForSync or a mutation's result) with all its lines."""
    _follow(call, node["lineItems"], "FulfillmentOrderLineItemPage", node["id"],
            "fulfillmentOrder", "lineItems")
    return node


def complete_fulfillment(call: Call, node: dict) -> dict:
    """A fulfillment node with all its fulfillment line items."""
    _follow(call, node["fulfillmentLineItems"], "FulfillmentLineItemPage", node["id"],
            "fulfillment", "fulfillmentLineItems")
    return node


def read_order(call: Call, order_gid: str) -> dict | None:
    """OrderForSync's ``order`` with every line item and every fulfillment order (each with
    all its lines), or None when Shopify has no such order."""
    node = call("OrderForSync", {"id": order_gid}).get("order")
    if node is None:
        return None
    _follow(call, node["lineItems"], "OrderLineItemPage", order_gid, "order", "lineItems")
    fos = node["fulfillmentOrders"]
    first_page = list(fos["nodes"])
    page_info = fos.get("pageInfo") or {}
    while page_info.get("hasNextPage"):
        owner = call("OrderFulfillmentOrderPage", {"id": order_gid,
                                                   "after": page_info["endCursor"]}).get("order")
        if owner is None:
            break
        first_page.extend(owner["fulfillmentOrders"]["nodes"])
        page_info = owner["fulfillmentOrders"]["pageInfo"]
    fos["nodes"] = [complete_fulfillment_order(call, fo) for fo in first_page]
    fos["pageInfo"] = {"hasNextPage": False, "endCursor": page_info.get("endCursor")}
    return node


def read_order_fulfillments(call: Call, operation: str, order_gid: str) -> dict | None:
    """OrderFulfillments / OrderFulfillmentsForSync's ``order``, every fulfillment with all its
    lines. Raises PermanentError when the order has more fulfillments than the list returns."""
    node = call(operation, {"id": order_gid}).get("order")
    if node is None:
        return None
    fulfillments = node.get("fulfillments") or []
    count = ((node.get("fulfillmentsCount") or {}).get("count"))
    if count is not None and count > len(fulfillments):
        raise PermanentError(
            f"Shopify order {order_gid} has {count} fulfillments; Shopify lists at most "
            f"{FULFILLMENTS_LIST_LIMIT} at once, so Stockroom can't read them all and changed "
            "nothing (fulfill or reconcile this order in Shopify admin).")
    for f in fulfillments:
        complete_fulfillment(call, f)
    return node


def read_refund(call: Call, refund_gid: str) -> dict | None:
    """RefundForSync's ``refund`` with all its refund line items (None: no such refund)."""
    node = call("RefundForSync", {"id": refund_gid}).get("refund")
    if node is None:
        return None
    _follow(call, node["refundLineItems"], "RefundLineItemPage", refund_gid, "refund",
            "refundLineItems")
    return node
