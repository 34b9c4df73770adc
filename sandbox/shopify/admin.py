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


def app_launch_url(sandbox, shop: str, app, url: str | None = None) -> str:
    """application_url (or ``url``, a page of the app) with Shopify's signed launch query
    (embedded, host, id_token, shop...)."""
    params = {"embedded": "1", "host": host_param(sandbox.config.public_url, shop),
              "id_token": sandbox.auth.session_token(shop, app), "locale": "en",
              "session": sandbox.auth.session_token(shop, app)[-32:], "shop": shop,
              "timestamp": str(int(time.time()))}
    params["hmac"] = shopify_hmac(app.secret, params)
    url = url or app.application_url
    return url + ("&" if "?" in url else "?") + urlencode(params)


FRAME = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ app.name }} · {{ shop }}</title>
<style>body{margin:0;font-family:system-ui,sans-serif;display:flex;flex-direction:column;height:100vh}
header{background:#1a1a1a;color:#fff;padding:8px 16px;display:flex;gap:16px;align-items:center}
header a{color:#ddd}#admin-body{flex:1;display:flex;min-height:0}
#admin-sidebar{width:200px;background:#ebebeb;padding:8px}#admin-sidebar a{display:block;padding:4px 8px;color:#303030}
#admin-sidebar a[aria-current]{background:#fff;font-weight:600}#admin-main{flex:1;display:flex;flex-direction:column;min-width:0}
#admin-title-bar{display:flex;gap:8px;align-items:center;padding:8px 16px;background:#f1f1f1;min-height:36px}
#admin-title-bar h1{font-size:1.1rem;margin:0;flex:1}#admin-loading{height:3px;background:#008060}
iframe{flex:1;border:0;width:100%}body.mobile #admin-main{flex:0 0 360px;width:360px}
body.mobile #admin-sidebar{display:none}#admin-app-menu{display:none}body.mobile #admin-app-menu{display:inline-block}
body.mobile.menu-open #admin-sidebar{display:block;position:absolute;top:40px;left:0;z-index:10;box-shadow:0 4px 12px rgba(0,0,0,.3)}
#toasts{position:fixed;bottom:16px;left:50%;transform:translateX(-50%)}
.toast{background:#303030;color:#fff;padding:8px 16px;border-radius:8px;margin-top:8px}
.toast.error{background:#8e1f0b}
#admin-modal-backdrop{position:fixed;inset:0;background:rgba(0,0,0,.5);display:flex;align-items:center;justify-content:center}
#admin-modal{background:#fff;border-radius:12px;max-width:min(620px,92vw);padding:16px}
#admin-modal h2{font-size:1rem;margin:0 0 8px}#admin-modal footer{display:flex;gap:8px;justify-content:flex-end;margin-top:16px}
#admin-save-bar{display:flex;gap:8px;align-items:center;padding:8px 16px;background:#303030;color:#fff}
#admin-save-bar[hidden]{display:none}#admin-save-bar span{flex:1}#admin-save-bar.shake{outline:3px solid #c70a24}
#admin-modal button.critical{background:#c70a24;color:#fff;border:0;padding:6px 12px;border-radius:8px}</style></head><body{% if mobile %} class="mobile"{% endif %}>
<header><strong>Shopify admin (sandbox)</strong><span>{{ shop }}</span>
<a href="{{ admin_url }}">Orders &amp; stock</a><span>Apps / {{ app.name }}</span>
<button type="button" id="admin-app-menu" aria-controls="admin-sidebar" aria-expanded="false">{{ app.name }} pages</button></header>
<div id="admin-body"><nav id="admin-sidebar" aria-label="{{ app.name }} pages"></nav>
<div id="admin-main"><div id="admin-save-bar" role="region" aria-label="Unsaved changes" hidden><span>Unsaved changes</span>
<button type="button" id="admin-save-bar-discard">Discard</button><button type="button" id="admin-save-bar-save" class="primary">Save</button></div>
<div id="admin-title-bar"><h1 id="admin-title"></h1></div>
<div id="admin-loading" hidden></div>
<iframe id="app-frame" name="app-iframe" src="{{ src }}" title="{{ app.name }}"></iframe></div></div>
<div id="toasts"></div><div id="admin-modal-root"></div>
<script>
const APP_ORIGIN = {{ app_origin|tojson }}, SHOP = {{ shop|tojson }}, CLIENT_ID = {{ app.client_id|tojson }};
const ADMIN_BASE = {{ admin_base|tojson }}, MOBILE = {{ ("?viewport=mobile" if mobile else "")|tojson }};
const LAUNCH = ["embedded", "host", "id_token", "session", "shop", "timestamp", "hmac", "locale", "bounced"];
const frame = document.getElementById("app-frame");
const reported = new Set();
function misuse(message) {  // App Bridge would refuse it: recorded for the tests to read
  if (reported.has(message)) return;
  reported.add(message);
  console.error("App Bridge misuse: " + message);
  fetch("/_sandbox/app-bridge/misuse", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({message})});
}
function inApp(href) { return typeof href === "string" && href.startsWith(APP_ORIGIN + "/"); }
function click(kind, index, selector) {
  frame.contentWindow.postMessage({type: "sandbox:click", kind, index, selector}, APP_ORIGIN);
}
// On a phone the admin folds the app's pages into a menu (the app's name in the title
// bar): the same links, shown on demand.
const appMenu = document.getElementById("admin-app-menu");
function setMenu(open) {
  document.body.classList.toggle("menu-open", open);
  appMenu.setAttribute("aria-expanded", String(open));
}
appMenu.addEventListener("click", () => setMenu(!document.body.classList.contains("menu-open")));
function drawNav(nav, navMenus) {
  const side = document.getElementById("admin-sidebar");
  side.replaceChildren();
  if (navMenus > 1) misuse("more than one ui-nav-menu");
  if (!nav) return;
  if (!nav.length || nav[0].rel !== "home") misuse('ui-nav-menu: the first link must be rel="home"');
  nav.forEach((link, index) => {
    if (!inApp(link.href)) { misuse("ui-nav-menu link outside the app's URL: " + link.href); return; }
    if (index === 0) return;  // the home link is the app's name in the admin, not an entry
    const a = document.createElement("a");
    a.href = "#"; a.textContent = link.text;
    const path = new URL(link.href).pathname;
    if (path === currentPath.split("?")[0]) a.setAttribute("aria-current", "page");
    a.addEventListener("click", (e) => {
      e.preventDefault();
      setMenu(false);
      if (saveBarOpen) { blockedLeave(link.href); return; }
      click("nav", index);
    });
    side.appendChild(a);
  });
}
function drawTitleBar(bar, count) {
  const box = document.getElementById("admin-title-bar");
  box.replaceChildren();
  const h1 = document.createElement("h1"); h1.id = "admin-title";
  if (count > 1) misuse("more than one ui-title-bar");
  if (bar) {
    (bar.breadcrumbs || []).forEach((crumb, index) => {
      if (!inApp(crumb.href)) { misuse("ui-title-bar breadcrumb outside the app's URL: " + crumb.href); return; }
      const a = document.createElement("a"); a.href = "#"; a.textContent = crumb.text;
      a.className = "admin-breadcrumb";
      a.addEventListener("click", (e) => { e.preventDefault(); click("title", index, "a"); });
      box.appendChild(a);
    });
    h1.textContent = bar.title;
    if (bar.buttons.filter(b => b.variant === "primary").length > 1)
      misuse("ui-title-bar with more than one primary button");
  }
  box.appendChild(h1);
  ((bar && bar.buttons) || []).forEach((b, index) => {
    const button = document.createElement("button");
    button.textContent = b.text; button.disabled = b.disabled;
    button.className = b.variant === "primary" ? "primary" : "secondary";
    button.addEventListener("click", () => click("title", index, "button"));
    box.appendChild(button);
  });
}
function drawModal(m) {  // ui-modal shown: the admin's own dialog, its buttons click back
  const root = document.getElementById("admin-modal-root");
  root.replaceChildren();
  fetch("/_sandbox/app-bridge/modals", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({id: m.id, open: !!m.open, title: m.title || "", text: m.text || ""})});
  if (!m.open) return;
  if (!m.id) { misuse("shopify.modal.show without a ui-modal id"); return; }
  const backdrop = document.createElement("div"); backdrop.id = "admin-modal-backdrop";
  const dialog = document.createElement("div"); dialog.id = "admin-modal";
  dialog.setAttribute("role", "dialog"); dialog.setAttribute("aria-modal", "true");
  dialog.setAttribute("aria-label", m.title || "");
  const h2 = document.createElement("h2"); h2.textContent = m.title || "";
  const close = document.createElement("button"); close.textContent = "Close"; close.className = "close";
  close.addEventListener("click", () => { root.replaceChildren(); frame.contentWindow.postMessage(
    {type: "sandbox:click", kind: "modal-close", id: m.id}, APP_ORIGIN); });
  const body = document.createElement("p"); body.textContent = m.text || "";
  const footer = document.createElement("footer");
  if ((m.buttons || []).filter(b => b.variant === "primary").length > 1)
    misuse("ui-modal with more than one primary button");
  (m.buttons || []).forEach((b, index) => {
    const button = document.createElement("button");
    button.textContent = b.text; button.disabled = b.disabled;
    button.className = b.variant === "primary" ? ("primary" + (b.tone === "critical" ? " critical" : "")) : "secondary";
    button.addEventListener("click", () => frame.contentWindow.postMessage(
      {type: "sandbox:click", kind: "modal", id: m.id, index}, APP_ORIGIN));
    footer.appendChild(button);
  });
  dialog.append(h2, body, footer, close); backdrop.appendChild(dialog); root.appendChild(backdrop);
}
let saveBarOpen = false;
function saveBarEvent(what, extra) {
  fetch("/_sandbox/app-bridge/save-bar", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify(Object.assign({event: what, path: currentPath}, extra || {}))});
}
function drawSaveBar(open) {  // a form[data-save-bar] with unsaved changes: the admin's save bar
  saveBarOpen = !!open;
  document.getElementById("admin-save-bar").hidden = !saveBarOpen;
  saveBarEvent(saveBarOpen ? "shown" : "hidden");
}
function blockedLeave(href) {  // the admin keeps the merchant on a page with unsaved changes
  const bar = document.getElementById("admin-save-bar");
  bar.classList.remove("shake"); void bar.offsetWidth; bar.classList.add("shake");
  saveBarEvent("leave_blocked", {to: href});
}
document.getElementById("admin-save-bar-save").addEventListener("click", () =>
  frame.contentWindow.postMessage({type: "sandbox:click", kind: "save-bar", action: "save"}, APP_ORIGIN));
document.getElementById("admin-save-bar-discard").addEventListener("click", () =>
  frame.contentWindow.postMessage({type: "sandbox:click", kind: "save-bar", action: "discard"}, APP_ORIGIN));
let currentPath = "/";
function follow(path) {  // the admin URL follows the app's page: /store/<shop>/apps/<handle>/<path>
  const url = new URL(path, APP_ORIGIN);
  LAUNCH.forEach(k => url.searchParams.delete(k));
  currentPath = url.pathname + url.search;
  history.replaceState(null, "", ADMIN_BASE + (url.pathname === "/" ? "" : url.pathname) + url.search + (url.search ? MOBILE.replace("?", "&") : MOBILE));
}
let loadingSince = 0;
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
  } else if (ev.data.type === "sandbox:chrome") {
    drawNav(ev.data.nav, ev.data.navMenus);
    drawTitleBar(ev.data.titleBar, ev.data.titleBars);
    (ev.data.modals || []).forEach(m => { if (!m.id) misuse("ui-modal without an id"); });
  } else if (ev.data.type === "sandbox:saveBar") {
    drawSaveBar(ev.data.open);
  } else if (ev.data.type === "sandbox:modal") {
    drawModal(ev.data);
  } else if (ev.data.type === "sandbox:history") {
    if (typeof ev.data.path === "string" && ev.data.path.startsWith("/")) follow(ev.data.path);
  } else if (ev.data.type === "sandbox:loading") {
    document.getElementById("admin-loading").hidden = !ev.data.on;
    if (ev.data.on) {
      fetch("/_sandbox/app-bridge/loading", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({path: currentPath})});
    }
  }
});
</script></body></html>"""


@bp.get("/store/<shop>/apps/<app_key>")
@bp.get("/store/<shop>/apps/<app_key>/<path:app_path>")
def embedded_app(shop: str, app_key: str, app_path: str = ""):
    """Open an app in the admin: consent first (managed installation), then the iframe, at
    ``app_path`` (the admin URL follows the app's page, so a reload lands on it again).
    ``?viewport=mobile`` frames it 360 px wide, like the admin on a phone."""
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
                                        app_key=app_key,
                                        viewport=request.args.get("viewport")), {})
        src = app_launch_url(sandbox, shop, app)
    origin = "/".join(app.application_url.split("/")[:3])
    if app_path:  # the app's own path, on the app's origin, never another host
        if app_path.startswith("/") or "\\" in app_path or ".." in app_path.split("/"):
            return error_page("not_found", "No such app page.", 404)
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "viewport"]
        src = app_launch_url(sandbox, shop, app, origin + "/" + app_path
                             + ("?" + urlencode(query) if query else ""))
    return render_template_string(
        FRAME, app=app, shop=shop, src=src, app_origin=origin,
        mobile=request.args.get("viewport") == "mobile",
        admin_base=url_for("shopify_admin.embedded_app", shop=request.view_args["shop"],
                           app_key=app_key),
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
    return redirect(url_for("shopify_admin.embedded_app", shop=shop, app_key=app_key,
                            viewport=request.args.get("viewport")), 302)


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
  // The admin's chrome, drawn by the parent page from what the app declares: ui-nav-menu
  // (sidebar), ui-title-bar (title bar), ui-modal (modal) and shopify.loading (loading bar).
  // The elements render nothing in the app's own document, as with App Bridge.
  var style = document.createElement("style");
  style.textContent = "ui-nav-menu,ui-title-bar,ui-modal,ui-save-bar{display:none!important}";
  document.head.appendChild(style);
  function post(type, extra) {
    if (embedded) window.parent.postMessage(Object.assign({type: type}, extra || {}), SANDBOX);
  }
  function children(el, selector) {
    return Array.prototype.filter.call(el.children, function (c) { return c.matches(selector); });
  }
  // A ui-title-bar inside a ui-modal is that modal's, not the page's.
  function pageBars() {
    return Array.prototype.filter.call(document.querySelectorAll("ui-title-bar"),
                                       function (b) { return !b.closest("ui-modal"); });
  }
  function modalPayload(m, open) {
    var bar = m.querySelector("ui-title-bar");
    var text = Array.prototype.filter.call(m.children, function (c) {
      return c.tagName !== "UI-TITLE-BAR"; }).map(function (c) { return c.textContent.trim(); })
      .join("\n");
    return {id: m.id, open: open, title: bar ? bar.getAttribute("title") || "" : "", text: text,
            buttons: bar ? children(bar, "button").map(function (b) {
              return {text: b.textContent.trim(), variant: b.getAttribute("variant") || "",
                      tone: b.getAttribute("tone") || "", disabled: b.disabled};
            }) : []};
  }
  // shopify.modal.show/hide and the ui-modal element's show()/hide(): the admin draws it;
  // a hide (the app's, or the admin's close button) fires the element's "hide" event.
  window.shopify.modal = {
    show: function (id) {
      var m = document.getElementById(id);
      if (!m || m.tagName !== "UI-MODAL") return Promise.reject(new Error("no ui-modal #" + id));
      post("sandbox:modal", modalPayload(m, true));
      return Promise.resolve();
    },
    hide: function (id) {
      var m = document.getElementById(id);
      post("sandbox:modal", {id: id, open: false});
      if (m) m.dispatchEvent(new Event("hide"));
      return Promise.resolve();
    }
  };
  // The contextual save bar: a form[data-save-bar] whose fields differ from what the page
  // gave them raises the admin's save bar; its Save submits the form (requestSubmit, so
  // htmx sends it), Discard resets it. A form swapped in after a save starts clean.
  function isDirty(form) {
    return Array.prototype.some.call(form.elements, function (el) {
      if (!el.name || ["hidden", "submit", "button", "reset"].indexOf(el.type) !== -1) return false;
      if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
      if (el.tagName === "SELECT") return Array.prototype.some.call(el.options, function (o) {
        return o.selected !== o.defaultSelected; });
      if (el.type === "file") return !!(el.files && el.files.length);
      return el.value !== el.defaultValue;
    });
  }
  function dirtyForms() {
    return Array.prototype.filter.call(document.querySelectorAll("form[data-save-bar]"), isDirty);
  }
  var saveBarShown = false;
  function checkSaveBar() {
    var open = dirtyForms().length > 0;
    if (open !== saveBarShown) { saveBarShown = open; post("sandbox:saveBar", {open: open}); }
  }
  document.addEventListener("input", checkSaveBar, true);
  document.addEventListener("change", checkSaveBar, true);
  document.addEventListener("reset", function () { setTimeout(checkSaveBar, 0); }, true);
  if (window.customElements && !customElements.get("ui-modal")) {
    customElements.define("ui-modal", class extends HTMLElement {
      show() { return window.shopify.modal.show(this.id); }
      hide() { return window.shopify.modal.hide(this.id); }
    });
  }
  function describe() {
    var navs = document.querySelectorAll("ui-nav-menu");
    var nav = navs.length ? children(navs[0], "a").map(function (a) {
      return {href: a.href, text: a.textContent.trim(), rel: a.getAttribute("rel") || ""};
    }) : null;
    var bars = pageBars();
    var bar = bars.length ? {
      title: bars[0].getAttribute("title") || "",
      buttons: children(bars[0], "button").map(function (b) {
        return {text: b.textContent.trim(), variant: b.getAttribute("variant") || "",
                disabled: b.disabled};
      }),
      breadcrumbs: children(bars[0], "a").map(function (a) {
        return {href: a.href, text: a.textContent.trim(), variant: a.getAttribute("variant") || ""};
      })
    } : null;
    var modals = Array.prototype.map.call(document.querySelectorAll("ui-modal"), function (m) {
      return {id: m.id};
    });
    post("sandbox:chrome", {navMenus: navs.length, nav: nav, titleBars: bars.length,
                            titleBar: bar, modals: modals});
  }
  var scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(function () { scheduled = false; describe(); checkSaveBar(); }, 0);
  }
  new MutationObserver(schedule).observe(document.documentElement,
    {childList: true, subtree: true, attributes: true, characterData: true});
  document.addEventListener("DOMContentLoaded", schedule);
  // History: the admin URL follows the app's path (pushState/replaceState/back/forward).
  function location_() { post("sandbox:history", {path: window.location.pathname + window.location.search}); }
  ["pushState", "replaceState"].forEach(function (name) {
    var raw = history[name];
    history[name] = function () { var r = raw.apply(history, arguments); location_(); return r; };
  });
  window.addEventListener("popstate", location_);
  location_();
  // The admin's chrome clicks back into the app: the nav link or title-bar button itself.
  window.addEventListener("message", function (ev) {
    if (ev.origin !== SANDBOX || !ev.data || ev.data.type !== "sandbox:click") return;
    var el = null;
    if (ev.data.kind === "nav") {
      var nav = document.querySelector("ui-nav-menu");
      el = nav ? children(nav, "a")[ev.data.index] : null;
    } else if (ev.data.kind === "modal") {
      var modal = document.getElementById(ev.data.id);
      var mbar = modal ? modal.querySelector("ui-title-bar") : null;
      el = mbar ? children(mbar, "button")[ev.data.index] : null;
    } else if (ev.data.kind === "save-bar") {
      var dirty = dirtyForms()[0];
      if (dirty && ev.data.action === "save") dirty.requestSubmit();
      else if (dirty) { dirty.reset(); checkSaveBar(); }
    } else if (ev.data.kind === "modal-close") {
      var closed = document.getElementById(ev.data.id);
      if (closed) closed.dispatchEvent(new Event("hide"));
    } else if (ev.data.kind === "title") {
      var bar = pageBars()[0];
      el = bar ? children(bar, ev.data.selector === "a" ? "a" : "button")[ev.data.index] : null;
    }
    if (el) el.click();
  });
  window.shopify.loading = function (on) { post("sandbox:loading", {on: on !== false}); };
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
<h2>Locations</h2><form onsubmit="event.preventDefault();call('locations',{name:this.location_name.value})">
<input name="location_name" placeholder="New location name" required><button>Add location</button></form>
<table><tr><th>Location</th><th>Kind</th><th>Status</th><th></th></tr>
{% for loc in s.locations.values() %}<tr><td>{{ loc.name }}</td><td>{{ loc.kind }}</td><td>{{ "active" if loc.active else "deactivated" }}</td><td>
<button onclick="call('locations/{{ loc.id }}/rename',{name:prompt('New name', {{ loc.name|tojson|forceescape }})})">Rename</button>
{% if loc.active %}<button onclick="call('locations/{{ loc.id }}/deactivate',{destination_location_id:prompt('Move its open orders to location id (empty: none)')||null})">Deactivate</button>
{% else %}<button onclick="call('locations/{{ loc.id }}/activate',{})">Activate</button>
<button onclick="call('locations/{{ loc.id }}/delete',{})">Delete</button>{% endif %}</td></tr>{% endfor %}</table>
<h2>App scopes</h2>{% for a in apps %}<p>{{ a.name }}:
<button onclick="call('scopes',{client_id:'{{ a.client_id }}',scopes:prompt('Granted scopes (comma-separated)', {{ a.scopes|join(',')|tojson|forceescape }}).split(',').map(x=>x.trim()).filter(Boolean)})">Change granted scopes</button></p>{% endfor %}
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
