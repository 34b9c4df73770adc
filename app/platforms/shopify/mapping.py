"""Translate Shopify payloads (GraphQL nodes, REST webhooks) into domain dataclasses and back."""
from __future__ import annotations

import datetime as dt

from app.catalog import RemoteLevel, RemoteVariant
from app.fulfillment import Tracking
from app.orders.refunds import RefundData, RefundLineData
from app.orders.upsert import LineData, OrderData
from app.sync.commands import (CancelFulfillment, Command, LocationRef, MarkDelivered,
                               RecordFulfillment, UpdateTracking)


def gid(kind: str, value: str | int) -> str:
    """A Shopify global id; REST webhooks carry numeric ids, GraphQL wants gids."""
    value = str(value)
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


def parse_time(value: str | None) -> dt.datetime | None:
    """ISO 8601 from Shopify -> aware datetime."""
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def order_data(node: dict) -> OrderData:
    """OrderForSync's ``order`` -> OrderData."""
    lines = [LineData(remote_id=line["id"], quantity=int(line.get("currentQuantity",
                                                                  line["quantity"])),
                      sku=line.get("sku") or "", title=line.get("name") or "",
                      remote_variant_id=(line.get("variant") or {}).get("id"))
             for line in node["lineItems"]["nodes"]]
    return OrderData(
        remote_id=node["id"], name=node["name"], placed_at=parse_time(node["createdAt"]),
        lines=lines, customer_name=_customer_name(node),
        customer_email=node.get("email") or "", **_total(node),
        cancelled_at=parse_time(node.get("cancelledAt")),
        remote_updated_at=parse_time(node.get("updatedAt")))


def _total(node: dict) -> dict:
    # The shop's currency (shopMoney), as the merchant reads their own figures.
    money = ((node.get("totalPriceSet") or {}).get("shopMoney")) or {}
    return {"currency": money.get("currencyCode") or node.get("currencyCode") or "USD",
            "total_price": money.get("amount") or "0.00"}


def _customer_name(node: dict) -> str:
    # The shipping address carries the name without the read_customers scope.
    return (node.get("shippingAddress") or {}).get("name") or ""


def fulfillment_tracking(node: dict) -> Tracking:
    """A Fulfillment node's first trackingInfo as Tracking (empty when it has none)."""
    info = (node.get("trackingInfo") or [{}])[0]
    return Tracking(info.get("number") or "", info.get("company") or "", info.get("url") or "")


def fulfillment_commands(fulfillment_id: int, node: dict) -> list[Command]:
    """What Shopify's current Fulfillment node means for one we hold: canceled there, or
    its tracking and delivery (the applier ignores what is unchanged)."""
    if node["status"] == "CANCELLED":
        return [CancelFulfillment(fulfillment_id)]
    commands: list[Command] = [UpdateTracking(fulfillment_id, fulfillment_tracking(node))]
    if node.get("displayStatus") == "DELIVERED":
        commands.append(MarkDelivered(fulfillment_id))
    return commands


def record_fulfillment(order_id: int, node: dict) -> RecordFulfillment:
    """A Fulfillment node made on Shopify (complete: every line item) as a fulfillment here,
    its stock taken at the stock location its Shopify location is mapped to."""
    location = node.get("location") or {}
    lines: dict[str, int] = {}
    for li in node["fulfillmentLineItems"]["nodes"]:
        lines[li["lineItem"]["id"]] = lines.get(li["lineItem"]["id"], 0) + li["quantity"]
    name = location.get("name", "its location")
    return RecordFulfillment(
        order_id=order_id, remote_id=node["id"], lines=lines,
        location=LocationRef(location.get("id", ""), name=name),
        tracking=fulfillment_tracking(node), happened="Shipped on Shopify",
        unmapped_note=f"Shopify location {name} is not mapped: stock not adjusted.")


def tracking_input(number: str, company: str, url: str) -> dict:
    """FulfillmentTrackingInput from our tracking fields (empty ones left out)."""
    tracking = {}
    if number:
        tracking["number"] = number
    if company:
        tracking["company"] = company
    if url:
        tracking["url"] = url
    return tracking


def webhook_order_gid(topic: str, payload: dict) -> str | None:
    """The order a webhook is about, when its payload names one (for the order's timeline)."""
    if not isinstance(payload, dict):
        return None
    if topic.startswith("orders/") and payload.get("id"):
        return payload.get("admin_graphql_api_id") or gid("Order", payload["id"])
    if topic.startswith(("fulfillments/", "refunds/")) and payload.get("order_id"):
        return gid("Order", payload["order_id"])
    if topic.startswith("returns/"):  # order {id, admin_graphql_api_id} or order_id
        order = payload.get("order") if isinstance(payload.get("order"), dict) else {}
        if order.get("admin_graphql_api_id") or order.get("id"):
            return order.get("admin_graphql_api_id") or gid("Order", order["id"])
        return gid("Order", payload["order_id"]) if payload.get("order_id") else None
    if topic.startswith("fulfillment_orders/"):
        fo = (payload.get("fulfillment_order") or payload.get("original_fulfillment_order")
              or {})
        return gid("Order", fo["order_id"]) if fo.get("order_id") else None
    return None


