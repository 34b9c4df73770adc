"""Fulfillment-order changes a merchant makes in the Shopify admin (split, merge) with the
webhooks Shopify sends for them, in the shapes of its published examples."""
from __future__ import annotations

from . import payloads
from .controls import _body, _id, _line_inputs, _shop, bp, control
from .operations import (UserError, _has_progress, _leftover, _new_fo, get_fo,
                         requested_quantities)
from .state import FOLine, Shop, Store

SPLITTABLE = ("OPEN", "IN_PROGRESS")


def split(store: Store, shop: Shop, fo_id: int, line_inputs) -> tuple:
    """fulfillmentOrderSplit: the fulfillment order keeps the requested quantities, a new
    one at the same location (the remaining fulfillment order) takes the rest."""
    fo = get_fo(shop, fo_id)
    if fo.status not in SPLITTABLE or fo.request_status not in ("UNSUBMITTED",):
        raise UserError("Fulfillment order cannot be split.", ["fulfillmentOrderSplits"])
    wanted = requested_quantities(fo, line_inputs, "fulfillmentOrderSplits")
    leftover = _leftover(fo, wanted)
    if not any(leftover.values()) or not any(wanted.values()):
        raise UserError("Split must leave items on both fulfillment orders.",
                        ["fulfillmentOrderSplits", "fulfillmentOrderLineItems"])
    remaining = _new_fo(store, shop, fo, fo.location_id, leftover)
    for ln in fo.lines:
        ln.total_quantity -= ln.remaining_quantity - wanted.get(ln.id, 0)
        ln.remaining_quantity = wanted.get(ln.id, 0)
    fo.lines = [ln for ln in fo.lines if ln.total_quantity > 0]
    fo.updated_at = store.now()
    store.emit(shop.domain, "fulfillment_orders/split", {
        "split_line_items": [{"id": f"gid://shopify/FulfillmentOrderLineItem/{k}", "quantity": v}
                             for k, v in wanted.items() if v],
        "fulfillment_order": payloads.fo_ref(fo),
        "remaining_fulfillment_order": payloads.fo_ref(remaining),
        "replacement_fulfillment_order": None})
    return fo, remaining


def merge(store: Store, shop: Shop, fo_ids: list[int]) -> object:
    """fulfillmentOrderMerge: fulfillment orders of one order at one location, untouched so
    far, become the first of them; the others close."""
    fos = [get_fo(shop, i) for i in fo_ids]
    if len(fos) < 2 or len({fo.id for fo in fos}) != len(fos):
        raise UserError("At least two fulfillment orders are needed to merge.",
                        ["fulfillmentOrderMergeInputs"])
    first = fos[0]
    for fo in fos:
        if (fo.order_id, fo.location_id) != (first.order_id, first.location_id) \
                or fo.status not in SPLITTABLE or _has_progress(fo) \
                or fo.request_status != "UNSUBMITTED":
            raise UserError("Fulfillment orders cannot be merged.",
                            ["fulfillmentOrderMergeInputs"])
    intents = [{"fulfillment_order_id": fo.id,
                "fulfillment_order_line_items": [{"id": ln.id, "quantity": ln.remaining_quantity}
                                                 for ln in fo.lines]} for fo in fos]
    by_item = {ln.line_item_id: ln for ln in first.lines}
    for fo in fos[1:]:
        for ln in fo.lines:
            into = by_item.get(ln.line_item_id)
            if into is None:
                into = by_item[ln.line_item_id] = FOLine(
                    id=store.next_id("FulfillmentOrderLineItem"), line_item_id=ln.line_item_id,
                    total_quantity=0, remaining_quantity=0)
                first.lines.append(into)
            into.total_quantity += ln.remaining_quantity
            into.remaining_quantity += ln.remaining_quantity
            ln.total_quantity = ln.remaining_quantity = 0
        fo.status, fo.updated_at = "CLOSED", store.now()
    first.updated_at = store.now()
    store.emit(shop.domain, "fulfillment_orders/merged", {
        "merge_intents": intents,
        "fulfillment_order_merges": {"fulfillment_order": payloads.fo_ref(first)}})
    return first


@bp.post("/shops/<shop>/fulfillment_orders/<fo_id>/split")
@control
def split_fulfillment_order(sandbox, shop, fo_id):
    """The merchant splits a fulfillment order: ``{line_items: [{id, quantity}]}`` stay on it."""
    s = _shop(sandbox, shop)
    fo, remaining = split(sandbox.store, s, _id(fo_id, "FulfillmentOrder"),
                          _line_inputs(_body().get("line_items")))
    return {"id": fo.id, "remaining_id": remaining.id if remaining else None}


@bp.post("/shops/<shop>/fulfillment_orders/merge")
@control
def merge_fulfillment_orders(sandbox, shop):
    """The merchant merges fulfillment orders: ``{fulfillment_order_ids: [...]}``."""
    s = _shop(sandbox, shop)
    ids = [_id(i, "FulfillmentOrder") for i in _body()["fulfillment_order_ids"]]
    return {"id": merge(sandbox.store, s, ids).id}
