"""Bench 1: signed orders/create webhooks into gunicorn (Stockroom) vs a bare 200 route.

The load generator is wrk (Debian package, pinned in the Makefile), on loopback, with a
Lua script that signs nothing per request: the body is fixed, so its HMAC is computed
once; every request carries its own X-Shopify-Event-Id, so each one is a new inbox row.
Both servers run the same gunicorn configuration (bench/servers.py), one after the other.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, SECRET, database, make_app
from bench.report import Figure, Results
from bench.servers import GUNICORN_ARGS, Gunicorn, app_env

SHOP = "bench-intake.myshopify.com"
DURATION = 10
CONNECTIONS = 32
THREADS = 2


def order_payload() -> bytes:
    """An orders/create body like Shopify's (3 lines), about 2.5 KB."""
    lines = [{"id": 1000 + i, "admin_graphql_api_id": f"gid://shopify/LineItem/{1000 + i}",
              "sku": f"SKU-{i:05d}", "name": f"Canvas tote #{i}", "title": "Canvas tote",
              "quantity": i, "price": "19.00", "variant_id": 2000 + i,
              "fulfillable_quantity": i, "fulfillment_status": None, "requires_shipping": True}
             for i in (1, 2, 3)]
    body = {"id": 820982911946154508, "admin_graphql_api_id":
            "gid://shopify/Order/820982911946154508", "name": "#9999",
            "email": "ada@example.com", "created_at": "2026-11-23T10:00:00-05:00",
            "updated_at": "2026-11-23T10:00:00-05:00", "currency": "USD",
            "total_price": "114.00", "financial_status": "paid", "fulfillment_status": None,
            "line_items": lines,
            "shipping_address": {"name": "Ada Lovelace", "address1": "12 Analytical Row",
                                 "city": "London", "zip": "N1 9GU", "country_code": "GB"},
            "customer": {"id": 115310627314723954, "email": "ada@example.com",
                         "first_name": "Ada", "last_name": "Lovelace"}}
    return json.dumps(body).encode()


def wrk_binary() -> str | None:
    """The wrk on PATH (make bench installs the pinned Debian package)."""
    return shutil.which("wrk")


def run_wrk(url: str, body_file: Path, signature: str) -> dict:
    """One wrk run; the Lua script's summary line as numbers."""
    out = subprocess.run(
        [wrk_binary(), f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--timeout", "5s",
         "-s", str(ROOT / "bench" / "wrk" / "shopify_webhook.lua"), url, "--",
         str(body_file), signature, SHOP], capture_output=True, text=True, timeout=DURATION + 60)
    match = re.search(r"^BENCH (.*)$", out.stdout, re.M)
    if not match:
        raise RuntimeError(f"wrk failed: {out.stdout[-1500:]} {out.stderr[-1500:]}")
    stats = {k: int(v) for k, v in (p.split("=") for p in match.group(1).split())}
    errors = sum(stats[k] for k in ("non2xx", "connect", "read", "write", "timeout"))
    seconds = stats["duration_us"] / 1e6
    return {"requests": stats["requests"], "errors": errors, "seconds": seconds,
            "accepted_per_s": (stats["requests"] - stats["non2xx"]) / seconds,
            "p50_ms": stats["p50_us"] / 1000, "p99_ms": stats["p99_us"] / 1000, **stats}


