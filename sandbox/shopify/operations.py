"""What happens on the platform: fulfillment-order transitions, fulfillments, stock, orders.

Shared by the Admin API resolvers (the app acting) and the /_sandbox controls (the merchant, the
3PL or the checkout acting). Every function expects the store lock to be held, raises
:class:`UserError` for anything Shopify reports as a ``userErrors`` entry, and emits the webhooks
Shopify would send.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import payloads
from .state import (FOLine, Fulfillment, FulfillmentEvent, FulfillmentLine, FulfillmentOrder, Hold,
                    Refund, RefundLine, Shop, Store)

ACTIVE_REQUEST = ("SUBMITTED", "ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED")


class UserError(Exception):
    """A mutation-level error: becomes one ``userErrors`` entry (field, message, code)."""

    def __init__(self, message: str, field: list[str] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code


# --- supported actions -------------------------------------------------------------------------

def supported_actions(shop: Shop, fo: FulfillmentOrder) -> list[dict]:
    """The actions Shopify offers for ``fo`` in its state, at its kind of location."""
    loc = shop.locations[fo.location_id]
    splittable = fo.remaining > 1
    if fo.status in ("CLOSED", "CANCELLED", "INCOMPLETE"):
        return []
    if fo.status == "ON_HOLD":
        return _acts("RELEASE_HOLD", "HOLD", "MOVE")
    if fo.status == "SCHEDULED":
        return _acts("MARK_AS_OPEN", "MOVE")
    if loc.kind == "merchant":
        acts = ["CREATE_FULFILLMENT", "MOVE", "HOLD"] + (["SPLIT"] if splittable else [])
        return _acts(*acts)
    if loc.kind == "external":
        acts = [{"action": "EXTERNAL", "externalUrl": f"{loc.external_url}/{fo.order_id}"}]
        return acts + _acts("MOVE", "HOLD")
    return _fulfillment_service_actions(fo, splittable)


def _fulfillment_service_actions(fo: FulfillmentOrder, splittable: bool) -> list[dict]:
    if fo.request_status in ("UNSUBMITTED", "REJECTED", "CANCELLATION_ACCEPTED", "CLOSED"):
        return _acts("REQUEST_FULFILLMENT", "MOVE", "HOLD", *(["SPLIT"] if splittable else []))
    if fo.request_status == "SUBMITTED":
        return _acts("CANCEL_FULFILLMENT_ORDER", "REQUEST_CANCELLATION")
    if fo.request_status in ("ACCEPTED", "CANCELLATION_REJECTED"):
        return _acts("REQUEST_CANCELLATION")
    if fo.request_status == "CANCELLATION_REQUESTED":
        return _acts("CANCEL_FULFILLMENT_ORDER")
    return []


def _acts(*names: str) -> list[dict]:
    return [{"action": n, "externalUrl": None} for n in names]


def require_action(shop: Shop, fo: FulfillmentOrder, action: str, message: str) -> None:
    """Raise a UserError unless ``action`` is among ``fo``'s supported actions."""
    if action not in {a["action"] for a in supported_actions(shop, fo)}:
        raise UserError(message, ["id"])


# --- lookups and quantities -----------------------------------------------------------------

def get_fo(shop: Shop, fo_id: int | None) -> FulfillmentOrder:
    """The fulfillment order or a 'not found' UserError."""
    fo = shop.fulfillment_orders.get(fo_id) if fo_id else None
    if fo is None:
        raise UserError("Fulfillment order does not exist.", ["id"])
    return fo


def requested_quantities(fo: FulfillmentOrder, line_inputs: list[tuple[int | None, int]] | None,
                         field: str = "fulfillmentOrderLineItems") -> dict[int, int]:
    """{fo_line_id: quantity} from the input (None = everything remaining), validated."""
    if not line_inputs:  # omitted or [] (the schema default): everything remaining
        wanted = {ln.id: ln.remaining_quantity for ln in fo.lines if ln.remaining_quantity}
        if not wanted:
            raise UserError("Fulfillment order has no remaining line items.", [field])
        return wanted
    by_id = {ln.id: ln for ln in fo.lines}
    wanted: dict[int, int] = {}
    for line_id, qty in line_inputs:
        line = by_id.get(line_id)
        if line is None:
            raise UserError("Fulfillment order line item does not exist.", [field])
        if qty <= 0 or qty + wanted.get(line_id, 0) > line.remaining_quantity:
            raise UserError(f"Invalid fulfillment order line item quantity requested "
                            f"(line {line_id}: {qty}, remaining {line.remaining_quantity}).",
                            [field], "INVALID_LINE_ITEM_QUANTITY")
        wanted[line_id] = wanted.get(line_id, 0) + qty
    if not wanted:
        raise UserError("No line items to act on.", [field])
    return wanted