def _image_url(node: dict) -> str:
    """The variant's own image, else its product's featured one ("" when neither)."""
    media = ((node.get("media") or {}).get("nodes") or [])
    featured = (node.get("product") or {}).get("featuredMedia")
    for candidate in [*media, featured]:
        url = (((candidate or {}).get("preview") or {}).get("image") or {}).get("url")
        if isinstance(url, str) and url:
            return url
    return ""


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def remote_variant(node: dict) -> RemoteVariant:
    """A ProductVariantPage / ProductVariantsOfProduct variant node -> RemoteVariant.

    What can't be right on Shopify's side (no inventory item, no product, a SKU that is not
    text) is kept as ``problem``: the listing is shown with it and never matched.
    """
    problems = []
    item = node.get("inventoryItem") or {}
    product = node.get("product") or {}
    if not item.get("id"):
        problems.append("Shopify returned this variant without an inventory item")
    if not product.get("id"):
        problems.append("Shopify returned this variant without its product")
    if node.get("sku") is not None and not isinstance(node.get("sku"), str):
        problems.append(f"the SKU is not text ({node.get('sku')!r:.40})")
    return RemoteVariant(
        remote_variant_id=node["id"], remote_product_id=product.get("id") or "",
        remote_inventory_item_id=item.get("id"), sku=_text(node.get("sku")),
        title=_text(node.get("displayName"))[:512], barcode=_text(node.get("barcode")),
        image_url=_image_url(node)[:1024], problem="; ".join(problems))


def remote_levels(variant_gid: str, level_nodes: list[dict]) -> list[RemoteLevel]:
    """InventoryLevel nodes of one variant -> RemoteLevel (a quantity not named: None)."""
    levels = []
    for level in level_nodes:
        location = (level.get("location") or {}).get("id")
        if not location:
            continue
        named = {q.get("name"): q.get("quantity") for q in level.get("quantities") or []}
        levels.append(RemoteLevel(
            remote_variant_id=variant_gid, location_remote_id=location,
            on_hand=_int_or_none(named.get("on_hand")),
            available=_int_or_none(named.get("available")),
            committed=_int_or_none(named.get("committed"))))
    return levels


def _int_or_none(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


#: Shopify's restock types that put units back in stock at the refund line's location.
#: CANCEL restocks units never fulfilled (Shopify: "use this when restocking unfulfilled
#: line items"): they never left Stockroom's stock. LEGACY_RESTOCK (older refunds) is
#: "restocked, without being identified as a return or a cancelation": Stockroom puts back
#: at most what it shipped, so it is read as a return.
RESTOCKED_TYPES = ("return", "legacy_restock")
_NOT_RESTOCKED = {"cancel": "canceled before it shipped", "no_restock": "no restock chosen"}


def refund_data(payload: dict) -> RefundData:
    """A refunds/create payload (the REST Refund resource) -> RefundData."""
    lines = []
    for rli in payload.get("refund_line_items") or []:
        kind = str(rli.get("restock_type") or "no_restock").lower()
        location = rli.get("location_id")
        lines.append(RefundLineData(
            remote_line_id=gid("LineItem", rli["line_item_id"]), quantity=int(rli["quantity"]),
            restock=kind in RESTOCKED_TYPES,
            remote_location_id=gid("Location", location) if location else None,
            reason=_NOT_RESTOCKED.get(kind, "")))
    refund_gid = payload.get("admin_graphql_api_id") or gid("Refund", payload["id"])
    return RefundData(remote_id=refund_gid, lines=lines,
                      label=f"Shopify refund {refund_gid.rsplit('/', 1)[-1]}")


def refund_data_from_node(node: dict) -> RefundData:
    """RefundForSync's ``refund`` (GraphQL) -> RefundData, the same as its webhook says."""
    return refund_data({
        "admin_graphql_api_id": node["id"], "id": node["id"].rsplit("/", 1)[-1],
        "refund_line_items": [
            {"line_item_id": li["lineItem"]["id"], "quantity": li["quantity"],
             "restock_type": li["restockType"].lower(),
             "location_id": (li.get("location") or {}).get("id")}
            for li in node["refundLineItems"]["nodes"]]})
