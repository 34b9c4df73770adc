"""Bench 3: inventory convergence — 10,000 SKUs x 2 mapped Shopify locations all change at once.

Seconds from the commit of the change until the Shopify sandbox shows every new
quantity, under the sandbox's default (standard plan) rate limit, with one `flask worker`.
Reported next to the minimum that limit allows for the calls Stockroom needs
(inventorySetQuantities takes 250 quantities per call; requested cost from the
sandbox's own cost calculator; the bucket starts full) and next to the per-item
strategy (one call per level) under the same limit, computed the same way.

WooCommerce (the other half of the figure) is not driven yet: it is reported as not
measured, next to the batch requests its minimum needs.
"""
from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from bench.common import database, make_app
from bench.report import Figure, Results

SKUS = 10_000
PER_PRODUCT = 100
BATCH = 250


def _has_woocommerce_push() -> bool:
    try:
        import app.platforms.woocommerce  # noqa: F401
    except ImportError:
        return False
    return True


def _call_cost(document: str, variables: dict) -> int:
    """Requested cost of one call, as the sandbox's throttle computes it."""
    from graphql import parse

    from sandbox.shopify.config import SandboxConfig
    from sandbox.shopify.schema import load_schema
    from sandbox.shopify.throttle import CostCalculator

    schema = load_schema(str(SandboxConfig().schema_dir)).schema
    doc = parse(document)
    operation = next(d for d in doc.definitions if hasattr(d, "operation"))
    return CostCalculator(schema, doc, operation, variables).requested()


def _set_cost(n: int) -> int:
    from app.platforms.shopify.client import load_document

    quantities = [{"inventoryItemId": f"gid://shopify/InventoryItem/{i}",
                   "locationId": "gid://shopify/Location/1", "quantity": 1,
                   "changeFromQuantity": 0} for i in range(n)]
    return _call_cost(load_document("InventorySetQuantities"), {
        "input": {"name": "available", "reason": "correction", "quantities": quantities},
        "idempotencyKey": "k"})


def _synced_state(url: str, merchant_id: int, skus: list[str], snap: dict,
                  merchant_locs: list[dict]) -> tuple[int, int]:
    """What the install's import and a first push leave behind, written in bulk.

    Two stock locations mapped to the shop's two merchant locations, the SKUs (5 on hand
    at each, as on Shopify), their listings, and push states that say Shopify shows 5:
    the starting point of the measured change. (The import itself is not what bench 3
    measures, and at 10,000 variants it would take minutes.)
    """
    from sqlalchemy import insert, select, update

    from app.extensions import db
    from app.models import (Channel, ChannelListing, ChannelLocation, InventoryItem,
                            InventoryLevel, InventoryMovement, InventoryPushState, OutboxEvent,
                            StockLocation)

    app = make_app(url)
    now = dt.datetime.now(dt.UTC)
    variants = {v["sku"]: v for v in snap["variants"]}
    with app.app_context():
        channel_id = db.session.scalar(select(Channel.id).where(
            Channel.merchant_id == merchant_id))
        # The install's import job: done already, as far as this bench is concerned.
        db.session.execute(update(OutboxEvent).where(OutboxEvent.channel_id == channel_id)
                           .values(status="done", done_at=now))
        locs, channel_locs = [], []
        for name, remote in zip(("Warehouse", "Downtown"), merchant_locs):
            loc = StockLocation(merchant_id=merchant_id, name=name)
            db.session.add(loc)
            db.session.flush()
            cl = ChannelLocation(merchant_id=merchant_id, channel_id=channel_id,
                                 remote_id=remote["gid"], name=remote["name"],
                                 kind="merchant_managed", stock_location_id=loc.id)
            db.session.add(cl)
            db.session.flush()
            locs.append(loc.id)
            channel_locs.append(cl.id)
        db.session.execute(insert(InventoryItem), [
            {"merchant_id": merchant_id, "sku": sku, "title": sku, "created_at": now}
            for sku in skus])
        items = dict(db.session.execute(select(InventoryItem.sku, InventoryItem.id).where(
            InventoryItem.merchant_id == merchant_id)).all())
        db.session.execute(insert(ChannelListing), [
            {"merchant_id": merchant_id, "channel_id": channel_id, "remote_product_id": "",
             "remote_variant_id": f"gid://shopify/ProductVariant/{variants[sku]['id']}",
             "remote_inventory_item_id":
                 f"gid://shopify/InventoryItem/{variants[sku]['inventory_item_id']}",
             "sku": sku, "title": sku, "inventory_item_id": items[sku], "created_at": now}
            for sku in skus])
        listings = db.session.scalars(select(ChannelListing.id).where(
            ChannelListing.channel_id == channel_id)).all()
        db.session.execute(insert(InventoryLevel), [
            {"merchant_id": merchant_id, "location_id": loc, "item_id": item, "on_hand": 5,
             "committed": 0, "updated_at": now} for loc in locs for item in items.values()])
        levels = db.session.scalars(select(InventoryLevel.id).where(
            InventoryLevel.merchant_id == merchant_id)).all()
        db.session.execute(insert(InventoryMovement), [
            {"merchant_id": merchant_id, "level_id": lvl, "delta": 5, "on_hand_after": 5,
             "reason": "received", "note": "bench", "created_at": now} for lvl in levels])
        db.session.execute(insert(InventoryPushState), [
            {"merchant_id": merchant_id, "channel_id": channel_id, "channel_location_id": cl,
             "listing_id": li, "generation": 1, "pushed_generation": 1, "remote_quantity": 5,
             "last_error": "", "updated_at": now} for cl in channel_locs for li in listings])
        db.session.commit()
        db.engine.dispose()
    return locs[0], locs[1]


