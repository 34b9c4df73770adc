"""Production's shape on one machine: 2 gunicorn nodes on one PostgreSQL behind a small proxy,
3 `flask worker`s; a webhook storm and contended fulfillments through it while a worker and a
web node are SIGKILLed. Used by test_topology.py (the checks) and bench/topology.py (figures).
"""
from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import (Fulfillment, JobStatus, Order, OrderLine, Origin, OutboxEvent,
                        WebhookInbox)
from tests.reliability.harness import (CLIENT_ID, REPO, SETTLED, SHOP, Outcome, Shop,
                                       Stockroom, check_pushes, free_port, place_orders,
                                       read_db, wait_for_orders, wait_settled, wait_until)


@dataclass
class Topology(Stockroom):
    """Stockroom as 2 web nodes behind a proxy (``url`` is the proxy's) and N workers."""

    node_count: int = 2
    node_ports: list[int] = field(default_factory=list)
    nodes: list[subprocess.Popen | None] = field(default_factory=list)
    proxy: subprocess.Popen | None = None

    def start_app(self, *, processes: int = 2) -> None:
        """The nodes (each gunicorn in its own session: a SIGKILL takes its workers too),
        then the proxy on ``self.port``; returns once /healthz answers through it."""
        self.node_ports = [free_port() for _ in range(self.node_count)]
        for port in self.node_ports:
            log = self._log("node")
            self.nodes.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", str(processes), "--bind",
                 f"127.0.0.1:{port}", "--graceful-timeout", "3", "--timeout", "30",
                 "--no-control-socket", "wsgi:app"],
                cwd=REPO, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))
            log.close()
        log = self._log("proxy")
        self.proxy = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.proxy", "--port", str(self.port),
             *[arg for port in self.node_ports for arg in ("--upstream", f"127.0.0.1:{port}")]],
            cwd=REPO, env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        for port in self.node_ports:
            wait_until(lambda p=port: _answers(f"http://127.0.0.1:{p}/healthz"), timeout=60,
                       what=f"the node on port {port}")
        wait_until(lambda: _answers(f"{self.url}/healthz"), timeout=30, what="the proxy")

    def kill_node(self, index: int) -> None:
        """SIGKILL a web node: its master and every worker of it, mid-request or not."""
        proc = self.nodes[index]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def proxy_stats(self) -> dict:
        return requests.get(f"{self.url}/_proxy/stats", timeout=5).json()

    def stop_app(self, sig=signal.SIGTERM) -> None:
        for proc in self.nodes:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.terminate()
            self.proxy.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


class Merchant:
    """A merchant in Shopify admin: session token from the sandbox, every request through the
    proxy; resends a form once the node it reached died (502), with the same single-use
    token, as a person clicks again."""

    def __init__(self, topology: Topology):
        self.topology = topology
        self.http = requests.Session()
        self.http.trust_env = False

    def _headers(self) -> dict:
        token = self.topology.sandbox.control(
            "GET", f"session-token?shop={SHOP}&client_id={CLIENT_ID}")["id_token"]
        return {"Authorization": f"Bearer {token}"}

    def _request(self, method: str, path: str, **kw) -> requests.Response:
        for attempt in range(6):
            try:
                response = self.http.request(method, self.topology.url + path,
                                             headers=self._headers(), allow_redirects=False,
                                             timeout=30, **kw)
            except requests.RequestException:
                response = None
            if response is not None and response.status_code != 502:
                return response
            time.sleep(0.2 * (attempt + 1))
        raise AssertionError(f"{method} {path}: no answer through the proxy")

    def fulfill(self, order_id: int, lines: list[tuple[int, int]], location_id: int) -> int:
        """Open the fulfill form, send it for every unit; returns the final status code."""
        page = self._request("GET", f"/orders/{order_id}/fulfill").text
        token = re.search(r'name="form_token" value="([^"]+)"', page)
        form = {"location_id": str(location_id), "form_token": token[1] if token else ""}
        form.update({f"qty-{line_id}": str(qty) for line_id, qty in lines})
        return self._request("POST", f"/orders/{order_id}/fulfillments", data=form).status_code


#: The fulfill form's answers: made; refused by the domain (stock short, or another client's
#: fulfillment won the race); refused by the form (the order was already fulfilled when
#: this client opened it or sent it).
OUTCOMES = {303: "created", 409: "refused", 422: "nothing left"}


