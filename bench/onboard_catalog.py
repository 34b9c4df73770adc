"""Bench 7: onboarding a 50,000-variant Shopify catalog — wall time, pages, flat memory, throttling.

A fresh shop on the Shopify sandbox (its own process, real HTTP) holds 50,000 variants over
10,000 products stocked at 2 locations (barcodes, images: ``seed_catalog``). The app is
installed and its import runs in this process, worker pass after worker pass, exactly as
``flask worker`` runs it (``channel.installed`` then ``shopify.import`` continuations): the
locations, then every variant page (ProductVariantPage, sized to Shopify's 1000-point cap)
handed to the catalog core with every level's quantities, one checkpoint per page.

Printed: wall time of the products step, pages, the peak of Python allocations
(tracemalloc) over each stretch 0-10k, 10k-25k, 25k-50k variants (flat memory = the same
peak in each stretch, not growing with what was read), points Shopify charged, and the
client's throttle waits. The sandbox's restore rate is ``BENCH_ONBOARD_RESTORE`` points/s
(default 20,000: ten times Shopify's enterprise rate, so the figure is Stockroom's and the
sandbox's own speed; 100 is the standard plan, about 2.4 hours for this catalog): the
minimum time each plan allows is derived from the points actually charged.

    .venv/bin/python -m bench.onboard_catalog            # 50,000 variants, PostgreSQL
    BENCH_ONBOARD_VARIANTS=5000 .venv/bin/python -m bench.onboard_catalog sqlite
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.common import SECRET, database, make_app, pg_available
from bench.report import Figure, Results
from bench.servers import ShopifySandbox, app_env

SHOP = "onboard-bench.myshopify.com"
CLIENT_ID = "d5b2c0a4f1e34c9b8a7d6e5f4c3b2a19"
VARIANTS = int(os.environ.get("BENCH_ONBOARD_VARIANTS", "50000"))
PRODUCTS = max(1, VARIANTS // 5)
LOCATIONS = 2
RESTORE = float(os.environ.get("BENCH_ONBOARD_RESTORE", "20000"))
MARKS = (10_000, 25_000, 50_000)


def _marks(total: int) -> tuple[int, ...]:
    return tuple(m for m in MARKS if m < total) + (total,) if total not in MARKS else \
        tuple(m for m in MARKS if m <= total)


def _install(sandbox: ShopifySandbox, url: str, key: str) -> tuple[object, int, int]:
    """Install on the bench shop, as the managed install does: (app, merchant id, channel id)."""
    from app.extensions import db
    from app.platforms.shopify.tokens import Credentials, save_install

    token = sandbox.control("POST", f"shops/{SHOP}/install", {"client_id": CLIENT_ID})
    app = make_app(url, ENCRYPTION_KEYS=[key])
    with app.app_context():
        channel, _ = save_install(SHOP, Credentials(access_token=token["access_token"],
                                                    scope=token["scope"]))
        ids = channel.merchant_id, channel.id
        db.session.commit()
    return app, ids[0], ids[1]


def _onboard(app, channel_id: int, total: int, timeout: float = 7200) -> dict:
    """Run worker passes until the import is done; figures per stretch of variants read."""
    from app.extensions import db
    from app.models import Channel
    from app.platforms.shopify import client
    from app.sync.worker import Worker

    worker = Worker(app, worker_id="bench-onboard", poll_seconds=0.0)
    marks, stretches = list(_marks(total)), []
    read = 0
    tracemalloc.start()
    started = products_started = time.monotonic()
    last = started
    step = None
    with app.app_context():
        while True:
            worker.run_pass()
            db.session.remove()
            state = dict((db.session.get(Channel, channel_id).sync_cursors or {}).get("import")
                         or {})
            db.session.remove()
            if step != "products" and state.get("step") == "products":
                products_started = time.monotonic()
                tracemalloc.reset_peak()
            step = state.get("step")
            counts = state.get("counts") or {}
            read = max(read, counts.get("variants", 0))
            while marks and read >= marks[0]:
                current, peak = tracemalloc.get_traced_memory()
                now = time.monotonic()
                stretches.append({"at": marks.pop(0), "peak": peak, "current": current,
                                  "seconds": now - last})
                last = now
                tracemalloc.reset_peak()
            if step in ("orders", "done") and not marks:
                break
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the import did not finish in time ({state})")
    tracemalloc.stop()
    stats = dict(client.STATS)
    pages = stats["operations"].get("ProductVariantPage", 0)
    return {"seconds": time.monotonic() - products_started, "pages": pages, "read": read,
            "matched": counts.get("matched", 0), "levels": counts.get("levels", 0),
            "stretches": stretches, "stats": stats,
            "level_queries": stats["operations"].get("InventoryItemLevels", 0)}


def run(results: Results, *, backend: str = "postgresql", variants: int = VARIANTS) -> dict:
    """Seed the shop, install, onboard; add the figures to ``results``."""
    from cryptography.fernet import Fernet

    from sandbox.shopify.throttle import PLANS

    with tempfile.TemporaryDirectory() as folder, database(backend, "onboard") as url:
        key = Fernet.generate_key().decode()
        sandbox = ShopifySandbox(Path(folder) / "tls", app_env(url))
        try:
            env = app_env(url, STOCKROOM_ENCRYPTION_KEYS=key,
                          SHOPIFY_SHOP_URL_TEMPLATE=f"{sandbox.http_url}/shops/{{shop}}",
                          SHOPIFY_CA_BUNDLE=sandbox.ca_bundle, SSL_CERT_FILE=sandbox.ca_bundle,
                          SHOPIFY_ADMIN_ORIGINS=sandbox.http_url,
                          SHOPIFY_APP_URL="http://127.0.0.1:9/shopify/app",
                          SHOPIFY_IMPORT_PAGES_PER_JOB="20")
            os.environ.update({k: v for k, v in env.items()
                               if k.startswith(("SHOPIFY_", "STOCKROOM_"))})
            sandbox.control("POST", "apps", {
                "client_id": CLIENT_ID, "secret": SECRET,
                "application_url": env["SHOPIFY_APP_URL"],
                "redirect_urls": ["http://127.0.0.1:9/shopify/auth/callback"]})
            sandbox.control("POST", "shops", {"domain": SHOP, "locations": LOCATIONS})
            seeded_at = time.monotonic()
            sandbox.control("POST", f"shops/{SHOP}/catalog", {
                "variants": variants, "products": max(1, variants // 5),
                "locations": LOCATIONS, "stock": [0, 40]})
            print(f"  sandbox seeded with {variants:,} variants in "
                  f"{time.monotonic() - seeded_at:.1f} s", flush=True)
            app, _, channel_id = _install(sandbox, url, key)
            sandbox.control("POST", f"shops/{SHOP}/plan",
                            {"restore_rate": RESTORE, "bucket_size": RESTORE * 20})
            figures = _onboard(app, channel_id, variants)
        finally:
            sandbox.stop()
    _report(results, figures, backend=backend, variants=variants, plans=PLANS)
    return figures


def _report(results: Results, f: dict, *, backend: str, variants: int, plans: dict) -> None:
    stats = f["stats"]
    setting = (f"in-process worker passes, {backend}, Shopify sandbox over HTTP at "
               f"{RESTORE:,.0f} points/s; {variants:,} variants x {LOCATIONS} locations")
    per_s = f["read"] / f["seconds"] if f["seconds"] else 0.0
    minimum = {name: stats["actual"] / restore for name, (restore, _) in plans.items()}
    results.add(Figure(
        "7 catalog onboarding", f"{f['read']:,} variants read, listed and their levels recorded",
        setting, f"{f['seconds']:.1f} s ({per_s:,.0f} variants/s), {f['pages']} pages "
        f"(+{f['level_queries']} level follow-ups)",
        "limit-bound minimum at each plan (points charged / restore rate): " + ", ".join(
            f"{name} {sec:,.0f} s" for name, sec in minimum.items()),
        note=f"{stats['calls']} calls, {stats['requested']:,.0f} points requested, "
             f"{stats['actual']:,.0f} charged ({stats['actual'] / max(f['read'], 1):.1f} per "
             f"variant); {stats['throttle_waits']} throttle waits "
             f"({stats['throttle_wait_seconds']:.1f} s), {stats['throttled']} THROTTLED "
             f"answers; {f['matched']} matched (no items yet), {f['levels']:,} levels"))
    peaks = [s["peak"] for s in f["stretches"]]
    results.add(Figure(
        "7 catalog onboarding", "peak Python allocations per stretch of variants read",
        setting, ", ".join(f"up to {s['at']:,}: {s['peak'] / 1e6:.1f} MB" for s in
                           f["stretches"]),
        "flat: the last stretch's peak within 1.5x the first's",
        "last <= 1.5 x first", bool(peaks) and peaks[-1] <= 1.5 * peaks[0],
        note="tracemalloc, reset at each mark; held after each stretch: " + ", ".join(
            f"{s['current'] / 1e6:.1f} MB" for s in f["stretches"])))


def main(argv: list[str]) -> int:
    """Run the bench alone and print its figures."""
    from bench.common import machine

    backend = "sqlite" if "sqlite" in argv or not pg_available() else "postgresql"
    results = Results(machine())
    figures = run(results, backend=backend)
    for s in figures["stretches"]:
        print(f"  {s['at']:>6,} variants: peak {s['peak'] / 1e6:6.1f} MB, "
              f"held {s['current'] / 1e6:6.1f} MB, stretch {s['seconds']:.1f} s")
    print(results.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
