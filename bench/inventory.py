"""Bench 3: inventory convergence — 10,000 SKUs x 2 mapped Shopify locations + a WooCommerce store.

Seconds from the commit of one change (+3 of every item at both stock locations) until
BOTH sandboxes show every new quantity: the Shopify sandbox (20,000 levels, standard plan)
and the WooCommerce sandbox (10,000 simple products mapped to the first stock location),
with one `flask worker`. Each side is also reported on its own.

Reference: the minimum the platforms' limits allow, as issue #8 defines it:
- Shopify: total cost / restore rate = the inventorySetQuantities calls needed (250
  quantities each) x their requested cost (the sandbox's own cost calculator) / the plan's
  restore rate. The bucket-aware minimum (the bucket starts full, so a push that fits in it
  needs no waiting) is shown too.
- WooCommerce (no rate limit in WooCommerce itself): the batch requests needed (100 items
  each) x the sandbox's time per batch request, measured in the same run by timing raw
  batch calls made with the `woocommerce` library alone (no Stockroom code).
The two platforms' limits are independent, so the minimum for both is the larger of the two.
Next to it, the per-item strategy many connectors use (one call per level) under the same
limits: Shopify 20,000 calls x their cost / restore rate; WooCommerce 10,000 single-product
updates x the measured time of one.
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
#: `flask worker --threads`: the Shopify and the WooCommerce push run side by side.
THREADS = 2


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
    from app.models._common import utcnow
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
                                 kind="merchant_managed", stock_location_id=loc.id,
                                 # the merchant confirmed the opening stock (issue #16's
                                 # gate): pushes may go there
                                 stock_truth="stockroom", stock_confirmed_at=utcnow())
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


def _woo_store(woo, skus: list[str]) -> tuple[str, dict, dict[str, int]]:
    """An empty store with the SKUs as simple products (5 in stock); (slug, key, sku -> id)."""
    slug = "bench-store"
    woo.control("POST", "stores", {"slug": slug, "name": "Bench store", "catalog": False,
                                   "shipment_tracking": False})
    key = woo.control("POST", f"stores/{slug}/keys", {"permissions": "read_write"})
    ids: dict[str, int] = {}
    for start in range(0, len(skus), 1000):
        created = woo.control("POST", f"stores/{slug}/products", {"products": [
            {"name": sku, "sku": sku, "price": "10.00", "stock": 5}
            for sku in skus[start:start + 1000]]})
        ids.update({p["sku"]: p["id"] for p in created})
    return slug, key, ids


def _woo_state(url: str, merchant_id: int, encryption_key: str, store_url: str, key: dict,
               product_ids: dict[str, int], location_id: int) -> int:
    """What connecting the store, its import and a first push leave behind, written in bulk:
    the channel (keys encrypted), its store location mapped to ``location_id``, a listing
    per SKU and push states saying the store shows 5. Returns the channel id."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models._common import utcnow
    from app.models import (Channel, ChannelListing, ChannelLocation, ChannelStatus,
                            InventoryItem, InventoryPushState, Platform)
    from app.security.keyring import get_keyring

    app = make_app(url, ENCRYPTION_KEYS=[encryption_key])
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        channel = Channel(merchant_id=merchant_id, platform=Platform.WOOCOMMERCE,
                          domain=store_url, name="Bench store", status=ChannelStatus.ACTIVE,
                          scopes="read_write", sync_cursors={},
                          credentials_encrypted=get_keyring().encrypt_json({
                              "consumer_key": key["consumer_key"],
                              "consumer_secret": key["consumer_secret"],
                              "key_id": key["key_id"], "permissions": "read_write"}))
        db.session.add(channel)
        db.session.flush()
        location = ChannelLocation(merchant_id=merchant_id, channel_id=channel.id,
                                   remote_id="store", name="Bench store", kind="store",
                                   stock_location_id=location_id, stock_truth="stockroom",
                                   stock_confirmed_at=utcnow())
        db.session.add(location)
        db.session.flush()
        items = dict(db.session.execute(select(InventoryItem.sku, InventoryItem.id).where(
            InventoryItem.merchant_id == merchant_id)).all())
        db.session.execute(insert(ChannelListing), [
            {"merchant_id": merchant_id, "channel_id": channel.id,
             "remote_product_id": str(pid), "remote_variant_id": str(pid),
             "remote_inventory_item_id": str(pid), "sku": sku, "title": sku,
             "inventory_item_id": items[sku], "created_at": now}
            for sku, pid in product_ids.items()])
        listings = db.session.scalars(select(ChannelListing.id).where(
            ChannelListing.channel_id == channel.id)).all()
        db.session.execute(insert(InventoryPushState), [
            {"merchant_id": merchant_id, "channel_id": channel.id,
             "channel_location_id": location.id, "listing_id": li, "generation": 1,
             "pushed_generation": 1, "remote_quantity": 5, "last_error": "",
             "updated_at": now} for li in listings])
        channel_id = channel.id
        db.session.commit()
        db.engine.dispose()
    return channel_id


