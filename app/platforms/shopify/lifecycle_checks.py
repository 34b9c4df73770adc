"""Payload checks of the lifecycle topics (handlers: lifecycle.py): locations/*, the
fulfillment-order changes and app/scopes_update, on payload_checks.py's helpers and rules
(the body agrees with where it was delivered, ids are Shopify's, of the right kind)."""
from __future__ import annotations

from app.platforms.shopify.payload_checks import (SHOPIFY, _fulfillment_order_ref,
                                                  _gid_number, _objects, _positive_int,
                                                  _resource_ids, _show)
from app.sync.errors import Rejected
from app.sync.handlers import Delivery

def check_location(delivery: Delivery) -> None:
    """The REST Location resource (locations/delete sends its ``id`` alone)."""
    _resource_ids(delivery.payload, "Location")
    name = delivery.payload.get("name")
    if name is not None and not isinstance(name, str):
        raise Rejected(f"the body's name is {_show(name)}, not a location name")


def check_fulfillment_order_change(delivery: Delivery) -> None:
    """A ``fulfillment_order`` with a FulfillmentOrder id, and every other
    ``*fulfillment_order`` object the payload names (a split's remaining/replacement)."""
    payload = delivery.payload
    _fulfillment_order_ref(payload.get("fulfillment_order"), "fulfillment_order")
    for key, ref in payload.items():
        if key.endswith("fulfillment_order") and key != "fulfillment_order" and ref is not None:
            _fulfillment_order_ref(ref, key)
    hold = payload.get("fulfillment_hold")
    if hold is not None:
        if not isinstance(hold, dict):
            raise Rejected(f"the body's fulfillment_hold is {_show(hold)}, not a hold")
        _gid_number(hold.get("id"), "FulfillmentHold", "fulfillment_hold.id")


def check_fulfillment_orders_merged(delivery: Delivery) -> None:
    """``merge_intents`` name fulfillment orders by positive integer id; the merge result
    (``fulfillment_order_merges``: one object, or a list of them) by FulfillmentOrder gid."""
    payload = delivery.payload
    for intent in _objects(payload, "merge_intents", "the body's merge intent {} is not an object",
                           required=True, a_list="a list of intents"):
        _positive_int(intent, "fulfillment_order_id")
    merges = payload.get("fulfillment_order_merges")
    for merge in merges if isinstance(merges, list) else [merges]:
        if merge is None:
            continue
        if not isinstance(merge, dict):
            raise Rejected(f"the body's fulfillment_order_merges is {_show(merges)}, "
                           "not a merge result")
        _fulfillment_order_ref(merge.get("fulfillment_order"),
                               "fulfillment_order_merges.fulfillment_order")


def check_scopes_update(delivery: Delivery) -> None:
    """``shop_id`` a Shop gid; ``previous`` and ``current`` lists of scope handles. What the
    handler records is read from Shopify (currentAppInstallation), never from this body."""
    payload = delivery.payload
    _gid_number(payload.get("shop_id"), "Shop", "shop_id")
    for field in ("previous", "current"):
        scopes = payload.get(field)
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise Rejected(f"the body's {field} is {_show(scopes)}, not a list of scopes")
