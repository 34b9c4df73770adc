"""Shopify outbound: outbox pushes (Stockroom's fulfillments -> Shopify), run by the worker."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields

from sqlalchemy import select

from app.extensions import db
from app.models import ChannelLocation, Fulfillment, FulfillmentStatus, Origin
from app.platforms.base import FulfillmentPlan, PushResult, Skip
from app.platforms.shopify.mapping import tracking_input
from app.platforms.shopify.paging import read_order, read_order_fulfillments
from app.platforms.shopify.sync import ShopifyCall, pull_order
from app.sync.errors import PermanentError
from app.sync.push import read_plan, run_push
from app.sync.queue import Job

FULFILLABLE = ("OPEN", "IN_PROGRESS")



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
    in_transit = _in_transit_if_shipped(call, job, remote_id)
    pull_order(call, job.merchant_id, job.channel_id, plan.order_remote_id)
    return PushResult(f"created on Shopify as {remote_id}{in_transit}", remote_id)


def _in_transit_if_shipped(call: ShopifyCall, job: Job, remote_id: str) -> str:
    """The IN_TRANSIT event when this job's change made the fulfillment Shipped (created
    with tracking, tracking added to a Pending one): what "Mark shipped" sends
    (push_shipped), so every Shipped fulfillment reads the same on Shopify."""
    if not (job.payload or {}).get("shipped"):
        return ""
    _record_event(call, remote_id, "IN_TRANSIT")
    return ", IN_TRANSIT recorded"


def _record_event(call: ShopifyCall, remote_id: str, status: str) -> None:
    result = call("FulfillmentEventCreate", {"fulfillmentEvent": {
        "fulfillmentId": remote_id, "status": status}})["fulfillmentEventCreate"]
    _raise_user_errors(result, "Recording the shipment event")


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
    in_transit = _in_transit_if_shipped(call, job, plan.remote_id)
    return PushResult(f"tracking of {plan.remote_id} updated{in_transit}")


def _push_event(job: Job, status: str) -> str:
    def send(job: Job, plan: FulfillmentPlan) -> PushResult:
        _record_event(ShopifyCall(job.channel_id), plan.remote_id, status)
        return PushResult(f"{status} recorded on {plan.remote_id}")
    return run_push(job, elsewhere="changed on Shopify: nothing to push",
                    plan=_on_shopify("not on Shopify"), send=send)


def push_shipped(job: Job) -> str:
    """Shipped in Stockroom -> an IN_TRANSIT fulfillment event on Shopify."""
    return _push_event(job, "IN_TRANSIT")


def push_delivered(job: Job) -> str:
    """Delivered in Stockroom -> a DELIVERED fulfillment event on Shopify."""
    return _push_event(job, "DELIVERED")
