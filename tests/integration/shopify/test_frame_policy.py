"""Clickjacking: who may frame Stockroom's pages (CSP frame-ancestors), asked over HTTP the
way an attacker would, against the app with Shopify configured and a shop installed."""
import re

import pytest
import requests

from tests.integration.shopify.conftest import CLIENT_ID, SHOP, release_session
from tests.integration.shopify.test_install import install_via_admin

ATTACKER = "attacker.myshopify.com"
NONE = "frame-ancestors 'none'"


def _signed_up_owner(stockroom) -> requests.Session:
    """A standalone (WooCommerce) owner's browser, signed in with the session cookie."""
    release_session()
    owner = requests.Session()
    form = owner.get(f"{stockroom.url}/sign-up", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    done = owner.post(f"{stockroom.url}/sign-up", data={
        "email": "owner@example.test", "password": "correct horse battery",
        "business_name": "Acme Goods", "csrf_token": csrf}, allow_redirects=False, timeout=10)
    assert done.status_code == 303, done.text[:300]
    return owner


@pytest.mark.parametrize("path", ["/orders", "/inventory", "/connections", "/"])
def test_frame_policy_standalone_page_with_shop_param_stays_unframable(stockroom, path):
    """The attacker frames a signed-in owner's page from their own shop's admin origin and
    adds ?shop= naming it, hoping the app lists that origin in frame-ancestors."""
    owner = _signed_up_owner(stockroom)
    page = owner.get(f"{stockroom.url}{path}", params={"shop": ATTACKER}, timeout=10)
    assert page.status_code == 200 and 'action="/sign-out"' in page.text  # signed in
    assert page.headers["Content-Security-Policy"] == NONE


@pytest.mark.parametrize("params", [
    pytest.param({"shop": ATTACKER}, id="shop"),
    pytest.param({"shop": ATTACKER, "embedded": "1", "host": "x"}, id="embedded-launch-look"),
    pytest.param({"shop": SHOP}, id="an-installed-shop"),
])
def test_frame_policy_sign_in_page_with_shop_param_stays_unframable(stockroom, params):
    install_via_admin(stockroom)
    page = requests.get(f"{stockroom.url}/sign-in", params=params, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == NONE


def test_frame_policy_embedded_page_names_the_token_shop_not_the_query(stockroom):
    """An installed shop's embedded page is framed by that shop's admin only, whatever
    ?shop= the URL carries."""
    install_via_admin(stockroom)
    token = stockroom.sandbox.control(
        "GET", f"session-token?shop={SHOP}&client_id={CLIENT_ID}")["id_token"]
    page = requests.get(f"{stockroom.url}/orders", params={"shop": ATTACKER},
                        headers={"Authorization": f"Bearer {token}", "HX-Request": "true"},
                        timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == \
        f"frame-ancestors https://{SHOP} {stockroom.sandbox.http_url}"


def test_frame_policy_refused_token_of_an_uninstalled_shop_names_no_shop(stockroom):
    """A valid token of a shop without a channel gets the re-authorize 401, framable by nobody."""
    token = stockroom.sandbox.control(
        "GET", f"session-token?shop={SHOP}&client_id={CLIENT_ID}")["id_token"]
    refused = requests.get(f"{stockroom.url}/orders", headers={
        "Authorization": f"Bearer {token}", "HX-Request": "true"}, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["X-Shopify-API-Request-Failure-Reauthorize"] == "1"
    assert refused.headers["Content-Security-Policy"] == NONE