def _is_whole(fo: FulfillmentOrder, wanted: dict[int, int]) -> bool:
    return all(wanted.get(ln.id, 0) == ln.remaining_quantity for ln in fo.lines)


def _has_progress(fo: FulfillmentOrder) -> bool:
    return any(ln.remaining_quantity < ln.total_quantity for ln in fo.lines)


def _new_fo(store: Store, shop: Shop, template: FulfillmentOrder, location_id: int,
            quantities: dict[int, int], **kw) -> FulfillmentOrder | None:
    """A fresh OPEN fulfillment order of the same order with ``quantities`` of template lines."""
    lines = []
    by_id = {ln.id: ln for ln in template.lines}
    for line_id, qty in quantities.items():
        if qty > 0:
            lines.append(FOLine(id=store.next_id("FulfillmentOrderLineItem"),
                                line_item_id=by_id[line_id].line_item_id,
                                total_quantity=qty, remaining_quantity=qty))
    if not lines:
        return None
    now = store.now()
    fo = FulfillmentOrder(id=store.next_id("FulfillmentOrder"), order_id=template.order_id,
                          location_id=location_id, lines=lines, created_at=now, updated_at=now,
                          **kw)
    shop.fulfillment_orders[fo.id] = fo
    return fo


def _close_remaining(store: Store, fo: FulfillmentOrder, status: str = "CLOSED") -> None:
    """Close ``fo``: what was not fulfilled leaves it (its totals shrink to what was fulfilled)."""
    for ln in fo.lines:
        ln.total_quantity -= ln.remaining_quantity
        ln.remaining_quantity = 0
    fo.status = status
    fo.updated_at = store.now()


def _leftover(fo: FulfillmentOrder, taken: dict[int, int]) -> dict[int, int]:
    return {ln.id: ln.remaining_quantity - taken.get(ln.id, 0) for ln in fo.lines}


def item_id_of(shop: Shop, line_item_id: int) -> int:
    """The inventory item behind an order line item."""
    order_li = next(li for o in shop.orders.values() for li in o.line_items if li.id == line_item_id)
    return shop.variants[order_li.variant_id].inventory_item_id


def adjust_level(store: Store, shop: Shop, item_id: int, location_id: int, *, on_hand: int = 0,
                 committed: int = 0) -> None:
    """Change stock at one location; emits inventory_levels/update when ``available`` moves."""
    level = shop.level(item_id, location_id, create=True)
    before = level.available
    level.on_hand += on_hand
    level.committed += committed
    level.updated_at = store.now()
    if level.available != before:
        store.emit(shop.domain, "inventory_levels/update",
                   payloads.inventory_level_payload(item_id, location_id, level.available,
                                                    level.updated_at))


def _move_committed(store: Store, shop: Shop, fo: FulfillmentOrder, quantities: dict[int, int],
                    to_location: int) -> None:
    by_id = {ln.id: ln for ln in fo.lines}
    for line_id, qty in quantities.items():
        if qty:
            item = item_id_of(shop, by_id[line_id].line_item_id)
            adjust_level(store, shop, item, fo.location_id, committed=-qty)
            adjust_level(store, shop, item, to_location, committed=qty)


# --- move ---------------------------------------------------------------------------------------

@dataclass
class MoveResult:
    """The three fulfillment orders fulfillmentOrderMove returns."""
    original: FulfillmentOrder
    moved: FulfillmentOrder
    remaining: FulfillmentOrder | None


