"""Fulfillment-order and fulfillment mutations as an order management app calls them."""
from __future__ import annotations

from . import operations, views
from .errors import access_denied, user_errors
from .operations import UserError
from .resolvers import mutation
from .state import parse_gid


def _fo_for_write(ctx, field: str, fo_gid: str):
    """The FO (or None when unknown); ACCESS_DENIED when its location kind isn't in scope."""
    fo = ctx.shop.fulfillment_orders.get(parse_gid(fo_gid, "FulfillmentOrder"))
    if fo is not None and not views.fo_visible(ctx, fo, write=True):
        raise access_denied(field, views.fo_scope_text(ctx, fo, write=True))
    return fo


def _lines(inputs) -> list[tuple[int | None, int]] | None:
    if inputs is None:
        return None
    return [(parse_gid(x["id"], "FulfillmentOrderLineItem"), x["quantity"]) for x in inputs]


def _fo(ctx, fo):
    return views.fo_node(ctx, fo) if fo is not None else None


def _failed(info, err: UserError, **nulls) -> dict:
    return {**nulls, "userErrors": user_errors(info, [err])}


@mutation("fulfillmentOrderMove")
def fulfillment_order_move(ctx, info, id, newLocationId, fulfillmentOrderLineItems=None):
    """fulfillmentOrderMove."""
    fo = _fo_for_write(ctx, "fulfillmentOrderMove", id)
    try:
        r = operations.move(ctx.store, ctx.shop, fo.id if fo else None,
                            parse_gid(newLocationId, "Location"), _lines(fulfillmentOrderLineItems))
    except UserError as err:
        return _failed(info, err, movedFulfillmentOrder=None, originalFulfillmentOrder=None,
                       remainingFulfillmentOrder=None)
    return {"movedFulfillmentOrder": _fo(ctx, r.moved),
            "originalFulfillmentOrder": _fo(ctx, r.original),
            "remainingFulfillmentOrder": _fo(ctx, r.remaining), "userErrors": []}


def _tracking(info_input: dict | None) -> list[dict]:
    """FulfillmentTrackingInput -> [{company, number, url}] (numbers/urls paired by position)."""
    if not info_input:
        return []
    numbers = info_input.get("numbers") or ([info_input["number"]] if info_input.get("number")
                                            else [])
    urls = info_input.get("urls") or ([info_input["url"]] if info_input.get("url") else [])
    company = info_input.get("company")
    size = max(len(numbers), len(urls), 1 if company else 0)
    return [{"company": company, "number": numbers[i] if i < len(numbers) else None,
             "url": urls[i] if i < len(urls) else None} for i in range(size)]


@mutation("fulfillmentCreate")
def fulfillment_create(ctx, info, fulfillment, message=None):
    """fulfillmentCreate."""
    groups = []
    for g in fulfillment["lineItemsByFulfillmentOrder"]:
        fo = _fo_for_write(ctx, "fulfillmentCreate", g["fulfillmentOrderId"])
        groups.append((fo.id if fo else None, _lines(g.get("fulfillmentOrderLineItems"))))
    try:
        f = operations.create_fulfillment(
            ctx.store, ctx.shop, groups, tracking=_tracking(fulfillment.get("trackingInfo")),
            notify=bool(fulfillment.get("notifyCustomer")), client_id=ctx.app.client_id)
    except UserError as err:
        return _failed(info, err, fulfillment=None)
    return {"fulfillment": views.fulfillment_node(ctx, f), "userErrors": []}


@mutation("fulfillmentOrderSubmitFulfillmentRequest")
def submit_fulfillment_request(ctx, info, id, message=None, notifyCustomer=None,
                               fulfillmentOrderLineItems=None, shippingMethod=None):
    """fulfillmentOrderSubmitFulfillmentRequest."""
    fo = _fo_for_write(ctx, "fulfillmentOrderSubmitFulfillmentRequest", id)
    try:
        orig, sub, unsub = operations.submit_request(
            ctx.store, ctx.shop, fo.id if fo else None, _lines(fulfillmentOrderLineItems),
            message, bool(notifyCustomer))
    except UserError as err:
        return _failed(info, err, originalFulfillmentOrder=None, submittedFulfillmentOrder=None,
                       unsubmittedFulfillmentOrder=None)
    return {"originalFulfillmentOrder": _fo(ctx, orig), "submittedFulfillmentOrder": _fo(ctx, sub),
            "unsubmittedFulfillmentOrder": _fo(ctx, unsub), "userErrors": []}


