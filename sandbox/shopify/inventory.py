"""Inventory mutations with the 2026-10 rules: required ``@idempotent(key:)``, explicit
``changeFromQuantity`` compare-and-swap, validation of names/reasons/limits before any change."""
from __future__ import annotations

import hashlib
import json

from graphql import GraphQLError
from graphql.utilities import value_from_ast_untyped

from . import operations, views
from .errors import user_errors
from .operations import UserError
from .resolvers import mutation
from .state import gid, iso, parse_gid

SET_NAMES = ("available", "on_hand")
ADJUST_NAMES = ("available", "damaged", "incoming", "quality_control", "reserved",
                "safety_stock")
REASONS = ("correction", "cycle_count_available", "damaged", "movement_created",
           "movement_updated", "movement_received", "movement_canceled", "other", "promotion",
           "quality_control", "received", "reservation_created", "reservation_deleted",
           "reservation_updated", "restock", "safety_stock", "shrinkage")
QUANTITY_LIMIT = 1_000_000_000


def idempotency_key(info) -> str:
    """The ``@idempotent(key:)`` value on this mutation field; required since 2026-04."""
    for node in info.field_nodes:
        for d in node.directives or []:
            if d.name.value == "idempotent":
                arg = next((a for a in d.arguments if a.name.value == "key"), None)
                key = value_from_ast_untyped(arg.value, info.variable_values) if arg else None
                if not isinstance(key, str) or not key.strip():
                    raise GraphQLError("The idempotency key cannot be an empty string or "
                                       "whitespace only.", extensions={"code": "BAD_REQUEST"})
                return key
    raise GraphQLError(f"The @idempotent directive is required for {info.field_name} "
                       "(API version 2026-04 and later).",
                       extensions={"code": "BAD_REQUEST",
                                   "documentation": "https://shopify.dev/docs/api/usage/idempotent-requests"})