def move(store: Store, shop: Shop, fo_id: int, location_id: int | None,
         line_inputs: list[tuple[int | None, int]] | None) -> MoveResult:
    """fulfillmentOrderMove: whole FO moves in place; otherwise original CLOSED + moved + remaining."""
    fo = get_fo(shop, fo_id)
    if fo.request_status in ACTIVE_REQUEST:
        raise UserError("Cannot move a fulfillment order that has an active fulfillment request.",
                        ["id"])
    require_action(shop, fo, "MOVE", "Fulfillment order cannot be moved.")
    dest = shop.locations.get(location_id) if location_id else None
    if dest is None:
        raise UserError("Location not found.", ["newLocationId"])
    if dest.id == fo.location_id:
        raise UserError("Cannot move a fulfillment order to its current location.",
                        ["newLocationId"])
    wanted = requested_quantities(fo, line_inputs)
    for line_id in wanted:
        item = item_id_of(shop, next(ln for ln in fo.lines if ln.id == line_id).line_item_id)
        if shop.level(item, dest.id) is None:
            raise UserError(f"Location {dest.name} doesn't stock the requested inventory item.",
                            ["newLocationId"])
    source = fo.location_id
    _move_committed(store, shop, fo, wanted, dest.id)
    if _is_whole(fo, wanted) and not _has_progress(fo):
        fo.location_id = dest.id
        fo.request_status = "UNSUBMITTED"
        fo.updated_at = store.now()
        result = MoveResult(fo, fo, None)
    else:
        leftover = _leftover(fo, wanted)
        moved = _new_fo(store, shop, fo, dest.id, wanted)
        remaining = _new_fo(store, shop, fo, source, leftover)
        _close_remaining(store, fo)
        result = MoveResult(fo, moved, remaining)
    _emit_moved(store, shop, result, source, wanted)
    return result


def _emit_moved(store: Store, shop: Shop, r: MoveResult, source: int, wanted: dict[int, int]):
    store.emit(shop.domain, "fulfillment_orders/moved", {
        "original_fulfillment_order": payloads.fo_ref(r.original, with_location=True),
        "moved_fulfillment_order": payloads.fo_ref(r.moved, with_location=True),
        "destination_location_id": f"gid://shopify/Location/{r.moved.location_id}",
        "fulfillment_order_line_items_requested": [
            {"id": f"gid://shopify/FulfillmentOrderLineItem/{k}", "quantity": v}
            for k, v in wanted.items()],
        "source_location": {"id": f"gid://shopify/Location/{source}"},
    })


# --- fulfillments ---------------------------------------------------------------------------

def create_fulfillment(store: Store, shop: Shop, groups: list[tuple[int | None, list | None]], *,
                       tracking: list[dict], notify: bool, origin: str = "app",
                       client_id: str | None = None) -> Fulfillment:
    """fulfillmentCreate: one fulfillment over FOs of one order and location; stock leaves."""
    if not groups:
        raise UserError("Line items by fulfillment order must not be empty.",
                        ["fulfillment", "lineItemsByFulfillmentOrder"])
    plans = []
    for fo_id, line_inputs in groups:
        fo = shop.fulfillment_orders.get(fo_id) if fo_id else None
        if fo is None:
            raise UserError("Fulfillment order does not exist.", ["fulfillment"])
        _check_fulfillable(shop, fo, origin)
        plans.append((fo, requested_quantities(fo, line_inputs, "fulfillment")))
    if len({(fo.order_id, fo.location_id) for fo, _ in plans}) > 1:
        raise UserError("All fulfillment orders must belong to the same order and be assigned "
                        "to the same location.", ["fulfillment"])
    fo0 = plans[0][0]
    order = shop.orders[fo0.order_id]
    now = store.now()
    f = Fulfillment(id=store.next_id("Fulfillment"), order_id=order.id,
                    location_id=fo0.location_id, lines=[], created_at=now, updated_at=now,
                    name=_fulfillment_name(shop, order),
                    tracking=tracking, notify_customer=notify, origin=origin,
                    app_client_id=client_id)
    for fo, wanted in plans:
        _apply_fulfillment(store, shop, f, fo, wanted)
    shop.fulfillments[f.id] = f
    order.updated_at = now
    store.emit(shop.domain, "fulfillments/create", payloads.fulfillment_payload(shop, f))
    order_body = payloads.order_payload(shop, order)
    store.emit(shop.domain, "orders/updated", order_body)
    done = order_body["fulfillment_status"] == "fulfilled"
    store.emit(shop.domain, "orders/fulfilled" if done else "orders/partially_fulfilled",
               order_body)
    return f


def _fulfillment_name(shop: Shop, order) -> str:
    """Shopify names fulfillments after the order: #1001.1, #1001.2, ..."""
    count = sum(1 for x in shop.fulfillments.values() if x.order_id == order.id)
    return f"{order.name}.{count + 1}"


