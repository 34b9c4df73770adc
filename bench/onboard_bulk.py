"""Bench 7b: a large shop's first catalog import through a Shopify bulk operation, against
the paginated import and the bound the sandbox's bulk emulation implies, in the same run.

Two identical sandbox shops (its own process, real HTTP) hold ``BENCH_BULK_VARIANTS``
variants (default 100,000) over a fifth as many products at 3 locations (``seed_catalog``,
as bench 7 seeds). One is imported by paging (``SHOPIFY_BULK_IMPORT_MIN_VARIANTS`` -1), the
other through ``bulkOperationRunQuery`` (0), both by in-process worker passes as ``flask
worker`` runs them. The bench has no public URL for bulk_operations/finish, so while the
bulk run waits it runs the scheduled poll (``bulk.enqueue_bulk_polls``) every 0.5 s: the
same continuation a webhook queues.

Printed: the products step's wall time of each, the bulk one split into waiting for Shopify
and reading the file; the emulation's bound: the sandbox worker's own seconds to write the
file (the import cannot end before the file exists), from its control API; and the peak of
Python allocations (tracemalloc) per stretch of variants read during the bulk import (flat
= the file is streamed, never held). Open orders are not part of it: they are still paged
by both (see docs/shopify.md).

    .venv/bin/python -m bench.onboard_bulk                       # 100,000 variants, PostgreSQL
    BENCH_BULK_VARIANTS=5000 .venv/bin/python -m bench.onboard_bulk sqlite
"""
from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench.common import SECRET, database, make_app, pg_available
from bench.onboard_catalog import CLIENT_ID, RESTORE
from bench.report import Figure, Results
from bench.servers import ShopifySandbox, app_env

VARIANTS = int(os.environ.get("BENCH_BULK_VARIANTS", "100000"))
LOCATIONS = 3
PAGED_SHOP, BULK_SHOP = "paged-bench.myshopify.com", "bulk-bench.myshopify.com"


def _install(sandbox: ShopifySandbox, url: str, key: str, shop: str, bulk_min: int):
    """Install on ``shop`` as the managed install does: (app, channel id)."""
    from app.extensions import db
    from app.platforms.shopify.tokens import Credentials, save_install

    token = sandbox.control("POST", f"shops/{shop}/install", {"client_id": CLIENT_ID})
    app = make_app(url, ENCRYPTION_KEYS=[key])
    settings = app.extensions["stockroom.shopify"]
    app.extensions["stockroom.shopify"] = dataclasses.replace(
        settings, bulk_import_min_variants=bulk_min)
    with app.app_context():
        channel, _ = save_install(shop, Credentials(access_token=token["access_token"],
                                                    scope=token["scope"]))
        channel_id = channel.id
        db.session.commit()
    return app, channel_id