def in_process_cpu(url: str, body: bytes, signature: str, *, deliveries: int = 2000
                   ) -> tuple[float, float]:
    """CPU ms per delivery through Stockroom's WSGI app and through the bare app, called in
    this process (no server, no socket): what the application itself costs, steadier than
    the server figures on a shared machine. New event ids; the first 200 warm up."""
    from werkzeug.test import EnvironBuilder

    from app.extensions import db
    from app.platforms.shopify.settings import load_settings
    from bench.bare_app import app as bare

    app = make_app(url, SHOPIFY_SETTINGS=load_settings({"SHOPIFY_API_SECRET": SECRET}))

    def environs(prefix: str, count: int) -> list[dict]:
        return [EnvironBuilder(path="/shopify/webhooks", method="POST", data=body, headers={
            "Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Event-Id": f"{prefix}-{n}"}).get_environ() for n in range(count)]

    def cpu_ms(wsgi, batch: list[dict]) -> float:
        statuses = []
        started = time.process_time()
        for environ in batch:
            b"".join(wsgi(environ, lambda status, _headers: statuses.append(status)))
        spent = time.process_time() - started
        if set(statuses) != {"200 OK"}:
            raise RuntimeError(f"in-process deliveries answered {set(statuses)}")
        return spent / len(batch) * 1000

    cpu_ms(app, environs("warm", 200))
    stockroom = cpu_ms(app, environs("cpu", deliveries))
    reference = cpu_ms(bare, environs("bare", deliveries))
    with app.app_context():
        db.engine.dispose()
    return stockroom, reference


def _prepare(url: str) -> None:
    from app.extensions import db
    from app.models import Channel
    from demo.seed_bulk import seed_bulk

    app = make_app(url)
    with app.app_context():
        seeded = seed_bulk(db.session.connection(), orders=100, skus=10)
        db.session.get(Channel, seeded.channel_id).domain = SHOP
        db.session.commit()
        db.engine.dispose()


def _stored(url: str) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import WebhookInbox

    app = make_app(url)
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(WebhookInbox))
        db.engine.dispose()
    return count


def run(results: Results, *, backends, rss: dict) -> None:
    """Stockroom's intake and the bare route on each backend."""
    if wrk_binary() is None:
        results.add(Figure("1 webhook intake", "accepted/s", "-", "not measured",
                           bar=">= 1,000/s, p99 < 100 ms, >= 50% of bare", met=None,
                           note="wrk is not installed (make bench installs Debian's wrk; "
                                "it could not here)"))
        return
    body = order_payload()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    config = " ".join(GUNICORN_ARGS[:4])
    with tempfile.TemporaryDirectory() as folder:
        body_file = Path(folder) / "body.json"
        body_file.write_bytes(body)
        for backend in backends:
            name = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[backend]
            with database(backend, "intake") as url:
                _prepare(url)
                env = app_env(url)
                with Gunicorn("bench.bare_app:app", env) as bare:
                    ref = run_wrk(bare.url, body_file, signature)
                with Gunicorn("wsgi:app", env) as server:
                    got = run_wrk(server.url, body_file, signature)
                    rss[f"web worker ({name}, intake)"] = server.peak_worker_rss_kib()
                stored = _stored(url)
                cpu, bare_cpu = in_process_cpu(url, body, signature)
            share = got["accepted_per_s"] / ref["accepted_per_s"]
            met = (got["accepted_per_s"] >= 1000 and got["p99_ms"] < 100 and share >= 0.5
                   and got["errors"] == 0)
            results.add(Figure(
                "1 webhook intake", "accepted/s, p50 / p99, errors",
                f"gunicorn ({config}), {name}",
                f"{got['accepted_per_s']:,.0f}/s, {got['p50_ms']:.1f} / {got['p99_ms']:.1f} ms, "
                f"{got['errors']} errors",
                f"bare 200 route: {ref['accepted_per_s']:,.0f}/s, {ref['p50_ms']:.1f} / "
                f"{ref['p99_ms']:.1f} ms; Stockroom = {share:.0%} of bare",
                ">= 1,000/s, p99 < 100 ms, >= 50% of bare, 0 errors", met,
                note=f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s on the same 2 cores; "
                     f"{stored:,} rows stored for {got['requests'] - got['non2xx']:,} "
                     f"accepted; in process (no server): {cpu:.2f} ms CPU per delivery, "
                     f"bare app {bare_cpu:.2f} ms"))


if __name__ == "__main__":
    from bench.common import machine

    res = Results(machine())
    memory: dict = {}
    run(res, backends=sys.argv[1:] or ("postgresql", "sqlite"), rss=memory)
    print(memory)