@mutation("fulfillmentOrderSubmitCancellationRequest")
def submit_cancellation_request(ctx, info, id, message=None):
    """fulfillmentOrderSubmitCancellationRequest."""
    fo = _fo_for_write(ctx, "fulfillmentOrderSubmitCancellationRequest", id)
    try:
        fo = operations.submit_cancellation(ctx.store, ctx.shop, fo.id if fo else None, message)
    except UserError as err:
        return _failed(info, err, fulfillmentOrder=None)
    return {"fulfillmentOrder": _fo(ctx, fo), "userErrors": []}


@mutation("fulfillmentOrderCancel")
def fulfillment_order_cancel(ctx, info, id):
    """fulfillmentOrderCancel."""
    fo = _fo_for_write(ctx, "fulfillmentOrderCancel", id)
    try:
        fo, replacement = operations.cancel_fo(ctx.store, ctx.shop, fo.id if fo else None)
    except UserError as err:
        return _failed(info, err, fulfillmentOrder=None, replacementFulfillmentOrder=None)
    return {"fulfillmentOrder": _fo(ctx, fo), "replacementFulfillmentOrder": _fo(ctx, replacement),
            "userErrors": []}


@mutation("fulfillmentOrderHold")
def fulfillment_order_hold(ctx, info, id, fulfillmentHold):
    """fulfillmentOrderHold."""
    fo = _fo_for_write(ctx, "fulfillmentOrderHold", id)
    h = fulfillmentHold
    try:
        fo, hold, remaining = operations.hold(
            ctx.store, ctx.shop, fo.id if fo else None, h["reason"], h.get("reasonNotes"),
            h.get("handle"), _lines(h.get("fulfillmentOrderLineItems")), ctx.app.client_id)
    except UserError as err:
        return _failed(info, err, fulfillmentHold=None, fulfillmentOrder=None,
                       remainingFulfillmentOrder=None)
    return {"fulfillmentHold": views.hold_node(hold), "fulfillmentOrder": _fo(ctx, fo),
            "remainingFulfillmentOrder": _fo(ctx, remaining), "userErrors": []}


@mutation("fulfillmentOrderReleaseHold")
def fulfillment_order_release_hold(ctx, info, id, holdIds=None, externalId=None):
    """fulfillmentOrderReleaseHold."""
    fo = _fo_for_write(ctx, "fulfillmentOrderReleaseHold", id)
    ids = None if holdIds is None else [parse_gid(h, "FulfillmentHold") for h in holdIds]
    try:
        fo = operations.release_hold(ctx.store, ctx.shop, fo.id if fo else None, ids)
    except UserError as err:
        return _failed(info, err, fulfillmentOrder=None)
    return {"fulfillmentOrder": _fo(ctx, fo), "userErrors": []}


@mutation("fulfillmentCancel")
def fulfillment_cancel(ctx, info, id):
    """fulfillmentCancel."""
    try:
        f = operations.cancel_fulfillment(ctx.store, ctx.shop, parse_gid(id, "Fulfillment"))
    except UserError as err:
        return _failed(info, err, fulfillment=None)
    return {"fulfillment": views.fulfillment_node(ctx, f), "userErrors": []}


@mutation("fulfillmentTrackingInfoUpdate")
def fulfillment_tracking_info_update(ctx, info, fulfillmentId, trackingInfoInput,
                                     notifyCustomer=None):
    """fulfillmentTrackingInfoUpdate."""
    try:
        f = operations.update_tracking(ctx.store, ctx.shop, parse_gid(fulfillmentId, "Fulfillment"),
                                       _tracking(trackingInfoInput), bool(notifyCustomer))
    except UserError as err:
        return _failed(info, err, fulfillment=None)
    return {"fulfillment": views.fulfillment_node(ctx, f), "userErrors": []}


@mutation("fulfillmentEventCreate")
def fulfillment_event_create(ctx, info, fulfillmentEvent):
    """fulfillmentEventCreate."""
    e = fulfillmentEvent
    try:
        ev = operations.create_event(ctx.store, ctx.shop, parse_gid(e["fulfillmentId"], "Fulfillment"),
                                     e["status"], message=e.get("message"))
    except UserError as err:
        return _failed(info, err, fulfillmentEvent=None)
    return {"fulfillmentEvent": views.event_node(ev), "userErrors": []}
