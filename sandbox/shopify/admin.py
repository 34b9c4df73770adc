"""The merchant's Shopify admin: managed installation, the embedded-app frame, the App Bridge
stand-in script, and a small HTML admin over the /_sandbox/ controls."""
from __future__ import annotations

import time
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, render_template_string, request, url_for

from .oauth import consent_page, error_page, host_param, shopify_hmac

bp = Blueprint("shopify_admin", __name__)


def _sandbox():
    return current_app.extensions["shopify_sandbox"]


def _find_app(sandbox, key: str):
    """An app by client_id or handle."""
    return sandbox.store.apps.get(key) or next(
        (a for a in sandbox.store.apps.values() if a.handle == key), None)


def app_launch_url(sandbox, shop: str, app) -> str:
    """application_url with Shopify's signed launch query (embedded, host, id_token, shop...)."""
    params = {"embedded": "1", "host": host_param(sandbox.config.public_url, shop),
              "id_token": sandbox.auth.session_token(shop, app), "locale": "en",
              "session": sandbox.auth.session_token(shop, app)[-32:], "shop": shop,
              "timestamp": str(int(time.time()))}
    params["hmac"] = shopify_hmac(app.secret, params)
    sep = "&" if "?" in app.application_url else "?"
    return app.application_url + sep + urlencode(params)


FRAME = """<!doctype html><html><head><meta charset="utf-8"><title>{{ app.name }} · {{ shop }}</title>
<style>body{margin:0;font-family:system-ui,sans-serif;display:flex;flex-direction:column;height:100vh}
header{background:#1a1a1a;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#ddd}iframe{flex:1;border:0;width:100%}
#toasts{position:fixed;bottom:16px;left:50%;transform:translateX(-50%)}
.toast{background:#303030;color:#fff;padding:8px 16px;border-radius:8px;margin-top:8px}
.toast.error{background:#8e1f0b}</style></head><body>
<header><strong>Shopify admin (sandbox)</strong><span>{{ shop }}</span>
<a href="{{ admin_url }}">Orders &amp; stock</a><span>Apps / {{ app.name }}</span></header>
<iframe id="app-frame" name="app-iframe" src="{{ src }}" title="{{ app.name }}"></iframe>
<div id="toasts"></div>
<script>
const APP_ORIGIN = {{ app_origin|tojson }}, SHOP = {{ shop|tojson }}, CLIENT_ID = {{ app.client_id|tojson }};
window.addEventListener("message", async (ev) => {
  if (ev.origin !== APP_ORIGIN || !ev.data || typeof ev.data.type !== "string") return;
  const reply = (payload) => ev.source.postMessage({...payload, id: ev.data.id}, ev.origin);
  if (ev.data.type === "sandbox:idToken") {
    const r = await fetch(`/_sandbox/session-token?shop=${encodeURIComponent(SHOP)}&client_id=${encodeURIComponent(CLIENT_ID)}`);
    reply({type: "sandbox:idToken:result", token: (await r.json()).id_token});
  } else if (ev.data.type === "sandbox:toast") {
    const div = document.createElement("div");
    div.className = "toast" + (ev.data.isError ? " error" : "");
    div.textContent = ev.data.message;
    document.getElementById("toasts").appendChild(div);
    setTimeout(() => div.remove(), ev.data.duration || 5000);
    fetch("/_sandbox/toasts", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({message: ev.data.message, isError: !!ev.data.isError})});
    reply({type: "sandbox:toast:shown"});
  }
});
</script></body></html>"""


@bp.get("/store/<shop>/apps/<app_key>")
def embedded_app(shop: str, app_key: str):
    """Open an app in the admin: consent first (managed installation), then the iframe."""
    sandbox = _sandbox()
    with sandbox.store.lock:
        app = _find_app(sandbox, app_key)
        found = sandbox.store.shop(shop)
        if found is None or app is None:
            return error_page("not_found", "No such shop or app.", 404)
        shop = found.domain  # the admin URL may name the shop by its handle
        inst = sandbox.store.installation(shop, app.client_id)
        if inst is None or not set(app.scopes) <= set(inst.scopes):
            return consent_page(shop, app, app.scopes,
                                url_for("shopify_admin.managed_install", shop=shop,
                                        app_key=app_key), {})
        src = app_launch_url(sandbox, shop, app)
    origin = "/".join(app.application_url.split("/")[:3])
    return render_template_string(FRAME, app=app, shop=shop, src=src, app_origin=origin,
                                  admin_url=url_for("shopify_admin.admin_shop", shop=shop))