def _check_fulfillable(shop: Shop, fo: FulfillmentOrder, origin: str) -> None:
    if origin == "fulfillment_service":
        if fo.request_status not in ("ACCEPTED", "CANCELLATION_REJECTED"):
            raise UserError("The fulfillment request has not been accepted.", ["fulfillment"])
        return
    require_action(shop, fo, "CREATE_FULFILLMENT",
                   f"Fulfillment order {fo.id} has an unfulfillable status= {fo.status.lower()}.")


def _apply_fulfillment(store: Store, shop: Shop, f: Fulfillment, fo: FulfillmentOrder,
                       wanted: dict[int, int]) -> None:
    order = shop.orders[fo.order_id]
    by_li = {li.id: li for li in order.line_items}
    for ln in fo.lines:
        qty = wanted.get(ln.id, 0)
        if not qty:
            continue
        ln.remaining_quantity -= qty
        by_li[ln.line_item_id].fulfilled_quantity += qty
        f.lines.append(FulfillmentLine(id=store.next_id("FulfillmentLineItem"),
                                       line_item_id=ln.line_item_id, fo_line_id=ln.id,
                                       fo_id=fo.id, quantity=qty))
        adjust_level(store, shop, item_id_of(shop, ln.line_item_id), fo.location_id,
                     on_hand=-qty, committed=-qty)
    fo.fulfillment_ids.append(f.id)
    fo.status = "CLOSED" if fo.remaining == 0 else "IN_PROGRESS"
    if fo.status == "CLOSED" and fo.request_status == "ACCEPTED":
        fo.request_status = "CLOSED"
    fo.updated_at = store.now()


def get_fulfillment(shop: Shop, f_id: int | None) -> Fulfillment:
    """The fulfillment or a 'not found' UserError."""
    f = shop.fulfillments.get(f_id) if f_id else None
    if f is None:
        raise UserError("Fulfillment does not exist.", ["id"])
    return f


def cancel_fulfillment(store: Store, shop: Shop, f_id: int | None) -> Fulfillment:
    """fulfillmentCancel: the items return to their fulfillment orders and to stock."""
    f = get_fulfillment(shop, f_id)
    if f.status == "CANCELLED":
        raise UserError("Fulfillment is already cancelled.", ["id"])
    order = shop.orders[f.order_id]
    by_li = {li.id: li for li in order.line_items}
    for fl in f.lines:
        fo = shop.fulfillment_orders[fl.fo_id]
        line = next(ln for ln in fo.lines if ln.id == fl.fo_line_id)
        line.remaining_quantity += fl.quantity
        by_li[fl.line_item_id].fulfilled_quantity -= fl.quantity
        adjust_level(store, shop, item_id_of(shop, fl.line_item_id), f.location_id,
                     on_hand=fl.quantity, committed=fl.quantity)
        if fo.status in ("CLOSED", "IN_PROGRESS"):
            fo.status = "IN_PROGRESS" if _has_progress(fo) else "OPEN"
        fo.updated_at = store.now()
    f.status = "CANCELLED"
    f.updated_at = store.now()
    order.updated_at = f.updated_at
    store.emit(shop.domain, "fulfillments/update", payloads.fulfillment_payload(shop, f))
    store.emit(shop.domain, "orders/updated", payloads.order_payload(shop, order))
    return f


def update_tracking(store: Store, shop: Shop, f_id: int | None, tracking: list[dict],
                    notify: bool) -> Fulfillment:
    """fulfillmentTrackingInfoUpdate: replace tracking; fulfillments/update."""
    f = get_fulfillment(shop, f_id)
    if f.status == "CANCELLED":
        raise UserError("Cannot update tracking of a cancelled fulfillment.", ["fulfillmentId"])
    f.tracking = tracking
    f.notify_customer = notify or f.notify_customer
    f.updated_at = store.now()
    store.emit(shop.domain, "fulfillments/update", payloads.fulfillment_payload(shop, f))
    return f


