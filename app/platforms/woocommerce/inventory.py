"""Inventory out to WooCommerce: absolute ``stock_quantity`` through the batch endpoints.

Dirty quantities come from app/stock/push.py (coalesced by generation, read at push
time). Simple products go through ``products/batch``, variations through
``products/{parent}/variations/batch``, at most 100 items per request (WooCommerce's
limit). What the store should show = Stockroom's available at the mapped stock location
minus the units of this store's open orders not yet fulfilled here: WooCommerce already
took those off its own stock when the order was paid, while Stockroom still counts them
on hand until they ship.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from app.platforms.woocommerce.client import StoreClient, WooError
from app.platforms.woocommerce.connect import client_for
from app.stock.open_orders import held_by_open_orders, held_by_other_stores
from app.stock.push import PendingPush
from app.sync.queue import Job
from app.sync.rounds import push_rounds

BATCH = 100
#: Rows read per round (several batch requests); app/sync/rounds.py's push_rounds hands
#: what is left after 20 s to a follow-up job (fair between stores, inside the lease).
ROUND = 500
UNMANAGED = ("Stock management is off for this product on the store, so WooCommerce ignores "
             "the quantity: turn on \u201cManage stock?\u201d to let Stockroom set it.")


def push_inventory(job: Job) -> str:
    """Push every dirty quantity of the store, 100 per batch request."""
    client = client_for(job.channel_id)
    requests = 0

    def push(rows: list[PendingPush]):
        nonlocal requests
        ok, errors, sent = _push(client, rows)
        requests += sent
        return ok, errors

    note = push_rounds(job, limit=ROUND, adjust=_adjusted, push=push)
    return f"{note} ({requests} batch requests)"


def _adjusted(channel_id: int, rows: list[PendingPush]) -> list[PendingPush]:
    """Take off what the store already took for its open orders (not fulfilled here) and
    what the merchant's other stores hold at the same stock location."""
    if not rows:
        return rows
    held = held_by_open_orders(channel_id, {r.listing_id for r in rows})
    elsewhere = held_by_other_stores(channel_id, rows)
    return [replace(r, quantity=max(r.quantity - int(held.get(r.listing_id) or 0)
                                    - elsewhere.get((r.channel_location_id, r.listing_id), 0), 0))
            for r in rows]


def _push(client: StoreClient, rows: list[PendingPush]
          ) -> tuple[list[PendingPush], dict[str, list[PendingPush]], int]:
    """Send ``rows`` grouped by endpoint; returns (pushed, {error: rows}, requests made)."""
    groups: dict[str, list[PendingPush]] = defaultdict(list)
    for row in rows:
        simple = row.remote_product_id in ("", row.remote_variant_id)
        groups["products/batch" if simple
               else f"products/{row.remote_product_id}/variations/batch"].append(row)
    ok: list[PendingPush] = []
    errors: dict[str, list[PendingPush]] = defaultdict(list)
    sent = 0
    for endpoint, group in groups.items():
        for start in range(0, len(group), BATCH):
            chunk = group[start:start + BATCH]
            sent += 1
            try:
                answer = client.post(endpoint, {"update": [
                    {"id": int(r.remote_variant_id), "stock_quantity": r.quantity}
                    for r in chunk]}, what=f"setting {len(chunk)} stock quantities")
            except WooError as exc:
                if exc.status == 401:
                    raise  # the key itself: the job fails where the merchant sees it
                errors[str(exc)].extend(chunk)
                continue
            _sort(chunk, answer.get("update") or [], ok, errors)
    return ok, errors, sent


def _sort(chunk: list[PendingPush], results: list[dict], ok: list[PendingPush],
          errors: dict[str, list[PendingPush]]) -> None:
    """Per-item results of a batch: refused items carry ``error``; unmanaged stock too."""
    by_id = {str(item.get("id")): item for item in results}
    for row in chunk:
        item = by_id.get(row.remote_variant_id)
        if item is None:
            errors["WooCommerce did not answer for this product in the batch."].append(row)
        elif item.get("error"):
            error = item["error"]
            errors[f"WooCommerce refused the quantity: {error.get('message', '')} "
                   f"({error.get('code', '')})."].append(row)
        elif item.get("manage_stock") is False:
            errors[UNMANAGED].append(row)
        else:
            ok.append(row)