@bp.post("/store/<shop>/apps/<app_key>/install")
def managed_install(shop: str, app_key: str):
    """The merchant approved the scopes from shopify.app.toml (Shopify-managed installation)."""
    sandbox = _sandbox()
    with sandbox.store.lock:
        app = _find_app(sandbox, app_key)
        found = sandbox.store.shop(shop)
        if found is None or app is None:
            return error_page("not_found", "No such shop or app.", 404)
        shop = found.domain
        if request.form.get("decision") != "approve":
            return error_page("access_denied", "The merchant declined the installation.", 403)
        sandbox.auth.install(shop, app.client_id, app.scopes)
    return redirect(url_for("shopify_admin.embedded_app", shop=shop, app_key=app_key), 302)


APP_BRIDGE_JS = r"""/* Stockroom Shopify sandbox: App Bridge stand-in (shopify.idToken, shopify.toast, and
   like App Bridge: same-origin fetch() calls get "Authorization: Bearer <session token>"). */
(function () {
  var rawFetch = window.fetch ? window.fetch.bind(window) : null;
  var meta = document.querySelector('meta[name="shopify-api-key"]');
  var params = new URLSearchParams(window.location.search);
  var pending = {}, seq = 0;
  var SANDBOX = %(sandbox_origin)s;
  window.addEventListener("message", function (ev) {
    if (ev.data && pending[ev.data.id]) { pending[ev.data.id](ev.data); delete pending[ev.data.id]; }
  });
  function ask(type, extra) {
    return new Promise(function (resolve) {
      var id = "m" + (++seq);
      pending[id] = resolve;
      window.parent.postMessage(Object.assign({type: type, id: id}, extra || {}), SANDBOX);
    });
  }
  var embedded = window.top !== window;
  window.shopify = {
    config: {apiKey: meta ? meta.content : null, shop: params.get("shop"), host: params.get("host")},
    idToken: function () {
      if (embedded) return ask("sandbox:idToken").then(function (m) { return m.token; });
      var q = "shop=" + encodeURIComponent(params.get("shop") || "") +
              "&client_id=" + encodeURIComponent(meta ? meta.content : "");
      return rawFetch(SANDBOX + "/_sandbox/session-token?" + q)
        .then(function (r) { return r.json(); }).then(function (j) { return j.id_token; });
    },
    toast: {
      show: function (message, opts) {
        opts = opts || {};
        if (embedded) ask("sandbox:toast", {message: message, isError: !!opts.isError,
                                             duration: opts.duration});
        return "toast-" + (++seq);
      },
      hide: function () {}
    }
  };
  if (rawFetch) {
    window.fetch = function (input, init) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      var sameOrigin = url.indexOf("://") === -1 || url.indexOf(window.location.origin + "/") === 0;
      if (!sameOrigin) return rawFetch(input, init);
      return window.shopify.idToken().then(function (token) {
        var opts = Object.assign({}, init || {});
        var headers = new Headers(opts.headers || {});
        if (!headers.has("Authorization")) headers.set("Authorization", "Bearer " + token);
        opts.headers = headers;
        return rawFetch(input, opts);
      });
    };
  }
})();
"""


@bp.get("/_sandbox/app-bridge.js")
def app_bridge_js():
    """The script the app loads instead of https://cdn.shopify.com/shopifycloud/app-bridge.js."""
    origin = request.host_url.rstrip("/")
    js = APP_BRIDGE_JS % {"sandbox_origin": '"' + origin + '"'}
    resp = Response(js, mimetype="application/javascript")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


