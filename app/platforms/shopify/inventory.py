"""Inventory out to Shopify: absolute `available` quantities with inventorySetQuantities.

Batches of at most 250 quantities (Shopify's limit per call), each call keyed with
``@idempotent`` by a hash of its input (a retry after a crash or timeout replays, never
applies twice) and compare-and-swapped with ``changeFromQuantity`` (what we last saw).
On CHANGE_FROM_QUANTITY_STALE (someone else changed it: an order, the admin) the batch is
re-read and sent again with fresh values. Pacing comes from the client's cost bucket
(``extensions.cost.throttleStatus``), so steady pushing never gets THROTTLED.

What Shopify should show as available = Stockroom's available at the mapped stock
location minus what Shopify itself still holds committed there for its own open orders
(remaining units of open fulfillment orders assigned to that location): Shopify computes
available as on hand minus committed, and Stockroom's count still includes those units.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import replace

from app.extensions import db
from app.platforms.shopify.sync import ShopifyCall
from app.stock.open_orders import held_by_fulfillment_orders, held_by_other_stores
from app.stock.push import PendingPush, record_push_failed, record_remote_quantities
from app.sync.errors import RetryableError
from app.sync.queue import Job
from app.sync.rounds import push_rounds
from app.sync.transactions import commit_step

BATCH = 250
MAX_STALE_ROUNDS = 3


def push_inventory(job: Job) -> str:
    """Push every dirty quantity of the shop, batch by batch."""
    call = ShopifyCall(job.channel_id)
    return push_rounds(job, limit=BATCH, adjust=_adjusted,
                       push=lambda rows: _push_batch(call, rows))


def _adjusted(channel_id: int, batch: list[PendingPush]) -> list[PendingPush]:
    """Subtract Shopify's own committed units (open FO remaining at that location) and the
    units the merchant's other stores hold at the same stock location."""
    usable = [p for p in batch if p.remote_inventory_item_id]
    if len(usable) < len(batch):
        record_push_failed([p for p in batch if not p.remote_inventory_item_id],
                           "Shopify did not give this variant an inventory item")
    if not usable:
        return []
    held = held_by_fulfillment_orders(channel_id, {p.listing_id for p in usable})
    elsewhere = held_by_other_stores(channel_id, usable)
    return [replace(p, quantity=max(p.quantity - held.get((p.channel_location_id, p.listing_id), 0)
                                    - elsewhere.get((p.channel_location_id, p.listing_id), 0), 0))
            for p in usable]


def _push_batch(call: ShopifyCall, batch: list[PendingPush]
                ) -> tuple[list[PendingPush], dict[str, list[PendingPush]]]:
    """Set the batch's quantities; returns (pushed, {error message: refused rows})."""
    unknown = [p for p in batch if p.remote_quantity is None]
    if unknown:
        batch = _with_remote_quantities(call, batch, unknown)
    for _ in range(MAX_STALE_ROUNDS):
        todo = [p for p in batch if p.remote_quantity != p.quantity]
        if not todo:
            return batch, {}
        result = _set_quantities(call, todo)
        errors = result["userErrors"]
        if not errors:
            return batch, {}
        if any(e.get("code") == "CHANGE_FROM_QUANTITY_STALE" for e in errors):
            batch = _with_remote_quantities(call, batch, todo)
            continue
        # Anything else refuses the whole call: name the rows it points at, if it does.
        refused = _rows_named(errors, todo)
        if not refused:
            return [], {_message(errors): batch}
        named = {p.state_id for rows in refused.values() for p in rows}
        batch = [p for p in batch if p.state_id not in named]
        ok, more = _push_batch(call, batch) if batch else ([], {})
        return ok, {**refused, **more}
    raise RetryableError("Shopify's quantities kept changing under the push; trying again later")


def _set_quantities(call: ShopifyCall, rows: list[PendingPush]) -> dict:
    quantities = [{"inventoryItemId": p.remote_inventory_item_id,
                   "locationId": p.location_remote_id, "quantity": p.quantity,
                   "changeFromQuantity": p.remote_quantity} for p in rows]
    payload = {"name": "available", "reason": "correction", "quantities": quantities,
               "referenceDocumentUri": "gid://stockroom/InventorySync/"
                                       + str(rows[0].channel_location_id)}
    key = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return call("InventorySetQuantities", {"input": payload, "idempotencyKey": key}
                )["inventorySetQuantities"]


def _with_remote_quantities(call: ShopifyCall, batch: list[PendingPush],
                            stale: list[PendingPush]) -> list[PendingPush]:
    """Re-read what Shopify shows for ``stale`` rows; returns the batch with them updated."""
    by_location: dict[str, list[PendingPush]] = defaultdict(list)
    for p in stale:
        by_location[p.location_remote_id].append(p)
    seen: dict[int, int] = {}
    for location_id, rows in by_location.items():
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            nodes = call("InventoryLevelsForPush", {
                "ids": sorted({p.remote_inventory_item_id for p in chunk}),
                "locationId": location_id})["nodes"]
            current = {}
            for node in nodes:
                level = (node or {}).get("inventoryLevel")
                if node and level:
                    current[node["id"]] = next((q["quantity"] for q in level["quantities"]
                                                if q["name"] == "available"), 0)
            for p in chunk:
                # No level at that location yet: Shopify counts it as 0 (the set creates it).
                seen[p.state_id] = current.get(p.remote_inventory_item_id, 0)
    record_remote_quantities(seen)
    commit_step()
    return [replace(p, remote_quantity=seen[p.state_id]) if p.state_id in seen else p
            for p in batch]


def _rows_named(errors: list[dict], rows: list[PendingPush]) -> dict[str, list[PendingPush]]:
    """Map userErrors with a field path like ["input","quantities","3",…] to their rows."""
    refused: dict[str, list[PendingPush]] = defaultdict(list)
    for error in errors:
        field = error.get("field") or []
        if len(field) >= 3 and field[1] == "quantities" and str(field[2]).isdigit():
            index = int(field[2])
            if index < len(rows):
                refused[f"Shopify refused the quantity: {error['message']}"].append(rows[index])
    return dict(refused)


def _message(errors: list[dict]) -> str:
    return "Shopify refused the quantities: " + "; ".join(e["message"] for e in errors)[:500]
