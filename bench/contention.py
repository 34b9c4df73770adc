"""Bench 5: 8 clients fulfilling orders across 100 SKUs at once (gunicorn + PostgreSQL).

Each client is a signed-in browser session posting the real fulfill form; demand is
larger than stock, so many attempts must be refused (409) and none may oversell. The
reference is one client on an identical fresh database, in the same run.
"""
from __future__ import annotations

import re
import threading
import time

import requests

from bench.common import database, make_app
from bench.report import Figure, Results
from bench.servers import GUNICORN_ARGS, Gunicorn, app_env

PASSWORD = "bench password 123"
SKUS = 100
ORDERS = 3000
DURATION = 20.0


def _seed(url: str) -> tuple[dict[int, list[tuple[int, int]]], int]:
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from app.extensions import db
    from app.models import OrderLine, User
    from demo.seed_bulk import seed_bulk

    app = make_app(url)
    with app.app_context():
        seeded = seed_bulk(db.session.connection(), orders=ORDERS, skus=SKUS, locations=1,
                           fulfilled_share=0.0, canceled_share=0.0, seed=5,
                           on_hand=(0, 12))
        db.session.add(User(merchant_id=seeded.merchant_id, email="bench@stockroom.test",
                            password_hash=generate_password_hash(PASSWORD, method="scrypt")))
        db.session.commit()
        lines: dict[int, list[tuple[int, int]]] = {}
        for order_id, line_id, qty in db.session.execute(select(
                OrderLine.order_id, OrderLine.id, OrderLine.quantity).order_by(OrderLine.id)):
            lines.setdefault(order_id, []).append((line_id, qty))
        db.engine.dispose()
    return lines, seeded.location_ids[0]


def _session(base: str) -> tuple[requests.Session, str]:
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/sign-in").text)[1]
    resp = s.post(base + "/sign-in", data={"email": "bench@stockroom.test",
                                           "password": PASSWORD, "csrf_token": token},
                  allow_redirects=False)
    assert resp.status_code == 303, resp.status_code
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/orders").text)[1]
    return s, token


def _drive(base: str, lines, location: int, clients: int) -> dict:
    sessions = [_session(base) for _ in range(clients)]
    order_ids = list(lines)
    counts = {"created": 0, "refused": 0, "other": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + DURATION
    next_index = iter(range(len(order_ids)))

    def client(session, token):
        while time.monotonic() < deadline:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            order_id = order_ids[i]
            form = {"csrf_token": token, "location_id": str(location)}
            form.update({f"qty-{line_id}": str(q) for line_id, q in lines[order_id]})
            status = session.post(f"{base}/orders/{order_id}/fulfillments", data=form,
                                  allow_redirects=False).status_code
            key = {303: "created", 409: "refused"}.get(status, "other")
            with lock:
                counts[key] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=s) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts["seconds"] = time.monotonic() - started
    return counts


def check_no_oversell(url: str) -> list[str]:
    """Every invariant a race could break: negative stock, ledger drift, over-fulfilled lines."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import InventoryLevel, InventoryMovement, OrderLine

    app = make_app(url)
    problems = []
    with app.app_context():
        negative = db.session.scalar(select(func.count()).select_from(InventoryLevel).where(
            InventoryLevel.on_hand < 0))
        if negative:
            problems.append(f"{negative} levels below zero")
        sums = dict(db.session.execute(select(InventoryMovement.level_id,
                                              func.sum(InventoryMovement.delta))
                                       .group_by(InventoryMovement.level_id)).all())
        for level_id, on_hand in db.session.execute(select(InventoryLevel.id,
                                                           InventoryLevel.on_hand)):
            if sums.get(level_id, 0) != on_hand:
                problems.append(f"level {level_id}: on_hand {on_hand} != ledger {sums.get(level_id)}")
        over = db.session.scalar(select(func.count()).select_from(OrderLine).where(
            OrderLine.fulfilled_quantity > OrderLine.quantity))
        if over:
            problems.append(f"{over} lines over-fulfilled")
        db.engine.dispose()
    return problems


def run(results: Results, *, rss: dict, clients: int = 8) -> None:
    """One client, then ``clients`` clients, each on a fresh PostgreSQL database."""
    figures = {}
    for n in (1, clients):
        with database("postgresql", f"contend{n}") as url:
            lines, location = _seed(url)
            with Gunicorn("wsgi:app", app_env(url)) as server:
                figures[n] = _drive(server.url, lines, location, n)
                rss[f"web worker (PostgreSQL, {n} fulfilling clients)"] = \
                    server.peak_worker_rss_kib()
            figures[n]["problems"] = check_no_oversell(url)
    one, many = figures[1], figures[clients]
    # Every attempt is decided under the same row locks, created or refused for stock;
    # stock runs out during the run (by design), so created alone would measure the stock.
    rate = (many["created"] + many["refused"]) / many["seconds"]
    ref = (one["created"] + one["refused"]) / one["seconds"]
    problems = one["problems"] + many["problems"]
    results.add(Figure(
        "5 contended fulfillment",
        f"fulfill attempts decided/s (created or refused), {clients} clients, {SKUS} SKUs",
        f"gunicorn ({' '.join(GUNICORN_ARGS[:4])}), PostgreSQL",
        f"{rate:.0f}/s ({many['created']} created, {many['refused']} refused for stock, "
        f"{many['other']} other); oversell: {len(problems) or 'none'}",
        f"1 client: {ref:.0f}/s; {clients} clients = {rate / ref:.2f}x",
        "zero oversell", not problems and many["other"] == 0,
        note="; ".join(problems[:5]) or "checked after the run: no level below zero, every "
             "level equals its ledger, no line fulfilled past its quantity"))


if __name__ == "__main__":
    from bench.common import machine

    res = Results(machine())
    memory: dict = {}
    run(res, rss=memory)
    print(memory)
