"""The wc-auth/v1 endpoint (WC_Auth): login, authorize page, access_granted key callback.

Flow, as in WooCommerce: the app sends the owner to ``{store}/wc-auth/v1/authorize?app_name=
&scope=&user_id=&return_url=&callback_url=``. Not logged in -> redirect to ``login``; after
login -> the grant page with Approve (``access_granted`` + nonce) and Deny (a plain link to
return_url?success=0&user_id=). Approve creates the key, POSTs it as JSON to callback_url
(60 s timeout; anything but 200 deletes the key and shows an error) and redirects to
return_url?success=1&user_id=. callback_url must be https unless allow_insecure_http is on.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlparse

import requests
from flask import Blueprint, Response, current_app, redirect, render_template_string, request

from sandbox.woocommerce.serializers import php_json
from sandbox.woocommerce.state import Sandbox, Store, utcnow

bp = Blueprint("wc_auth", __name__, url_prefix="/stores/<store>/wc-auth/v1")
PARAMS = ("app_name", "user_id", "return_url", "callback_url", "scope")
SCOPES = {"read": "Read", "write": "Write", "read_write": "Read/Write"}
SCOPE_PERMISSIONS = {
    "read": ["View coupons", "View customers", "View orders and sales reports",
             "View products"],
    "write": ["Create webhooks", "Create coupons", "Create customers", "Create orders",
              "Create products"],
    "read_write": ["Create webhooks", "View and manage coupons", "View and manage customers",
                   "View and manage orders and sales reports", "View and manage products"],
}
CALLBACK_TIMEOUT = 60
UNSAFE_URL_CHARS = re.compile(r"[^a-zA-Z0-9\-~+_.?#=!&;,/:%@$|*'()\[\]]")  # esc_url_raw()

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:sans-serif;max-width:34em;margin:3em auto;color:#1d2327}
.box{border:1px solid #c3c4c7;padding:1.5em;border-radius:4px}
.button{display:inline-block;padding:.5em 1.2em;border-radius:3px;text-decoration:none;
border:1px solid #2271b1}.primary{background:#2271b1;color:#fff}
.error{color:#b32d2e}</style></head><body><h1>{{ store.name }}</h1><div class="box">
{{ body|safe }}</div></body></html>"""

LOGIN = """<p>To connect to <strong>{{ app_name }}</strong> you need to be logged in. Log in to
your store below, or <a href="{{ cancel_url }}">cancel and return to {{ app_name }}</a>.</p>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}" class="wc-auth-login">
<p><label>Username or email address <input name="username" autocomplete="username"></label></p>
<p><label>Password <input type="password" name="password" autocomplete="current-password">
</label></p><input type="hidden" name="redirect" value="{{ redirect_url }}">
<p><button type="submit" name="login" class="button primary">Login</button></p></form>"""

GRANT = """<h2>{{ app_name }} would like to connect to your store</h2>
<p>This will give "<strong>{{ app_name }}</strong>" <strong>{{ scope }}</strong> access which
will allow it to:</p><ul>{% for p in permissions %}<li>{{ p }}</li>{% endfor %}</ul>
<p>Logged in as {{ user }}.</p>
<p><a href="{{ return_url }}" class="button wc-auth-deny">Deny</a>
<a href="{{ granted_url }}" class="button primary wc-auth-approve">Approve</a></p>"""


class AuthFailure(Exception):
    """wp_die(): 'Error: <message>.' with status 401 and title 'Access denied'."""


def sandbox() -> Sandbox:
    """The Sandbox bound to the running app."""
    return current_app.extensions["wc_sandbox"]


def page(store: Store, title: str, template: str, status: int = 200, **context: Any) -> Response:
    """Render one of the small wc-auth pages."""
    body = render_template_string(template, **context)
    html = render_template_string(PAGE, title=title, store=store, body=body)
    return Response(html, status=status, content_type="text/html; charset=UTF-8")


def formatted_url(url: str) -> str:
    """get_formatted_url(): urldecode, and assume https:// when there is no scheme."""
    url = unquote_plus(url)
    return url if "://" in url else f"https://{url}"


def validate(data: dict[str, str], *, allow_insecure_http: bool) -> None:
    """make_validation(): required params, scope, URLs, https-only callback_url."""
    for name in PARAMS:
        if not data.get(name):
            raise AuthFailure(f"Missing parameter {name}")
    if data["scope"] not in SCOPES:
        raise AuthFailure(f"Invalid scope {data['scope']}")
    for name in ("return_url", "callback_url"):
        url = formatted_url(data[name])
        parsed = urlparse(url)
        if not (parsed.scheme and parsed.netloc):
            raise AuthFailure(f"The {url} is not a valid URL")
    if not formatted_url(data["callback_url"]).lower().startswith("https://") \
            and not allow_insecure_http:
        raise AuthFailure("The callback_url needs to be over SSL")


def add_query_arg(url: str, **args: str) -> str:
    """add_query_arg() + esc_url_raw(): values are appended as given, not URL-encoded."""
    base, _, fragment = url.partition("#")
    path, _, query = base.partition("?")
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in args]
    added = [f"{k}={UNSAFE_URL_CHARS.sub('', v)}" for k, v in args.items()]
    out = f"{path}?{'&'.join(kept + added)}"
    return f"{out}#{fragment}" if fragment else out


def build_url(store_url: str, data: dict[str, str], endpoint: str) -> str:
    """WC_Auth::build_url()."""
    query = {"app_name": data["app_name"], "user_id": data["user_id"],
             "return_url": formatted_url(data["return_url"]),
             "callback_url": formatted_url(data["callback_url"]), "scope": data["scope"]}
    return f"{store_url}/wc-auth/v1/{endpoint}?{urlencode(query)}"