def job_summary(status: JobStatus | None = None) -> dict:
    """(queue, topic, status) -> count of the jobs not done, with one error of each."""
    out: dict[str, str] = {}
    for model, queue in ((OutboxEvent, "outbox"), (WebhookInbox, "inbox")):
        query = select(model.topic, model.status, func.count(), func.max(model.last_error))
        query = query.where(model.status == status) if status else query.where(
            model.status.not_in(SETTLED))
        for topic, state, n, error in db.session.execute(query.group_by(model.topic,
                                                                       model.status)):
            out[f"{queue} {topic} {state}"] = f"{n} ({(error or '')[:120]})"
    return out


@dataclass
class StormResult:
    """What one run did and found."""

    orders: int = 0
    deliveries: int = 0
    fulfill_attempts: Counter = field(default_factory=Counter)
    killed: list[str] = field(default_factory=list)
    calls: int = 0
    throttled: int = 0
    outcome: Outcome = field(default_factory=Outcome)
    proxy: dict = field(default_factory=dict)
    seconds: float = 0.0
    fulfillment_ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a client or the placing thread crashed


def storm(topology: Topology, shop: Shop, *, orders: int, clients: int, rng: random.Random,
          kill: bool = True) -> StormResult:
    """Place ``orders`` checkouts (their webhooks go through the proxy to both nodes), and as
    they arrive have ``clients`` merchants fulfill each order twice over (two clients race on
    every order, against stock below demand); SIGKILL worker 0 a third of the way and node 0
    halfway. Then wait until everything settled and count what the platform saw."""
    result = StormResult(orders=orders)
    started = time.monotonic()
    placed: list[dict] = []
    placing_done = threading.Event()

    app = current_app._get_current_object()  # the test's app: threads read the database

    def crash_noted(fn):
        def run():
            try:
                with app.app_context():
                    fn()
            except Exception as exc:  # noqa: BLE001 - reported in the result
                result.errors.append(f"{fn.__name__}: {exc!r}")
                placing_done.set()
        return run

    @crash_noted
    def place():
        for i in range(orders):
            placed.extend(place_orders(topology, shop, 1, rng=rng))
            if kill and i == orders // 3:
                topology.workers[0].kill()
                result.killed.append(f"worker 0 (SIGKILL) after {i + 1} orders")
            if kill and i == orders // 2:
                topology.kill_node(0)
                result.killed.append(f"web node 0 (SIGKILL, master and workers) after {i + 1} "
                                     "orders")
        placing_done.set()

    queue: list[int] = []
    taken: set[int] = set()
    lock = threading.Lock()

    def lines_of(order_id: int) -> list[tuple[int, int]]:
        return read_db(lambda: [(line.id, line.quantity) for line in db.session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id))])

    @crash_noted
    def merchant():
        person = Merchant(topology)
        while True:
            with lock:
                order_id = queue.pop(0) if queue else None
            if order_id is None:
                if result.errors or (placing_done.is_set() and len(taken) >= len(placed)
                                     and not queue):
                    return
                time.sleep(0.1)
                continue
            status = person.fulfill(order_id, lines_of(order_id), shop.warehouse_id)
            with lock:
                result.fulfill_attempts[OUTCOMES.get(status, str(status))] += 1

    @crash_noted
    def feed():
        """Each order that arrived goes to two clients."""
        while not (placing_done.is_set() and len(taken) >= len(placed)) and not result.errors:
            gids = [p["gid"] for p in placed]
            arrived = read_db(lambda: list(db.session.execute(select(Order.id, Order.remote_id)
                                                              .where(Order.remote_id.in_(gids)))))
            with lock:
                for order_id, gid in arrived:
                    if gid not in taken:
                        taken.add(gid)
                        queue.extend([order_id, order_id])
            time.sleep(0.2)

    threads = [threading.Thread(target=place), threading.Thread(target=feed)]
    threads += [threading.Thread(target=merchant) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    if result.errors:
        return result
    try:
        wait_for_orders(placed, timeout=180)
        wait_settled(topology, timeout=300)
    except AssertionError as exc:
        result.errors.append(f"{exc}; jobs: {read_db(job_summary)}")
        return result
    dead = read_db(lambda: job_summary(JobStatus.DEAD))
    if dead:
        result.errors.append(f"dead-lettered jobs: {dead}")
    result.seconds = time.monotonic() - started
    result.deliveries = len(topology.sandbox.deliveries())
    result.fulfillment_ids = read_db(lambda: list(db.session.scalars(
        select(Fulfillment.id).where(Fulfillment.origin == Origin.APP))))
    result.outcome = check_pushes(topology, shop, result.fulfillment_ids)
    counts = topology.sandbox.control("GET", f"shops/{SHOP}/rate-limit")
    result.calls, result.throttled = counts["calls"], counts["throttled"]
    result.proxy = topology.proxy_stats()
    return result
