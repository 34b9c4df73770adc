"""Production mode (STOCKROOM_ENV=production): sandbox settings refused at start, HSTS and
Secure cookies, X-Forwarded-* believed only from the configured number of proxies."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
import uuid
from contextlib import contextmanager
from pathlib import Path

import jwt
import pytest
import requests

from app.extensions import db
from app.platforms.shopify.settings import load_settings as load_shopify_settings
from app.platforms.woocommerce.settings import WooSettings, origin_of
from app.security.production import HSTS, UnsafeProductionConfig
from sandbox.server import serve_in_thread
from tests.conftest import TEST_ENCRYPTION_KEY, make_test_app

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = tomllib.loads((REPO / "shopify.app.toml").read_text())["client_id"]
SECRET = "shpss_production_test_secret_0123456789abcdef"
PUBLIC = "https://stockroom.example"
SANDBOX = "http://127.0.0.1:5200"
SHOPIFY_PRODUCTION = {"SHOPIFY_API_SECRET": SECRET, "SHOPIFY_APP_URL": f"{PUBLIC}/shopify/app"}


def production_app(database_url: str, *, shopify: dict | None = None, **config):
    """The app as production runs it: real Shopify and WooCommerce endpoints, no sandbox."""
    settings = {"STOCKROOM_ENV": "production", "SECRET_KEY": "production-test",
                "SHOPIFY_SETTINGS": load_shopify_settings({**SHOPIFY_PRODUCTION,
                                                           **(shopify or {})}),
                "WOOCOMMERCE_SETTINGS": WooSettings(app_url=PUBLIC), **config}
    return make_test_app(database_url, **settings)


@contextmanager
def served(app):
    """``app`` on a real socket for the block; its database connections closed after."""
    try:
        with serve_in_thread(app) as server:
            yield server
    finally:
        with app.app_context():
            db.engine.dispose()


def session_token(shop: str = "not-installed.myshopify.com") -> str:
    """A valid App Bridge session token (of a shop that has not installed the app)."""
    now = int(time.time())
    return jwt.encode({"iss": f"https://{shop}/admin", "dest": f"https://{shop}",
                       "aud": CLIENT_ID, "sub": "1", "exp": now + 60, "nbf": now, "iat": now,
                       "jti": str(uuid.uuid4()), "sid": uuid.uuid4().hex}, SECRET,
                      algorithm="HS256")



@pytest.mark.parametrize("change, complaint", [
    ({"WOOCOMMERCE_SETTINGS": WooSettings(sandbox_origins=frozenset({origin_of(SANDBOX)}))},
     "WOOCOMMERCE_SANDBOX_ORIGINS"),
    ({"WOOCOMMERCE_SETTINGS": WooSettings(ca_bundle="/tmp/sandbox-ca.pem")},
     "WOOCOMMERCE_CA_BUNDLE"),
    ({"WOOCOMMERCE_SETTINGS": WooSettings(test_public_addresses=frozenset({"127.0.0.2"}))},
     "test_public_addresses is set"),
    ({"WOOCOMMERCE_SETTINGS": WooSettings(resolver=lambda *args, **kwargs: [])},
     "resolver is not the system's DNS"),
    ({"WOOCOMMERCE_SETTINGS": WooSettings(app_url="http://stockroom.example")},
     "WOOCOMMERCE_APP_URL must be https"),
    ({"shopify": {"SHOPIFY_SHOP_URL_TEMPLATE": "https://127.0.0.1:5143/shops/{shop}"}},
     "SHOPIFY_SHOP_URL_TEMPLATE"),
    ({"shopify": {"SHOPIFY_ADMIN_ORIGINS": "http://127.0.0.1:5100"}}, "SHOPIFY_ADMIN_ORIGINS"),
    ({"shopify": {"SHOPIFY_APP_BRIDGE_URL": "http://127.0.0.1:5100/_sandbox/app-bridge.js"}},
     "SHOPIFY_APP_BRIDGE_URL"),
    ({"shopify": {"SHOPIFY_CA_BUNDLE": "/tmp/sandbox-ca.pem"}}, "SHOPIFY_CA_BUNDLE"),
    ({"shopify": {"SHOPIFY_APP_URL": "http://stockroom.example/shopify/app"}}, "must be https"),
    ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
    ({"ENCRYPTION_KEYS": []}, "STOCKROOM_ENCRYPTION_KEYS is not set"),
    ({"DEMO": True}, "DEMO is on"),
    ({"STOCKROOM_SECURE_COOKIES": False}, "STOCKROOM_SECURE_COOKIES is off"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_create_app_production_refuses_sandbox_allowances(database_url, change, complaint):
    with pytest.raises(UnsafeProductionConfig, match=complaint) as refused:
        production_app(database_url, **change)
    assert "STOCKROOM_ENV=production" in str(refused.value)


def test_create_app_production_refuses_an_unknown_environment_name(database_url):
    with pytest.raises(UnsafeProductionConfig, match="STOCKROOM_ENV must be one of"):
        production_app(database_url, STOCKROOM_ENV="prod")


def test_create_app_development_keeps_the_sandbox_allowances(database_url):
    """The demo and the tests: the same settings start without STOCKROOM_ENV."""
    app = make_test_app(database_url, WOOCOMMERCE_SETTINGS=WooSettings(
        sandbox_origins=frozenset({origin_of(SANDBOX)})))
    assert app.extensions["stockroom.woocommerce"].is_sandbox_origin(SANDBOX)


def _clean_environment() -> dict:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("STOCKROOM_", "WOOCOMMERCE_", "SHOPIFY_API", "SHOPIFY_APP_URL",
                                 "SECRET_KEY", "DATABASE_URL"))}


def test_gunicorn_production_with_sandbox_origins_refuses_to_start(tmp_path):
    """As an operator starts it (README): the server exits and says why."""
    env = {**_clean_environment(), "STOCKROOM_ENV": "production", "SECRET_KEY": "s3cret",
           "STOCKROOM_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
           "WOOCOMMERCE_SANDBOX_ORIGINS": SANDBOX}
    started = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0",
         "--no-control-socket", "wsgi:app"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "Refusing to start with STOCKROOM_ENV=production" in started.stderr
    assert "WOOCOMMERCE_SANDBOX_ORIGINS is set" in started.stderr


def _reauthorize_url(url: str, headers: dict) -> requests.Response:
    """A valid token of an uninstalled shop: the app answers with an absolute URL it built."""
    return requests.get(f"{url}/orders", headers={
        "Authorization": f"Bearer {session_token()}", **headers}, allow_redirects=False,
        timeout=10)


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "stockroom.example",
             "X-Forwarded-For": "203.0.113.9"}


def test_production_behind_one_proxy_builds_https_urls_and_sends_hsts(database_url):
    app = production_app(database_url, STOCKROOM_TRUSTED_PROXIES=1)
    with served(app) as server:
        answer = _reauthorize_url(server.url, FORWARDED)
        sign_in = requests.get(f"{server.url}/sign-in", headers=FORWARDED, timeout=10)
    assert answer.status_code == 401
    assert answer.headers["X-Shopify-API-Request-Failure-Reauthorize-Url"].startswith(
        f"{PUBLIC}/shopify/app?")
    assert answer.headers["Strict-Transport-Security"] == HSTS
    assert sign_in.headers["Strict-Transport-Security"] == HSTS
    assert "Secure" in sign_in.headers["Set-Cookie"]  # the session (CSRF) cookie


def test_production_without_trusted_proxies_ignores_forwarded_headers(database_url):
    """A client sending X-Forwarded-* itself can't make the app build URLs on its host."""
    app = production_app(database_url)
    with served(app) as server:
        answer = _reauthorize_url(server.url, FORWARDED)
    assert answer.status_code == 401
    assert answer.headers["X-Shopify-API-Request-Failure-Reauthorize-Url"].startswith(
        f"{server.url}/shopify/app?")
    assert "Strict-Transport-Security" not in answer.headers  # plain http: no HSTS


def test_production_behind_one_proxy_believes_only_the_proxys_own_values(database_url):
    """Behind one proxy, the values a client sent itself (the proxy appends its own after
    them) are ignored: only the last one of each header counts."""
    app = production_app(database_url, STOCKROOM_TRUSTED_PROXIES=1)
    with served(app) as server:
        answer = _reauthorize_url(server.url, {
            "X-Forwarded-Proto": "http, https",
            "X-Forwarded-Host": "evil.example, stockroom.example"})
    assert answer.headers["X-Shopify-API-Request-Failure-Reauthorize-Url"].startswith(
        f"{PUBLIC}/shopify/app?")
