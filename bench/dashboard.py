"""Bench 4: the dashboard at 10k, 100k and 1M orders, and 1,000 merchants of 1,000 orders.

Server-side p50/p95 per page = the whole WSGI call (routing, sign-in check, queries,
template) timed in process with Flask's test client: no socket and no client in the
figure. The app runs with production settings (TESTING off), signed in through the real
sign-in form. Every SQL statement the pages send is captured once and EXPLAINed with the
merchant's own parameters; a plan that reads a whole table of orders, lines,
fulfillments or movements fails the plan row. The peak RSS of a gunicorn worker serving
the pages and of a ``flask worker`` is read at every scale.

    .venv/bin/python -m bench.dashboard [postgresql] [sqlite] [--keep] [--scales 10000,...]

``--keep`` keeps each seeded database (PostgreSQL: ``stockroom_dash_keep_<label>``;
SQLite: under /tmp/stockroom-bench-keep) and reuses it on the next run, migrated to
the current head first: seeding 1M orders takes minutes on 2 shared cores.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import re
import sys
import time
from pathlib import Path

from bench.common import PG_ADMIN, database, make_app, migrate, percentile
from bench.report import Figure, Results

#: Orders of the one merchant, per backend. SQLite stops at 100k (see docs/performance.md).
SCALES = {"postgresql": (10_000, 100_000, 1_000_000), "sqlite": (10_000, 100_000)}
MERCHANTS, MERCHANT_ORDERS = 1000, 1000
BAR_MS = 50.0
BAR_RATIO = 1.5
BAR_RSS = 1.10
PASSWORD = "bench password 123"
SEARCH = "orders list, SKU search"
#: Search terms with a known number of matching orders (in customer emails, spread evenly).
MARKERS = {"qzten": 10, "qzhundred": 100, "qzthousand": 1000}
BAR_MARKER = "qzhundred"
#: Tables a page must never read whole once they hold more than BIG_ROWS rows (a Seq Scan
#: / SCAN of one fails the plan row); a smaller table may be read whole by choice.
SCOPED_TABLES = ("orders", "order_lines", "fulfillments", "fulfillment_lines",
                 "inventory_movements", "order_status_counts", "inventory_levels",
                 "returns", "return_lines", "refunds", "refund_lines", "outbox_events",
                 "webhook_inbox")
BIG_ROWS = 10_000
KEEP_DIR = Path("/tmp/stockroom-bench-keep")


def _sku(i: int, skus: int = 2000) -> str:
    return f"SKU-{(i * 37) % skus + 1:05d}"


@contextlib.contextmanager
def bench_database(backend: str, label: str, *, keep: bool):
    """(url, seed info or None): a fresh database, or with ``keep`` the one kept from before."""
    if not keep:
        with database(backend, label) as url:
            yield url, None
        return
    KEEP_DIR.mkdir(exist_ok=True)
    info_path = KEEP_DIR / f"{backend}-{label}.json"
    if backend == "sqlite":
        if not info_path.exists():
            (KEEP_DIR / f"{label}.sqlite3").unlink(missing_ok=True)
        url = f"sqlite:///{KEEP_DIR}/{label}.sqlite3"
    else:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"stockroom_dash_keep_{label}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not info_path.exists():  # never seeded, or a seed that didn't finish
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    info = json.loads(info_path.read_text()) if info_path.exists() else None
    if info is None or os.environ.get("BENCH_NO_MIGRATE") != "1":
        migrate(url)  # a kept database at head: new indexes built on its data
    yield url, info  # kept; the caller writes the info file once seeded



def _seed(url: str, orders: int, *, merchants: int = 1, skus: int, info: dict | None,
          label: str, keep: bool, backend: str):
    """Seed (unless kept), sign-in user; the app and what the pages need."""
    from sqlalchemy import func, select
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.models import Order, OrderLine, StockLocation, User
    from demo.seed_bulk import seed_bulk

    app = make_app(url)
    with app.app_context():
        if info is None:
            started = time.perf_counter()
            target = merchants // 2
            for m in range(merchants):
                seeded = seed_bulk(
                    db.session.connection(), orders=orders, seed=7 + m,
                    skus=skus, locations=3 if skus >= 2000 else 2,
                    markers={k: v for k, v in MARKERS.items() if v <= orders // 10},
                    keep_open_ids=0, merchant_name=f"Bulk merchant {m + 1}")
                if m == target:
                    merchant_id = seeded.merchant_id
                    db.session.add(User(merchant_id=merchant_id, email="bench@stockroom.test",
                                        password_hash=generate_password_hash(
                                            PASSWORD, method="scrypt")))
                db.session.commit()
            info = {"merchant_id": merchant_id, "seconds": time.perf_counter() - started,
                    "orders": orders, "merchants": merchants}
            if db.engine.dialect.name == "postgresql":
                # What autovacuum does to a table this size soon after a bulk load:
                # statistics and the visibility map (index-only scans).
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM ANALYZE")
            else:
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
            if keep:
                (KEEP_DIR / f"{backend}-{label}.json").write_text(json.dumps(info))
        merchant_id = info["merchant_id"]
        # A cursor halfway down the list: a page deep in keyset order.
        middle = db.session.execute(select(Order.placed_at, Order.id).where(
            Order.merchant_id == merchant_id).order_by(Order.placed_at.desc(), Order.id.desc())
            .offset(orders // 2).limit(1)).one()
        open_ids = list(db.session.scalars(select(Order.id).where(
            Order.merchant_id == merchant_id, Order.fulfillment_status == "unfulfilled")
            .order_by(Order.id.desc()).limit(400)))
        lines = {order_id: list(db.session.execute(select(OrderLine.id, OrderLine.quantity)
                                                   .where(OrderLine.order_id == order_id)))
                 for order_id in open_ids}
        first_id, last_id = db.session.execute(select(func.min(Order.id), func.max(Order.id))
                                               .where(Order.merchant_id == merchant_id)).one()
        location = db.session.scalar(select(StockLocation.id).where(
            StockLocation.merchant_id == merchant_id).order_by(StockLocation.id).limit(1))
        db.session.remove()
        db.engine.dispose()
    return app, info, middle, lines, (first_id, last_id), location


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


def measure(url: str, orders: int, n: int, *, merchants: int = 1, skus: int = 2000, info=None,
            label="", keep=False, backend="postgresql", rss: dict | None = None) -> dict:
    """Per page: server-side milliseconds of ``n`` requests; the plans; peak RSS."""
    from app.web.read_models.orders import Cursor

    app, info, middle, lines, (first_id, last_id), location = _seed(
        url, orders, merchants=merchants, skus=skus, info=info, label=label, keep=keep,
        backend=backend)
    client = app.test_client()
    csrf = _sign_in(client)
    rng = random.Random(1)
    deep = Cursor(middle.placed_at, middle.id).encode()
    some_orders = [rng.randint(first_id, last_id) for _ in range(n + 10)]
    open_ids = list(lines)

    def get(path):
        return lambda i: client.get(path(i) if callable(path) else path).status_code

    def form_token(order_id) -> str:
        page = client.get(f"/orders/{order_id}/fulfill").get_data(as_text=True)
        return re.search(r'name="form_token" value="([^"]+)"', page).group(1)

    posts = min(n, len(open_ids) - 5) + 3
    # Each form is acted on once (its single-use form_token): fetched before the timing.
    tokens = {order_id: form_token(order_id) for order_id in open_ids[:posts]}

    def post_fulfill(i):
        order_id = open_ids[i % len(open_ids)]
        form = {"csrf_token": csrf, "location_id": str(location),
                "form_token": tokens[order_id]}
        form.update({f"qty-{line_id}": str(qty) for line_id, qty in lines[order_id]})
        return client.post(f"/orders/{order_id}/fulfillments", data=form).status_code

    pages = {
        "orders list, first page": get("/orders"),
        "orders list, filtered (status=unfulfilled)": get("/orders?status=unfulfilled"),
        SEARCH: get(lambda i: f"/orders?q={_sku(i, skus)}"),
        "orders list, page deep in keyset order": get(f"/orders?after={deep}"),
        "order page": get(lambda i: f"/orders/{some_orders[i]}"),
        "fulfill form": get(lambda i: f"/orders/{open_ids[-1 - i % 200]}/fulfill"),
    }
    for term, count in MARKERS.items():
        if count <= orders // 10:
            pages[f"search matching {count:,} orders"] = get(f"/orders?q={term}")
    pages["fulfill POST"] = post_fulfill
    out: dict = {"seconds": info["seconds"], "times": {}}
    with app.app_context():
        out["plans"] = _plans(app, info["merchant_id"], {k: v for k, v in pages.items()
                                                          if k != "fulfill POST"})
        for name, call in pages.items():
            out["times"][name] = _timed(call, n if name != "fulfill POST" else posts - 3)
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
    if rss is not None:
        out["rss"] = _served_rss(url, deep)
        rss[f"web worker ({_name(url)}, dashboard at {_scale(orders, merchants)})"] = out["rss"]
        out["worker_rss"] = _worker_rss(url)
        rss[f"sync worker ({_name(url)}, dashboard at {_scale(orders, merchants)})"] = \
            out["worker_rss"]
    return out


def _scale(orders: int, merchants: int) -> str:
    if merchants > 1:
        return f"{merchants:,} merchants x {orders:,}"
    return f"{orders // 1_000_000}M" if orders >= 1_000_000 else f"{orders // 1000}k"


def _plans(app, merchant_id: int, pages: dict) -> dict[str, list[str]]:
    """Page -> the big tables its statements read whole (empty: every plan uses an index).

    Each page is requested once with every statement captured, then each statement is
    EXPLAINed with the parameters it was sent with (the merchant's own id).
    """
    from sqlalchemy import event, text

    from app.extensions import db

    with db.engine.connect() as conn:
        big = {name for name in SCOPED_TABLES if conn.scalar(text(
            f"SELECT count(*) FROM (SELECT 1 FROM {name} LIMIT {BIG_ROWS + 1}) AS t"))
            > BIG_ROWS}
    found = {}
    for name, call in pages.items():
        sent = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
                sent.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            call(0)
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        found[name] = sorted({scan for statement, params in sent
                              for scan in _full_scans(db.engine, statement, params, big)})
        found[name + " (statements)"] = len(sent)
    return found


def _full_scans(engine, statement: str, params, big: set[str]) -> list[str]:
    """The big tables the plan of ``statement`` reads whole."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            out, stack = [], [plan[0]["Plan"]]
            while stack:
                node = stack.pop()
                if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in big:
                    out.append(node["Relation Name"])
                stack.extend(node.get("Plans", []))
            return out
        cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        out = []
        for row in cursor.fetchall():
            match = re.match(r"SCAN (\w+)", row[-1])
            if match and match[1] in big:
                out.append(match[1])
        return out


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
                         f"/orders?q=SKU-{i + 1:05d}", "/orders?q=qzthousand"):
                s.get(server.url + path).raise_for_status()
        return server.peak_worker_rss_kib()