def session_token(store: Store) -> str | None:
    """The owner's login session from the cookie, if valid."""
    token = request.cookies.get(cookie_name(store))
    return token if token and token in store.sessions else None


def cookie_name(store: Store) -> str:
    """The login cookie, one per store."""
    return f"wordpress_logged_in_{store.slug}"


def grant_nonce(store: Store, token: str) -> str:
    """wp_create_nonce('wc_auth_grant_access') tied to the session."""
    return hmac.new(store.salt.encode(), f"{token}|wc_auth_grant_access".encode(),
                    hashlib.sha256).hexdigest()[:10]


@bp.route("/<route>", methods=["GET", "POST"])
def auth_endpoint(store: str, route: str):
    """WC_Auth::auth_endpoint(): dispatch on login / authorize / access_granted."""
    with sandbox().lock:
        found = sandbox().store(store)
    if found is None:
        return Response("Not Found", 404)
    data = {name: str(request.values.get(name, "")) for name in PARAMS}
    try:
        validate(data, allow_insecure_http=sandbox().config.get("allow_insecure_http", False))
        return dispatch(found, route.lower(), data)
    except AuthFailure as error:
        return page(found, "Access denied", "<p>Error: {{ message }}.</p>", 401,
                    message=str(error))


def dispatch(store: Store, route: str, data: dict[str, str]) -> Response:
    """The branches of auth_endpoint() after validation."""
    store_url = f"{request.host_url.rstrip('/')}/stores/{store.slug}"
    token = session_token(store)
    deny_url = add_query_arg(formatted_url(data["return_url"]), success="0",
                             user_id=data["user_id"])
    if route == "login" and token is None:
        return login(store, data, store_url, deny_url)
    if route == "login":
        return redirect(build_url(store_url, data, "authorize"))
    if route == "authorize" and token is None:
        return redirect(build_url(store_url, data, "login"))
    if route == "authorize":
        granted = build_url(store_url, data, "access_granted") + \
            f"&wc_auth_nonce={grant_nonce(store, token)}"
        return page(store, "Approve access", GRANT, app_name=data["app_name"],
                    scope=SCOPES[data["scope"]], permissions=SCOPE_PERMISSIONS[data["scope"]],
                    return_url=deny_url, granted_url=granted, user=store.owner.display_name)
    if route == "access_granted" and token is not None:
        return access_granted(store, data, token)
    raise AuthFailure("You do not have permission to access this page")


def login(store: Store, data: dict[str, str], store_url: str, deny_url: str) -> Response:
    """Show the login form, or check the posted credentials and go on to authorize."""
    authorize_url = build_url(store_url, data, "authorize")
    error = ""
    if request.method == "POST":
        owner = store.owner
        if request.form.get("username") == owner.username and \
                request.form.get("password") == owner.password:
            token = secrets.token_urlsafe(24)
            with sandbox().lock:
                store.sessions.add(token)
            response = redirect(authorize_url)
            response.set_cookie(cookie_name(store), token, path=f"/stores/{store.slug}/",
                                httponly=True, samesite="Lax")
            return response
        error = "Error: The username or password you entered is incorrect."
    return page(store, "Log in", LOGIN, app_name=data["app_name"], cancel_url=deny_url,
                action=build_url(store_url, data, "login"), redirect_url=authorize_url,
                error=error)


def access_granted(store: Store, data: dict[str, str], token: str) -> Response:
    """Create the key, POST it to callback_url, then redirect to return_url?success=1."""
    if not hmac.compare_digest(request.args.get("wc_auth_nonce", ""), grant_nonce(store, token)):
        raise AuthFailure("Invalid nonce verification")
    with sandbox().lock:
        key = store.create_key(permissions=data["scope"], description=(
            f"{data['app_name'][:170]} - API ({utcnow().strftime('%Y-%m-%d %H:%M:%S')})"))
    consumer_data = {"key_id": key.key_id, "user_id": data["user_id"],
                     "consumer_key": key.consumer_key, "consumer_secret": key.consumer_secret,
                     "key_permissions": key.permissions}
    try:
        post_consumer_data(consumer_data, formatted_url(data["callback_url"]))
    except AuthFailure:
        with sandbox().lock:
            store.keys.pop(key.key_id, None)
        raise
    return redirect(add_query_arg(formatted_url(data["return_url"]), success="1",
                                  user_id=data["user_id"]))


def post_consumer_data(consumer_data: dict[str, Any], url: str) -> None:
    """post_consumer_data(): JSON body; anything but a 200 is a failure."""
    try:
        response = requests.post(url, data=php_json(consumer_data).encode(),
                                 timeout=CALLBACK_TIMEOUT,
                                 headers={"Content-Type": "application/json;charset=UTF-8"},
                                 verify=sandbox().config.get("outbound_verify", True))
    except requests.RequestException as exc:
        record_callback(url, consumer_data, None, str(exc))
        raise AuthFailure(str(exc)) from None
    record_callback(url, consumer_data, response.status_code, response.text[:2000])
    if response.status_code != 200:
        raise AuthFailure("An error occurred in the request and at the time were unable to "
                          "send the consumer data")


def record_callback(url: str, body: dict[str, Any], code: int | None, response: str) -> None:
    """Keep a log of key callbacks for the controls."""
    with sandbox().lock:
        sandbox().deliveries.append({
            "seq": len(sandbox().deliveries) + 1, "kind": "wc_auth_callback", "url": url,
            "store": request.view_args.get("store") if request.view_args else None,
            "webhook_id": None, "resource_id": None, "topic": None,
            "request_headers": {"Content-Type": "application/json;charset=UTF-8"},
            "body": php_json(body), "code": code, "response_body": response,
            "duplicate": False, "fault": None})
