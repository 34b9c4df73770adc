"""Installation and credentials: authorization-code grant with the real ShopifyAPI library, token
exchange of session tokens, expiring offline tokens with refresh rotation, revocation."""
from __future__ import annotations

import gc
import time
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
import requests
import shopify

from .conftest import CLIENT_ID, SECRET, SHOP

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE = "urn:shopify:params:oauth:token-type:online-access-token"
SHOP_QUERY = "{ shop { name myshopifyDomain } }"


def _authorize_url(sandbox, receiver, **overrides) -> str:
    params = {"client_id": CLIENT_ID, "scope": "read_orders,read_locations",
              "redirect_uri": f"{receiver.url}/shopify/auth/callback", "state": "nonce-123",
              **overrides}
    return f"{sandbox.http_url}/shops/{SHOP}/admin/oauth/authorize?{urlencode(params)}"


def _approve(sandbox, receiver) -> dict:
    """Open the consent page, click Install, return the callback query parameters."""
    page = requests.get(_authorize_url(sandbox, receiver), allow_redirects=False, timeout=5)
    assert page.status_code == 200 and "read_locations" in page.text
    form = {"client_id": CLIENT_ID, "scope": "read_orders,read_locations",
            "redirect_uri": f"{receiver.url}/shopify/auth/callback", "state": "nonce-123",
            "decision": "approve"}
    resp = requests.post(f"{sandbox.http_url}/shops/{SHOP}/admin/oauth/authorize", data=form,
                         allow_redirects=False, timeout=5)
    assert resp.status_code == 302
    location = urlparse(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        f"{receiver.url}/shopify/auth/callback"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _library_session(sandbox) -> shopify.Session:
    session = shopify.Session(SHOP, "2026-10")
    session.url = sandbox.shop_url().split("://", 1)[1]  # the app's shop URL template
    return session


# ShopifyAPI never closes its urllib responses; their sockets are collected later.
LEAKY_LIBRARY = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning",
                                           "ignore::ResourceWarning")


@pytest.fixture
def library(sandbox, monkeypatch):
    """The real ShopifyAPI library configured with our app's credentials and CA bundle."""
    monkeypatch.setenv("SSL_CERT_FILE", sandbox.ca_bundle)
    shopify.Session.setup(api_key=CLIENT_ID, secret=SECRET)
    yield shopify
    shopify.ShopifyResource.clear_session()
    gc.collect()  # surface the library's unclosed sockets inside the marked tests


@LEAKY_LIBRARY
def test_authorize_redirect_validates_with_shopify_library(sandbox, receiver, library):
    params = _approve(sandbox, receiver)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == SHOP and params["state"] == "nonce-123"
    assert library.Session.validate_params(params)
    tampered = dict(params, shop="other-shop.myshopify.com")
    assert not library.Session.validate_params(tampered)


@LEAKY_LIBRARY
def test_request_token_with_library_then_graphql(sandbox, receiver, library):
    params = _approve(sandbox, receiver)
    session = _library_session(sandbox)
    token = session.request_token(params)
    assert token.startswith("shpat_")
    assert str(session.access_scopes) in ("read_orders,read_locations",
                                          "read_locations,read_orders") or session.access_scopes
    library.ShopifyResource.activate_session(session)
    body = library.GraphQL().execute(SHOP_QUERY)
    assert '"myshopifyDomain": "demo-shop.myshopify.com"' in body.replace('":"', '": "')


@LEAKY_LIBRARY
def test_request_token_code_reuse_fails(sandbox, receiver, library):
    params = _approve(sandbox, receiver)
    _library_session(sandbox).request_token(params)
    with pytest.raises(Exception) as excinfo:
        _library_session(sandbox).request_token(params)
    assert "400" in str(excinfo.value)


@pytest.mark.parametrize("override, reason", [
    ({"client_id": "unknown-client"}, "client_id"),
    ({"redirect_uri": "https://evil.example/callback"}, "redirect_uri"),
])
def test_authorize_rejects_bad_client_or_redirect(sandbox, receiver, override, reason):
    resp = requests.get(_authorize_url(sandbox, receiver, **override), allow_redirects=False,
                        timeout=5)
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert reason in resp.text


def _session_token(sandbox) -> str:
    return sandbox.control("GET", f"session-token?shop={SHOP}&client_id={CLIENT_ID}")["id_token"]


def _exchange(sandbox, subject: str, requested: str = OFFLINE, expiring: str = "1"):
    return requests.post(f"{sandbox.shop_url()}/admin/oauth/access_token", json={
        "client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": TOKEN_EXCHANGE,
        "subject_token": subject, "subject_token_type": ID_TOKEN,
        "requested_token_type": requested, "expiring": expiring},
        verify=sandbox.ca_bundle, timeout=5)


def _refresh(sandbox, refresh_token: str):
    return requests.post(f"{sandbox.shop_url()}/admin/oauth/access_token", data={
        "client_id": CLIENT_ID, "client_secret": SECRET, "grant_type": "refresh_token",
        "refresh_token": refresh_token}, verify=sandbox.ca_bundle, timeout=5)


