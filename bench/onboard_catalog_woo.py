"""Bench: onboarding a WooCommerce catalog — the connect import of N variants, streamed.

A store of the WooCommerce sandbox (its own process) gets a generated catalog of variable
products with 100 variations each (``seed.catalog_specs``); a merchant connects it with a
REST key (``demo.woocommerce.connect_store_with_key``) and one ``flask worker`` runs the
import: webhooks, open orders, products page by page with their variations, as listings
with levels. Reported: seconds until every listing is in, listings/s, the REST requests it
took against the fewest possible (one products page per 100 products + one variations page
per 100 variations), progress as the onboarding page would show it, and the worker's peak
memory at two catalog sizes: the import reads a page at a time, so memory must stay flat
(the larger run within 1.3x of the smaller's).

    .venv/bin/python -m bench.onboard_catalog_woo [VARIANTS] [sqlite|postgresql]
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bench.common import database, make_app, pg_available
from bench.report import Figure, Results

VARIANTS = 50_000
PER_PRODUCT = 100
SMALL = 5_000


def _store(woo, variants: int) -> tuple[str, dict]:
    slug = "onboard-store"
    woo.control("POST", "stores", {"slug": slug, "name": "Onboarding bench", "catalog": False,
                                   "shipment_tracking": False})
    key = woo.control("POST", f"stores/{slug}/keys", {"permissions": "read_write"})
    woo.control("POST", f"stores/{slug}/catalog", {"products": variants // PER_PRODUCT,
                                                   "variations": PER_PRODUCT, "prefix": "ONB"})
    return slug, key


def _connect(url: str, encryption_key: str, store_url: str, key: dict) -> int:
    from app.extensions import db
    from app.models import Merchant, StockLocation
    from demo.woocommerce import connect_store_with_key

    app = make_app(url, ENCRYPTION_KEYS=[encryption_key])
    with app.app_context():
        merchant = Merchant(name="Bench merchant", email="bench@example.test")
        db.session.add(merchant)
        db.session.flush()
        db.session.add(StockLocation(merchant_id=merchant.id, name="Warehouse"))
        db.session.flush()
        channel = connect_store_with_key(merchant.id, store_url, key,
                                         app_url="http://127.0.0.1:9", name="Bench store")
        channel_id = channel.id
        db.session.commit()
        db.engine.dispose()
    return channel_id


def _progress(url: str, channel_id: int) -> tuple[dict, int]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Channel, ChannelListing
    from app.platforms.woocommerce.imports import progress

    app = make_app(url)
    with app.app_context():
        seen = progress(db.session.get(Channel, channel_id))
        listings = db.session.scalar(select(func.count()).select_from(ChannelListing).where(
            ChannelListing.channel_id == channel_id))
        db.session.remove()
        db.engine.dispose()
    return seen, listings


def one_run(backend: str, variants: int) -> dict:
    """Connect a store of ``variants`` variations and time its import; the figures."""
    from bench.servers import SyncWorker, WooSandbox, app_env

    with tempfile.TemporaryDirectory() as folder, database(backend, "onboard") as url:
        key = Fernet.generate_key().decode()
        env = app_env(url, STOCKROOM_ENCRYPTION_KEYS=key)
        woo = worker = None
        try:
            woo = WooSandbox(Path(folder) / "woo-tls", env)
            slug, woo_key = _store(woo, variants)
            store_url = f"{woo.http_url}/stores/{slug}"
            env.update(WOOCOMMERCE_SANDBOX_ORIGINS=woo.http_url,
                       WOOCOMMERCE_CA_BUNDLE=woo.ca_bundle)
            channel_id = _connect(url, key, store_url, woo_key)
            woo.control("DELETE", f"stores/{slug}/requests")
            worker = SyncWorker(env)
            started, shown = time.monotonic(), []
            while True:
                seen, listings = _progress(url, channel_id)
                if seen["products"] and (not shown or shown[-1] != seen["products"]):
                    shown.append(seen["products"])
                    print(f"    {time.monotonic() - started:6.1f} s: step {seen['step']}, "
                          f"{seen['products']:,} of {seen['total_products'] or '?':,} products, "
                          f"{listings:,} listings", flush=True)
                if seen["finished_at"]:
                    break
                if time.monotonic() - started > 3600:
                    raise RuntimeError("the import did not finish within an hour")
                time.sleep(1)
            seconds = time.monotonic() - started
            requests = woo.control("GET", f"stores/{slug}/requests")
            rss = worker.peak_rss_kib()
        finally:
            for proc in (worker, woo):
                if proc is not None:
                    proc.stop()
    products = variants // PER_PRODUCT
    reads = sum(v for k, v in requests.items() if k.startswith("GET wc/v3/products"))
    return {"variants": variants, "listings": listings, "seconds": seconds, "rss_kib": rss,
            "reads": reads, "fewest": -(-products // 100) + products * -(-PER_PRODUCT // 100),
            "updates": len(shown)}


def run(results: Results, *, variants: int = VARIANTS, backend: str = "postgresql") -> None:
    """The import at SMALL and at ``variants`` variants: time, requests, peak memory."""
    small = one_run(backend, min(SMALL, variants))
    large = one_run(backend, variants)
    setting = (f"one flask worker, {backend}, WooCommerce sandbox (no rate limit, like "
               f"WooCommerce), {PER_PRODUCT} variations per product")
    results.add(Figure(
        "onboarding (WooCommerce)", f"connect import of {large['variants']:,} variants",
        setting, f"{large['seconds']:.1f} s ({large['listings'] / large['seconds']:,.0f} "
                 "listings/s)",
        f"{large['reads']:,} product/variation reads, fewest possible {large['fewest']:,}",
        "every variant listed, reads = the fewest possible",
        large["listings"] == large["variants"] and large["reads"] == large["fewest"],
        note=f"progress seen {large['updates']} times while it ran"))
    ratio = (large["rss_kib"] or 0) / max(small["rss_kib"] or 1, 1)
    results.add(Figure(
        "onboarding (WooCommerce)", "worker peak memory (VmHWM)", setting,
        f"{(large['rss_kib'] or 0) / 1024:.0f} MiB at {large['variants']:,} variants",
        f"{(small['rss_kib'] or 0) / 1024:.0f} MiB at {small['variants']:,}",
        "flat: within 1.3x of the small catalog's", ratio <= 1.3,
        note=f"{ratio:.2f}x"))


if __name__ == "__main__":
    from bench.common import machine

    res = Results(machine())
    count = int(sys.argv[1]) if len(sys.argv) > 1 else VARIANTS
    chosen = sys.argv[2] if len(sys.argv) > 2 else ("postgresql" if pg_available() else "sqlite")
    run(res, variants=count, backend=chosen)
