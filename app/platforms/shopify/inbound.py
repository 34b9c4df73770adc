"""Shopify adapter: outbox pushes (fulfillments) and inbox applies (webhooks), run by the worker."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, fields

from sqlalchemy import select

from app.catalog import remove_remote_listings
from app.extensions import db
from app.fulfillment import (Tracking, cancel_fulfillment, create_platform_fulfillment,
                             mark_delivered, update_tracking)
from app.models import (ChannelLocation, Fulfillment, FulfillmentOrder, FulfillmentStatus, Order,
                        OrderLine, Origin, Platform, WebhookInbox)
from app.platforms.base import FulfillmentPlan, PushResult, Skip
from app.platforms.shopify.catalog import refresh_product
from app.platforms.shopify.mapping import gid, tracking_input
from app.platforms.shopify.paging import complete_fulfillment, read_order, read_order_fulfillments
from app.platforms.shopify.sync import ShopifyCall, pull_order
from app.platforms.shopify.connect import confirm_uninstalled
from app.sync.errors import PermanentError
from app.sync.lock import defer_while_pushing
from app.sync.push import read_plan, run_push
from app.sync.queue import Job

SHOPIFY = Platform.SHOPIFY
FULFILLABLE = ("OPEN", "IN_PROGRESS")


# --- outbox: Stockroom -> Shopify -------------------------------------------------------

@dataclass(frozen=True)
class ShopifyPlan(FulfillmentPlan):
    """A fulfillment push's plan and the Shopify location it is made at."""

    target: str
    target_name: str


def _push_plan(job: Job) -> ShopifyPlan | Skip:
    """Everything the create push needs (or a reason to skip); run_push ends the read."""
    plan = read_plan(job)
    if plan.remote_id:
        return Skip(f"already on Shopify as {plan.remote_id}")
    if plan.origin != Origin.APP:
        return Skip("made on Shopify: nothing to push")
    if plan.status == FulfillmentStatus.CANCELED:
        return Skip("canceled before it reached Shopify: nothing to push")
    f = db.session.get(Fulfillment, plan.fulfillment_id)
    target = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.channel_id == f.channel_id,
        ChannelLocation.stock_location_id == f.location_id).order_by(
        ChannelLocation.remote_status != "active", ChannelLocation.id))  # active ones first
    if target is None:
        raise PermanentError(f"{f.location.name} is not mapped to a Shopify location: map it "
                             "on the Locations page, then retry.")
    if not target.active_on_platform:
        raise PermanentError(
            f"{f.location.name} is mapped to {target.name}, which was "
            f"{'deleted' if target.remote_status == 'deleted' else 'deactivated'} on Shopify: "
            "map it to an active Shopify location on the Locations page, then retry.")
    return ShopifyPlan(**{field.name: getattr(plan, field.name) for field in fields(plan)},
                       target=target.remote_id, target_name=target.name)


def _tracking_input(plan: FulfillmentPlan) -> dict:
    return tracking_input(plan.tracking.number, plan.tracking.company, plan.tracking.url)


def _adoptable(order_node: dict, plan: ShopifyPlan) -> str | None:
    """A Shopify fulfillment identical to ours that no local fulfillment claims (a retried
    push whose first attempt reached Shopify but was never recorded here)."""
    for node in order_node.get("fulfillments") or []:
        if node["id"] in plan.known_remote_ids or node["status"] != "SUCCESS":
            continue
        got = defaultdict(int)
        for li in node["fulfillmentLineItems"]["nodes"]:
            got[li["lineItem"]["id"]] += li["quantity"]
        numbers = {t.get("number") for t in node.get("trackingInfo") or []}
        if dict(got) == dict(plan.lines) and (plan.tracking.number in numbers
                                              or not plan.tracking.number):
            return node["id"]
    return None


