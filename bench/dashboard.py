"""Bench 4: the dashboard at 10k and 100k orders — server-side p50/p95 per page, both databases.

Server-side = the whole WSGI call (routing, sign-in check, queries, template) timed in
process with Flask's test client: no socket and no client in the figure. The app runs
with production settings (TESTING off), signed in through the real sign-in form.
"""
from __future__ import annotations

import random
import re
import sys
import time

from bench.common import database, make_app, percentile
from bench.report import Figure, Results

SCALES = (10_000, 100_000)
BAR_MS = 50.0
BAR_RATIO = 1.5
PASSWORD = "bench password 123"
SEED_KEY = "seed"
MATCHES_KEY = "search matches"
SEARCH = "orders list, SKU search"


def _sku(i: int) -> str:
    return f"SKU-{(i * 37) % 2000 + 1:05d}"


def _seed(url: str, orders: int):
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.models import User
    from demo.seed_bulk import seed_bulk

    app = make_app(url)
    with app.app_context():
        seeded = seed_bulk(db.session.connection(), orders=orders)
        db.session.add(User(merchant_id=seeded.merchant_id, email="bench@stockroom.test",
                            password_hash=generate_password_hash(PASSWORD, method="scrypt")))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does to a table this size soon after a bulk load: statistics
            # and the visibility map (index-only scans).
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        from sqlalchemy import select

        from app.models import Order

        # A cursor halfway down the list: a page deep in keyset order.
        middle = db.session.execute(select(Order.placed_at, Order.id).where(
            Order.merchant_id == seeded.merchant_id).order_by(Order.placed_at.desc(),
                                                              Order.id.desc())
            .offset(orders // 2).limit(1)).one()
        lines = {}
        for order_id in seeded.open_order_ids[:400]:
            lines[order_id] = list(db.session.execute(select(
                db.metadata.tables["order_lines"].c.id,
                db.metadata.tables["order_lines"].c.quantity).where(
                db.metadata.tables["order_lines"].c.order_id == order_id)))
        db.engine.dispose()
    return app, seeded, middle, lines


def _sign_in(client) -> str:
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = client.post("/sign-in", data={"email": "bench@stockroom.test", "password": PASSWORD,
                                         "csrf_token": token})
    assert resp.status_code == 303, resp.status_code
    page = client.get("/orders").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _timed(call, n: int, warmup: int = 3) -> list[float]:
    for i in range(warmup):
        call(i)
    times = []
    for i in range(n):
        started = time.perf_counter()
        status = call(warmup + i)
        times.append((time.perf_counter() - started) * 1000)
        if status >= 400:
            raise RuntimeError(f"page answered {status}")
    return times


def measure(url: str, orders: int, n: int, rss: dict | None = None) -> dict[str, list[float]]:
    """Per page: server-side milliseconds of ``n`` requests.

    With ``rss``, the same pages are then served by gunicorn to a signed-in client, for
    the peak RSS of a web worker at this scale.
    """
    from app.web.read_models.orders import Cursor

    app, seeded, middle, lines = _seed(url, orders)
    client = app.test_client()
    csrf = _sign_in(client)
    rng = random.Random(1)
    deep = Cursor(middle.placed_at, middle.id).encode()
    some_orders = rng.sample(range(seeded.counts["orders"]), n + 10)
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Order

        base_id = db.session.scalar(select(Order.id).where(
            Order.merchant_id == seeded.merchant_id).order_by(Order.id).limit(1))
        db.session.remove()
    open_ids = list(lines)
    location = seeded.location_ids[0]

    def get(path):
        return lambda i: client.get(path(i) if callable(path) else path).status_code

    def post_fulfill(i):
        order_id = open_ids[i % len(open_ids)]
        form = {"csrf_token": csrf, "location_id": str(location)}
        form.update({f"qty-{line_id}": str(qty) for line_id, qty in lines[order_id]})
        return client.post(f"/orders/{order_id}/fulfillments", data=form).status_code

    pages = {
        "orders list, first page": get("/orders"),
        "orders list, filtered (status=unfulfilled)": get("/orders?status=unfulfilled"),
        SEARCH: get(lambda i: f"/orders?q={_sku(i)}"),
        "orders list, page deep in keyset order": get(f"/orders?after={deep}"),
        "order page": get(lambda i: f"/orders/{base_id + some_orders[i]}"),
        "fulfill form": get(lambda i: f"/orders/{open_ids[-1 - i % 200]}/fulfill"),
        "fulfill POST": post_fulfill,
    }
    out = {SEED_KEY: [seeded.seconds], MATCHES_KEY: _matches(app, seeded.merchant_id, n)}
    with app.app_context():
        for name, call in pages.items():
            out[name] = _timed(call, n if name != "fulfill POST" else min(n, len(open_ids) - 5))
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    if rss is not None:
        rss[f"web worker ({_name(url)}, dashboard at {orders // 1000}k)"] = _served_rss(url, deep)
    return out


def _matches(app, merchant_id: int, n: int) -> list[float]:
    """Orders each timed search matches: the result grows with the orders, not only the cost."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import OrderLine

    with app.app_context():
        found = [db.session.scalar(select(func.count(func.distinct(OrderLine.order_id))).where(
            OrderLine.merchant_id == merchant_id, OrderLine.sku.contains(_sku(i))))
            for i in range(3, 3 + n)]
        db.session.remove()
    return [sum(found) / len(found)]


def _name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def _served_rss(url: str, deep: str) -> int | None:
    import requests

    from bench.servers import Gunicorn, app_env

    with Gunicorn("wsgi:app", app_env(url)) as server:
        s = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          s.get(server.url + "/sign-in").text)[1]
        s.post(server.url + "/sign-in", data={"email": "bench@stockroom.test",
                                              "password": PASSWORD, "csrf_token": token})
        for i in range(40):
            for path in ("/orders", "/orders?status=unfulfilled", f"/orders?after={deep}",
                         f"/orders?q=SKU-{i + 1:05d}"):
                s.get(server.url + path).raise_for_status()
        return server.peak_worker_rss_kib()


def run(results: Results, *, backends, rss: dict | None = None, n: int = 100) -> None:
    """Both scales on each backend; one figure per page and scale, the ratio at 100k."""
    for backend in backends:
        setting = {"postgresql": "PostgreSQL", "sqlite": "SQLite (embedded default)"}[backend]
        setting += ", in-process WSGI, production config"
        by_scale = {}
        for scale in SCALES:
            with database(backend, f"dash{scale // 1000}k") as url:
                by_scale[scale] = measure(url, scale, n,
                                          rss if scale == SCALES[-1] else None)
        small, large = by_scale[SCALES[0]], by_scale[SCALES[1]]
        seconds = large.pop(SEED_KEY)[0]
        small.pop(SEED_KEY)
        matches = (small.pop(MATCHES_KEY)[0], large.pop(MATCHES_KEY)[0])
        results.add(Figure(
            "4 dashboard", f"bulk seed of {SCALES[1] // 1000}k orders (~3 lines, 60% fulfilled)",
            setting.split(",")[0], f"{seconds:.1f} s",
            "rows: orders, lines, fulfillments + lines, ledger movements (demo/seed_bulk.py)",
            "well under a minute (read: < 30 s)", seconds < 30))
        for page in large:
            p50, p95 = percentile(large[page], 50), percentile(large[page], 95)
            ref95 = percentile(small[page], 95)
            ratio = p95 / ref95 if ref95 else float("nan")
            results.add(Figure(
                "4 dashboard", f"{page}: p50 / p95 at 100k", setting,
                f"{p50:.1f} / {p95:.1f} ms", f"10k: {percentile(small[page], 50):.1f} / "
                f"{ref95:.1f} ms; 100k/10k p95 = {ratio:.2f}x",
                f"p95 <= {BAR_MS:.0f} ms and <= {BAR_RATIO}x 10k",
                p95 <= BAR_MS and ratio <= BAR_RATIO,
                note=(f"each timed SKU matches {matches[0]:.0f} orders on average at 10k and "
                      f"{matches[1]:.0f} at 100k (2,000 SKUs either way): the page at 100k "
                      f"shows up to 50 rows where at 10k it shows ~{matches[0]:.0f}, and "
                      f"counts {matches[1] / max(matches[0], 1):.0f}x as many matches"
                      if page == SEARCH else "")))


if __name__ == "__main__":
    from bench.common import machine

    res = Results(machine())
    run(res, backends=sys.argv[1:] or ("postgresql", "sqlite"), rss={},
        n=int(__import__("os").environ.get("BENCH_N", "100")))
    print(res.markdown())
