"""Embedded requests authenticated by session tokens (JWT HS256), over HTTP against the app."""
import re
import time
import uuid

import jwt
import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelStatus, StockLocation
from tests.integration.shopify.conftest import CLIENT_ID, SECRET, SHOP, release_session
from tests.integration.shopify.test_install import install_via_admin

OTHER = "second-shop.myshopify.com"


def session_token(*, shop=SHOP, iss_shop=None, aud=CLIENT_ID, secret=SECRET, exp_in=60,
                  nbf_in=0) -> str:
    """A token shaped like App Bridge's (iss, dest, aud, sub, exp, nbf, iat, jti, sid)."""
    now = int(time.time())
    return jwt.encode({"iss": f"https://{iss_shop or shop}/admin", "dest": f"https://{shop}",
                       "aud": aud, "sub": "9001", "exp": now + exp_in, "nbf": now + nbf_in,
                       "iat": now, "jti": str(uuid.uuid4()), "sid": uuid.uuid4().hex},
                      secret, algorithm="HS256")


@pytest.fixture
def installed(stockroom):
    install_via_admin(stockroom)
    stockroom.run_worker()
    release_session()
    return stockroom


def htmx_get(stockroom, token, path="/orders"):
    return requests.get(stockroom.url + path, headers={
        "Authorization": f"Bearer {token}", "HX-Request": "true"}, allow_redirects=False,
        timeout=10)


def test_session_token_valid_is_accepted(installed):
    response = htmx_get(installed, session_token())
    assert response.status_code == 200
    assert "X-Shopify-Retry-Invalid-Session-Request" not in response.headers
    # Within the small leeway (10 s) a just-expired token still passes.
    assert htmx_get(installed, session_token(exp_in=-5)).status_code == 200


@pytest.mark.parametrize("token_args", [
    pytest.param({"exp_in": -30}, id="expired"),
    pytest.param({"nbf_in": 60, "exp_in": 120}, id="not-yet-valid"),
    pytest.param({"aud": "someone-elses-api-key"}, id="wrong-audience"),
    pytest.param({"iss_shop": OTHER}, id="iss-dest-mismatch"),
    pytest.param({"secret": "shpss_not_our_secret_0123456789abcdef"}, id="bad-signature"),
])
def test_session_token_invalid_is_refused_with_retry_header(installed, token_args):
    response = htmx_get(installed, session_token(**token_args))
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert "<table" not in response.text  # nothing of the merchant's data


def test_session_token_of_a_shop_not_installed_is_refused(installed):
    """A valid token for a shop we have no channel for: refused; it must (re)authorize."""
    response = htmx_get(installed, session_token(shop=OTHER))
    assert response.status_code == 401
    assert response.headers["X-Shopify-API-Request-Failure-Reauthorize"] == "1"
    assert "X-Shopify-Retry-Invalid-Session-Request" not in response.headers


def test_uninstalled_shop_is_sent_to_reauthorize(installed):
    installed.sandbox.control("POST", f"shops/{SHOP}/uninstall", {"client_id": CLIENT_ID})
    installed.run_worker(until=lambda: db.session.scalars(select(Channel.status)).one()
                         == ChannelStatus.UNINSTALLED)
    release_session()
    token = session_token()
    script = htmx_get(installed, token)
    assert script.status_code == 401
    reauth = script.headers["X-Shopify-API-Request-Failure-Reauthorize-Url"]
    assert reauth.startswith(f"{installed.url}/shopify/app?") and f"shop={SHOP}" in reauth
    assert script.headers["HX-Redirect"] == reauth
    # A document load (the iframe, ?id_token=) goes to the install entry point.
    page = requests.get(f"{installed.url}/orders", params={"id_token": token, "shop": SHOP,
                                                           "host": "h", "embedded": "1"},
                        allow_redirects=False, timeout=10)
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/shopify/app?") and "id_token=" in \
        page.headers["Location"]


def test_document_load_with_expired_token_bounces_for_a_fresh_one(installed):
    page = requests.get(f"{installed.url}/orders", params={
        "id_token": session_token(exp_in=-60), "shop": SHOP, "host": "h", "embedded": "1"},
        allow_redirects=False, timeout=10)
    assert page.status_code == 200
    assert "shopify.idToken()" in page.text and f'content="{CLIENT_ID}"' in page.text


def test_document_load_with_valid_token_renders_the_dashboard(installed):
    page = requests.get(f"{installed.url}/orders", params={
        "id_token": session_token(), "shop": SHOP, "host": "h", "embedded": "1"},
        allow_redirects=False, timeout=10)
    assert page.status_code == 200 and "shopify.idToken()" not in page.text


def _app_bridge_token(stockroom) -> str:
    """A real session token, as the sandbox admin's App Bridge hands it to the frame."""
    return stockroom.sandbox.control(
        "GET", f"session-token?shop={SHOP}&client_id={CLIENT_ID}")["id_token"]


def _locations_named(name: str) -> int:
    try:
        return len(db.session.scalars(select(StockLocation).where(
            StockLocation.name == name)).all())
    finally:
        release_session()  # SQLite: a transaction holds the write lock the app needs


@pytest.mark.parametrize("headers", [
    pytest.param({}, id="form-post"),
    pytest.param({"HX-Request": "true", "HX-Target": "locations"}, id="htmx-post"),
])
def test_session_token_in_url_of_a_post_is_refused(installed, headers):
    """A token leaked from a URL (a log, Referer) replayed as ?id_token= on a POST: 401,
    nothing stored; the same token in the Authorization header is accepted."""
    token = _app_bridge_token(installed)
    page = requests.get(f"{installed.url}/locations", timeout=10,
                        headers={"Authorization": f"Bearer {token}", "HX-Request": "true"})
    form_token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    forged = requests.post(f"{installed.url}/locations", params={"id_token": token},
                           data={"name": "Forged", "form_token": form_token}, headers=headers,
                           allow_redirects=False, timeout=10)
    assert forged.status_code == 401
    assert "Authorization header" in forged.text
    assert _locations_named("Forged") == 0
    sent = requests.post(f"{installed.url}/locations",
                         data={"name": "Pop-up", "form_token": form_token},
                         headers={**headers, "Authorization": f"Bearer {token}"},
                         allow_redirects=False, timeout=10)
    assert sent.status_code in (200, 303)
    assert _locations_named("Pop-up") == 1


def test_session_token_in_url_of_an_htmx_get_is_refused(installed):
    """htmx requests carry the token in Authorization (embedded.js); one in the URL only
    is refused rather than answered with the merchant's data."""
    token = _app_bridge_token(installed)
    page = requests.get(f"{installed.url}/orders", params={"id_token": token},
                        headers={"HX-Request": "true"}, allow_redirects=False, timeout=10)
    assert page.status_code == 401 and "<table" not in page.text


def test_session_token_in_url_of_the_first_embedded_load_is_accepted(installed):
    """How Shopify opens the app: a GET of the app URL with id_token (and shop, host)."""
    page = requests.get(f"{installed.url}/", params={
        "embedded": "1", "host": "h", "id_token": _app_bridge_token(installed), "shop": SHOP},
        allow_redirects=False, timeout=10)
    assert page.status_code == 200 and "app-bridge.js" in page.text
    assert page.headers["Content-Security-Policy"].startswith(f"frame-ancestors https://{SHOP} ")
