"""Fulfillment-order merges a merchant makes in the Shopify admin, with the webhook Shopify
sends for them, in the shape of its published example (a split is operations.split, its
control in controls.py)."""
from __future__ import annotations

from . import payloads
from .controls import _body, _id, _shop, bp, control
from .operations import UserError, _has_progress, get_fo
from .state import FOLine, Shop, Store

SPLITTABLE = ("OPEN", "IN_PROGRESS")


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


@bp.post("/shops/<shop>/fulfillment_orders/merge")
@control
def merge_fulfillment_orders(sandbox, shop):
    """The merchant merges fulfillment orders: ``{fulfillment_order_ids: [...]}``."""
    s = _shop(sandbox, shop)
    ids = [_id(i, "FulfillmentOrder") for i in _body()["fulfillment_order_ids"]]
    return {"id": merge(sandbox.store, s, ids).id}