def _allocate(fo_nodes: list[dict], wanted: dict[str, int], *, at: str | None
              ) -> dict[str, list[dict]]:
    """Take ``wanted`` (line gid -> qty) from fulfillable FOs (at one location, or anywhere)."""
    left = dict(wanted)
    taken: dict[str, list[dict]] = defaultdict(list)
    for fo in fo_nodes:
        location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id")
        if fo["status"] not in FULFILLABLE or (at is not None and location != at):
            continue
        for li in fo["lineItems"]["nodes"]:
            need = left.get(li["lineItem"]["id"], 0)
            qty = min(need, li["remainingQuantity"])
            if qty > 0:
                taken[fo["id"]].append({"id": li["id"], "quantity": qty})
                left[li["lineItem"]["id"]] -= qty
    return taken if not any(left.values()) else {}


def _move_to_target(call: ShopifyCall, order_node: dict, plan: ShopifyPlan) -> None:
    """Move exactly the missing line items to the target location (where MOVE is supported)."""
    remaining = dict(plan.lines)
    for fo in order_node["fulfillmentOrders"]["nodes"]:
        location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id")
        if fo["status"] in FULFILLABLE and location == plan.target:
            for li in fo["lineItems"]["nodes"]:
                key = li["lineItem"]["id"]
                remaining[key] = remaining.get(key, 0) - min(remaining.get(key, 0),
                                                             li["remainingQuantity"])
    for fo in order_node["fulfillmentOrders"]["nodes"]:
        location = ((fo.get("assignedLocation") or {}).get("location") or {}).get("id")
        actions = {a["action"] for a in fo.get("supportedActions") or []}
        if location == plan.target or fo["status"] not in FULFILLABLE or "MOVE" not in actions:
            continue
        items = []
        for li in fo["lineItems"]["nodes"]:
            qty = min(remaining.get(li["lineItem"]["id"], 0), li["remainingQuantity"])
            if qty > 0:
                items.append({"id": li["id"], "quantity": qty})
                remaining[li["lineItem"]["id"]] -= qty
        if items:
            result = call("FulfillmentOrderMove", {"id": fo["id"], "newLocationId": plan.target,
                                                   "fulfillmentOrderLineItems": items})
            _raise_user_errors(result["fulfillmentOrderMove"], "Moving the items")


def _raise_user_errors(payload: dict, what: str) -> None:
    errors = payload.get("userErrors") or []
    if errors:
        raise PermanentError(f"{what} failed on Shopify: "
                             + "; ".join(e.get("message", "") for e in errors))


def push_fulfillment(job: Job) -> str:
    """Create our fulfillment on Shopify at the mapped location, moving items there first."""
    return run_push(job, elsewhere="made on Shopify: nothing to push", plan=_push_plan,
                    send=_create)


def _create(job: Job, plan: ShopifyPlan) -> PushResult:
    call = ShopifyCall(job.channel_id)
    wanted = dict(plan.lines)
    order_node = read_order(call, plan.order_remote_id)
    if order_node is None:
        raise PermanentError("the order no longer exists on Shopify")
    remote_id = _adoptable(
        read_order_fulfillments(call, "OrderFulfillments", plan.order_remote_id), plan)
    if remote_id is None:
        fos = order_node["fulfillmentOrders"]["nodes"]
        if not _allocate(fos, wanted, at=plan.target):
            _move_to_target(call, order_node, plan)
            fos = read_order(call, plan.order_remote_id)["fulfillmentOrders"]["nodes"]
        taken = _allocate(fos, wanted, at=plan.target)
        if not taken:
            raise PermanentError(f"Shopify has not enough left to fulfill at "
                                 f"{plan.target_name} for these items (moves not possible).")
        fulfillment = {"lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items}
            for fo_id, items in taken.items()], "notifyCustomer": plan.notify_customer}
        if _tracking_input(plan):
            fulfillment["trackingInfo"] = _tracking_input(plan)
        result = call("FulfillmentCreate", {"fulfillment": fulfillment})["fulfillmentCreate"]
        _raise_user_errors(result, "Creating the fulfillment")
        remote_id = result["fulfillment"]["id"]
    pull_order(call, job.merchant_id, job.channel_id, plan.order_remote_id)
    return PushResult(f"created on Shopify as {remote_id}", remote_id)