def _levels(stack, shop: str, skus: set[str], location_ids: set[int]) -> dict:
    snap = stack.sandbox.control("GET", f"shops/{shop}")
    return {(lv["sku"], lv["location_id"]): lv["available"] for lv in snap["levels"]
            if lv["sku"] in skus and lv["location_id"] in location_ids}


def run(results: Results, *, skus: int = SKUS) -> None:
    """Set up the shop and the app, change every quantity at once, time the convergence."""
    from bench.apply import SHOP, Stack
    from bench.servers import SyncWorker

    names = [f"BENCH-{i:05d}" for i in range(skus)]
    with tempfile.TemporaryDirectory() as folder, database("postgresql", "inventory") as url:
        stack = Stack(url, Path(folder), install=False)
        worker = None
        clock = [time.monotonic()]
        try:
            snap = stack.sandbox.control("GET", f"shops/{SHOP}")
            merchant_locs = [loc for loc in snap["locations"] if loc["kind"] == "merchant"][:2]
            for start in range(0, skus, PER_PRODUCT):
                stack.sandbox.control("POST", f"shops/{SHOP}/products", {
                    "title": f"Bench product {start // PER_PRODUCT}",
                    "variants": [{"title": n, "sku": n, "price": "10.00", "on_hand": 5}
                                 for n in names[start:start + PER_PRODUCT]]})
            _phase("sandbox, app and catalog ready", clock)
            merchant_id = stack.install()
            snap = stack.sandbox.control("GET", f"shops/{SHOP}")
            warehouse, downtown = _synced_state(url, merchant_id, names, snap, merchant_locs)
            worker = SyncWorker(stack.env)
            _phase("app state in place", clock)
            # Back to the standard plan (the set-up ran unthrottled), with a full bucket.
            stack.sandbox.control("POST", f"shops/{SHOP}/plan", {"plan": "standard"})
            time.sleep(21)
            target = _change_everything(url, merchant_id, (warehouse, downtown))
            started = time.monotonic()
            want = {(n, loc["id"]): target for n in names for loc in merchant_locs}
            # The app records a quantity as pushed only after Shopify accepted it: poll that
            # (cheap), then check the sandbox itself once (and poll it if anything differs).
            _wait(lambda: stack.count("inventory_push_states",
                                      f"remote_quantity = {target}") >= len(want), 600)
            _phase("pushed (app's view)", clock)
            skus_set, loc_ids = set(names), {loc["id"] for loc in merchant_locs}
            while True:
                seen = _levels(stack, SHOP, skus_set, loc_ids)
                done = sum(1 for k, v in want.items() if seen.get(k) == v)
                if done == len(want):
                    break
                if time.monotonic() - started > 600:
                    raise RuntimeError(f"only {done} of {len(want)} quantities converged")
                time.sleep(1)
            seconds = time.monotonic() - started
        finally:
            if worker:
                worker.stop()
            stack.stop()
    levels = 2 * skus
    calls = -(-levels // BATCH)
    batch_cost, one_cost = _set_cost(BATCH), _set_cost(1)
    restore, bucket = 100.0, 2000.0  # the sandbox's standard plan (sandbox/shopify/throttle.py)
    minimum = max(0.0, calls * batch_cost - bucket) / restore
    per_item = max(0.0, levels * one_cost - bucket) / restore
    results.add(Figure(
        "3 inventory convergence", f"{skus:,} SKUs x 2 Shopify locations change at once",
        "flask worker (1), PostgreSQL, sandbox standard plan (100 points/s, 2,000 bucket; "
        "state before the change written in bulk)",
        f"Shopify: {seconds:.1f} s",
        f"limit-bound minimum: {minimum:.1f} s ({calls} calls x {batch_cost} points); "
        f"per-item strategy: {per_item:,.0f} s ({levels:,} calls x {one_cost} points)",
        "within 1.25x of the limit-bound minimum",
        seconds <= 1.25 * minimum if minimum > 0 else False,
        note="with the whole push inside the bucket the limit allows ~0 s, so the bar "
             "can only be met by the rate limit binding; what bounds this figure is "
             "Stockroom's fan-out + push work and the sandbox's CPU on the same cores. "
             "WooCommerce: see the next row."))
    results.add(Figure(
        "3 inventory convergence", "WooCommerce store converges (same change)", "-",
        "not measured", f"batch-bound minimum: {-(-skus // 100)} batch requests of 100",
        "within 1.25x of the batch-bound minimum", None,
        note="the WooCommerce batch push (app/platforms/woocommerce/inventory.py) landed "
             "after this harness was written; it does not drive a WooCommerce sandbox yet"
             if _has_woocommerce_push() else "no WooCommerce adapter in the app yet"))


def _phase(name: str, since: list) -> None:
    now = time.monotonic()
    print(f"    inventory: {name} in {now - since[0]:.1f} s", flush=True)
    since[0] = now


def _wait(done, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not finish in time")
        time.sleep(0.2)


def _map(url: str, merchant_id: int, mapping: dict[str, int]) -> None:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ChannelLocation
    from app.stock.locations import map_channel_location

    app = make_app(url)
    with app.app_context():
        for remote_id, stock_location in mapping.items():
            cl = db.session.scalar(select(ChannelLocation).where(
                ChannelLocation.merchant_id == merchant_id, ChannelLocation.remote_id == remote_id))
            map_channel_location(merchant_id, cl.id, stock_location)
        db.session.commit()
        db.engine.dispose()


def _change_everything(url: str, merchant_id: int, locations: tuple[int, int]) -> int:
    """+3 of every item at both locations, one commit; returns the new quantity (8)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import InventoryItem, StockLocation
    from app.stock.levels import apply_movements

    app = make_app(url)
    with app.app_context():
        items = db.session.scalars(select(InventoryItem.id).where(
            InventoryItem.merchant_id == merchant_id, InventoryItem.sku.like("BENCH-%"))).all()
        for loc_id in locations:
            apply_movements(merchant_id, db.session.get(StockLocation, loc_id),
                            {i: 3 for i in items}, reason="received", note="bench")
        db.session.commit()
        db.engine.dispose()
    return 8


if __name__ == "__main__":
    from bench.common import machine

    res = Results(machine())
    run(res, skus=int(sys.argv[1]) if len(sys.argv) > 1 else SKUS)
