"""`make demo` (``python -m demo``): both sandboxes, a seeded demo merchant on SQLite, the app
and the worker; Ctrl-C stops all of it.

Every run starts from a fresh demo database: the sandboxes keep their state in memory, so
a database that outlived them would point at orders they no longer have. The children run
in one process group of their own (the terminal's Ctrl-C reaches only this supervisor,
which then stops the whole group, waits, and escalates to SIGKILL after a grace period);
on Linux each child also gets SIGTERM if the supervisor itself dies.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
#: A development-only Shopify client secret (>= 32 bytes, as PyJWT wants for HS256). The
#: Shopify sandbox and the app read the same SHOPIFY_API_SECRET, so they agree.
DEV_SHOPIFY_SECRET = "shpss_stockroom_demo_dev_secret_0123456789abcdef"
DEMO_PASSWORD = "stockroom-demo"
STOP_GRACE_SECONDS = 10.0


@dataclass
class DemoSettings:
    """Ports and paths, from the environment (tests pick free ports and a temp dir)."""

    host: str = "127.0.0.1"
    port: int = 5000
    shopify_http: int = 5100
    shopify_https: int = 5143
    woo_http: int = 5200
    woo_https: int = 5243
    data_dir: Path = ROOT / "instance" / "demo"
    shopify_orders: int = 180
    woo_orders: int = 120

    @classmethod
    def from_env(cls, env=os.environ) -> DemoSettings:
        """Read PORT, SHOPIFY_SANDBOX_HTTP(S)_PORT, WOO_SANDBOX_HTTP(S)_PORT, STOCKROOM_DEMO_DIR,
        STOCKROOM_DEMO_SHOPIFY_ORDERS and STOCKROOM_DEMO_WOO_ORDERS."""
        return cls(host=env.get("STOCKROOM_HOST", "127.0.0.1"),
                   port=int(env.get("PORT", 5000)),
                   shopify_http=int(env.get("SHOPIFY_SANDBOX_HTTP_PORT", 5100)),
                   shopify_https=int(env.get("SHOPIFY_SANDBOX_HTTPS_PORT", 5143)),
                   woo_http=int(env.get("WOO_SANDBOX_HTTP_PORT", 5200)),
                   woo_https=int(env.get("WOO_SANDBOX_HTTPS_PORT", 5243)),
                   data_dir=Path(env.get("STOCKROOM_DEMO_DIR", ROOT / "instance" / "demo")),
                   shopify_orders=int(env.get("STOCKROOM_DEMO_SHOPIFY_ORDERS", 180)),
                   woo_orders=int(env.get("STOCKROOM_DEMO_WOO_ORDERS", 120)))

    def url(self, port: int, scheme: str = "http") -> str:
        """A loopback URL on ``port``."""
        return f"{scheme}://{self.host}:{port}"

    @property
    def app_url(self) -> str:
        """Where the app answers."""
        return self.url(self.port)

    @property
    def tls_dir(self) -> Path:
        """The sandboxes' local CA and certificate."""
        return self.data_dir / "tls"

    @property
    def ca_bundle(self) -> Path:
        """certifi's roots plus the local CA (sandbox/tls.py)."""
        return self.tls_dir / "ca-bundle.pem"

    @property
    def database_path(self) -> Path:
        """The demo's SQLite file."""
        return self.data_dir / "demo.sqlite3"

    def environment(self) -> dict[str, str]:
        """What the app, the worker and the sandboxes read (one Shopify secret for all)."""
        from cryptography.fernet import Fernet

        shopify = self.url(self.shopify_http)
        return {
            "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{self.database_path}"),
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32),
            "STOCKROOM_ENCRYPTION_KEYS": os.environ.get("STOCKROOM_ENCRYPTION_KEYS")
            or Fernet.generate_key().decode(),
            "STOCKROOM_SECURE_COOKIES": "0",  # plain http on loopback
            "SHOPIFY_API_SECRET": os.environ.get("SHOPIFY_API_SECRET") or DEV_SHOPIFY_SECRET,
            "SHOPIFY_APP_URL": f"{self.app_url}/shopify/app",
            "SHOPIFY_SHOP_URL_TEMPLATE": f"{self.url(self.shopify_https, 'https')}/shops/{{shop}}",
            "SHOPIFY_ADMIN_ORIGINS": shopify,
            "SHOPIFY_APP_BRIDGE_URL": f"{shopify}/_sandbox/app-bridge.js",
            "SHOPIFY_CA_BUNDLE": str(self.ca_bundle),
            # urllib (ShopifyAPI) and requests (woocommerce) trust the local CA too.
            "SSL_CERT_FILE": str(self.ca_bundle),
            "REQUESTS_CA_BUNDLE": str(self.ca_bundle),
            # The WooCommerce sandbox's origins may be connected (they are loopback).
            "WOOCOMMERCE_SANDBOX_ORIGINS": f"{self.url(self.woo_http)},"
                                           f"{self.url(self.woo_https, 'https')}",
            "WOOCOMMERCE_CA_BUNDLE": str(self.ca_bundle),
            "WOOCOMMERCE_APP_URL": self.app_url,
            "PYTHONUNBUFFERED": "1",
        }


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM this child when the supervisor dies (even by SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class Supervisor:
    """Starts children in one process group and stops that whole group."""

    log_dir: Path
    children: dict[str, subprocess.Popen] = field(default_factory=dict)
    pgid: int | None = None

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Start ``argv`` (output to <log_dir>/<name>.log) in the demo's process group."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, process_group=self.pgid or 0,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        log.close()
        self.pgid = self.pgid or proc.pid
        self.children[name] = proc
        print(f"  started {name} (pid {proc.pid}), log: {self.log_dir / (name + '.log')}",
              flush=True)
        return proc

    def exited(self) -> str | None:
        """The name of a child that has exited, if any."""
        return next((name for name, proc in self.children.items()
                     if proc.poll() is not None), None)

    def stop(self) -> None:
        """SIGTERM the group, wait for every child, SIGKILL what is left after the grace."""
        if self.pgid is None:
            return
        try:
            os.killpg(self.pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in self.children.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        try:  # grandchildren (gunicorn's workers) and anything that ignored SIGTERM
            os.killpg(self.pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for proc in self.children.values():
            proc.wait()


def wait_until_up(name: str, url: str, proc: subprocess.Popen, *, timeout: float = 90.0,
                  verify: str | bool = True) -> None:
    """Poll ``url`` until it answers 2xx; fail early if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} (see its log)")
        try:
            if requests.get(url, timeout=2, verify=verify).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer at {url} within {timeout:.0f} s")


def prepare_database(settings: DemoSettings) -> dict:
    """Fresh SQLite, migrated; the demo merchant + user; the sandboxes' orders pulled in."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from demo.data import Sandboxes, seed_channels
    from demo.seed import DEMO_EMAIL, seed_demo_merchant, seed_demo_user

    if os.environ["DATABASE_URL"].startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
    app = create_app()
    with app.app_context():
        upgrade()
        merchant, _ = seed_demo_merchant()
        seed_demo_user(merchant, DEMO_PASSWORD)
        db.session.commit()
        sandboxes = Sandboxes(
            shopify_http=settings.url(settings.shopify_http),
            shopify_https=settings.url(settings.shopify_https, "https"),
            woo_http=settings.url(settings.woo_http),
            woo_https=settings.url(settings.woo_https, "https"), ca_bundle=str(settings.ca_bundle))
        summary = seed_channels(merchant.id, sandboxes, app_url=settings.app_url,
                                shopify_orders=settings.shopify_orders,
                                woo_orders=settings.woo_orders)
        name = merchant.name
        db.session.remove()
        db.engine.dispose()
    return {"merchant": name, "email": DEMO_EMAIL, "summary": summary}


def register_shopify_app(settings: DemoSettings, secret: str) -> None:
    """Point the sandbox's copy of the app (from shopify.app.toml) at this run's app port."""
    resp = requests.post(f"{settings.url(settings.shopify_http)}/_sandbox/apps", json={
        "toml_path": str(ROOT / "shopify.app.toml"), "secret": secret,
        "application_url": f"{settings.app_url}/shopify/app",
        "redirect_urls": [f"{settings.app_url}/shopify/auth/callback"]}, timeout=10)
    resp.raise_for_status()


def woo_owner(settings: DemoSettings) -> dict:
    """The WooCommerce sandbox store owner's sign-in, as the store itself reports it: the
    login a merchant gives when approving Stockroom's connection (wc-auth)."""
    from demo.data import WOO_STORE

    resp = requests.get(f"{settings.url(settings.woo_http)}/_sandbox/api/stores/{WOO_STORE}",
                        timeout=10)
    resp.raise_for_status()
    return resp.json()["owner"]


def banner(settings: DemoSettings, seeded: dict, woo_sign_in: dict) -> str:
    """What to open, and the sign-ins each place asks for."""
    s = seeded["summary"]
    shopify = settings.url(settings.shopify_http)
    return f"""
Stockroom demo is running ({seeded['merchant']}: {s.shopify_orders} Shopify + {s.woo_orders} \
WooCommerce orders, {s.fulfillments} fulfillments of which {s.partial} partial).

  Shopify admin, app embedded:  {shopify}/store/demo-shop/apps/stockroom
  Standalone dashboard:         {settings.app_url}/sign-in
                                sign in as {seeded['email']} / {DEMO_PASSWORD}
  Shopify sandbox admin:        {shopify}/_sandbox/admin/demo-shop.myshopify.com
  WooCommerce sandbox admin:    {settings.url(settings.woo_http)}/_sandbox/
  WooCommerce store sign-in:    {woo_sign_in['username']} / {woo_sign_in['password']}
                                (asked when approving a connection to Stockroom)

  Logs: {settings.data_dir / 'logs'}
Ctrl-C stops everything.
"""


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Start the sandboxes, seed, start the app and the worker, wait for Ctrl-C."""
    settings = DemoSettings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(settings.environment())
    env = dict(os.environ)
    python = sys.executable
    supervisor = Supervisor(settings.data_dir / "logs")
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored
        signal.signal(signum, _interrupt)
    print("Starting the Stockroom demo…", flush=True)
    started = time.monotonic()
    code = 0
    try:
        from sandbox.tls import ensure_local_tls

        ensure_local_tls(settings.tls_dir)  # once, before two processes want it
        shopify = supervisor.start("shopify-sandbox", [
            python, "-m", "sandbox.shopify", "--host", settings.host,
            "--http-port", str(settings.shopify_http), "--https-port", str(settings.shopify_https),
            "--tls-dir", str(settings.tls_dir), "--webhook-time-scale", "0.01"], env)
        woo = supervisor.start("woocommerce-sandbox", [
            python, "-m", "sandbox.woocommerce", "--host", settings.host,
            "--http-port", str(settings.woo_http), "--https-port", str(settings.woo_https),
            "--tls-dir", str(settings.tls_dir), "--webhook-delay", "1",
            # Development only: lets "Connect a store" work against the plain-http demo app.
            "--allow-insecure-http"], env)
        wait_until_up("shopify-sandbox", f"{settings.url(settings.shopify_http)}/_sandbox/health",
                      shopify)
        wait_until_up("woocommerce-sandbox",
                      f"{settings.url(settings.woo_http)}/_sandbox/api/stores", woo)
        register_shopify_app(settings, env["SHOPIFY_API_SECRET"])
        print("  seeding the demo merchant and the sandboxes' orders…", flush=True)
        seeding_started = time.monotonic()
        seeded = prepare_database(settings)
        seeded["seconds"] = time.monotonic() - seeding_started
        app = supervisor.start("app", [
            python, "-m", "gunicorn", "--bind", f"{settings.host}:{settings.port}",
            "--workers", "2", "--threads", "4", "--graceful-timeout", "5", "--no-control-socket",
            "wsgi:app"], env)
        supervisor.start("worker", [python, "-m", "flask", "--app", "wsgi", "worker",
                                    "--poll", "0.5"], env)
        wait_until_up("app", f"{settings.app_url}/readyz", app)
        print(f"  ready in {time.monotonic() - started:.0f} s (seeding "
              f"{seeded['seconds']:.0f} s)", flush=True)
        print(banner(settings, seeded, woo_owner(settings)), flush=True)
        while (gone := supervisor.exited()) is None:
            time.sleep(0.5)
        print(f"{gone} stopped unexpectedly: see {supervisor.log_dir / gone}.log", flush=True)
        code = 1
    except KeyboardInterrupt:
        pass
    except (RuntimeError, requests.RequestException) as exc:
        print(f"The demo could not start: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):  # let the clean stop finish
            signal.signal(signum, signal.SIG_IGN)
        print("Stopping…", flush=True)
        supervisor.stop()
        print("Stopped.", flush=True)
    return code