def _woo_api(store_url: str, key: dict):
    """The `woocommerce` library as Stockroom configures it (OAuth 1.0a over http)."""
    from woocommerce import API

    return API(url=store_url, consumer_key=key["consumer_key"],
               consumer_secret=key["consumer_secret"], wp_api=True, version="wc/v3",
               timeout=30)


def _time_woo_calls(store_url: str, key: dict, product_ids: list[int], *, tries: int = 7
                    ) -> tuple[float, float]:
    """Median seconds of one raw batch request of 100 and of one single-product update,
    made with the library alone (each sets the quantity the store already shows)."""
    import statistics

    api = _woo_api(store_url, key)
    batch, single = [], []
    for n in range(tries):
        chunk = product_ids[n * 100:(n + 1) * 100]
        started = time.perf_counter()
        answer = api.post("products/batch", {"update": [
            {"id": pid, "stock_quantity": 5} for pid in chunk]})
        batch.append(time.perf_counter() - started)
        if answer.status_code != 200 or len(answer.json()["update"]) != len(chunk):
            raise RuntimeError(f"raw batch call failed: HTTP {answer.status_code}")
        started = time.perf_counter()
        answer = api.put(f"products/{product_ids[-1 - n]}", {"stock_quantity": 5})
        single.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"raw product update failed: HTTP {answer.status_code}")
    return statistics.median(batch), statistics.median(single)


def _woo_levels(store_url: str, key: dict) -> dict[str, int]:
    """SKU -> stock_quantity of every product on the store (100 a page)."""
    api = _woo_api(store_url, key)
    seen: dict[str, int] = {}
    page = 1
    while True:
        answer = api.get("products", params={"per_page": 100, "page": page})
        items = answer.json()
        seen.update({p["sku"]: p["stock_quantity"] for p in items})
        if page >= int(answer.headers.get("X-WP-TotalPages") or 0) or not items:
            return seen
        page += 1