def _on_shopify(not_there: str):
    """A plan step for pushes to a fulfillment that must have reached Shopify already."""
    def plan(job: Job) -> FulfillmentPlan | Skip:
        planned = read_plan(job, if_missing=not_there)
        if isinstance(planned, Skip) or not planned.remote_id:
            return Skip(not_there)
        return planned
    return plan


def push_cancel(job: Job) -> str:
    """fulfillmentCancel for a fulfillment canceled in Stockroom."""
    return run_push(job, elsewhere="canceled on Shopify: nothing to push",
                    plan=_on_shopify("never reached Shopify: nothing to cancel there"),
                    send=_cancel)


def _cancel(job: Job, plan: FulfillmentPlan) -> PushResult:
    call = ShopifyCall(job.channel_id)
    result = call("FulfillmentCancel", {"id": plan.remote_id})["fulfillmentCancel"]
    errors = result.get("userErrors") or []
    if errors and not any("cancel" in e.get("message", "").lower() and
                          "already" in e.get("message", "").lower() for e in errors):
        _raise_user_errors(result, "Canceling the fulfillment")
    return PushResult(f"canceled {plan.remote_id} on Shopify")


def push_tracking(job: Job) -> str:
    """fulfillmentTrackingInfoUpdate with the current tracking details."""
    return run_push(
        job, elsewhere="changed on Shopify: nothing to push",
        plan=_on_shopify("not on Shopify yet: the create push carries the tracking"),
        send=_update_tracking)


def _update_tracking(job: Job, plan: FulfillmentPlan) -> PushResult:
    call = ShopifyCall(job.channel_id)
    result = call("FulfillmentTrackingInfoUpdate", {
        "fulfillmentId": plan.remote_id, "trackingInfoInput": _tracking_input(plan),
        "notifyCustomer": plan.notify_customer})["fulfillmentTrackingInfoUpdate"]
    _raise_user_errors(result, "Updating the tracking")
    return PushResult(f"tracking of {plan.remote_id} updated")


def _push_event(job: Job, status: str) -> str:
    def send(job: Job, plan: FulfillmentPlan) -> PushResult:
        result = ShopifyCall(job.channel_id)("FulfillmentEventCreate", {"fulfillmentEvent": {
            "fulfillmentId": plan.remote_id, "status": status}})["fulfillmentEventCreate"]
        _raise_user_errors(result, "Recording the shipment event")
        return PushResult(f"{status} recorded on {plan.remote_id}")
    return run_push(job, elsewhere="changed on Shopify: nothing to push",
                    plan=_on_shopify("not on Shopify"), send=send)


def push_shipped(job: Job) -> str:
    """Shipped in Stockroom -> an IN_TRANSIT fulfillment event on Shopify."""
    return _push_event(job, "IN_TRANSIT")


def push_delivered(job: Job) -> str:
    """Delivered in Stockroom -> a DELIVERED fulfillment event on Shopify."""
    return _push_event(job, "DELIVERED")


# --- inbox: Shopify -> Stockroom ------------------------------------------------------

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
    db.session.commit()
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
    db.session.commit()
    call = ShopifyCall(job.channel_id)
    current = call("FulfillmentForSync", {"id": remote_id}).get("fulfillment")
    if current is None:
        return "fulfillment no longer exists on Shopify"
    complete_fulfillment(call, current)
    order = pull_order(call, job.merchant_id, job.channel_id, order_gid)
    existing = db.session.scalar(select(Fulfillment).where(
        Fulfillment.channel_id == job.channel_id, Fulfillment.remote_id == remote_id))
    if existing is not None:
        return apply_fulfillment_changes(existing, current)
    if current["status"] != "SUCCESS":
        return f"ignored: a {current['status'].lower()} fulfillment we never had"
    return record_platform_fulfillment(job.merchant_id, job.channel_id, order, current)


#: Topics apply_fulfillment handles.
FULFILLMENT_WEBHOOK_TOPICS = ("fulfillments/create", "fulfillments/update")