def create_event(store: Store, shop: Shop, f_id: int | None, status: str, *,
                 message: str | None = None, happened_at: float | None = None) -> FulfillmentEvent:
    """fulfillmentEventCreate: shipment status moves (IN_TRANSIT, DELIVERED...)."""
    f = get_fulfillment(shop, f_id)
    if f.status == "CANCELLED":
        raise UserError("Cannot add events to a cancelled fulfillment.",
                        ["fulfillmentEvent", "fulfillmentId"])
    now = store.now()
    ev = FulfillmentEvent(id=store.next_id("FulfillmentEvent"), status=status, message=message,
                          happened_at=happened_at or now, created_at=now)
    f.events.append(ev)
    f.shipment_status = status
    if status == "DELIVERED":
        f.delivered_at = ev.happened_at
    f.updated_at = now
    store.emit(shop.domain, "fulfillments/update", payloads.fulfillment_payload(shop, f))
    return ev


# --- fulfillment service requests ---------------------------------------------------------

def submit_request(store: Store, shop: Shop, fo_id: int | None, line_inputs, message: str | None,
                   notify: bool):
    """fulfillmentOrderSubmitFulfillmentRequest -> (original, submitted, unsubmitted)."""
    fo = get_fo(shop, fo_id)
    require_action(shop, fo, "REQUEST_FULFILLMENT",
                   "Fulfillment order is not in a state that allows a fulfillment request.")
    wanted = requested_quantities(fo, line_inputs)
    if _is_whole(fo, wanted):
        fo.request_status = "SUBMITTED"
        fo.updated_at = store.now()
        submitted, unsubmitted = fo, None
    else:
        leftover = _leftover(fo, wanted)
        submitted = _new_fo(store, shop, fo, fo.location_id, wanted, request_status="SUBMITTED")
        unsubmitted = _new_fo(store, shop, fo, fo.location_id, leftover)
        _close_remaining(store, fo)
    request = _merchant_request(store, submitted, "FULFILLMENT_REQUEST", message, notify)
    store.emit(shop.domain, "fulfillment_orders/fulfillment_request_submitted", {
        "original_fulfillment_order": payloads.fo_ref(fo, with_request=True),
        "submitted_fulfillment_order": payloads.fo_ref(submitted, with_request=True),
        "fulfillment_order_merchant_request": request,
    })
    return fo, submitted, unsubmitted


def _merchant_request(store: Store, fo: FulfillmentOrder, kind: str, message: str | None,
                      notify: bool) -> dict:
    """Record a merchant request on ``fo``; returns its webhook reference."""
    req_id = store.next_id("FulfillmentOrderMerchantRequest")
    fo.merchant_requests.append({"id": req_id, "kind": kind, "message": message,
                                 "at": store.now(), "notify": notify})
    return {"id": f"gid://shopify/FulfillmentOrderMerchantRequest/{req_id}", "message": message}


def respond_to_request(store: Store, shop: Shop, fo_id: int | None, accept: bool,
                       message: str | None = None) -> FulfillmentOrder:
    """The 3PL accepts (IN_PROGRESS/ACCEPTED) or rejects (OPEN/REJECTED) a submitted request."""
    fo = get_fo(shop, fo_id)
    if fo.request_status != "SUBMITTED":
        raise UserError("Fulfillment order has no submitted fulfillment request.", ["id"])
    fo.request_status = "ACCEPTED" if accept else "REJECTED"
    fo.status = "IN_PROGRESS" if accept else "OPEN"
    fo.updated_at = store.now()
    topic = "fulfillment_request_accepted" if accept else "fulfillment_request_rejected"
    store.emit(shop.domain, f"fulfillment_orders/{topic}",
               {"fulfillment_order": payloads.fo_ref(fo, with_request=True), "message": message})
    return fo


def submit_cancellation(store: Store, shop: Shop, fo_id: int | None,
                        message: str | None) -> FulfillmentOrder:
    """fulfillmentOrderSubmitCancellationRequest: request_status CANCELLATION_REQUESTED."""
    fo = get_fo(shop, fo_id)
    require_action(shop, fo, "REQUEST_CANCELLATION",
                   "Fulfillment order is not in a state that allows a cancellation request.")
    fo.request_status = "CANCELLATION_REQUESTED"
    request = _merchant_request(store, fo, "CANCELLATION_REQUEST", message, False)
    fo.updated_at = store.now()
    store.emit(shop.domain, "fulfillment_orders/cancellation_request_submitted", {
        "fulfillment_order": payloads.fo_ref(fo, with_request=True),
        "fulfillment_order_merchant_request": request,
    })
    return fo