def run(results: Results, *, skus: int = SKUS) -> None:
    """Set up both sandboxes and the app, change every quantity at once, time the convergence."""
    from bench.apply import SHOP, Stack
    from bench.servers import SyncWorker, WooSandbox
    from sandbox.shopify.throttle import PLANS

    names = [f"BENCH-{i:05d}" for i in range(skus)]
    with tempfile.TemporaryDirectory() as folder, database("postgresql", "inventory") as url:
        stack = Stack(url, Path(folder), install=False)
        woo = worker = None
        clock = [time.monotonic()]
        try:
            woo = WooSandbox(Path(folder) / "woo-tls", stack.env)
            snap = stack.sandbox.control("GET", f"shops/{SHOP}")
            merchant_locs = [loc for loc in snap["locations"] if loc["kind"] == "merchant"][:2]
            for start in range(0, skus, PER_PRODUCT):
                stack.sandbox.control("POST", f"shops/{SHOP}/products", {
                    "title": f"Bench product {start // PER_PRODUCT}",
                    "variants": [{"title": n, "sku": n, "price": "10.00", "on_hand": 5}
                                 for n in names[start:start + PER_PRODUCT]]})
            slug, woo_key, woo_ids = _woo_store(woo, names)
            store_url = f"{woo.http_url}/stores/{slug}"
            _phase("sandboxes, app and catalogs ready", clock)
            merchant_id = stack.install()
            snap = stack.sandbox.control("GET", f"shops/{SHOP}")
            warehouse, downtown = _synced_state(url, merchant_id, names, snap, merchant_locs)
            woo_channel = _woo_state(url, merchant_id, stack.key, store_url, woo_key, woo_ids,
                                     warehouse)
            _analyze(url)
            # The store is on loopback over plain http: allowed for the sandbox only.
            stack.env.update(WOOCOMMERCE_SANDBOX_ORIGINS=woo.http_url,
                             WOOCOMMERCE_CA_BUNDLE=woo.ca_bundle)
            worker = SyncWorker(stack.env, threads=THREADS)
            _phase("app state in place", clock)
            per_batch, per_product = _time_woo_calls(store_url, woo_key, list(woo_ids.values()))
            # Back to the standard plan (the set-up ran unthrottled), with a full bucket.
            stack.sandbox.control("POST", f"shops/{SHOP}/plan", {"plan": "standard"})
            time.sleep(21)
            target = _change_everything(url, merchant_id, (warehouse, downtown))
            started = time.monotonic()
            shopify_levels, woo_levels = 2 * skus, skus
            # The app records a quantity as pushed only after the platform accepted it: poll
            # that (cheap) for each side, then check each sandbox itself once.
            done = _converge(stack, woo_channel, {"shopify": shopify_levels, "woo": woo_levels},
                             target, started)
            _phase("pushed (app's view)", clock)
            shopify_s = _confirm(lambda: _shopify_missing(stack, SHOP, names, merchant_locs,
                                                          target), done["shopify"], started)
            woo_s = _confirm(lambda: woo_levels - sum(
                1 for q in _woo_levels(store_url, woo_key).values() if q == target),
                done["woo"], started)
            _phase("both sandboxes checked", clock)
            # Each side alone (issue #21 item 1), on the same state: the other channel's
            # locations are unconfirmed for the phase (nothing fans out or pushes there),
            # then confirmed again.
            alone = {}
            for side, rows, other in (("woo", woo_levels, f"channel_id <> {woo_channel}"),
                                      ("shopify", shopify_levels, f"channel_id = {woo_channel}")):
                held = _sql(url, "UPDATE channel_locations SET stock_confirmed_at = NULL "
                                 f"WHERE {other} AND stock_confirmed_at IS NOT NULL RETURNING id")
                time.sleep(21)  # a full Shopify bucket again, as for the phase together
                target = _change_everything(url, merchant_id, (warehouse, downtown))
                started = time.monotonic()
                alone[side] = _converge(stack, woo_channel, {side: rows}, target, started)[side]
                _sql(url, "UPDATE channel_locations SET stock_confirmed_at = now() WHERE id IN "
                          f"({', '.join(str(i) for i in held)}) RETURNING id")
                _phase(f"{side} alone", clock)
        finally:
            for proc in (worker, woo):
                if proc:
                    proc.stop()
            stack.stop()
    _report(results, skus=skus, shopify_s=shopify_s, woo_s=woo_s, per_batch=per_batch,
            per_product=per_product, plan=PLANS["standard"], alone=alone)


