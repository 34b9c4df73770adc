"""Real processes for the fault-injection suite: the Shopify sandbox, gunicorn, `flask worker`s,
a throwaway PostgreSQL cluster; plus the shop setup and the checks every scenario shares."""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import (ChannelLocation, Fulfillment, InventoryItem, InventoryLevel, JobStatus,
                        Merchant, Order, OutboxEvent, WebhookInbox)
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.fixtures.factories import confirm_stock, make_item, make_location, stock
from tests.integration.shopify.conftest import iframe_src, parse_form

REPO = Path(__file__).resolve().parents[2]
SHOP = "demo-shop.myshopify.com"
SECRET = "shpss_reliability_suite_secret_0123456789abcdef"
CLIENT_ID = tomllib.loads((REPO / "shopify.app.toml").read_text())["client_id"]
SKUS = ("TOTE-NAT", "TOTE-BLK", "MUG-WHT", "BEANIE-GRY", "BEANIE-NVY")
#: Jobs in these states need nothing more from a worker.
SETTLED = (JobStatus.DONE, JobStatus.IGNORED, JobStatus.DEAD, JobStatus.DISCARDED)
#: Short webhook retries (Shopify: 10 s ... 2 h 10 m): ~45 s in all, more than any outage here.
WEBHOOK_RETRIES = [0.2, 0.5, 1, 2, 3, 5, 8, 10, 15]


#: The long scenarios run on PostgreSQL only in `make test`; RELIABILITY_SQLITE_ALL=1 runs
#: them on SQLite too.
postgres_in_make_test = (pytest.mark.slow if os.environ.get("RELIABILITY_SQLITE_ALL")
                         else pytest.mark.postgres)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, *, timeout: float, what: str, every: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def read_db(fn):
    """Run a read in its own short transaction (on SQLite an open one blocks the app)."""
    try:
        return fn()
    finally:
        db.session.remove()


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the Shopify sandbox ------------------------------------------------------------------

class Sandbox:
    """`python -m sandbox.shopify` in its own process (its own GIL), controlled over HTTP."""

    def __init__(self, tmp: Path):
        self.http_port, self.https_port = free_port(), free_port()
        self.http_url = f"http://127.0.0.1:{self.http_port}"
        self.https_url = f"https://127.0.0.1:{self.https_port}"
        self.tls_dir = tmp / "tls"
        self.ca_bundle = str(self.tls_dir / "ca-bundle.pem")
        self.log = open(tmp / "sandbox.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox.shopify", "--http-port", str(self.http_port),
             "--https-port", str(self.https_port), "--tls-dir", str(self.tls_dir)],
            cwd=REPO, env={**os.environ, "SHOPIFY_API_SECRET": SECRET},
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until(self._up, timeout=30, what="the Shopify sandbox")

    def _up(self) -> bool:
        assert self.proc.poll() is None, "the sandbox exited"
        try:
            return requests.get(f"{self.http_url}/_sandbox/health", timeout=1).ok
        except requests.RequestException:
            return False

    def control(self, method: str, path: str, body=None, *, expect: int = 200):
        """Call a control endpoint (``/_sandbox/<path>``) and return its JSON."""
        resp = requests.request(method, f"{self.http_url}/_sandbox/{path}", json=body,
                                timeout=60)
        assert resp.status_code == expect, resp.text[:500]
        return resp.json()

    def reset(self, app_url: str) -> None:
        """Fresh seeded world, our app registered at ``app_url``, short webhook retries."""
        self.control("POST", "reset", {"seed": 1})
        self.control("POST", "apps", {
            "client_id": CLIENT_ID, "secret": SECRET,
            "application_url": f"{app_url}/shopify/app",
            "redirect_urls": [f"{app_url}/shopify/auth/callback"]})
        self.control("POST", "webhooks/settings", {"retry_delays": WEBHOOK_RETRIES,
                                                   "time_scale": 1, "timeout": 5})

    def shop(self) -> dict:
        """The shop's state snapshot."""
        return self.control("GET", f"shops/{SHOP}")

    def deliveries(self, **filters) -> list[dict]:
        """Every webhook delivery the sandbox made (or still tries), with its attempts."""
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return self.control("GET", f"webhooks/deliveries?{query}")

    def stop(self) -> None:
        _stop(self.proc)
        self.log.close()


# --- Stockroom: gunicorn and workers ------------------------------------------------------