def test_session_token_claims_as_shopify_issues_them(sandbox):
    sandbox.install()
    claims = jwt.decode(_session_token(sandbox), SECRET, algorithms=["HS256"], audience=CLIENT_ID)
    assert claims["iss"] == f"https://{SHOP}/admin"
    assert claims["dest"] == f"https://{SHOP}"
    assert set(claims) == {"iss", "dest", "aud", "sub", "exp", "nbf", "iat", "jti", "sid"}
    assert claims["exp"] - claims["iat"] == 60 and claims["nbf"] <= time.time()


def test_token_exchange_offline_expiring_and_online(sandbox):
    sandbox.install()
    offline = _exchange(sandbox, _session_token(sandbox))
    assert offline.status_code == 200, offline.text
    body = offline.json()
    assert body["expires_in"] == 3600 and body["refresh_token"].startswith("shprt_")
    assert "write_inventory" in body["scope"].split(",")
    assert sandbox.gql(body["access_token"], SHOP_QUERY)["data"]["shop"]["name"] == "Demo Shop"
    online = _exchange(sandbox, _session_token(sandbox), ONLINE, "0").json()
    assert online["associated_user"]["id"] and online["expires_in"] > 0
    assert "refresh_token" not in online
    plain = _exchange(sandbox, _session_token(sandbox), OFFLINE, "0").json()
    assert "expires_in" not in plain and "refresh_token" not in plain


def test_token_exchange_rejects_forged_session_token(sandbox):
    sandbox.install()
    claims = jwt.decode(_session_token(sandbox), SECRET, algorithms=["HS256"], audience=CLIENT_ID)
    forged = jwt.encode(claims, "shpss_" + "0" * 32, algorithm="HS256")
    resp = _exchange(sandbox, forged)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_subject_token"
    other_shop = jwt.encode(dict(claims, dest="https://second-shop.myshopify.com"), SECRET,
                            algorithm="HS256")
    assert _exchange(sandbox, other_shop).status_code == 400


def test_refresh_rotation_keeps_previous_until_new_token_used(sandbox):
    sandbox.install()
    first = _exchange(sandbox, _session_token(sandbox)).json()
    a = first["refresh_token"]
    r1 = _refresh(sandbox, a)
    assert r1.status_code == 200 and r1.json()["refresh_token"] != a
    # The response was "lost": the app retries with the same refresh token, which still works.
    r2 = _refresh(sandbox, a).json()
    assert sandbox.gql(r2["access_token"], SHOP_QUERY)["data"]["shop"]
    # Now that its replacement's access token was used, the old refresh token is retired.
    retired = _refresh(sandbox, a)
    assert retired.status_code == 400 and retired.json()["error"] == "invalid_grant"
    assert _refresh(sandbox, r2["refresh_token"]).status_code == 200


def test_expired_access_token_gets_401_until_refreshed(sandbox):
    sandbox.install()
    body = _exchange(sandbox, _session_token(sandbox)).json()
    assert sandbox.gql_raw(body["access_token"], SHOP_QUERY).status_code == 200
    sandbox.control("POST", "clock", {"advance_seconds": 3601})
    expired = sandbox.gql_raw(body["access_token"], SHOP_QUERY)
    assert expired.status_code == 401
    assert expired.json() == {"errors": "[API] Invalid API key or access token (unrecognized "
                                        "login or wrong password)"}
    fresh = _refresh(sandbox, body["refresh_token"]).json()
    assert sandbox.gql_raw(fresh["access_token"], SHOP_QUERY).status_code == 200


def test_uninstall_revokes_tokens(sandbox, receiver):
    token = sandbox.install(expiring=True)
    sandbox.control("POST", f"shops/{SHOP}/uninstall", {"client_id": CLIENT_ID})
    assert sandbox.gql_raw(token, SHOP_QUERY).status_code == 401
    hook = receiver.wait_for("app/uninstalled")[0]
    assert hook["headers"]["X-Shopify-Shop-Domain"] == SHOP


@LEAKY_LIBRARY
def test_access_token_wrong_secret_rejected(sandbox, receiver):
    params = _approve(sandbox, receiver)
    resp = requests.post(f"{sandbox.shop_url()}/admin/oauth/access_token",
                         data={"client_id": CLIENT_ID, "client_secret": "wrong",
                               "code": params["code"]}, verify=sandbox.ca_bundle, timeout=5)
    assert resp.status_code in (400, 401) and resp.json()["error"] == "invalid_client"


def test_authorize_per_user_grant_gives_online_token(sandbox, receiver):
    url = _authorize_url(sandbox, receiver) + "&grant_options%5B%5D=per-user"
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and 'name="grant_options" value="per-user"' in page.text
    form = {"client_id": CLIENT_ID, "scope": "read_orders",
            "redirect_uri": f"{receiver.url}/shopify/auth/callback", "state": "s",
            "grant_options": "per-user", "decision": "approve"}
    resp = requests.post(f"{sandbox.http_url}/shops/{SHOP}/admin/oauth/authorize", data=form,
                         allow_redirects=False, timeout=5)
    code = parse_qs(urlparse(resp.headers["Location"]).query)["code"][0]
    body = requests.post(f"{sandbox.shop_url()}/admin/oauth/access_token",
                         data={"client_id": CLIENT_ID, "client_secret": SECRET, "code": code},
                         verify=sandbox.ca_bundle, timeout=5).json()
    assert body["access_token"].startswith("shpua_")
    assert body["associated_user"]["email"] and body["expires_in"] > 3600
