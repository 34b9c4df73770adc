"""The merchant's admin: Shopify-managed installation, the embedded app frame and its signed launch
URL, the App Bridge stand-in script, the HTML admin pages."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import subprocess
from html import unescape
from urllib.parse import parse_qsl, urlparse

import jwt
import pytest
import requests

from sandbox.shopify.state import Store

from .conftest import CLIENT_ID, SECRET, SHOP

SCOPES = ("read_merchant_managed_fulfillment_orders", "write_third_party_fulfillment_orders",
          "write_inventory", "read_locations")


def _app_url(sandbox) -> str:
    return f"{sandbox.http_url}/store/{SHOP}/apps/stockroom"


def _install_via_admin(sandbox) -> requests.Response:
    page = requests.get(_app_url(sandbox), timeout=5)
    assert page.status_code == 200
    assert all(scope in page.text for scope in SCOPES)
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    resp = requests.post(f"{sandbox.http_url}{action}", data={"decision": "approve"},
                         allow_redirects=False, timeout=5)
    assert resp.status_code == 302
    return requests.get(_app_url(sandbox), timeout=5)


def _iframe_src(html: str) -> str:
    return unescape(re.search(r'<iframe id="app-frame"[^>]* src="([^"]+)"', html).group(1))


def test_embedded_app_managed_installation_then_frame(sandbox, receiver):
    frame = _install_via_admin(sandbox)
    assert frame.status_code == 200
    src = urlparse(_iframe_src(frame.text))
    assert f"{src.scheme}://{src.netloc}{src.path}" == f"{receiver.url}/shopify/app"
    params = dict(parse_qsl(src.query))
    assert params["embedded"] == "1" and params["shop"] == SHOP and params["host"]
    claims = jwt.decode(params["id_token"], SECRET, algorithms=["HS256"], audience=CLIENT_ID)
    assert claims["dest"] == f"https://{SHOP}"
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, params["hmac"])
    installs = sandbox.state()["installations"]
    assert installs[0]["client_id"] == CLIENT_ID and installs[0]["active"]


def test_embedded_app_by_shop_handle_as_the_host_param_names_it(sandbox):
    frame = _install_via_admin(sandbox)
    params = dict(parse_qsl(urlparse(_iframe_src(frame.text)).query))
    host = base64.urlsafe_b64decode(params["host"] + "=" * (-len(params["host"]) % 4)).decode()
    handle = SHOP.removesuffix(".myshopify.com")
    assert host.endswith(f"/store/{handle}")
    by_handle = requests.get(f"http://{host}/apps/{CLIENT_ID}", timeout=5)
    assert by_handle.status_code == 200
    src = dict(parse_qsl(urlparse(_iframe_src(by_handle.text)).query))
    assert src["shop"] == SHOP  # the launch URL still names the full domain
    assert requests.get(f"{sandbox.http_url}/store/no-such-shop/apps/{CLIENT_ID}",
                        timeout=5).status_code == 404


def test_store_shop_accepts_domain_or_handle():
    store = Store()
    assert store.shop(SHOP) is store.shop("demo-shop") is store.shop("Demo-Shop")
    assert store.shop("demo") is None and store.shop("") is None


def test_add_product_control_stocks_new_variants(sandbox):
    created = sandbox.control("POST", f"shops/{SHOP}/products", {
        "title": "Brass pen", "variants": [{"title": "Gold", "sku": "PEN-GLD", "price": "9.00",
                                            "on_hand": 7}]})
    assert created["variants"][0]["sku"] == "PEN-GLD"
    levels = [lv for lv in sandbox.state()["levels"] if lv["sku"] == "PEN-GLD"]
    assert len(levels) == 4 and {lv["on_hand"] for lv in levels} == {7}
    order = sandbox.control("POST", f"shops/{SHOP}/orders",
                            {"lines": [{"sku": "PEN-GLD", "quantity": 2}]})
    assert order["fulfillment_orders"][0]["line_items"][0]["quantity"] == 2
    taken = requests.post(f"{sandbox.http_url}/_sandbox/shops/{SHOP}/products", json={
        "title": "Tote", "variants": [{"sku": "TOTE-NAT"}]}, timeout=5)
    assert taken.status_code == 422


def test_embedded_app_id_token_exchanges_for_offline_token(sandbox):
    params = dict(parse_qsl(urlparse(_iframe_src(_install_via_admin(sandbox).text)).query))
    resp = requests.post(f"{sandbox.shop_url()}/admin/oauth/access_token", data={
        "client_id": CLIENT_ID, "client_secret": SECRET,
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": params["id_token"],
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
        "expiring": "1"}, verify=sandbox.ca_bundle, timeout=5)
    assert resp.status_code == 200 and resp.json()["refresh_token"]


def test_embedded_app_consent_declined(sandbox):
    resp = requests.post(f"{_app_url(sandbox)}/install", data={"decision": "decline"},
                         allow_redirects=False, timeout=5)
    assert resp.status_code == 403
    assert sandbox.state()["installations"] == []


def test_app_bridge_stand_in_script(sandbox):
    resp = requests.get(f"{sandbox.http_url}/_sandbox/app-bridge.js", timeout=5)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/javascript")
    for needle in ("window.shopify", "idToken", "toast", "shopify-api-key", sandbox.http_url):
        assert needle in resp.text


def test_toasts_recorded_for_inspection(sandbox):
    sandbox.control("POST", "toasts", {"message": "Fulfillment created"})
    assert sandbox.control("GET", "toasts") == [{"message": "Fulfillment created",
                                                 "isError": False}]


def test_html_admin_pages(sandbox):
    index = requests.get(f"{sandbox.http_url}/_sandbox/admin/", timeout=5)
    assert SHOP in index.text
    page = requests.get(f"{sandbox.http_url}/_sandbox/admin/{SHOP}", timeout=5)
    assert page.status_code == 200
    assert "Main Warehouse" in page.text and "ShipFast 3PL" in page.text
    assert "Place order" in page.text


def test_reset_is_deterministic_per_seed(sandbox):
    def stock():
        return [(lv["sku"], lv["location_id"], lv["on_hand"]) for lv in sandbox.state()["levels"]]
    sandbox.control("POST", "reset", {"seed": 7})
    first = stock()
    sandbox.control("POST", f"shops/{SHOP}/orders", {"lines": [{"sku": "MUG-WHT", "quantity": 1}]})
    sandbox.control("POST", "reset", {"seed": 7})
    assert stock() == first
    assert [o["id"] for o in sandbox.state()["orders"]] == [1001, 1002, 1003]
    sandbox.control("POST", "reset", {"seed": 8})
    assert stock() != first


NODE_HARNESS = r"""
const [script, shop, apiKey, mode] = process.argv.slice(1);  // node -e: args start at 1
const listeners = [];
const posted = [];
const fetched = [];
const win = {
  location: {search: "?shop=" + shop + "&host=abc", origin: "http://app.test", pathname: "/"},
  addEventListener: (type, fn) => { if (type === "message") listeners.push(fn); },
  fetch: (input, init) => {
    const auth = init && init.headers ? new Headers(init.headers).get("Authorization") : null;
    fetched.push({url: String(input), auth});
    return input.startsWith("http://127.0.0.1") ? fetch(input, init)
                                                : Promise.resolve({ok: true});
  },
};
win.top = mode === "embedded" ? {} : win;
win.parent = {postMessage: (msg, origin) => {
  posted.push({msg, origin});
  const reply = msg.type === "sandbox:idToken" ? {type: "sandbox:idToken:result", token: "from-admin"}
                                               : {type: "sandbox:toast:shown"};
  setTimeout(() => listeners.forEach((fn) => fn({data: {...reply, id: msg.id}})), 0);
}};
globalThis.window = win;
globalThis.history = {pushState() {}, replaceState() {}};
globalThis.MutationObserver = class { observe() {} };
globalThis.document = {querySelector: () => ({content: apiKey}), querySelectorAll: () => [],
  head: {appendChild() {}}, documentElement: {}, createElement: () => ({}),
  addEventListener() {}};