def respond_to_cancellation(store: Store, shop: Shop, fo_id: int | None, accept: bool,
                            message: str | None = None):
    """The 3PL accepts (FO closed, unfulfilled items go to a new OPEN FO) or rejects."""
    fo = get_fo(shop, fo_id)
    if fo.request_status != "CANCELLATION_REQUESTED":
        raise UserError("Fulfillment order has no cancellation request.", ["id"])
    replacement = None
    if accept:
        leftover = {ln.id: ln.remaining_quantity for ln in fo.lines}
        replacement = _new_fo(store, shop, fo, fo.location_id, leftover)
        _close_remaining(store, fo)
        fo.request_status = "CANCELLATION_ACCEPTED"
    else:
        fo.request_status = "CANCELLATION_REJECTED"
        fo.updated_at = store.now()
    topic = "cancellation_request_accepted" if accept else "cancellation_request_rejected"
    store.emit(shop.domain, f"fulfillment_orders/{topic}",
               {"fulfillment_order": payloads.fo_ref(fo, with_request=not accept),
                "message": message})
    return fo, replacement


def cancel_fo(store: Store, shop: Shop, fo_id: int | None):
    """fulfillmentOrderCancel (2026-10 schema text): only for request status SUBMITTED or
    CANCELLATION_REQUESTED; the original is marked closed and a replacement OPEN/UNSUBMITTED
    fulfillment order takes the work left to be done."""
    fo = get_fo(shop, fo_id)
    require_action(shop, fo, "CANCEL_FULFILLMENT_ORDER",
                   "Fulfillment order must have a SUBMITTED or CANCELLATION_REQUESTED request "
                   "status to be cancelled.")
    leftover = {ln.id: ln.remaining_quantity for ln in fo.lines}
    replacement = _new_fo(store, shop, fo, fo.location_id, leftover)
    _close_remaining(store, fo, status="CLOSED")
    fo.request_status = "CLOSED"
    store.emit(shop.domain, "fulfillment_orders/cancelled", {
        "fulfillment_order": payloads.fo_ref(fo),
        "replacement_fulfillment_order": payloads.fo_ref(replacement)})
    return fo, replacement


# --- holds ----------------------------------------------------------------------------------

def hold(store: Store, shop: Shop, fo_id: int | None, reason: str, notes: str | None,
         handle: str | None, line_inputs, client_id: str | None):
    """fulfillmentOrderHold -> (held FO, hold, remaining FO for unheld line items or None)."""
    fo = get_fo(shop, fo_id)
    require_action(shop, fo, "HOLD", "Fulfillment order cannot be placed on hold.")
    if handle and any(h.handle == handle for h in fo.holds):
        raise UserError("A hold with this handle already exists.", ["fulfillmentHold", "handle"],
                        "DUPLICATE_FULFILLMENT_HOLD_HANDLE")
    wanted = requested_quantities(fo, line_inputs, "fulfillmentHold")
    remaining = None
    if not _is_whole(fo, wanted):
        remaining = _new_fo(store, shop, fo, fo.location_id, _leftover(fo, wanted))
        for ln in fo.lines:
            taken = wanted.get(ln.id, 0)
            ln.total_quantity -= ln.remaining_quantity - taken
            ln.remaining_quantity = taken
    new_hold = Hold(id=store.next_id("FulfillmentHold"), reason=reason, reason_notes=notes,
                    handle=handle, app_client_id=client_id)
    fo.holds.append(new_hold)
    first_hold = fo.status != "ON_HOLD"
    if first_hold:
        fo.status_before_hold = fo.status
    fo.status = "ON_HOLD"
    fo.updated_at = store.now()
    held_ref = payloads.fo_ref(fo)
    held_ref["fulfillment_holds"] = [payloads.hold_payload(h) for h in fo.holds]
    # placed_on_hold: only when the fulfillment order goes on hold (its first hold).
    if first_hold:
        store.emit(shop.domain, "fulfillment_orders/placed_on_hold", {
            "fulfillment_order": held_ref,
            "remaining_fulfillment_order": payloads.fo_ref(remaining),
            "held_fulfillment_order_line_items": [
                {"id": f"gid://shopify/FulfillmentOrderLineItem/{k}", "quantity": v}
                for k, v in wanted.items()],
            "created_fulfillment_hold": payloads.hold_payload(new_hold)})
    # fulfillment_holds/added: every hold, the second one on a held fulfillment order too.
    store.emit(shop.domain, "fulfillment_holds/added", {
        "fulfillment_order": {"id": f"gid://shopify/FulfillmentOrder/{fo.id}"},
        "fulfillment_hold": payloads.hold_payload(new_hold)})
    return fo, new_hold, remaining


