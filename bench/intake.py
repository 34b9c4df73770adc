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


def _prepare(url: str) -> None:
    from app.extensions import db
    from app.models import Channel
    from app.seed_bulk import seed_bulk

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
                     f"accepted"))


if __name__ == "__main__":
    from bench.common import machine

    res = Results(machine())
    memory: dict = {}
    run(res, backends=sys.argv[1:] or ("postgresql", "sqlite"), rss=memory)
    print(memory)
