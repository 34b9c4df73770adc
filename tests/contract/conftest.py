"""The contract suite's ``channel``: one harness per platform (tests/contract/harness.py),
on the sandboxes the integration tests use, served over real HTTP."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.platforms.shopify.settings import load_settings
from sandbox.server import start_in_thread
from tests.conftest import make_test_app, truncate_all
from tests.contract.harness import ManualChannel, ShopifyChannel, WooCommerceChannel
from tests.integration.shopify.conftest import CLIENT_ID, SECRET, Stockroom
from tests.integration.woocommerce.conftest import free_port

# Fixtures of the integration suites, registered here under the names they are bound to
# (pytest names an imported fixture after that name): the same sandboxes, and WooCommerce's
# Stockroom as ``woo_stockroom``.
from tests.integration.shopify.conftest import shopify_sandbox  # noqa: F401
from tests.integration.woocommerce.conftest import _redirector_servers  # noqa: F401
from tests.integration.woocommerce.conftest import stockroom as woo_stockroom  # noqa: F401
from tests.integration.woocommerce.conftest import woo_sandbox, woo_tls  # noqa: F401

#: Stockroom's timeout for a call to Shopify in this suite (10 s in production): the
#: sync-lock test loses the answer to a push (the sandbox answers later than this).
SHOPIFY_TIMEOUT = "3"


@pytest.fixture
def shopify_stockroom(database_url, shopify_sandbox):  # noqa: F811
    """Stockroom against the reset Shopify sandbox, as tests/integration/shopify's
    ``stockroom`` (same settings and app registration) but with SHOPIFY_TIMEOUT."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_settings({
        "SHOPIFY_API_SECRET": SECRET, "SHOPIFY_APP_URL": f"{url}/shopify/app",
        "SHOPIFY_SHOP_URL_TEMPLATE": f"{shopify_sandbox.https_url}/shops/{{shop}}",
        "SHOPIFY_ADMIN_ORIGINS": shopify_sandbox.http_url,
        "SHOPIFY_APP_BRIDGE_URL": f"{shopify_sandbox.http_url}/_sandbox/app-bridge.js",
        "SHOPIFY_CA_BUNDLE": shopify_sandbox.ca_bundle, "SHOPIFY_TIMEOUT_SECONDS": SHOPIFY_TIMEOUT})
    app = make_test_app(database_url, SHOPIFY_SETTINGS=settings)
    server = start_in_thread(app, port=port)
    shopify_sandbox.control("DELETE", "faults")
    shopify_sandbox.control("POST", "reset", {"seed": 1})
    shopify_sandbox.control("POST", "apps", {
        "client_id": CLIENT_ID, "secret": SECRET, "application_url": f"{url}/shopify/app",
        "redirect_urls": [f"{url}/shopify/auth/callback"]})
    with app.app_context():
        yield Stockroom(app, url, shopify_sandbox)
        server.stop()
        truncate_all()
        db.engine.dispose()


@pytest.fixture(params=["shopify", "woocommerce", "manual"])
def channel(request, database_url):
    """A connected channel of the platform with one mapped stock location and an order of
    2 units of one stocked item imported into Stockroom (harness.Harness), on each
    database (named here: the harnesses' own fixtures are only looked up when needed)."""
    if request.param == "shopify":
        return ShopifyChannel(request.getfixturevalue("shopify_stockroom"))
    if request.param == "woocommerce":
        return WooCommerceChannel(request.getfixturevalue("woo_stockroom"))
    return ManualChannel(request.getfixturevalue("app"))
