"""Bench 2: orders applied per second from a full inbox by 1 and by 2 sync workers (PostgreSQL).

The whole real path: orders are placed on the Shopify sandbox, which delivers signed
orders/create webhooks to Stockroom under gunicorn (the inbox fills); then `flask worker`
processes start and each delivery is applied as in production — the order re-read from
the sandbox's Admin GraphQL API over HTTPS (OrderForSync), upserted with its lines and
fulfillment-order mirror. The sandbox's rate limit is lifted for this bench (bench 3 is
the one about rate limits), so the figure is Stockroom's apply path, plus the sandbox's
own CPU on the same 2 cores.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bench.common import SECRET, database, make_app
from bench.report import Figure, Results
from bench.servers import Gunicorn, ShopifySandbox, SyncWorker, app_env

SHOP = "demo-shop.myshopify.com"
CLIENT_ID = "d5b2c0a4f1e34c9b8a7d6e5f4c3b2a19"
ORDERS = 300
LINES = ("TOTE-NAT", "MUG-WHT", "BEANIE-GRY")


class Stack:
    """Sandbox + Stockroom (gunicorn) on one database, the app installed on the shop."""

    def __init__(self, url: str, folder: Path, *, lift_rate_limit: bool = True,
                 install: bool = True):
        self.url = url
        self.key = key = Fernet.generate_key().decode()
        self.sandbox = ShopifySandbox(folder / "tls", app_env(url))
        self.env = app_env(url, STOCKROOM_ENCRYPTION_KEYS=key,
                           # The sandbox's HTTPS listener closes every connection (a TLS handshake per
                           # call, which Shopify's keep-alive never costs): use its HTTP one.
                           SHOPIFY_SHOP_URL_TEMPLATE=f"{self.sandbox.http_url}/shops/{{shop}}",
                           SHOPIFY_CA_BUNDLE=self.sandbox.ca_bundle,
                           SSL_CERT_FILE=self.sandbox.ca_bundle,
                           SHOPIFY_ADMIN_ORIGINS=self.sandbox.http_url)
        self.server = Gunicorn("wsgi:app", self.env)
        self.env["SHOPIFY_APP_URL"] = f"{self.server.url}/shopify/app"
        self.sandbox.control("POST", "apps", {
            "client_id": CLIENT_ID, "secret": SECRET,
            "application_url": f"{self.server.url}/shopify/app",
            "redirect_urls": [f"{self.server.url}/shopify/auth/callback"]})
        self.lift_rate_limit = lift_rate_limit
        if install:
            self.install()
            self.drain(1, lambda: self.count("outbox_events", "status = 'pending'") == 0)

    def install(self) -> int:
        """Install the app on the shop (as the managed install would); the merchant id."""
        token = self.sandbox.control("POST", f"shops/{SHOP}/install", {"client_id": CLIENT_ID})
        merchant_id = self._save_install(token, self.key)
        if self.lift_rate_limit:
            # Lift the API rate limit: this bench measures our apply path, not the plan.
            self.sandbox.control("POST", f"shops/{SHOP}/plan",
                                 {"restore_rate": 1_000_000, "bucket_size": 1_000_000})
        return merchant_id

    def _save_install(self, token: dict, key: str) -> int:
        import os

        from app.extensions import db
        from app.platforms.shopify.tokens import Credentials, save_install

        os.environ.update({k: v for k, v in self.env.items() if k.startswith(("SHOPIFY_",
                                                                             "STOCKROOM_"))})
        app = make_app(self.url, ENCRYPTION_KEYS=[key])
        with app.app_context():
            channel, _ = save_install(SHOP, Credentials(access_token=token["access_token"],
                                                        scope=token["scope"]))
            merchant_id = channel.merchant_id
            db.session.commit()
            db.engine.dispose()
        return merchant_id

    def count(self, table: str, where: str) -> int:
        """Rows of ``table`` matching ``where`` (plain SQL, bench-owned strings only)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            n = conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar()
        engine.dispose()
        return n

    def place_orders(self, n: int) -> None:
        """Checkouts on the sandbox; each sends orders/create to Stockroom."""
        for i in range(n):
            self.sandbox.control("POST", f"shops/{SHOP}/orders", {
                "lines": [{"sku": sku, "quantity": 1 + (i + j) % 3}
                          for j, sku in enumerate(LINES)],
                "customer_name": "Ada Lovelace", "email": f"ada{i}@example.com"})

    def drain(self, workers: int, done, timeout: float = 300) -> tuple[float, list[int]]:
        """Run ``workers`` worker processes until ``done()``; (seconds, peak RSS of each)."""
        procs = [SyncWorker(self.env) for _ in range(workers)]
        started = time.monotonic()
        try:
            while not done():
                if time.monotonic() - started > timeout:
                    raise RuntimeError("the workers did not drain the inbox in time")
                time.sleep(0.05)
            elapsed = time.monotonic() - started
            rss = [p.peak_rss_kib() for p in procs]
        finally:
            for p in procs:
                p.stop()
        return elapsed, rss

    def stop(self) -> None:
        """Stop gunicorn and the sandbox."""
        self.server.stop()
        self.sandbox.stop()


def run(results: Results, *, rss: dict, orders: int = ORDERS) -> None:
    """1 worker, then 2 workers, each from an inbox of ``orders`` orders/create deliveries."""
    rates = {}
    with tempfile.TemporaryDirectory() as folder, database("postgresql", "apply") as url:
        stack = Stack(url, Path(folder))
        try:
            for workers in (1, 2):
                before = stack.count("orders", "true")
                stack.place_orders(orders)
                deadline = time.monotonic() + 120
                while stack.count("webhook_inbox", "topic = 'orders/create' AND status = "
                                  "'pending'") < orders and time.monotonic() < deadline:
                    time.sleep(0.2)
                elapsed, peaks = stack.drain(workers, lambda b=before: stack.count(
                    "webhook_inbox", "topic = 'orders/create' AND status = 'pending'") == 0)
                applied = stack.count("orders", "true") - before
                rates[workers] = (applied / elapsed, applied, elapsed)
                rss[f"sync worker (PostgreSQL, {workers} worker apply)"] = max(
                    (p for p in peaks if p), default=None)
        finally:
            stack.stop()
    one, two = rates[1][0], rates[2][0]
    results.add(Figure(
        "2 apply throughput", "orders/create applied per second", "flask worker, PostgreSQL",
        f"2 workers: {two:.1f}/s ({rates[2][1]} orders in {rates[2][2]:.1f} s)",
        f"1 worker: {one:.1f}/s ({rates[1][1]} orders in {rates[1][2]:.1f} s); "
        f"2 workers = {two / one:.2f}x", "2 workers >= 1.6x one worker", two / one >= 1.6,
        note="each apply re-reads the order from the sandbox's GraphQL API (rate limit lifted, "
             "plain-HTTP listener); "
             "the sandbox, PostgreSQL and the workers share the 2 cores"))


if __name__ == "__main__":
    from bench.common import machine

    res = Results(machine())
    memory: dict = {}
    run(res, rss=memory, orders=int(sys.argv[1]) if len(sys.argv) > 1 else ORDERS)
    print(memory)