def _worker_rss(url: str, seconds: float = 20.0) -> int | None:
    """VmHWM of a ``flask worker`` left running ``seconds`` (its periodic jobs: count folds)."""
    from bench.servers import SyncWorker, app_env

    worker = SyncWorker(app_env(url))
    try:
        time.sleep(seconds)
        return worker.peak_rss_kib()
    finally:
        worker.stop()


def _p(times, p):
    return percentile(times, p)


def run(results: Results, *, backends, rss: dict | None = None, n: int = 100,
        keep: bool = False, scales: dict | None = None, merchants: bool = True) -> None:
    """Every scale on each backend (one figure per page, 10k as reference), then 1,000 merchants."""
    for backend in backends:
        setting = {"postgresql": "PostgreSQL", "sqlite": "SQLite (embedded default)"}[backend]
        setting += ", in-process WSGI, production config"
        sizes = (scales or SCALES)[backend]
        by_scale = {}
        for scale in sizes:
            label = f"dash{_scale(scale, 1).lower()}"
            with bench_database(backend, label, keep=keep) as (url, info):
                by_scale[scale] = measure(url, scale, n, info=info, label=label, keep=keep,
                                          backend=backend, rss=rss)
        if by_scale:
            _report(results, backend, setting, by_scale)
        if merchants and backend == "postgresql":
            label = f"dash{MERCHANTS}x{MERCHANT_ORDERS}"
            with bench_database(backend, label, keep=keep) as (url, info):
                many = measure(url, MERCHANT_ORDERS, n, merchants=MERCHANTS, skus=100, info=info,
                               label=label, keep=keep, backend=backend, rss=rss)
            with bench_database(backend, "dash1x1000", keep=keep) as (url, info):
                alone = measure(url, MERCHANT_ORDERS, n, skus=100, info=info, label="dash1x1000",
                                keep=keep, backend=backend)
            _report_merchants(results, setting, many, alone)