def _replay(ctx, info, key: str, args: dict, run):
    """Run once per (app, shop, mutation, key); a replay returns the stored outcome."""
    fingerprint = hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()
    slot = (ctx.app.client_id, ctx.shop.domain, info.field_name, key)
    seen = ctx.store.idempotency.get(slot)
    if seen is not None:
        if seen["fingerprint"] != fingerprint:
            err = UserError("The same idempotency key was used with different parameters.",
                            ["input"], "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
            return {"inventoryAdjustmentGroup": None, "userErrors": user_errors(info, [err])}
        return _present(ctx, info, seen["group_id"], seen["errors"])
    try:
        group_id, errors = run(), []
    except UserError as err:
        group_id, errors = None, [err]
    ctx.store.idempotency[slot] = {"fingerprint": fingerprint, "group_id": group_id,
                                   "errors": errors}
    return _present(ctx, info, group_id, errors)


def _present(ctx, info, group_id, errors) -> dict:
    group = ctx.shop.adjustment_groups.get(group_id) if group_id else None
    return {"inventoryAdjustmentGroup": _group_node(ctx, group) if group else None,
            "userErrors": user_errors(info, errors)}


def _group_node(ctx, group: dict) -> dict:
    shop = ctx.shop

    def changes(info, **a):
        out = []
        for c in group["changes"]:
            if a.get("quantityNames") and c["name"] not in a["quantityNames"]:
                continue
            out.append({"__typename": "InventoryChange", "name": c["name"], "delta": c["delta"],
                        "quantityAfterChange": c["after"], "ledgerDocumentUri": c.get("ledger"),
                        "item": views.item_node(ctx, shop.items[c["item"]]),
                        "location": views.location_node(ctx, shop.locations[c["location"]])})
        return out

    return {"__typename": "InventoryAdjustmentGroup", "id": gid("InventoryAdjustmentGroup",
                                                                group["id"]),
            "createdAt": iso(group["at"]), "reason": group["reason"],
            "referenceDocumentUri": group["reference"], "changes": changes,
            "app": {"__typename": "App", "id": gid("App", ctx.app.id), "title": ctx.app.name,
                    "handle": ctx.app.handle, "apiKey": ctx.app.client_id},
            "staffMember": None}


def _target(ctx, i: int, entry: dict, listname: str):
    shop = ctx.shop
    item_id = parse_gid(entry["inventoryItemId"], "InventoryItem")
    loc_id = parse_gid(entry["locationId"], "Location")
    if item_id not in shop.items or shop.variants[shop.items[item_id].variant_id].deleted:
        raise UserError("The specified inventory item could not be found.",
                        ["input", listname, str(i), "inventoryItemId"], "INVALID_INVENTORY_ITEM")
    if loc_id not in shop.locations or shop.level(item_id, loc_id) is None:
        raise UserError("The specified location could not be found.",
                        ["input", listname, str(i), "locationId"], "INVALID_LOCATION")
    if "changeFromQuantity" not in entry:
        raise UserError("changeFromQuantity must be provided (null skips the compare-and-swap "
                        "check).", ["input", listname, str(i), "changeFromQuantity"],
                        "COMPARE_QUANTITY_REQUIRED")
    return item_id, loc_id


def _check_common(name: str, reason: str, names, reference: str | None) -> None:
    if name not in names:
        raise UserError("The quantity name must be one of: " + ", ".join(names) + ".",
                        ["input", "name"], "INVALID_NAME" if names is SET_NAMES
                        else "INVALID_QUANTITY_NAME")
    if reason not in REASONS:
        raise UserError("The specified reason is invalid.", ["input", "reason"], "INVALID_REASON")
    if reference is not None and ":" not in reference:
        raise UserError("The reference document URI is invalid.",
                        ["input", "referenceDocumentUri"], "INVALID_REFERENCE_DOCUMENT")


def _check_cas(level, name: str, entry: dict, path: list[str]) -> None:
    expected = entry.get("changeFromQuantity")
    if expected is not None and level.quantity(name) != expected:
        raise UserError("The specified compare quantity does not match the current quantity "
                        f"(expected {expected}, is {level.quantity(name)}).", path,
                        "CHANGE_FROM_QUANTITY_STALE")


def _apply(ctx, item_id: int, loc_id: int, name: str, delta: int, changes: list, ledger=None):
    """Apply ``delta`` to quantity ``name`` and record the changes it implies."""
    store, shop = ctx.store, ctx.shop
    level = shop.level(item_id, loc_id)
    if name in ("available", "on_hand"):
        operations.adjust_level(store, shop, item_id, loc_id, on_hand=delta)
        changes.append({"name": "available", "delta": delta, "after": level.available,
                        "item": item_id, "location": loc_id, "ledger": ledger})
        changes.append({"name": "on_hand", "delta": delta, "after": level.on_hand,
                        "item": item_id, "location": loc_id, "ledger": None})
    else:
        if name == "reserved":
            level.reserved += delta
        elif name == "incoming":
            level.incoming += delta
        level.updated_at = store.now()
        changes.append({"name": name, "delta": delta, "after": level.quantity(name),
                        "item": item_id, "location": loc_id, "ledger": ledger})


def _record(ctx, reason: str, reference, changes: list) -> int:
    group_id = ctx.store.next_id("InventoryAdjustmentGroup")
    ctx.shop.adjustment_groups[group_id] = {"id": group_id, "at": ctx.store.now(),
                                            "reason": reason, "reference": reference,
                                            "changes": changes}
    return group_id


@mutation("inventorySetQuantities")
def inventory_set_quantities(ctx, info, input):
    """inventorySetQuantities: absolute quantities, all-or-nothing."""
    key = idempotency_key(info)

    def run():
        _check_common(input["name"], input["reason"], SET_NAMES, input.get("referenceDocumentUri"))
        plan, seen = [], set()
        for i, q in enumerate(input["quantities"]):
            item_id, loc_id = _target(ctx, i, q, "quantities")
            if (item_id, loc_id) in seen:
                raise UserError("The combination of inventoryItemId and locationId must be "
                                "unique.", ["input", "quantities", str(i)],
                                "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR")
            seen.add((item_id, loc_id))
            _check_limits(q["quantity"], ["input", "quantities", str(i), "quantity"])
            level = ctx.shop.level(item_id, loc_id)
            _check_cas(level, input["name"], q,
                       ["input", "quantities", str(i), "changeFromQuantity"])
            plan.append((item_id, loc_id, q["quantity"] - level.quantity(input["name"])))
        changes: list = []
        for item_id, loc_id, delta in plan:
            if delta:
                _apply(ctx, item_id, loc_id, input["name"], delta, changes)
        return _record(ctx, input["reason"], input.get("referenceDocumentUri"), changes)

    return _replay(ctx, info, key, input, run)


def _check_limits(value: int, path: list[str]) -> None:
    if value > QUANTITY_LIMIT:
        raise UserError("The quantity can't be higher than 1,000,000,000.", path,
                        "INVALID_QUANTITY_TOO_HIGH")
    if value < -QUANTITY_LIMIT:
        raise UserError("The quantity can't be lower than -1,000,000,000.", path,
                        "INVALID_QUANTITY_TOO_LOW")


@mutation("inventoryAdjustQuantities")
def inventory_adjust_quantities(ctx, info, input):
    """inventoryAdjustQuantities: deltas, all-or-nothing."""
    key = idempotency_key(info)

    def run():
        name = input["name"]
        _check_common(name, input["reason"], ADJUST_NAMES, input.get("referenceDocumentUri"))
        plan = []
        for i, c in enumerate(input["changes"]):
            item_id, loc_id = _target(ctx, i, c, "changes")
            path = ["input", "changes", str(i)]
            ledger = c.get("ledgerDocumentUri")
            if name == "available" and ledger:
                raise UserError("A ledger document URI is not allowed when adjusting available.",
                                path + ["ledgerDocumentUri"], "INVALID_AVAILABLE_DOCUMENT")
            if name != "available" and not ledger:
                raise UserError("A ledger document URI is required for this quantity name.",
                                path + ["ledgerDocumentUri"], "INVALID_LEDGER_DOCUMENT")
            level = ctx.shop.level(item_id, loc_id)
            _check_cas(level, name, c, path + ["changeFromQuantity"])
            _check_limits(level.quantity(name) + c["delta"], path + ["delta"])
            plan.append((item_id, loc_id, c["delta"], ledger))
        changes: list = []
        for item_id, loc_id, delta, ledger in plan:
            _apply(ctx, item_id, loc_id, name, delta, changes, ledger)
        return _record(ctx, input["reason"], input.get("referenceDocumentUri"), changes)

    return _replay(ctx, info, key, input, run)