eval(script);
(async () => {
  const token = await window.shopify.idToken();
  window.shopify.toast.show("Saved");
  await window.fetch("/shopify/orders", {headers: {"HX-Request": "true"}});
  await window.fetch("https://elsewhere.example/x");
  await new Promise((r) => setTimeout(r, 10));
  console.log(JSON.stringify({token, apiKey: window.shopify.config.apiKey, posted, fetched}));
})();
"""


def _run_app_bridge(sandbox, mode: str) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = requests.get(f"{sandbox.http_url}/_sandbox/app-bridge.js", timeout=5).text
    out = subprocess.run([node, "-e", NODE_HARNESS, script, SHOP, CLIENT_ID, mode],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_app_bridge_id_token_standalone_fetches_session_token(sandbox):
    sandbox.install()
    result = _run_app_bridge(sandbox, "standalone")
    claims = jwt.decode(result["token"], SECRET, algorithms=["HS256"], audience=CLIENT_ID)
    assert claims["dest"] == f"https://{SHOP}" and result["apiKey"] == CLIENT_ID


def test_app_bridge_id_token_embedded_asks_admin_frame(sandbox):
    result = _run_app_bridge(sandbox, "embedded")
    assert result["token"] == "from-admin"
    types = [p["msg"]["type"] for p in result["posted"]]
    # first: the app's path (the admin URL follows it); last: fetch()
    assert types == ["sandbox:history", "sandbox:idToken", "sandbox:toast", "sandbox:idToken"]
    assert all(p["origin"] == sandbox.http_url for p in result["posted"])
    assert result["posted"][0]["msg"]["path"] == f"/?shop={SHOP}&host=abc"
    assert result["posted"][2]["msg"]["message"] == "Saved"
    own, other = result["fetched"][-2:]
    assert own == {"url": "/shopify/orders", "auth": "Bearer from-admin"}
    assert other == {"url": "https://elsewhere.example/x", "auth": None}