def _marks(total: int) -> list[int]:
    return sorted({max(1, total // 10), total // 2, total} - {0})


def _import(app, channel_id: int, total: int, *, poll: bool, timeout: float = 14400) -> dict:
    """Worker passes until the products step is behind; figures per stretch read."""
    from app.extensions import db
    from app.models import Channel
    from app.platforms.shopify.bulk import enqueue_bulk_polls
    from app.sync.worker import Worker

    worker = Worker(app, worker_id="bench-bulk", poll_seconds=0.0)
    marks, stretches, read = _marks(total), [], 0
    started = time.monotonic()
    products_at = None
    reading = last_poll = 0.0
    timeline: dict[str, float] = {}
    tracemalloc.start()
    with app.app_context():
        while True:
            before, pass_started = read, time.monotonic()
            worker.run_pass()
            db.session.remove()
            state = dict((db.session.get(Channel, channel_id).sync_cursors or {}).get("import")
                         or {})
            db.session.remove()
            now = time.monotonic()
            if state.get("waiting"):
                timeline.setdefault("waiting", now - started)
            if products_at is None and state.get("step") == "products":
                products_at = now
                tracemalloc.reset_peak()
            if poll and state.get("waiting") and now - last_poll >= 0.5:
                enqueue_bulk_polls()
                db.session.remove()
                last_poll = now
            read = max(read, (state.get("counts") or {}).get("variants", 0))
            if read > before:  # this pass read (part of) the file or pages
                reading += now - pass_started
                timeline.setdefault("first read", now - started)
            while marks and read >= marks[0]:
                current, peak = tracemalloc.get_traced_memory()
                stretches.append({"at": marks.pop(0), "peak": peak, "current": current})
                tracemalloc.reset_peak()
            if state.get("step") in ("orders", "done") and not marks:
                break
            if now - started > timeout:
                raise RuntimeError(f"the import did not finish in time ({state})")
            if state.get("waiting"):
                time.sleep(0.05)
    tracemalloc.stop()
    end = time.monotonic()
    products_at = products_at or started
    seconds = end - products_at
    print(f"  timeline (s from start): {timeline}, products step from {products_at - started:.1f}",
          flush=True)
    return {"seconds": seconds, "read": read, "stretches": stretches,
            "waiting": seconds - reading, "reading": reading}


def run(results: Results, *, backend: str = "postgresql", variants: int = VARIANTS) -> dict:
    """Seed two shops, import one by paging and one in bulk; add the figures."""
    from cryptography.fernet import Fernet

    with tempfile.TemporaryDirectory() as folder, database(backend, "onboard_bulk") as url:
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
            figures = {}
            for shop, bulk_min in ((BULK_SHOP, 0), (PAGED_SHOP, -1)):
                sandbox.control("POST", "shops", {"domain": shop, "locations": LOCATIONS})
                sandbox.control("POST", f"shops/{shop}/catalog", {
                    "variants": variants, "products": max(1, variants // 5),
                    "locations": LOCATIONS, "stock": [0, 40]})
                app, channel_id = _install(sandbox, url, key, shop, bulk_min)
                sandbox.control("POST", f"shops/{shop}/plan",
                                {"restore_rate": RESTORE, "bucket_size": RESTORE * 20})
                print(f"  {shop}: importing {variants:,} variants", flush=True)
                figures[shop] = _import(app, channel_id, variants, poll=bulk_min == 0)
            ops = sandbox.control("GET", f"shops/{BULK_SHOP}/bulk-operations")
            figures["emulation"] = ops["bulk_operations"][-1]
        finally:
            sandbox.stop()
    _report(results, figures, backend=backend, variants=variants)
    return figures


def _report(results: Results, f: dict, *, backend: str, variants: int) -> None:
    bulk, paged, emu = f[BULK_SHOP], f[PAGED_SHOP], f["emulation"]
    setting = (f"in-process worker passes, {backend}, Shopify sandbox over HTTP at "
               f"{RESTORE:,.0f} points/s; {variants:,} variants x {LOCATIONS} locations")
    results.add(Figure(
        "7b bulk onboarding", f"{bulk['read']:,} variants through bulkOperationRunQuery",
        setting, f"{bulk['seconds']:.1f} s: {bulk['waiting']:.1f} s waiting for Shopify, "
        f"{bulk['reading']:.1f} s reading the file "
        f"({bulk['read'] / max(bulk['reading'], 1e-9):,.0f} variants/s)",
        f"paginated import, same run: {paged['seconds']:.1f} s "
        f"({paged['read'] / max(paged['seconds'], 1e-9):,.0f} variants/s); emulation bound: "
        f"{emu['seconds']:.1f} s to write {emu['object_count']:,} lines "
        f"({emu['objects_per_second']:,.0f} lines/s)",
        note="the bound is the sandbox worker's time to write the file: the import cannot "
             "end before it; a real shop's bulk operation takes Shopify's time instead, "
             "and the paginated import's floor there is the plan's rate limit (bench 7)"))
    peaks = [s["peak"] for s in bulk["stretches"]]
    results.add(Figure(
        "7b bulk onboarding", "peak Python allocations per stretch of the bulk import",
        setting, ", ".join(f"up to {s['at']:,}: {s['peak'] / 1e6:.1f} MB"
                           for s in bulk["stretches"]),
        "flat: the last stretch's peak within 1.5x the first's (the file streamed)",
        "last <= 1.5 x first", bool(peaks) and peaks[-1] <= 1.5 * peaks[0],
        note="tracemalloc, reset at each mark; held after each stretch: " + ", ".join(
            f"{s['current'] / 1e6:.1f} MB" for s in bulk["stretches"])))


def main(argv: list[str]) -> int:
    """Run the bench alone and print its figures."""
    from bench.common import machine

    backend = "sqlite" if "sqlite" in argv or not pg_available() else "postgresql"
    results = Results(machine())
    run(results, backend=backend)
    print(results.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
