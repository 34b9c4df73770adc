"""`make demo`'s program really starts everything: both sandboxes, the seeded merchant with
orders from both, the app (standalone sign-in and embedded in the sandbox admin) and the
worker pushing to Shopify; SIGINT stops every process it started."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from html import unescape

import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import InventoryItem, Merchant, StockLocation, User
from demo.seed import DEMO_EMAIL, seed_demo_merchant, seed_demo_user


def test_seed_demo_merchant_is_idempotent(app):
    merchant, created = seed_demo_merchant()
    seed_demo_user(merchant, "pw-one-two-three")
    db.session.commit()
    again, created_again = seed_demo_merchant()
    seed_demo_user(again, "pw-one-two-three")
    assert created and not created_again and again.id == merchant.id
    assert db.session.scalar(select(func.count()).select_from(StockLocation)) == 4
    # No items: they come from the demo shop's catalog, through onboarding (demo/data.py).
    assert db.session.scalar(select(func.count()).select_from(InventoryItem)) == 0
    assert db.session.scalar(select(func.count()).select_from(Merchant)) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_python_m_demo_seed_creates_the_demo_merchant_once(tmp_path, repo_root):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'seed.sqlite3'}",
           "SECRET_KEY": "seed-test"}

    def run(*argv: str) -> str:
        done = subprocess.run([sys.executable, *argv], cwd=repo_root, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("-m", "flask", "--app", "wsgi", "db", "upgrade")
    assert run("-m", "demo", "seed").startswith("Seeded: Juniper & Co. (demo) (merchant 1)")
    assert run("-m", "demo", "seed").startswith("Already seeded: Juniper & Co. (demo)")


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Output:
    """The demo's stdout, read in a thread (so a blocked pipe never stalls the demo)."""

    def __init__(self, proc: subprocess.Popen):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc):
        for line in proc.stdout:
            self.lines.append(line)

    def close(self, proc: subprocess.Popen) -> None:
        self._thread.join(timeout=10)
        proc.stdout.close()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, proc: subprocess.Popen, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert proc.poll() is None, f"demo exited {proc.returncode}:\n{self.text}"
            assert time.monotonic() < deadline, f"no {needle!r} within {timeout} s:\n{self.text}"
            time.sleep(0.2)


def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout} s")


def _refuses(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _sign_in(url: str) -> requests.Session:
    web = requests.Session()
    page = web.get(f"{url}/sign-in", timeout=5).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    done = web.post(f"{url}/sign-in", data={"csrf_token": csrf, "email": DEMO_EMAIL,
                                            "password": "stockroom-demo"}, timeout=10)
    assert done.status_code == 200 and "/orders" in done.url, done.text[:500]
    return web


def test_demo_starts_everything_and_ctrl_c_stops_it(tmp_path, repo_root):
    app_port, shop_http, shop_https, woo_http, woo_https = _free_ports(5)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SECRET_KEY", "STOCKROOM_ENCRYPTION_KEYS",
                        "SHOPIFY_API_SECRET")}
    env.update(PORT=str(app_port), SHOPIFY_SANDBOX_HTTP_PORT=str(shop_http),
               SHOPIFY_SANDBOX_HTTPS_PORT=str(shop_https), WOO_SANDBOX_HTTP_PORT=str(woo_http),
               WOO_SANDBOX_HTTPS_PORT=str(woo_https), STOCKROOM_DEMO_DIR=str(tmp_path),
               STOCKROOM_DEMO_SHOPIFY_ORDERS="40", STOCKROOM_DEMO_WOO_ORDERS="30")
    proc = subprocess.Popen([sys.executable, "-m", "demo"], cwd=repo_root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = Output(proc)
    url = f"http://127.0.0.1:{app_port}"
    shopify = f"http://127.0.0.1:{shop_http}"
    try:
        out.wait_for("Ctrl-C stops everything.", proc, timeout=180)
        assert f"{shopify}/store/demo-shop/apps/stockroom" in out.text
        assert f"{url}/sign-in" in out.text and DEMO_EMAIL in out.text
        # The WooCommerce approval (wc-auth) asks for the store owner's sign-in: printed too.
        owner = requests.get(f"http://127.0.0.1:{woo_http}/_sandbox/api/stores/juniper-co",
                             timeout=5).json()["owner"]
        assert re.search(r"WooCommerce store sign-in: +"
                         + re.escape(f"{owner['username']} / {owner['password']}"), out.text)

        # Standalone: the demo login, orders from both channels.
        web = _sign_in(url)
        home = web.get(f"{url}/", timeout=5).text
        assert "Juniper &amp; Co. (demo)" in home and "Main warehouse" in home
        # Onboarded: items from the shop's catalog, every mapped location confirmed.
        assert "JC-01-01" in home and "pushes-paused" not in home
        orders = web.get(f"{url}/orders", timeout=5).text
        assert "Demo Shop" in orders and "Juniper &amp; Co. online" in orders
        assert requests.get(f"{url}/readyz", timeout=2).json()["status"] == "ready"

        # Embedded: the sandbox admin frames the app, which opens on the session token.
        frame = requests.get(f"{shopify}/store/demo-shop/apps/stockroom", timeout=5)
        src = unescape(re.search(r'<iframe[^>]*src="([^"]+)"', frame.text).group(1))
        embedded = requests.get(src, timeout=10)
        assert embedded.status_code == 200 and "Juniper &amp; Co. (demo)" in embedded.text
        assert f"frame-ancestors https://demo-shop.myshopify.com {shopify}" == \
            embedded.headers["Content-Security-Policy"]
        assert f"{shopify}/_sandbox/app-bridge.js" in embedded.text
        assert "Set-Cookie" not in embedded.headers  # no third-party cookies in the frame

        # The worker pushes the seeded fulfillments to the Shopify sandbox.
        _until(lambda: requests.get(f"{shopify}/_sandbox/shops/demo-shop.myshopify.com",
                                    timeout=5).json()["fulfillments"], 90,
               "no fulfillment reached the Shopify sandbox")
        woo = f"http://127.0.0.1:{woo_http}/_sandbox/api/stores/juniper-co"
        assert requests.get(woo, timeout=5).json()["counts"]["orders"] == 30
        # ... and the WooCommerce ones to the store (order notes, status, tracking).
        _until(lambda: requests.get(f"{woo}/requests", timeout=5).json().get(
            "POST wc/v3/orders/{order_id}/notes"), 90, "no fulfillment reached the store")
        hooks = requests.get(woo, timeout=5).json()["webhooks"]
        assert {h["delivery_url"].split("/woocommerce/")[0] for h in hooks} == {url}
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=40)
        out.close(proc)
    pids = [int(p) for p in re.findall(r"\(pid (\d+)\)", out.text)]
    assert code == 0, out.text
    assert len(pids) == 4 and "Stopped." in out.text
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().split(")")[1].split()[0] == "Z", pid
    assert all(_refuses(port) for port in (app_port, shop_http, shop_https, woo_http, woo_https))