def _tracking(current: dict) -> Tracking:
    info = (current.get("trackingInfo") or [{}])[0] if current.get("trackingInfo") else {}
    return Tracking(info.get("number") or "", info.get("company") or "", info.get("url") or "")


def apply_fulfillment_changes(f: Fulfillment, current: dict) -> str:
    """Bring a known fulfillment up to Shopify's state (idempotent: replays change nothing)."""
    notes = []
    if current["status"] == "CANCELLED" and f.status in (FulfillmentStatus.PENDING,
                                                         FulfillmentStatus.SHIPPED):
        cancel_fulfillment(f.id, merchant_id=f.merchant_id, source=Origin.PLATFORM)
        return "canceled on Shopify: stock restored"
    if f.status == FulfillmentStatus.CANCELED:
        return "already canceled"
    tracking = _tracking(current)
    if tracking.number and (tracking.number, tracking.company, tracking.url) != (
            f.tracking_number, f.tracking_company, f.tracking_url):
        update_tracking(f.id, tracking, merchant_id=f.merchant_id, source=Origin.PLATFORM,
                        notify_customer=f.notify_customer)
        notes.append("tracking updated")
    if current.get("displayStatus") == "DELIVERED" and f.status != FulfillmentStatus.DELIVERED:
        mark_delivered(f.id, merchant_id=f.merchant_id, source=Origin.PLATFORM)
        notes.append("delivered")
    return ", ".join(notes) or "echo of our own fulfillment: nothing to change"


def record_platform_fulfillment(merchant_id: int, channel_id: int, order: Order, current: dict
                                ) -> str:
    """A fulfillment made on Shopify: the same fulfillment here, stock taken at the mapping."""
    location_gid = (current.get("location") or {}).get("id", "")
    mapping = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.channel_id == channel_id, ChannelLocation.remote_id == location_gid))
    lines = {line.remote_id: line for line in db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id))}
    quantities: dict[int, int] = defaultdict(int)
    for li in current["fulfillmentLineItems"]["nodes"]:
        line = lines.get(li["lineItem"]["id"])
        if line is not None:
            quantities[line.id] += li["quantity"]
    # Never more than is left here (a fulfillment we already count can't be counted twice).
    not_shipped = {line.id: line.not_shipped_quantity for line in lines.values()}
    quantities = {lid: min(q, not_shipped[lid]) for lid, q in quantities.items()
                  if min(q, not_shipped[lid]) > 0}
    if not quantities:
        return "nothing left to fulfill here: recorded nothing"
    location_id = mapping.stock_location_id if mapping else None
    name = (current.get("location") or {}).get("name", "its location")
    f = create_platform_fulfillment(
        order.id, quantities, location_id, merchant_id=merchant_id, tracking=_tracking(current),
        remote_id=current["id"], happened="Shipped on Shopify",
        unmapped_note=f"Shopify location {name} is not mapped: stock not adjusted.")
    return f"recorded Shopify fulfillment {current['id']} as #{f.id}"


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
    db.session.commit()
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
    db.session.commit()
    return refresh_product(ShopifyCall(job.channel_id), job.merchant_id, job.channel_id,
                           product_gid)


#: Topics apply_product handles.
PRODUCT_TOPICS = ("products/create", "products/update")


def apply_product_deleted(job: Job) -> str:
    """products/delete ``{"id": N}``: the product's listings are marked deleted, never pushed
    to again — once Shopify confirms the product is gone (a body alone can't delete)."""
    product_gid = gid("Product", _payload(job)["id"])
    db.session.commit()
    call = ShopifyCall(job.channel_id)
    if call("ProductVariantsOfProduct", {"id": product_gid, "first": 1, "levels": 1}).get(
            "product") is not None:
        return "Shopify still has this product: nothing removed"
    removed = remove_remote_listings(job.merchant_id, job.channel_id,
                                     remote_product_id=product_gid)
    return f"product deleted on Shopify: {removed} listing(s) removed"
