"""REST authentication: OAuth 1.0a over http, Basic/query keys over https, key permissions."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def enc(value) -> str:
    """RFC 3986 percent-encoding (what PHP's rawurlencode does)."""
    return quote(str(value), safe="~")


def oauth_url(url: str, method: str, key: dict, params: dict | None = None, *,
              timestamp: int | None = None, nonce: str | None = None,
              algorithm: str = "sha256") -> str:
    """Sign a request with RFC 5849 one-legged OAuth, independently of the sandbox and library."""
    oauth = {"oauth_consumer_key": key["consumer_key"],
             "oauth_timestamp": str(timestamp or int(time.time())),
             "oauth_nonce": nonce or secrets.token_hex(16),
             "oauth_signature_method": f"HMAC-{algorithm.upper()}"}
    merged = {**(params or {}), **oauth}
    normalized = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(merged.items()))
    base = "&".join([method, enc(url), enc(normalized)])
    digest = hmac.new(f"{key['consumer_secret']}&".encode(), base.encode(),
                      getattr(hashlib, algorithm)).digest()
    merged["oauth_signature"] = base64.b64encode(digest).decode()
    return f"{url}?{urlencode(merged)}"


def assert_error(response, status: int, code: str, message: str) -> None:
    """WooCommerce's JSON error body."""
    assert response.status_code == status, response.text
    assert response.json() == {"code": code, "message": message, "data": {"status": status}}


def orders_url(wc, *, https: bool = False) -> str:
    return f"{wc.store_url(https=https)}/wp-json/wc/v3/orders"


def test_oauth_woocommerce_library_over_http_succeeds(wc):
    api = wc.api()
    response = api.get("orders", params={"status": "processing", "per_page": 2})
    assert response.status_code == 200, response.text
    assert [o["status"] for o in response.json()] == ["processing", "processing"]


def test_oauth_independent_signature_succeeds_with_sha256_and_sha1(wc):
    key = wc.key()
    for algorithm in ("sha256", "sha1"):
        url = oauth_url(orders_url(wc), "GET", key, {"status": "on-hold"}, algorithm=algorithm)
        response = requests.get(url, timeout=5)
        assert response.status_code == 200, response.text
        assert {o["status"] for o in response.json()} == {"on-hold"}


def test_oauth_signature_covers_store_path_prefix(wc):
    key = wc.key()
    wrong = oauth_url(orders_url(wc).replace("/stores/demo-store", ""), "GET", key)
    signed_elsewhere = wrong.replace(wc.http_url, wc.store_url())
    assert_error(requests.get(signed_elsewhere, timeout=5), 401,
                 "woocommerce_rest_authentication_error",
                 "Invalid signature - provided signature does not match.")


def test_oauth_bad_signature_is_refused(wc):
    key = dict(wc.key(), consumer_secret="cs_wrong")
    response = requests.get(oauth_url(orders_url(wc), "GET", key), timeout=5)
    assert_error(response, 401, "woocommerce_rest_authentication_error",
                 "Invalid signature - provided signature does not match.")


def test_oauth_tampered_parameter_is_refused(wc):
    url = oauth_url(orders_url(wc), "GET", wc.key(), {"status": "processing"})
    response = requests.get(url.replace("status=processing", "status=completed"), timeout=5)
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid signature - provided signature does not match."


def test_oauth_replayed_nonce_is_refused(wc):
    url = oauth_url(orders_url(wc), "GET", wc.key())
    assert requests.get(url, timeout=5).status_code == 200
    assert_error(requests.get(url, timeout=5), 401, "woocommerce_rest_authentication_error",
                 "Invalid nonce - nonce has already been used.")


@pytest.mark.parametrize("skew", [-16 * 60, 16 * 60])
def test_oauth_stale_timestamp_is_refused(wc, skew):
    url = oauth_url(orders_url(wc), "GET", wc.key(), timestamp=int(time.time()) + skew)
    assert_error(requests.get(url, timeout=5), 401, "woocommerce_rest_authentication_error",
                 "Invalid timestamp.")


def test_oauth_unknown_consumer_key_is_refused(wc):
    key = {"consumer_key": "ck_" + "0" * 40, "consumer_secret": "cs_x"}
    assert_error(requests.get(oauth_url(orders_url(wc), "GET", key), timeout=5), 401,
                 "woocommerce_rest_authentication_error", "Consumer key is invalid.")


