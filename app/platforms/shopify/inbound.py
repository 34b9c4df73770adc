"""Shopify inbound: inbox applies (webhook payloads -> domain commands), run by the worker."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.catalog import remove_remote_listings
from app.extensions import db
from app.models import Fulfillment, FulfillmentOrder, Order, WebhookInbox
from app.platforms.shopify.catalog import refresh_product
from app.platforms.shopify.connect import confirm_uninstalled
from app.platforms.shopify.mapping import fulfillment_commands, gid, record_fulfillment
from app.platforms.shopify.paging import complete_fulfillment
from app.platforms.shopify.sync import ShopifyCall, pull_order
from app.sync.commands import Applied, apply_commands, notes_of
from app.sync.lock import defer_while_pushing
from app.sync.queue import Job
from app.sync.transactions import end_read


def _payload(job: Job) -> dict:
    body = db.session.scalar(select(WebhookInbox.body).where(WebhookInbox.id == job.id))
    return json.loads(body)


def _order_gid(payload: dict) -> str:
    return payload.get("admin_graphql_api_id") or gid("Order", payload["id"])


def _order_gid_of_refund(payload: dict) -> str:
    return gid("Order", payload["order_id"])


def apply_order(job: Job) -> str:
    """orders/create, orders/updated, orders/cancelled: re-read the order and upsert it."""
    order_gid = _order_gid(_payload(job))
    end_read()
    call = ShopifyCall(job.channel_id)
    order = pull_order(call, job.merchant_id, job.channel_id, order_gid)
    return f"order {order.name} upserted" if order else "order no longer exists on Shopify"


#: Topics apply_order handles.
ORDER_TOPICS = ("orders/create", "orders/updated", "orders/cancelled")


def apply_fulfillment(job: Job) -> str:
    """fulfillments/create|update: match by remote id (our echo) or record a platform one."""
    payload = _payload(job)
    remote_id = payload.get("admin_graphql_api_id") or gid("Fulfillment", payload["id"])
    order_gid = gid("Order", payload["order_id"])
    order = db.session.scalar(select(Order).where(Order.channel_id == job.channel_id,
                                                  Order.remote_id == order_gid))
    defer_while_pushing(order)
    end_read()
    call = ShopifyCall(job.channel_id)
    current = call("FulfillmentForSync", {"id": remote_id}).get("fulfillment")
    if current is None:
        return "fulfillment no longer exists on Shopify"
    complete_fulfillment(call, current)
    order = pull_order(call, job.merchant_id, job.channel_id, order_gid)
    existing = db.session.scalar(select(Fulfillment).where(
        Fulfillment.channel_id == job.channel_id, Fulfillment.remote_id == remote_id))
    if existing is not None:
        return notes_of(apply_fulfillment_changes(existing, current),
                        otherwise="echo of our own fulfillment: nothing to change")
    if current["status"] != "SUCCESS":
        return f"ignored: a {current['status'].lower()} fulfillment we never had"
    applied = record_platform_fulfillment(job.merchant_id, job.channel_id, order, current)
    return f"Shopify fulfillment {current['id']}: {applied.note}"


#: Topics apply_fulfillment handles.
FULFILLMENT_WEBHOOK_TOPICS = ("fulfillments/create", "fulfillments/update")


def apply_fulfillment_changes(f: Fulfillment, current: dict) -> list[Applied]:
    """Bring a known fulfillment up to Shopify's state (idempotent: replays change nothing)."""
    return apply_commands(fulfillment_commands(f.id, current), merchant_id=f.merchant_id,
                          channel_id=f.channel_id)


def record_platform_fulfillment(merchant_id: int, channel_id: int, order: Order, current: dict
                                ) -> Applied:
    """A fulfillment made on Shopify: the same fulfillment here, stock taken at the mapping."""
    [applied] = apply_commands([record_fulfillment(order.id, current)],
                               merchant_id=merchant_id, channel_id=channel_id)
    return applied


def apply_uninstalled(job: Job) -> str:
    """The merchant removed the app: channel inactive, token deleted — once Shopify confirms
    it (the shop's token is refused); rejected while Shopify still answers the token."""
    _, marked = confirm_uninstalled(job.channel_id)
    if not marked:
        return "already uninstalled: nothing to change"
    return "Shopify refused the shop's token: channel marked uninstalled; token deleted"


def refresh_order_from_fo(job: Job) -> str:
    """fulfillment_orders/*: re-read the order the fulfillment orders belong to.

    Shopify's payloads name fulfillment orders by id only (no order id): the order is found
    through the mirror, or asked from Shopify for a fulfillment order not mirrored yet.
    """
    payload = _payload(job)
    fo_gids = [gid("FulfillmentOrder", ref["id"]) for key, ref in payload.items()
               if key.endswith("fulfillment_order") and isinstance(ref, dict) and ref.get("id")]
    if not fo_gids:
        return "no fulfillment order in the payload: the scheduled reconciliation will catch up"
    order_gid = db.session.scalar(
        select(Order.remote_id).join(FulfillmentOrder, FulfillmentOrder.order_id == Order.id)
        .where(FulfillmentOrder.channel_id == job.channel_id,
               FulfillmentOrder.remote_id.in_(fo_gids)).limit(1))
    end_read()
    call = ShopifyCall(job.channel_id)
    if order_gid is None:
        node = call("FulfillmentOrderOrder", {"id": fo_gids[0]}).get("fulfillmentOrder")
        if node is None:
            return "the fulfillment order no longer exists on Shopify"
        order_gid = node["orderId"]
    pull_order(call, job.merchant_id, job.channel_id, order_gid)
    return "fulfillment orders refreshed"


#: Fulfillment-order status topics: refresh_order_from_fo re-reads their order.
FULFILLMENT_ORDER_STATUS_TOPICS = ("fulfillment_orders/moved", "fulfillment_orders/hold_released",
               "fulfillment_orders/placed_on_hold", "fulfillment_orders/cancelled",
               "fulfillment_orders/fulfillment_request_accepted",
               "fulfillment_orders/fulfillment_request_rejected",
               "fulfillment_orders/cancellation_request_accepted",
               "fulfillment_orders/cancellation_request_rejected")


def _product_gid(payload: dict) -> str:
    return payload.get("admin_graphql_api_id") or gid("Product", payload["id"])


def apply_product(job: Job) -> str:
    """products/create, products/update: re-read the product's variants and upsert them.

    The body is only a pointer: what Shopify answers now is applied (so a late or replayed
    delivery can't bring back an old SKU), a variant gone from the product is removed.
    """
    product_gid = _product_gid(_payload(job))
    end_read()
    return refresh_product(ShopifyCall(job.channel_id), job.merchant_id, job.channel_id,
                           product_gid)


#: Topics apply_product handles.
PRODUCT_TOPICS = ("products/create", "products/update")


def apply_product_deleted(job: Job) -> str:
    """products/delete ``{"id": N}``: the product's listings are marked deleted, never pushed
    to again — once Shopify confirms the product is gone (a body alone can't delete)."""
    product_gid = gid("Product", _payload(job)["id"])
    end_read()
    call = ShopifyCall(job.channel_id)
    if call("ProductVariantsOfProduct", {"id": product_gid, "first": 1, "levels": 1}).get(
            "product") is not None:
        return "Shopify still has this product: nothing removed"
    removed = remove_remote_listings(job.merchant_id, job.channel_id,
                                     remote_product_id=product_gid)
    return f"product deleted on Shopify: {removed} listing(s) removed"
