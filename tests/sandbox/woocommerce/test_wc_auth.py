"""wc-auth/v1: owner login, approve/deny, key callback over https, return_url redirects."""
from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from woocommerce import API

STATE = "signed-state.abc_123"


def authorize_url(wc, receiver, *, callback_scheme: str = "https", scope: str = "read_write"):
    base = receiver.https_url if callback_scheme == "https" else receiver.url
    query = {"app_name": "Stockroom", "scope": scope, "user_id": STATE,
             "return_url": f"{receiver.https_url}/return?from=woo",
             "callback_url": f"{base}/callback"}
    return f"{wc.store_url()}/wc-auth/v1/authorize?{urlencode(query)}"


def log_in(wc, session: requests.Session, url: str) -> requests.Response:
    """Follow authorize -> login, post the owner's credentials, land on the grant page."""
    to_login = session.get(url, allow_redirects=False, timeout=5)
    assert to_login.status_code == 302
    assert "/wc-auth/v1/login?" in to_login.headers["Location"]
    form = session.get(to_login.headers["Location"], timeout=5)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', form.text)[1])
    redirect_to = html.unescape(re.search(r'name="redirect" value="([^"]+)"', form.text)[1])
    logged_in = session.post(action, data={"username": "admin", "password": "password",
                                           "redirect": redirect_to},
                             allow_redirects=False, timeout=5)
    assert logged_in.status_code == 302
    grant = session.get(logged_in.headers["Location"], timeout=5)
    assert grant.status_code == 200
    return grant


def link(page: requests.Response, css_class: str) -> str:
    return html.unescape(re.search(rf'<a href="([^"]+)" class="[^"]*{css_class}"', page.text)[1])


def test_authorize_approve_posts_keys_to_callback_and_redirects_with_success(wc, receiver):
    session = requests.Session()
    grant = log_in(wc, session, authorize_url(wc, receiver))
    assert "Stockroom would like to connect to your store" in grant.text
    approved = session.get(link(grant, "wc-auth-approve"), allow_redirects=False, timeout=10)
    assert approved.status_code == 302
    location = urlparse(approved.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == \
        f"{receiver.https_url}/return"
    assert parse_qs(location.query) == {"from": ["woo"], "success": ["1"], "user_id": [STATE]}
    [callback] = receiver.to("/callback")
    assert callback["method"] == "POST" and callback["scheme"] == "https"
    assert callback["headers"]["Content-Type"] == "application/json;charset=UTF-8"
    body = json.loads(callback["body"])
    assert set(body) == {"key_id", "user_id", "consumer_key", "consumer_secret",
                         "key_permissions"}
    assert isinstance(body["key_id"], int) and body["user_id"] == STATE
    assert body["key_permissions"] == "read_write"
    assert re.fullmatch(r"ck_[0-9a-f]{40}", body["consumer_key"])
    assert re.fullmatch(r"cs_[0-9a-f]{40}", body["consumer_secret"])
    api = API(url=wc.store_url(), consumer_key=body["consumer_key"],
              consumer_secret=body["consumer_secret"], wp_api=True, version="wc/v3")
    assert api.get("orders").status_code == 200


def test_authorize_deny_link_returns_success_zero_without_key(wc, receiver):
    keys_before = len(wc.control("GET", "/stores/demo-store")["keys"])
    grant = log_in(wc, requests.Session(), authorize_url(wc, receiver, scope="read"))
    assert "<strong>Read</strong> access" in grant.text
    deny = urlparse(link(grant, "wc-auth-deny"))
    assert parse_qs(deny.query) == {"from": ["woo"], "success": ["0"], "user_id": [STATE]}
    assert receiver.to("/callback") == []
    assert len(wc.control("GET", "/stores/demo-store")["keys"]) == keys_before


def test_authorize_refuses_http_callback_url(wc, receiver):
    response = requests.get(authorize_url(wc, receiver, callback_scheme="http"), timeout=5,
                            allow_redirects=False)
    assert response.status_code == 401
    assert "Error: The callback_url needs to be over SSL." in response.text


def test_authorize_http_callback_allowed_by_development_switch(wc, receiver):
    wc.control("PUT", "/config", json={"allow_insecure_http": True})
    session = requests.Session()
    grant = log_in(wc, session, authorize_url(wc, receiver, callback_scheme="http"))
    approved = session.get(link(grant, "wc-auth-approve"), allow_redirects=False, timeout=10)
    assert approved.status_code == 302
    [callback] = receiver.to("/callback")
    assert callback["scheme"] == "http"


def test_authorize_callback_failure_deletes_key_and_shows_error(wc, receiver):
    receiver.statuses["/callback"] = 503
    keys_before = len(wc.control("GET", "/stores/demo-store")["keys"])
    session = requests.Session()
    grant = log_in(wc, session, authorize_url(wc, receiver))
    failed = session.get(link(grant, "wc-auth-approve"), allow_redirects=False, timeout=10)
    assert failed.status_code == 401
    assert "unable to send the consumer data" in failed.text
    assert len(receiver.to("/callback")) == 1
    assert len(wc.control("GET", "/stores/demo-store")["keys"]) == keys_before


def test_authorize_missing_parameter_and_bad_scope(wc, receiver):
    url = authorize_url(wc, receiver).replace("app_name=Stockroom&", "")
    response = requests.get(url, timeout=5)
    assert response.status_code == 401
    assert "Error: Missing parameter app_name." in response.text
    bad_scope = requests.get(authorize_url(wc, receiver, scope="admin"), timeout=5)
    assert "Error: Invalid scope admin." in bad_scope.text


def test_login_wrong_password_stays_on_form(wc, receiver):
    session = requests.Session()
    to_login = session.get(authorize_url(wc, receiver), allow_redirects=False, timeout=5)
    form_url = to_login.headers["Location"]
    refused = session.post(form_url, data={"username": "admin", "password": "nope"},
                           allow_redirects=False, timeout=5)
    assert refused.status_code == 200
    assert "incorrect" in refused.text
    assert session.get(authorize_url(wc, receiver), allow_redirects=False,
                       timeout=5).status_code == 302