def test_oauth_missing_parameter_is_named(wc):
    url = oauth_url(orders_url(wc), "GET", wc.key())
    without_nonce = "&".join(p for p in url.split("&") if not p.startswith("oauth_nonce="))
    assert_error(requests.get(without_nonce, timeout=5), 401,
                 "woocommerce_rest_authentication_missing_parameter",
                 "Missing OAuth parameter oauth_nonce")


def test_permissions_read_key_write_is_refused_with_woocommerce_body(wc):
    api = wc.api(permissions="read")
    order_id = api.get("orders", params={"status": "processing"}).json()[0]["id"]
    response = api.put(f"orders/{order_id}", {"status": "completed"})
    assert_error(response, 401, "woocommerce_rest_authentication_error",
                 "The API key provided does not have write permissions.")
    assert wc.api().get(f"orders/{order_id}").json()["status"] == "processing"


def test_permissions_write_key_read_is_refused(wc):
    response = wc.api(permissions="write").get("orders")
    assert_error(response, 401, "woocommerce_rest_authentication_error",
                 "The API key provided does not have read permissions.")


def test_basic_auth_over_http_is_not_authentication(wc):
    key = wc.key()
    creds = (key["consumer_key"], key["consumer_secret"])
    assert_error(requests.get(orders_url(wc), auth=creds, timeout=5), 401,
                 "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    query = {"consumer_key": creds[0], "consumer_secret": creds[1]}
    assert_error(requests.get(orders_url(wc), params=query, timeout=5), 401,
                 "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")


def test_basic_auth_over_http_allowed_by_development_switch(wc):
    wc.control("PUT", "/config", json={"allow_insecure_http": True})
    key = wc.key()
    response = requests.get(orders_url(wc), auth=(key["consumer_key"], key["consumer_secret"]),
                            timeout=5)
    assert response.status_code == 200, response.text


def test_basic_auth_over_https_with_ca_bundle_env_succeeds(wc, monkeypatch):
    api = wc.api(https=True, verify_ssl=True)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(requests.exceptions.SSLError):
        api.get("orders")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", wc.ca_bundle)
    response = api.get("orders", params={"per_page": 1})
    assert response.status_code == 200, response.text
    assert response.headers["X-WP-Total"] == "6"


def test_basic_auth_query_string_over_https_succeeds(wc, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", wc.ca_bundle)
    api = wc.api(https=True, query_string_auth=True)
    assert api.get("products").status_code == 200


def test_basic_auth_wrong_secret_over_https_is_refused(wc):
    key = wc.key()
    response = requests.get(orders_url(wc, https=True), auth=(key["consumer_key"], "cs_nope"),
                            verify=wc.ca_bundle, timeout=5)
    assert_error(response, 401, "woocommerce_rest_authentication_error",
                 "Consumer secret is invalid.")


def test_oauth_over_https_also_works(wc):
    key = wc.key()
    response = requests.get(oauth_url(orders_url(wc, https=True), "GET", key),
                            verify=wc.ca_bundle, timeout=5)
    assert response.status_code == 200, response.text


def test_unauthenticated_requests_get_route_permission_errors(wc):
    base = f"{wc.store_url()}/wp-json/wc/v3"
    assert_error(requests.get(f"{base}/orders/112", timeout=5), 401,
                 "woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
    assert_error(requests.post(f"{base}/products/batch", json={}, timeout=5), 401,
                 "woocommerce_rest_cannot_batch",
                 "Sorry, you are not allowed to batch manipulate this resource.")
    assert_error(requests.post(f"{base}/webhooks", json={}, timeout=5), 401,
                 "woocommerce_rest_cannot_create",
                 "Sorry, you are not allowed to create resources.")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(search=st.text(st.characters(min_codepoint=32, max_codepoint=126,
                                    blacklist_characters="/%"), min_size=1, max_size=20))
def test_oauth_library_signatures_verify_for_arbitrary_query_values(wc, search):
    response = wc.api().get("orders", params={"search": search, "per_page": 1})
    assert response.status_code == 200, response.text


def test_oauth_library_value_with_slash_is_refused_like_woocommerce(wc):
    # The library leaves '/' unencoded in its base string; WooCommerce (rawurlencode) does not.
    response = wc.api().get("orders", params={"search": "a/b"})
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid signature - provided signature does not match."