def _converge(stack, woo_channel: int, sides: dict[str, int], target: int,
              started: float) -> dict[str, float]:
    """Seconds until the app has recorded every quantity of each side ({side: rows}) as
    pushed: it does so only after the platform accepted it (cheap to poll)."""
    done: dict[str, float] = {}
    while len(done) < len(sides):
        if time.monotonic() - started > 600:
            raise RuntimeError(f"the push did not finish in time ({done})")
        for side, rows in sides.items():
            where = f"channel_id {'=' if side == 'woo' else '<>'} {woo_channel}"
            if side not in done and stack.count(
                    "inventory_push_states", f"{where} AND remote_quantity = {target}") >= rows:
                done[side] = time.monotonic() - started
        time.sleep(0.1)
    return done


def _sql(url: str, statement: str) -> list:
    """Run one bench-owned statement (with RETURNING), committed; the first column of each row."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        rows = [row[0] for row in conn.execute(text(statement))]
    engine.dispose()
    return rows


def _confirm(missing, app_seconds: float, started: float) -> float:
    """The app's time when the sandbox agrees now; else poll it and take the time it does."""
    if missing() == 0:
        return app_seconds
    while True:
        left = missing()
        if left == 0:
            return time.monotonic() - started
        if time.monotonic() - started > 600:
            raise RuntimeError(f"{left} quantities never converged on the sandbox")
        time.sleep(1)


def _shopify_missing(stack, shop: str, names: list[str], merchant_locs: list[dict],
                     target: int) -> int:
    seen = _levels(stack, shop, set(names), {loc["id"] for loc in merchant_locs})
    return sum(1 for n in names for loc in merchant_locs if seen.get((n, loc["id"])) != target)