def release_hold(store: Store, shop: Shop, fo_id: int | None,
                 hold_ids: list[int] | None) -> FulfillmentOrder:
    """fulfillmentOrderReleaseHold: drop the holds; back to OPEN/IN_PROGRESS when none remain."""
    fo = get_fo(shop, fo_id)
    require_action(shop, fo, "RELEASE_HOLD", "Fulfillment order is not on hold.")
    keep = [] if hold_ids is None else [h for h in fo.holds if h.id not in hold_ids]
    released = [h for h in fo.holds if h not in keep]
    fo.holds = keep
    if not keep:
        fo.status = fo.status_before_hold or "OPEN"
        if fo.status not in ("OPEN", "IN_PROGRESS", "SCHEDULED"):
            fo.status = "OPEN"
    fo.updated_at = store.now()
    if not keep:  # hold_released: the fulfillment order is off hold
        store.emit(shop.domain, "fulfillment_orders/hold_released",
                   {"fulfillment_order": payloads.fo_ref(fo)})
    for h in released:
        store.emit(shop.domain, "fulfillment_holds/released", {
            "fulfillment_order": {"id": f"gid://shopify/FulfillmentOrder/{fo.id}"},
            "fulfillment_hold": payloads.hold_payload(h)})
    return fo


# --- orders -----------------------------------------------------------------------------------

def cancel_order(store: Store, shop: Shop, order_id: int, reason: str = "customer"):
    """The merchant cancels an order: open FOs are closed, committed stock is released."""
    order = shop.orders.get(order_id)
    if order is None:
        raise UserError("Order does not exist.", ["id"])
    if order.cancelled_at:
        raise UserError("Order is already cancelled.", ["id"])
    if any(f.status == "SUCCESS" for f in shop.fulfillments.values() if f.order_id == order.id):
        raise UserError("Cannot cancel an order with fulfillments; cancel them first.", ["id"])
    for fo in shop.fulfillment_orders.values():
        if fo.order_id == order.id and fo.is_active:
            for ln in fo.lines:
                if ln.remaining_quantity:
                    adjust_level(store, shop, item_id_of(shop, ln.line_item_id), fo.location_id,
                                 committed=-ln.remaining_quantity)
            _close_remaining(store, fo, status="CLOSED")
    order.cancelled_at = order.updated_at = order.closed_at = store.now()
    order.cancel_reason = reason
    store.emit(shop.domain, "orders/cancelled", payloads.order_payload(shop, order))
    store.emit(shop.domain, "orders/updated", payloads.order_payload(shop, order))
    return order


# --- split ------------------------------------------------------------------------------------

def split(store: Store, shop: Shop, fo_id: int | None, line_inputs) -> tuple[FulfillmentOrder,
                                                                          FulfillmentOrder]:
    """fulfillmentOrderSplit (or Split in the admin): the chosen quantities leave ``fo`` for a
    new OPEN fulfillment order at the same location; returns (original, remaining)."""
    fo = get_fo(shop, fo_id)
    require_action(shop, fo, "SPLIT", "Fulfillment order cannot be split.")
    wanted = requested_quantities(fo, line_inputs, "fulfillmentOrderSplits")
    if _is_whole(fo, wanted):
        raise UserError("Cannot split all the line items of a fulfillment order.",
                        ["fulfillmentOrderSplits"])
    remaining = _new_fo(store, shop, fo, fo.location_id, wanted)
    for ln in fo.lines:
        ln.total_quantity -= wanted.get(ln.id, 0)
        ln.remaining_quantity -= wanted.get(ln.id, 0)
    fo.lines = [ln for ln in fo.lines if ln.total_quantity > 0]
    fo.updated_at = store.now()
    store.emit(shop.domain, "fulfillment_orders/split", {
        "split_line_items": [{"id": f"gid://shopify/FulfillmentOrderLineItem/{k}", "quantity": v}
                             for k, v in wanted.items()],
        "fulfillment_order": payloads.fo_ref(fo),
        "remaining_fulfillment_order": payloads.fo_ref(remaining),
        "replacement_fulfillment_order": None})
    return fo, remaining


