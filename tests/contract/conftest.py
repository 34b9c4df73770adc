"""The contract suite's ``channel``: one harness per platform (tests/contract/harness.py),
on the sandboxes the integration tests use, served over real HTTP."""
from __future__ import annotations

import pytest

from tests.contract.harness import ManualChannel, ShopifyChannel, WooCommerceChannel
from tests.integration.shopify.conftest import serve_stockroom

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
    ``stockroom`` but with SHOPIFY_TIMEOUT (a lost answer is waited for that long)."""
    with serve_stockroom(database_url, shopify_sandbox,
                         SHOPIFY_TIMEOUT_SECONDS=SHOPIFY_TIMEOUT) as running:
        yield running


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
