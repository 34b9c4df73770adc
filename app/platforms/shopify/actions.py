"""Fulfillment-order actions a merchant takes on the order page, run on Shopify while they wait.

Synchronous, not through the outbox. The outbox makes a local change and its remote effect
one commit; here there is no local change to keep in step: the mirror is a copy of
Shopify's state, and these actions are decisions a person takes looking at that state. The
answer decides what they do next (a move creates new fulfillment orders with new ids, a
request either reaches the 3PL or is refused), so they wait for it, as in Shopify's own
admin: success updates the mirror at once, a refusal (``userErrors``) is shown right there.
A queued move or hold retried minutes later would act on a reality that may have changed
(fulfilled meanwhile) and fail where nobody is looking.

Safety rules: the read of the mirror ends before the call (no transaction or row lock is
held across HTTP); the mutation is not retried unless Shopify certainly did not run it
(throttled, never connected); when the outcome is unknown or Shopify refused, the order is
re-read so the page shows Shopify's current state instead of a guess.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from app.errors import DomainError, NotFound
from app.extensions import db
from app.locking import orders_for_update
from app.models import ChannelLocation, FulfillmentOrder, Order
from app.platforms.shopify.paging import complete_fulfillment_order
from app.platforms.shopify.sync import (ShopifyCall, mark_order_stock_stale,
                                        mirror_fulfillment_order, pull_order)
from app.sync.errors import PermanentError, RetryableError

MOVE = "MOVE"
CREATE_FULFILLMENT = "CREATE_FULFILLMENT"
REQUEST_FULFILLMENT = "REQUEST_FULFILLMENT"
CANCEL_FULFILLMENT_ORDER = "CANCEL_FULFILLMENT_ORDER"
REQUEST_CANCELLATION = "REQUEST_CANCELLATION"
HOLD = "HOLD"
RELEASE_HOLD = "RELEASE_HOLD"
EXTERNAL = "EXTERNAL"

#: What Stockroom offers, in the order the page shows it (SPLIT, MERGE... stay in Shopify).
OFFERED = (CREATE_FULFILLMENT, MOVE, REQUEST_FULFILLMENT, HOLD, RELEASE_HOLD,
           REQUEST_CANCELLATION, CANCEL_FULFILLMENT_ORDER, EXTERNAL)
#: Finished fulfillment orders: nothing can be done with them, the page leaves them out.
FINISHED = ("CLOSED", "CANCELLED")
HOLD_REASONS = {
    "AWAITING_PAYMENT": "Awaiting payment",
    "HIGH_RISK_OF_FRAUD": "High risk of fraud",
    "INCORRECT_ADDRESS": "Incorrect address",
    "INVENTORY_OUT_OF_STOCK": "Inventory out of stock",
    "UNKNOWN_DELIVERY_DATE": "Unknown delivery date",
    "AWAITING_RETURN_ITEMS": "Awaiting return items",
    "OTHER": "Other",
}
TEXT_LIMIT = 2000


class FulfillmentOrderActionError(DomainError):
    """The action was not run, or Shopify refused it; ``fields`` names bad inputs."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = fields or {}


class FulfillmentOrderInputError(FulfillmentOrderActionError):
    """An input of the action's form is wrong (``fields`` says which): nothing was sent."""


class ShopifyUnreachable(FulfillmentOrderActionError):
    """Shopify could not be reached, or did not accept the request at all."""


@dataclass
class ActionInput:
    """What the merchant chose in an action's form."""

    #: Fulfillment-order line id -> units; None: every remaining unit.
    quantities: dict[int, int] | None = None
    location_id: int | None = None  # ChannelLocation id, for MOVE
    message: str = ""
    notify_customer: bool = False
    reason: str = ""
    notes: str = ""
    #: Fields the form reader could not parse (reported with the rest, all at once).
    field_errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Checked:
    """The input resolved against the fulfillment order: what the mutation sends."""

    line_items: list[dict] | None  # FulfillmentOrderLineItemInput; None: the whole order
    location_gid: str = ""


def offered_actions(fo: FulfillmentOrder) -> list[str]:
    """The actions Stockroom offers for ``fo``: those Shopify lists in supportedActions."""
    if fo.status in FINISHED:
        return []
    supported = set(fo.supported_actions or [])
    return [a for a in OFFERED if a in supported and (a != EXTERNAL or _safe_url(fo))]


def _safe_url(fo: FulfillmentOrder) -> bool:
    return (fo.external_url or "").startswith("https://")


def fulfillment_order(merchant_id: int, fo_id: int) -> FulfillmentOrder:
    """The merchant's mirrored fulfillment order, or NotFound."""
    fo = db.session.scalar(select(FulfillmentOrder).where(
        FulfillmentOrder.id == fo_id, FulfillmentOrder.merchant_id == merchant_id))
    if fo is None:
        raise NotFound("That fulfillment order does not exist.")
    return fo