def _analyze(url: str) -> None:
    """Statistics as autovacuum leaves them on a live database (every row clean): the burst
    of dirty rows after the change is then news to the planner, as it is in production."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def _report(results: Results, *, skus: int, shopify_s: float, woo_s: float, per_batch: float,
            per_product: float, plan: tuple[float, float], alone: dict[str, float]) -> None:
    restore, bucket = plan
    levels = 2 * skus
    calls = -(-levels // BATCH)
    batch_cost, one_cost = _set_cost(BATCH), _set_cost(1)
    shopify_min = calls * batch_cost / restore  # issue #8: total cost / restore rate
    shopify_bucket_min = max(0.0, calls * batch_cost - bucket) / restore
    shopify_per_item = levels * one_cost / restore
    requests = -(-skus // 100)
    woo_min = requests * per_batch
    woo_per_item = skus * per_product
    both, both_min = max(shopify_s, woo_s), max(shopify_min, woo_min)
    setting = (f"one flask worker (--threads {THREADS}), PostgreSQL, Shopify sandbox standard plan "
               f"({restore:.0f} points/s, {bucket:,.0f}-point bucket), WooCommerce sandbox "
               "(no rate limit, like WooCommerce); state before the change written in bulk")
    results.add(Figure(
        "3 inventory convergence",
        f"{skus:,} SKUs x (2 Shopify locations + 1 WooCommerce store) change at once: "
        "both sandboxes show every new quantity", setting,
        f"{both:.1f} s (Shopify {shopify_s:.1f} s, WooCommerce {woo_s:.1f} s)",
        f"limit-bound minimum {both_min:.1f} s = the larger of Shopify {shopify_min:.1f} s and "
        f"WooCommerce {woo_min:.1f} s (the limits are independent); per-item strategy "
        f"{max(shopify_per_item, woo_per_item):,.0f} s",
        "within 1.25x of the limit-bound minimum", both <= 1.25 * both_min,
        note=f"{both / both_min:.2f}x the minimum. Shopify's minimum is issue #8's total cost / "
             f"restore rate ({calls} inventorySetQuantities calls x {batch_cost} points / "
             f"{restore:.0f} points/s); WooCommerce's is the batch requests needed "
             f"({requests} of 100) x the sandbox's time per batch request "
             f"({per_batch * 1000:.0f} ms, median of raw calls made in this run with the "
             "woocommerce library alone). The Shopify push fits in the full bucket, so its "
             f"bucket-aware minimum is {shopify_bucket_min:.1f} s; counted that way the "
             f"minimum for both would be {max(shopify_bucket_min, woo_min):.1f} s "
             f"({both / max(shopify_bucket_min, woo_min, 1e-9):.1f}x)."))
    results.add(Figure(
        "3 inventory convergence", f"Shopify: {levels:,} levels (2 locations)", setting,
        f"{shopify_s:.1f} s ({shopify_s / shopify_min:.2f}x its minimum)",
        f"minimum (total cost / restore rate) {shopify_min:.1f} s: {calls} calls x "
        f"{batch_cost} points / {restore:.0f} points/s; bucket-aware {shopify_bucket_min:.1f} s "
        f"(the push fits in the full {bucket:,.0f}-point bucket); per-item strategy "
        f"{shopify_per_item:,.0f} s ({levels:,} calls x {one_cost} points)",
        note="one side of the figure above (no bar of its own)"))
    results.add(Figure(
        "3 inventory convergence", f"WooCommerce: {skus:,} products", setting,
        f"{woo_s:.1f} s ({woo_s / woo_min:.1f}x its minimum)",
        f"minimum {woo_min:.1f} s: {requests} batch requests x {per_batch * 1000:.0f} ms; "
        f"per-item strategy {woo_per_item:,.0f} s ({skus:,} requests x "
        f"{per_product * 1000:.0f} ms)",
        note="one side of the figure above (no bar of its own); it runs beside the Shopify "
             "push, on the same 2 cores"))
    woo_alone, shopify_alone = alone["woo"], alone["shopify"]
    results.add(Figure(
        "3 inventory convergence", f"WooCommerce alone: {skus:,} products (the Shopify "
        "locations unconfirmed for the phase, so only this side pushes)", setting,
        f"{woo_alone:.1f} s ({woo_alone / woo_min:.1f}x its minimum; {woo_s:.1f} s beside "
        "the Shopify push)",
        f"minimum {woo_min:.1f} s: {requests} batch requests x {per_batch * 1000:.0f} ms",
        "within 1.5x of its batch bound (issue #21)", woo_alone <= 1.5 * woo_min))
    results.add(Figure(
        "3 inventory convergence", f"Shopify alone: {levels:,} levels (the WooCommerce "
        "store unconfirmed for the phase)", setting,
        f"{shopify_alone:.1f} s ({shopify_alone / shopify_min:.2f}x its minimum; "
        f"{shopify_s:.1f} s beside the WooCommerce push)",
        f"minimum {shopify_min:.1f} s (total cost / restore rate)",
        note="no bar of its own: the figure together is the one with a bar"))


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


def _change_everything(url: str, merchant_id: int, locations: tuple[int, int]) -> int:
    """+3 of every item at both locations, one commit; returns the new quantity (8 the first
    time: every level starts at 5 and changes alike)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import InventoryItem, InventoryLevel, StockLocation
    from app.stock.levels import apply_movements

    app = make_app(url)
    with app.app_context():
        items = db.session.scalars(select(InventoryItem.id).where(
            InventoryItem.merchant_id == merchant_id, InventoryItem.sku.like("BENCH-%"))).all()
        for loc_id in locations:
            apply_movements(merchant_id, db.session.get(StockLocation, loc_id),
                            {i: 3 for i in items}, reason="received", note="bench")
        db.session.commit()
        on_hand = db.session.scalar(select(InventoryLevel.on_hand).where(
            InventoryLevel.item_id == items[0], InventoryLevel.location_id == locations[0]))
        db.engine.dispose()
    return on_hand


if __name__ == "__main__":
    from bench.common import machine

    res = Results(machine())
    run(res, skus=int(sys.argv[1]) if len(sys.argv) > 1 else SKUS)