ADMIN = """<!doctype html><html><head><meta charset="utf-8"><title>Sandbox admin · {{ s.domain }}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse;margin-bottom:24px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}button{margin:2px}</style></head><body>
<h1>{{ s.domain }}</h1>
<p>{% for a in apps %}<a href="/store/{{ s.domain }}/apps/{{ a.handle }}">Open {{ a.name }}</a>
 <button onclick="call('uninstall',{client_id:'{{ a.client_id }}'})">Uninstall {{ a.name }}</button>{% endfor %}</p>
<h2>Place order</h2><form onsubmit="event.preventDefault();call('orders',{lines:[{sku:this.sku.value,quantity:+this.qty.value}]})">
<select name="sku">{% for v in snap.variants %}<option>{{ v.sku }}</option>{% endfor %}</select>
<input name="qty" type="number" value="1" min="1"><button>Place order</button></form>
<h2>Fulfillment orders</h2><table><tr><th>FO</th><th>Order</th><th>Location</th><th>Status</th><th>Request</th><th>Lines</th><th></th></tr>
{% for fo in snap.fulfillment_orders %}<tr><td>{{ fo.id }}</td><td>{{ fo.order_id }}</td><td>{{ locs[fo.location_id] }}</td>
<td>{{ fo.status }}</td><td>{{ fo.request_status }}</td><td>{% for l in fo.line_items %}{{ l.remaining }}/{{ l.total }} {% endfor %}</td><td>
<button onclick="call('fulfillments',{fulfillment_order_id:{{ fo.id }}})">Fulfill</button>
<button onclick="call('fulfillment_orders/{{ fo.id }}/accept',{})">3PL accept</button>
<button onclick="call('fulfillment_orders/{{ fo.id }}/reject',{})">3PL reject</button>
<button onclick="call('fulfillment_orders/{{ fo.id }}/accept_cancellation',{})">3PL accept cancel</button>
<button onclick="call('fulfillment_orders/{{ fo.id }}/fulfill',{})">3PL fulfill</button>
<button onclick="call('orders/{{ fo.order_id }}/cancel',{})">Cancel order</button></td></tr>{% endfor %}</table>
<h2>Fulfillments</h2><table><tr><th>Id</th><th>Order</th><th>Status</th><th>Shipment</th><th>Tracking</th><th></th></tr>
{% for f in snap.fulfillments %}<tr><td>{{ f.id }}</td><td>{{ f.order_id }}</td><td>{{ f.status }}</td><td>{{ f.shipment_status or "" }}</td>
<td>{% for t in f.tracking %}{{ t.company }} {{ t.number }}{% endfor %}</td><td>
<button onclick="call('fulfillments/{{ f.id }}/tracking',{company:'UPS',number:prompt('Tracking number')})">Add tracking</button>
<button onclick="call('fulfillments/{{ f.id }}/events',{status:'IN_TRANSIT'})">In transit</button>
<button onclick="call('fulfillments/{{ f.id }}/delivered',{})">Delivered</button>
<button onclick="call('fulfillments/{{ f.id }}/cancel',{})">Cancel</button></td></tr>{% endfor %}</table>
<h2>Products</h2><table><tr><th>Product</th><th>Variant</th><th>SKU</th><th>Barcode</th><th></th></tr>
{% for v in snap.variants[:200] %}<tr><td>{{ v.product_id }}</td><td>{{ v.title }}</td><td>{{ v.sku }}</td><td>{{ v.barcode }}</td><td>
<button onclick="call('products/{{ v.product_id }}',{variants:[{id:{{ v.id }},sku:prompt('New SKU','{{ v.sku }}')}]})">Change SKU</button>
<button onclick="call('variants/{{ v.id }}/quantities',{quantities:Object.fromEntries([[prompt('Location id'),+prompt('On hand')]])})">Set stock</button>
<button onclick="call('variants/{{ v.id }}',null,'DELETE')">Delete variant</button>
<button onclick="call('products/{{ v.product_id }}',null,'DELETE')">Delete product</button></td></tr>{% endfor %}</table>
<form onsubmit="event.preventDefault();call('products',{title:this.title.value,variants:[{sku:this.sku.value,barcode:this.barcode.value}]})">
<input name="title" placeholder="Title" required><input name="sku" placeholder="SKU" required><input name="barcode" placeholder="Barcode">
<button>Add product</button></form>
<h2>Stock</h2><table><tr><th>SKU</th><th>Location</th><th>Available</th><th>On hand</th><th>Committed</th></tr>
{% for l in snap.levels %}<tr><td>{{ l.sku }}</td><td>{{ locs[l.location_id] }}</td><td>{{ l.available }}</td><td>{{ l.on_hand }}</td><td>{{ l.committed }}</td></tr>{% endfor %}</table>
<script>
async function call(path, body, method) {
  const r = await fetch("/_sandbox/shops/{{ s.domain }}/" + path, {method: method || "POST",
    headers: {"Content-Type": "application/json"}, body: body === null ? undefined : JSON.stringify(body)});
  if (!r.ok) alert(JSON.stringify(await r.json())); location.reload();
}
</script></body></html>"""


@bp.get("/_sandbox/admin/")
def admin_index():
    """Links to every shop's admin page."""
    shops = _sandbox().store.shops
    links = "".join(f'<li><a href="/_sandbox/admin/{d}">{d}</a></li>' for d in shops)
    return f"<!doctype html><title>Shopify sandbox</title><h1>Shopify sandbox</h1><ul>{links}</ul>"


@bp.get("/_sandbox/admin/<shop>")
def admin_shop(shop: str):
    """The merchant's side: orders, fulfillment orders, fulfillments, stock, apps."""
    from .controls import shop_snapshot
    sandbox = _sandbox()
    with sandbox.store.lock:
        s = sandbox.store.shop(shop)
        if s is None:
            return error_page("not_found", "No such shop.", 404)
        snap = shop_snapshot(sandbox, s)
        locs = {loc.id: loc.name for loc in s.locations.values()}
        apps = list(sandbox.store.apps.values())
    return render_template_string(ADMIN, s=s, snap=snap, locs=locs, apps=apps)