# --- the mutations ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Mutation:
    operation: str
    root: str
    results: tuple[str, ...]  # payload keys holding fulfillment orders to mirror
    variables: Callable[[FulfillmentOrder, ActionInput, _Checked], dict]
    done: Callable[[dict], str]


def _units(node: dict | None) -> int:
    return sum(li["remainingQuantity"] for li in (node or {}).get("lineItems", {}).get(
        "nodes", [])) if node else 0


def _location(node: dict | None) -> str:
    return ((node or {}).get("assignedLocation") or {}).get("name") or "its location"


def _items(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''}"


def _moved(payload: dict) -> str:
    moved, remaining = payload.get("movedFulfillmentOrder"), payload.get(
        "remainingFulfillmentOrder")
    text = f"Moved {_items(_units(moved))} to {_location(moved)}."
    if remaining and _units(remaining):
        text += f" {_items(_units(remaining))} stay at {_location(remaining)}."
    return text


def _requested(payload: dict) -> str:
    sub, unsub = payload.get("submittedFulfillmentOrder"), payload.get(
        "unsubmittedFulfillmentOrder")
    text = f"Fulfillment request for {_items(_units(sub))} sent to {_location(sub)}."
    if unsub and _units(unsub):
        text += f" {_items(_units(unsub))} not requested."
    return text


def _held(payload: dict) -> str:
    hold = payload.get("fulfillmentHold") or {}
    text = f"On hold: {HOLD_REASONS.get(hold.get('reason'), 'other').lower()}."
    remaining = payload.get("remainingFulfillmentOrder")
    if remaining and _units(remaining):
        text += f" {_items(_units(remaining))} not held."
    return text


MUTATIONS: dict[str, _Mutation] = {
    MOVE: _Mutation(
        "FulfillmentOrderMove", "fulfillmentOrderMove",
        ("originalFulfillmentOrder", "movedFulfillmentOrder", "remainingFulfillmentOrder"),
        lambda fo, d, c: {"id": fo.remote_id, "newLocationId": c.location_gid,
                          "fulfillmentOrderLineItems": c.line_items},
        _moved),
    REQUEST_FULFILLMENT: _Mutation(
        "FulfillmentOrderSubmitFulfillmentRequest", "fulfillmentOrderSubmitFulfillmentRequest",
        ("originalFulfillmentOrder", "submittedFulfillmentOrder", "unsubmittedFulfillmentOrder"),
        lambda fo, d, c: {"id": fo.remote_id, "message": d.message or None,
                          "notifyCustomer": d.notify_customer,
                          "fulfillmentOrderLineItems": c.line_items},
        _requested),
    CANCEL_FULFILLMENT_ORDER: _Mutation(
        "FulfillmentOrderCancel", "fulfillmentOrderCancel",
        ("fulfillmentOrder", "replacementFulfillmentOrder"),
        lambda fo, d, c: {"id": fo.remote_id},
        lambda p: "Fulfillment order canceled." + (
            f" Its {_items(_units(p['replacementFulfillmentOrder']))} are open again at "
            f"{_location(p['replacementFulfillmentOrder'])}."
            if p.get("replacementFulfillmentOrder") else "")),
    REQUEST_CANCELLATION: _Mutation(
        "FulfillmentOrderSubmitCancellationRequest", "fulfillmentOrderSubmitCancellationRequest",
        ("fulfillmentOrder",),
        lambda fo, d, c: {"id": fo.remote_id, "message": d.message or None},
        lambda p: f"Cancellation requested from {_location(p.get('fulfillmentOrder'))}; "
                  "this page shows its answer when it comes."),
    HOLD: _Mutation(
        "FulfillmentOrderHold", "fulfillmentOrderHold",
        ("fulfillmentOrder", "remainingFulfillmentOrder"),
        lambda fo, d, c: {"id": fo.remote_id, "fulfillmentHold": {
            "reason": d.reason, "reasonNotes": d.notes or None,
            "fulfillmentOrderLineItems": c.line_items}},
        _held),
    RELEASE_HOLD: _Mutation(
        "FulfillmentOrderReleaseHold", "fulfillmentOrderReleaseHold", ("fulfillmentOrder",),
        # The holds the merchant sees, by id: never "all holds", which would also release
        # holds other apps placed after our last refresh (Shopify's advice).
        lambda fo, d, c: {"id": fo.remote_id, "holdIds": [h["id"] for h in fo.holds or []]},
        lambda p: "Hold released."),
}