def _plan_figure(results, setting, where, out, *, barred: bool = True) -> None:
    """The plan row; its bar only at the largest size (a small table may be read whole)."""
    plans = out["plans"]
    bad = {page: scans for page, scans in plans.items()
           if not page.endswith("(statements)") and scans}
    statements = sum(v for k, v in plans.items() if k.endswith("(statements)"))
    results.add(Figure(
        "4 dashboard", f"query plans of every page at {where}", setting,
        f"{statements} statements, {sum(map(len, bad.values()))} full scans",
        "EXPLAIN of each statement the pages sent, with the merchant's id",
        f"no Seq Scan (SQLite: SCAN) of orders, lines, fulfillments, movements, counts... "
        f"holding > {BIG_ROWS:,} rows"
        if barred else "",
        (not bad) if barred else None, note="; ".join(f"{page}: {', '.join(scans)}" for page, scans in bad.items())))


def _report(results, backend, setting, by_scale) -> None:
    sizes = sorted(by_scale)
    small, large = by_scale[sizes[0]], by_scale[sizes[-1]]
    at = _scale(sizes[-1], 1)
    results.add(Figure(
        "4 dashboard", f"bulk seed of {at} orders (~3 lines, 60% fulfilled)",
        setting.split(",")[0], f"{large['seconds']:.1f} s",
        "; ".join(f"{_scale(s, 1)}: {by_scale[s]['seconds']:.1f} s" for s in sizes[:-1]),
        "streamed: 20,000 orders a batch (demo/seed_bulk.py)"))
    for page in large["times"]:
        times = large["times"][page]
        p50, p95 = _p(times, 50), _p(times, 95)
        refs = "; ".join(f"{_scale(s, 1)}: {_p(by_scale[s]['times'][page], 50):.1f} / "
                         f"{_p(by_scale[s]['times'][page], 95):.1f} ms"
                         for s in sizes[:-1] if page in by_scale[s]["times"])
        ref95 = _p(small["times"][page], 95) if page in small["times"] else float("nan")
        ratio = p95 / ref95 if ref95 == ref95 and ref95 else float("nan")
        marker = page.startswith("search matching")
        if page == SEARCH:  # its matches grow with the table: the marked terms carry the bar
            bar, met = "", None
        elif marker:
            bar = (f"p95 <= {BAR_MS:.0f} ms and <= {BAR_RATIO}x 10k (same matches)"
                   if BAR_MARKER in page or "100 orders" in page else f"<= {BAR_RATIO}x 10k")
            met = ratio <= BAR_RATIO and (p95 <= BAR_MS if "100 orders" in page else True)
        else:
            bar, met = f"p95 <= {BAR_MS:.0f} ms", p95 <= BAR_MS
        results.add(Figure(
            "4 dashboard", f"{page}: p50 / p95 at {at}", setting, f"{p50:.1f} / {p95:.1f} ms",
            f"{refs}; {at}/{_scale(sizes[0], 1)} p95 = {ratio:.2f}x", bar, met,
            note=("each timed SKU is in ~0.15% of orders: the matches grow with the table "
                  "(~15 at 10k, ~1,500 at 1M); the page shows 50 and counts them all"
                  if page == SEARCH else "")))
    for s in sizes:
        _plan_figure(results, setting, _scale(s, 1), by_scale[s], barred=s == sizes[-1])
    for kind, key in (("web worker", "rss"), ("sync worker", "worker_rss")):
        if all(by_scale[s].get(key) for s in sizes):
            first, last = by_scale[sizes[0]][key], by_scale[sizes[-1]][key]
            results.add(Figure(
                "6 memory", f"peak RSS of a {kind}, {at} against {_scale(sizes[0], 1)}",
                setting.split(",")[0],
                f"{last / 1024:.0f} MiB ({last / first:.2f}x)",
                "; ".join(f"{_scale(s, 1)}: {by_scale[s][key] / 1024:.0f} MiB" for s in sizes),
                f"<= {BAR_RSS:.2f}x {_scale(sizes[0], 1)} (flat)", last <= BAR_RSS * first,
                note="VmHWM from /proc: a gunicorn worker that served the list pages 200 "
                     "times" if kind == "web worker" else
                     "VmHWM from /proc: flask worker left running 20 s (its periodic jobs)"))