# --- refunds ----------------------------------------------------------------------------------

RESTOCK_TYPES = ("return", "cancel", "no_restock")


def refund(store: Store, shop: Shop, order_id: int, items: list[dict], note: str | None = None):
    """refundCreate / Refund in the admin: ``items`` of ``{line_item_id, quantity,
    restock_type, location_id}``.

    RETURN puts fulfilled units back on hand at ``location_id``; CANCEL takes unfulfilled
    units off the order and its fulfillment orders, their committed stock available again
    at the fulfillment order's location; NO_RESTOCK of unfulfilled units takes them off
    the order and out of stock. Emits refunds/create and orders/updated.
    """
    order = shop.orders.get(order_id)
    if order is None:
        raise UserError("Order does not exist.", ["orderId"])
    by_id = {li.id: li for li in order.line_items}
    lines = []
    for item in items:
        li = by_id.get(int(item["line_item_id"]))
        qty = int(item["quantity"])
        kind = str(item.get("restock_type") or "no_restock").lower()
        if li is None or qty <= 0 or kind not in RESTOCK_TYPES:
            raise UserError("Invalid refund line item.", ["refundLineItems"])
        unfulfilled = li.current_quantity - li.fulfilled_quantity
        returnable = li.fulfilled_quantity - li.returned_quantity
        location = item.get("location_id")
        if kind == "return" and (qty > returnable or location is None
                                 or int(location) not in shop.locations):
            raise UserError("Quantity to return exceeds what was fulfilled, or the location "
                            "is missing.", ["refundLineItems", "quantity"])
        if kind == "cancel" and qty > unfulfilled:
            raise UserError("Quantity to cancel exceeds the unfulfilled quantity.",
                            ["refundLineItems", "quantity"])
        if kind == "no_restock" and qty > unfulfilled + returnable:
            raise UserError("Quantity exceeds the refundable quantity.",
                            ["refundLineItems", "quantity"])
        lines.append((li, qty, kind, int(location) if location is not None else None))
    now = store.now()
    made = []
    for li, qty, kind, location in lines:
        item_id = shop.variants[li.variant_id].inventory_item_id
        if kind == "return":
            li.returned_quantity += qty
            adjust_level(store, shop, item_id, location, on_hand=qty)
        else:
            removed = qty if kind == "cancel" else min(qty, li.current_quantity
                                                       - li.fulfilled_quantity)
            li.returned_quantity += qty - removed
            at = _remove_unfulfilled(store, shop, order, li, removed, gone=kind == "no_restock")
            location = location or at
        made.append(RefundLine(id=store.next_id("RefundLineItem"), line_item_id=li.id,
                               quantity=qty, restock_type=kind,
                               location_id=location if kind != "no_restock" else None))
    r = Refund(id=store.next_id("Refund"), order_id=order.id, lines=made, created_at=now,
               note=note)
    shop.refunds[r.id] = r
    order.updated_at = now
    store.emit(shop.domain, "refunds/create", payloads.refund_payload(shop, order, r))
    store.emit(shop.domain, "orders/updated", payloads.order_payload(shop, order))
    return r


def _remove_unfulfilled(store: Store, shop: Shop, order, li, qty: int, *, gone: bool
                        ) -> int | None:
    """Take ``qty`` unfulfilled units of ``li`` off the order's open fulfillment orders (their
    committed stock released; ``gone``: off hand too); returns the last location touched."""
    li.removed_quantity += qty
    item_id = shop.variants[li.variant_id].inventory_item_id
    location = None
    for fo in shop.fulfillment_orders.values():
        if qty <= 0:
            break
        if fo.order_id != order.id or not fo.is_active:
            continue
        for ln in fo.lines:
            if ln.line_item_id == li.id and ln.remaining_quantity and qty > 0:
                take = min(qty, ln.remaining_quantity)
                ln.remaining_quantity -= take
                ln.total_quantity -= take
                adjust_level(store, shop, item_id, fo.location_id, committed=-take,
                             on_hand=-take if gone else 0)
                location, qty = fo.location_id, qty - take
        fo.lines = [ln for ln in fo.lines if ln.total_quantity > 0]
        if not fo.lines:
            fo.status = "CLOSED"
        fo.updated_at = store.now()
    return location