def _check_input(fo: FulfillmentOrder, action: str, data: ActionInput) -> _Checked:
    """Every input error at once, before anything reaches Shopify."""
    # (The form reader's parse errors come first; a bad field is left out of quantities.)
    errors: dict[str, str] = dict(data.field_errors)
    line_items, location_gid = None, ""
    if data.quantities is not None and action in (MOVE, REQUEST_FULFILLMENT, HOLD):
        lines = {fol.id: fol for fol in fo.lines}
        for line_id, qty in data.quantities.items():
            fol = lines.get(line_id)
            if fol is None:
                errors["quantities"] = "That item is not in this fulfillment order."
            elif qty < 0:
                errors[f"qty-{line_id}"] = "Can't be negative."
            elif qty > fol.remaining_quantity:
                errors[f"qty-{line_id}"] = f"Only {fol.remaining_quantity} left here."
        if not errors and not any(data.quantities.values()):
            errors["quantities"] = "Choose at least one item."
        # Everything chosen: send no list, the whole fulfillment order (a move stays in place).
        if not errors and any(data.quantities.get(fol.id, 0) != fol.remaining_quantity
                              for fol in fo.lines):
            line_items = [{"id": fol.remote_id, "quantity": data.quantities[fol.id]}
                          for fol in fo.lines if data.quantities.get(fol.id)]
    if action == MOVE:
        target = db.session.scalar(select(ChannelLocation).where(
            ChannelLocation.id == (data.location_id or 0),
            ChannelLocation.merchant_id == fo.merchant_id,
            ChannelLocation.channel_id == fo.channel_id))
        if target is None:
            errors["location_id"] = "Choose the location to move the items to."
        elif target.remote_id == fo.assigned_location_remote_id:
            errors["location_id"] = "The items are already assigned to this location."
        else:
            location_gid = target.remote_id
    if action == HOLD and data.reason not in HOLD_REASONS:
        errors["reason"] = "Choose why the items are on hold."
    for name in ("message", "notes"):
        if len(getattr(data, name)) > TEXT_LIMIT:
            errors[name] = f"Keep it under {TEXT_LIMIT} characters."
    if action == RELEASE_HOLD and not fo.holds:
        errors["form"] = ("Stockroom doesn't know this fulfillment order's holds yet; "
                          "reload the page and try again.")
    if errors:
        raise FulfillmentOrderInputError(
            errors.get("form") or "Fix the highlighted fields.", fields=errors)
    return _Checked(line_items, location_gid)


def run_fulfillment_order_action(merchant_id: int, fo_id: int, action: str,
                                 data: ActionInput) -> str:
    """Run ``action`` on Shopify and mirror what it returned; a message for the merchant.

    Commits the read before calling Shopify (nothing is held across the call); flushes the
    mirror update, the caller commits. Raises FulfillmentOrderActionError when the action
    is not offered, an input is wrong, or Shopify refused or could not be reached (the
    mirror is then re-read from Shopify, also worth committing).
    """
    fo = fulfillment_order(merchant_id, fo_id)
    mutation = MUTATIONS.get(action)
    if mutation is None or action not in offered_actions(fo):
        raise FulfillmentOrderActionError(
            f"Shopify doesn't allow “{action.replace('_', ' ').lower()}” for this fulfillment "
            f"order now (it is {fo.status.replace('_', ' ').lower()}).")
    variables = mutation.variables(fo, data, _check_input(fo, action, data))
    order_id, channel_id = fo.order_id, fo.channel_id
    order_gid = db.session.scalar(select(Order.remote_id).where(Order.id == order_id))
    call = ShopifyCall(channel_id)  # ends the read transaction
    try:
        payload = call(mutation.operation, variables, idempotent=False)[mutation.root]
    except RetryableError as exc:
        _refresh(call, merchant_id, channel_id, order_gid)
        raise ShopifyUnreachable(
            f"Shopify could not be reached ({exc}). The fulfillment order shows what Shopify "
            "has now; check it before trying again.") from None
    except PermanentError as exc:  # a missing scope, an uninstalled shop, a bad document
        raise ShopifyUnreachable(f"Shopify did not accept the request: {exc}") from None
    errors = payload.get("userErrors") or []
    if errors:
        _refresh(call, merchant_id, channel_id, order_gid)
        raise FulfillmentOrderActionError("Shopify refused: " + " ".join(
            _sentence(e.get("message", "")) for e in errors))
    try:  # every line of each, read before any row is locked
        for key in mutation.results:
            if payload.get(key):
                complete_fulfillment_order(call, payload[key])
    except (RetryableError, PermanentError):
        # Done on Shopify, but its result can't be read whole: a partial mirror would drop
        # lines, so the mirror waits for the webhook or the reconciliation to re-read it.
        return mutation.done(payload) + " (Stockroom shows it once Shopify's update arrives.)"
    order = orders_for_update(merchant_id, [order_id])[order_id]  # one mirror writer at a time
    existing = {f.remote_id: f for f in db.session.scalars(
        select(FulfillmentOrder).where(FulfillmentOrder.order_id == order.id))}
    for key in mutation.results:
        if payload.get(key):
            mirror_fulfillment_order(order, payload[key], existing)
    mark_order_stock_stale(order)  # a move takes Shopify's committed units along
    return mutation.done(payload)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _refresh(call: ShopifyCall, merchant_id: int, channel_id: int, order_gid: str) -> None:
    """Best effort: re-read the order so the page shows Shopify's state (a failure here
    leaves the mirror for the webhooks and the reconciliation to repair)."""
    try:
        pull_order(call, merchant_id, channel_id, order_gid)
    except (RetryableError, PermanentError):
        db.session.rollback()