@dataclass
class Stockroom:
    """The app under gunicorn and any number of `flask worker` processes, on one database."""

    database_url: str
    sandbox: Sandbox
    tmp: Path
    settings: dict = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    gunicorn: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        """The processes' environment: configured like production, by environment only."""
        return {
            **os.environ, "DATABASE_URL": self.database_url, "SECRET_KEY": "reliability-suite",
            "STOCKROOM_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY, "STOCKROOM_SECURE_COOKIES": "0",
            "SHOPIFY_API_SECRET": SECRET, "SHOPIFY_APP_URL": f"{self.url}/shopify/app",
            # Plain HTTP to the sandbox: TLS is covered by the integration tests; here a
            # handshake per call would only slow the fault scenarios down.
            "SHOPIFY_SHOP_URL_TEMPLATE": f"{self.sandbox.http_url}/shops/{{shop}}",
            "SHOPIFY_ADMIN_ORIGINS": self.sandbox.http_url,
            "SHOPIFY_APP_BRIDGE_URL": f"{self.sandbox.http_url}/_sandbox/app-bridge.js",
            "SHOPIFY_CA_BUNDLE": self.sandbox.ca_bundle, "SHOPIFY_TIMEOUT_SECONDS": "5",
            "SYNC_LEASE_SECONDS": "10", "SYNC_MAX_ATTEMPTS": "8",
            "SYNC_BACKOFF_BASE_SECONDS": "0.25", "SYNC_BACKOFF_CAP_SECONDS": "3",
            **self.settings}

    def _log(self, name: str):
        path = self.tmp / f"{name}-{len(self.logs)}.log"
        self.logs.append(path)
        return open(path, "w")

    def start_app(self, *, processes: int = 2) -> None:
        """gunicorn wsgi:app, as in production; returns once /healthz answers."""
        log = self._log("gunicorn")
        self.gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(processes), "--bind",
             f"127.0.0.1:{self.port}", "--graceful-timeout", "3", "--timeout", "30",
             "--no-control-socket", "wsgi:app"],
            cwd=REPO, env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(self._healthy, timeout=30, what="gunicorn to answer /healthz")

    def _healthy(self) -> bool:
        assert self.gunicorn.poll() is None, self.logs[-1].read_text()[-2000:]
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    def gunicorn_children(self) -> list[int]:
        """Pids of gunicorn's worker processes (the master respawns killed ones)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.gunicorn.pid)],
                             capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    def stop_app(self, sig=signal.SIGTERM) -> None:
        if self.gunicorn is not None:
            _stop(self.gunicorn, sig)

    def start_worker(self, *, batch: int = 5) -> subprocess.Popen:
        """One `flask worker` process; its JSON lines go to a log file."""
        log = self._log("worker")
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--poll", "0.05",
             "--batch", str(batch)], cwd=REPO, env=self.env(), stdout=log,
            stderr=subprocess.STDOUT)
        log.close()
        self.workers.append(proc)
        return proc

    def stop_workers(self) -> None:
        for proc in self.workers:
            _stop(proc)
        self.workers = [p for p in self.workers if p.poll() is None]

    def job_attempts(self) -> list[dict]:
        """Every `job_attempt` line any worker logged (one per attempt)."""
        return [line for line in self.log_lines() if line.get("event") == "job_attempt"]

    def log_lines(self) -> list[dict]:
        out = []
        for path in self.logs:
            if path.name.startswith("worker"):
                for text in path.read_text().splitlines():
                    if text.startswith("{"):
                        try:
                            out.append(json.loads(text))
                        except ValueError:
                            pass
        return out

    def stop(self) -> None:
        self.stop_workers()
        self.stop_app()


# --- setup of the merchant, orders, fulfillments -------------------------------------------

@dataclass
class Shop:
    """The installed shop, its mapped locations and our stock at them."""

    merchant_id: int
    warehouse_id: int
    downtown_id: int
    remote: dict[str, str]  # sandbox location name -> gid
    initial: int


def install(stockroom: Stockroom, *, initial: int = 1000, plan: str = "plus") -> Shop:
    """Install through the sandbox admin (managed install + token exchange in gunicorn), let
    a worker import the locations, map two of them and put ``initial`` of each SKU at both.

    The shop is on Shopify Plus rate limits (1,000 points/s) unless ``plan`` says otherwise:
    on the standard plan (100/s) the hundreds of syncs of a scenario would spend most of
    their time paced by the bucket, which scenario 2 covers on its own.
    """
    sandbox = stockroom.sandbox
    sandbox.control("POST", f"shops/{SHOP}/plan", {"plan": plan})
    browser = requests.Session()
    consent = browser.get(f"{sandbox.http_url}/store/{SHOP}/apps/{CLIENT_ID}", timeout=10)
    form = parse_form(consent.text)
    frame = browser.post(sandbox.http_url + form.action,
                         data={**form.fields, "decision": "approve"}, timeout=10)
    assert browser.get(iframe_src(frame.text), allow_redirects=False,
                       timeout=20).status_code == 302
    wait_until(lambda: read_db(lambda: db.session.query(ChannelLocation).count() == 4),
               timeout=60, what="the locations import")
    snapshot = sandbox.shop()
    remote = {loc["name"]: loc["gid"] for loc in snapshot["locations"]}
    for sku in SKUS:  # plenty on the platform side too: the scenarios are about sync, not stock
        for name in ("Main Warehouse", "Downtown Store"):
            sandbox.control("POST", f"shops/{SHOP}/inventory",
                            {"sku": sku, "location_id": remote[name], "on_hand": 100000})
    locations = {cl.name: cl for cl in db.session.scalars(select(ChannelLocation))}
    merchant = db.session.get(Merchant, locations["Main Warehouse"].merchant_id)
    warehouse, downtown = make_location(merchant, "Warehouse"), make_location(merchant, "Downtown")
    locations["Main Warehouse"].stock_location_id = warehouse.id
    locations["Downtown Store"].stock_location_id = downtown.id
    # Stockroom's counts are the truth (as the merchant confirms on onboarding): pushed.
    confirm_stock(locations["Main Warehouse"], locations["Downtown Store"])
    for sku in SKUS:
        item = make_item(merchant, sku)
        stock(warehouse, item, initial)
        stock(downtown, item, initial)
    shop = Shop(merchant.id, warehouse.id, downtown.id, remote, initial)
    db.session.commit()
    db.session.remove()
    return shop


def subscribe_to_stock_edits(stockroom: Stockroom) -> None:
    """An API subscription of the app to inventory_levels/update (Stockroom's toml has none:
    it pushes stock, it does not pull it). Those deliveries are stored and deduplicated like
    any other, then ignored: cheap filler that loads the intake, not the platform."""
    from app.models import Channel
    from app.platforms.shopify.tokens import read_credentials

    token = read_db(lambda: read_credentials(db.session.scalar(select(Channel))).access_token)
    response = requests.post(
        f"{stockroom.sandbox.http_url}/shops/{SHOP}/admin/api/2026-10/graphql.json", timeout=10,
        headers={"X-Shopify-Access-Token": token}, json={
            "query": "mutation Subscribe($uri: String!) { webhookSubscriptionCreate("
                     "topic: INVENTORY_LEVELS_UPDATE, webhookSubscription: {uri: $uri}) "
                     "{ userErrors { message } } }",
            "variables": {"uri": f"{stockroom.url}/shopify/webhooks"}})
    assert response.json()["data"]["webhookSubscriptionCreate"]["userErrors"] == [], \
        response.text


def place_orders(stockroom: Stockroom, shop: Shop, count: int, *, rng: random.Random,
                 location: str = "Main Warehouse") -> list[dict]:
    """``count`` checkouts on the sandbox (1-2 lines each), at one location."""
    placed = []
    for _ in range(count):
        skus = rng.sample(SKUS, rng.randint(1, 2))
        placed.append(stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
            "lines": [{"sku": sku, "quantity": rng.randint(1, 3)} for sku in skus],
            "location_id": shop.remote[location]}))
    return placed


def wait_for_orders(placed: list[dict], *, timeout: float = 120) -> list[int]:
    """Until the ``placed`` checkouts are orders in Stockroom (arrived by webhook, applied by a
    worker); returns their ids, in the order placed."""
    gids = [p["gid"] for p in placed]

    def arrived():
        found = dict(db.session.execute(select(Order.remote_id, Order.id).where(
            Order.remote_id.in_(gids))).all())
        return [found[g] for g in gids] if len(found) == len(gids) else None
    return wait_until(lambda: read_db(arrived), timeout=timeout,
                      what=f"{len(gids)} orders to arrive by webhook", every=0.25)


def pending_jobs() -> int:
    """Outbox + inbox jobs a worker still has to run."""
    return sum(db.session.scalar(select(func.count()).select_from(model).where(
        model.status.not_in(SETTLED))) for model in (OutboxEvent, WebhookInbox))


def wait_settled(stockroom: Stockroom, *, timeout: float = 180) -> None:
    """Until the sandbox has nothing left to deliver and the workers nothing left to run
    (twice in a row, a moment apart: a delivery being applied can queue another)."""
    def quiet() -> bool:
        # The database first: asking the sandbox builds a list of every delivery.
        return read_db(pending_jobs) == 0 and not stockroom.sandbox.deliveries(state="pending")

    def twice() -> bool:
        if not quiet():
            return False
        time.sleep(0.5)
        return quiet()

    wait_until(twice, timeout=timeout, what="the queues to drain", every=1.0)


# --- final-state checks -------------------------------------------------------------------

@dataclass
class Outcome:
    """What a scenario found: the figures of the summary table."""

    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # applied, but an older state won


def check_pushes(stockroom: Stockroom, shop: Shop, fulfillment_ids: list[int],
                 expected_units: dict[str, int] | None = None) -> Outcome:
    """Each of our fulfillments exists exactly once on the platform with its lines, nothing
    else is there, and our stock equals the fault-free reference (initial - fulfilled)."""
    outcome = Outcome()
    snapshot = stockroom.sandbox.shop()
    remote = {f"gid://shopify/Fulfillment/{f['id']}": f for f in snapshot["fulfillments"]}
    ours = read_db(lambda: {f.id: (f.remote_id, f.status, sum(fl.quantity for fl in f.lines))
                            for f in db.session.scalars(select(Fulfillment).where(
                                Fulfillment.id.in_(fulfillment_ids)))})
    claimed = Counter()
    for fid in fulfillment_ids:
        remote_id, status, units = ours[fid]
        if remote_id is None or remote_id not in remote:
            outcome.lost += 1
            outcome.problems.append(f"fulfillment #{fid} never reached the platform")
            continue
        claimed[remote_id] += 1
        got = sum(line["quantity"] for line in remote[remote_id]["lines"])
        if got != units:
            outcome.problems.append(f"#{fid}: {units} units here, {got} on the platform")
    # Platform fulfillments of these orders that none of ours claims are duplicates.
    order_ids = {r["order_id"] for gid_, r in remote.items() if gid_ in claimed}
    for gid_, r in remote.items():
        if r["order_id"] in order_ids and r["status"] == "SUCCESS" and gid_ not in claimed:
            outcome.duplicated += 1
            outcome.problems.append(f"{gid_} exists on the platform but is not ours")
    outcome.duplicated += sum(n - 1 for n in claimed.values() if n > 1)
    if expected_units is not None:
        for sku, units in expected_units.items():
            level = read_db(lambda: db.session.scalar(
                select(InventoryLevel.on_hand).join(InventoryItem, InventoryItem.id
                                                    == InventoryLevel.item_id)
                .where(InventoryItem.sku == sku, InventoryLevel.location_id == shop.warehouse_id)))
            if level != shop.initial - units:
                outcome.problems.append(f"{sku}: on hand {level}, reference "
                                        f"{shop.initial - units}")
    return outcome


def fulfill_orders(shop: Shop, order_ids: list[int], *, tracking_prefix: str = "TRK"
                   ) -> tuple[list[int], dict[str, int]]:
    """Fulfill every line of each order at the warehouse (one fulfillment per order, with a
    tracking number); returns the fulfillment ids and the units taken per SKU."""
    from app.fulfillment import Tracking, create_fulfillment
    from app.models import OrderLine

    ids, units = [], Counter()
    for order_id in order_ids:
        lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)).all()
        f = create_fulfillment(order_id, {line.id: line.quantity for line in lines},
                               shop.warehouse_id, merchant_id=shop.merchant_id,
                               tracking=Tracking(f"{tracking_prefix}{order_id:06d}", "UPS", ""))
        for line in lines:
            units[line.sku] += line.quantity
        db.session.commit()
        ids.append(f.id)
    db.session.remove()
    return ids, dict(units)


# --- a throwaway PostgreSQL cluster (scenario 6) ---------------------------------------------

def _pg_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


class PostgresCluster:
    """initdb + pg_ctl on a free port in a temp dir, as the postgres user when we are root:
    a server this test may stop and start without touching anyone else's."""

    def __init__(self):
        self.bin = _pg_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="stockroom-pg-"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "server.log"
        self._as = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        os.chmod(self.dir, 0o755)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        self.start()

    @staticmethod
    def available() -> bool:
        return _pg_bin() is not None and (os.geteuid() != 0 or shutil.which("runuser"))

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as, str(self.bin / tool), *args], check=True,
                       capture_output=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.logfile), "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data))

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