def _report_merchants(results, setting, many, alone) -> None:
    where = f"{MERCHANTS:,} merchants x {MERCHANT_ORDERS:,} orders"
    results.add(Figure(
        "4 dashboard", f"bulk seed of {where}", setting.split(",")[0],
        f"{many['seconds']:.1f} s", f"one merchant of 1,000 alone: {alone['seconds']:.1f} s",
        "streamed, one merchant at a time"))
    for page, times in many["times"].items():
        p50, p95 = _p(times, 50), _p(times, 95)
        ref = alone["times"][page]
        ratio = p95 / _p(ref, 95)
        results.add(Figure(
            "4 dashboard", f"{page}: p50 / p95, merchant {MERCHANTS // 2 + 1} of {where}",
            setting, f"{p50:.1f} / {p95:.1f} ms",
            f"the same merchant alone in its database: {_p(ref, 50):.1f} / {_p(ref, 95):.1f} ms"
            f" ({ratio:.2f}x)", f"p95 <= {BAR_MS:.0f} ms and <= {BAR_RATIO}x alone",
            p95 <= BAR_MS and ratio <= BAR_RATIO))
    _plan_figure(results, setting, where, many)


def main(argv: list[str]) -> None:
    """``python -m bench.dashboard [backends] [--keep] [--scales N,N] [--no-merchants]
    [--merchants-only]``."""
    from bench.common import machine

    backends = [a for a in argv if a in ("postgresql", "sqlite")] or ["postgresql", "sqlite"]
    scales = None
    if "--scales" in argv:
        chosen = tuple(int(x) for x in argv[argv.index("--scales") + 1].split(","))
        scales = {b: chosen for b in backends}
    if "--merchants-only" in argv:
        scales = {b: () for b in backends}
    res = Results(machine())
    run(res, backends=backends, rss={}, n=int(os.environ.get("BENCH_N", "100")),
        keep="--keep" in argv, scales=scales, merchants="--no-merchants" not in argv)
    print(res.markdown())


if __name__ == "__main__":
    main(sys.argv[1:])
