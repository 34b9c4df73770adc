"""Installation and credentials as Shopify does them: authorization-code grant (consent page,
HMAC-signed redirect, single-use codes), token exchange of session tokens, expiring offline tokens
with rotating refresh tokens, session tokens (JWT HS256 signed with the app secret)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import urlencode, urlparse

from flask import Blueprint, current_app, redirect, render_template_string, request

from .graphql_api import json_response
from .state import AccessToken, App, AuthCode, Installation, RefreshToken, STAFF_USER, Store

bp = Blueprint("shopify_oauth", __name__)

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"


def shopify_hmac(secret: str, params: dict) -> str:
    """Shopify's OAuth/app-URL HMAC: sorted ``k=v`` pairs (minus hmac) joined by ``&``, hex SHA256."""
    def pair(k, v):
        k = str(k).replace("%", "%25").replace("=", "%3D")
        v = str(v).replace("%", "%25")
        return f"{k}={v}".replace("&", "%26")
    message = "&".join(sorted(pair(k, v) for k, v in params.items() if k != "hmac"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def host_param(public_url: str, shop: str) -> str:
    """The ``host`` query parameter: base64 of the admin's host + /store/<shop handle>."""
    handle = shop.split(".")[0]
    raw = f"{urlparse(public_url).netloc}/store/{handle}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64json(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def encode_hs256(claims: dict, secret: str) -> str:
    """A compact JWT signed HS256 (done by hand: PyJWT warns on short dev secrets)."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{body}.{_b64url(signature)}"


def decode_hs256(token: str, secret: str) -> dict | None:
    """The claims of an HS256 JWT whose signature matches ``secret``, else None."""
    try:
        header, body, sig = token.split(".")
        expected = _b64url(hmac.new(secret.encode(), f"{header}.{body}".encode(),
                                    hashlib.sha256).digest())
        if not hmac.compare_digest(expected, sig):
            return None
        if _b64json(header).get("alg") != "HS256":
            return None
        return _b64json(body)
    except (ValueError, AttributeError):
        return None


class Auth:
    """Issues and checks every credential; all methods expect the store lock held."""

    def __init__(self, store: Store, config) -> None:
        self.store = store
        self.config = config

    # --- installation ------------------------------------------------------------------------
    def install(self, shop: str, client_id: str, scopes: list[str]) -> Installation:
        """Install (or widen the scopes of) an app on a shop."""
        inst = self.store.installations.get((shop, client_id))
        if inst and inst.active:
            inst.scopes = sorted(set(inst.scopes) | set(scopes))
        else:
            inst = Installation(shop=shop, client_id=client_id, scopes=sorted(set(scopes)),
                                installed_at=self.store.now())
            self.store.installations[(shop, client_id)] = inst
        return inst

    def uninstall(self, shop: str, client_id: str) -> bool:
        """Uninstall: every token and refresh token of the app on the shop is revoked."""
        inst = self.store.installation(shop, client_id)
        if inst is None:
            return False
        inst.active = False
        for tok in self.store.tokens.values():
            if tok.shop == shop and tok.client_id == client_id:
                tok.revoked = True
        for rt in self.store.refresh_tokens.values():
            if rt.shop == shop and rt.client_id == client_id:
                rt.retired = True
        for sub_id, sub in list(self.store.subscriptions.items()):
            if sub.shop == shop and sub.client_id == client_id:
                del self.store.subscriptions[sub_id]
        return True

    # --- tokens ------------------------------------------------------------------------------
    def issue(self, shop: str, client_id: str, scopes: list[str], *, online: bool = False,
              expiring: bool = False, parent_refresh: str | None = None) -> dict:
        """A token response body as /admin/oauth/access_token returns it."""
        now = self.store.now()
        prefix = "shpua_" if online else "shpat_"
        ttl = self.config.online_token_ttl if online else self.config.access_token_ttl
        expires = now + ttl if (online or expiring) else None
        tok = AccessToken(token=self.store.random_token(prefix), client_id=client_id, shop=shop,
                          scopes=list(scopes), online=online, expires_at=expires,
                          user_id=STAFF_USER["id"] if online else None,
                          issued_by_refresh=parent_refresh)
        self.store.tokens[tok.token] = tok
        body = {"access_token": tok.token, "scope": ",".join(scopes)}
        if online:
            body.update({"expires_in": ttl, "associated_user_scope": ",".join(scopes),
                         "associated_user": dict(STAFF_USER), "session": uuid.uuid4().hex,
                         "account_number": 1})
        elif expiring:
            rt = RefreshToken(token=self.store.random_token("shprt_"), client_id=client_id,
                              shop=shop, scopes=list(scopes),
                              expires_at=now + self.config.refresh_token_ttl, parent=parent_refresh)
            self.store.refresh_tokens[rt.token] = rt
            body.update({"expires_in": ttl, "refresh_token": rt.token,
                         "refresh_token_expires_in": self.config.refresh_token_ttl})
        return body

    def authenticate(self, shop: str, token: str | None) -> AccessToken | None:
        """The live access token for this shop (first use retires the refresh token it replaced)."""
        tok = self.store.tokens.get(token or "")
        if tok is None or tok.revoked or tok.shop != shop:
            return None
        if tok.expires_at is not None and self.store.now() >= tok.expires_at:
            return None
        if self.store.installation(shop, tok.client_id) is None:
            return None
        if tok.first_used_at is None:
            tok.first_used_at = self.store.now()
            self._retire(tok.issued_by_refresh)
        return tok

    def _retire(self, refresh_token: str | None) -> None:
        rt = self.store.refresh_tokens.get(refresh_token or "")
        if rt is not None:
            rt.retired = True

    def refresh(self, shop: str, app: App, refresh_token: str) -> dict | None:
        """Rotate: new access + refresh token; the old refresh token stays usable until the new
        pair is first used (Shopify's rule for lost refresh responses)."""
        rt = self.store.refresh_tokens.get(refresh_token or "")
        if rt is None or rt.retired or rt.shop != shop or rt.client_id != app.client_id:
            return None
        if self.store.now() >= rt.expires_at or self.store.installation(shop, app.client_id) is None:
            return None
        self._retire(rt.parent)  # using a replacement retires the one it replaced
        return self.issue(shop, app.client_id, rt.scopes, expiring=True, parent_refresh=rt.token)

    # --- session tokens ------------------------------------------------------------------------
    def session_token(self, shop: str, app: App) -> str:
        """An App Bridge session token (id_token): JWT HS256 with the app's secret."""
        now = int(time.time())
        claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}",
                  "aud": app.client_id, "sub": str(STAFF_USER["id"]), "exp": now + 60,
                  "nbf": now, "iat": now, "jti": str(uuid.uuid4()),
                  "sid": hashlib.sha256(f"{shop}:{app.client_id}".encode()).hexdigest()[:32]}
        return encode_hs256(claims, app.secret)

    def verify_session_token(self, token: str, shop: str, app: App) -> dict | None:
        """The claims of a valid session token for this shop and app, else None."""
        claims = decode_hs256(token, app.secret)
        if claims is None or claims.get("aud") != app.client_id:
            return None
        now = time.time()
        if not all(isinstance(claims.get(k), int) for k in ("exp", "nbf", "iat")):
            return None
        if claims["exp"] + 10 < now or claims["nbf"] - 10 > now:
            return None
        return claims if claims.get("dest") == f"https://{shop}" else None


# --- HTTP endpoints ----------------------------------------------------------------------------

def _sandbox():
    return current_app.extensions["shopify_sandbox"]


CONSENT = """<!doctype html><html><head><meta charset="utf-8"><title>Install {{ app.name }}</title>
<style>body{font-family:system-ui,sans-serif;background:#f1f1f1;margin:0}
.card{max-width:520px;margin:60px auto;background:#fff;border-radius:12px;padding:24px;
box-shadow:0 1px 3px #0003}button{padding:8px 16px;border-radius:8px;border:0;cursor:pointer}
.primary{background:#303030;color:#fff}</style></head><body><div class="card">
<p><small>Shopify sandbox &middot; {{ shop }}</small></p>
<h1>Install {{ app.name }}</h1><p>{{ app.name }} will be able to:</p>
<ul id="scopes">{% for s in scopes %}<li><code>{{ s }}</code></li>{% endfor %}</ul>
<form method="post" action="{{ action }}">
{% for k, v in hidden.items() %}<input type="hidden" name="{{ k }}" value="{{ v }}">{% endfor %}
<button class="primary" name="decision" value="approve" id="install">Install app</button>
<button name="decision" value="decline">Cancel</button></form></div></body></html>"""

ERROR_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Oauth error</title></head>
<body><h1>Oauth error {{ error }}</h1><p id="error">{{ message }}</p></body></html>"""


def error_page(error: str, message: str, status: int = 400):
    """Shopify's OAuth error page (no redirect)."""
    return render_template_string(ERROR_PAGE, error=error, message=message), status


def consent_page(shop: str, app: App, scopes: list[str], action: str, hidden: dict):
    """The scope consent page (authorize and managed installation)."""
    return render_template_string(CONSENT, shop=shop, app=app, scopes=scopes, action=action,
                                  hidden=hidden)


def _check_authorize(shop_domain: str, params):
    sandbox = _sandbox()
    if sandbox.store.shop(shop_domain) is None:
        return None, error_page("invalid_request", "This shop does not exist.", 404)
    app = sandbox.store.apps.get(params.get("client_id", ""))
    if app is None:
        return None, error_page("invalid_request", "The client_id is invalid or missing.")
    redirect_uri = params.get("redirect_uri", "")
    allowed = {u.rstrip("/") for u in app.redirect_urls}
    if redirect_uri.split("?")[0].rstrip("/") not in allowed:
        return None, error_page("invalid_request", "The redirect_uri is not whitelisted")
    return app, None


def _scopes(params, app: App) -> list[str]:
    raw = params.get("scope")
    return [s.strip() for s in raw.split(",") if s.strip()] if raw else list(app.scopes)


@bp.get("/shops/<shop_domain>/admin/oauth/authorize")
def authorize(shop_domain: str):
    """Consent page for the requested scopes (skipped when already granted)."""
    sandbox = _sandbox()
    with sandbox.store.lock:
        app, err = _check_authorize(shop_domain, request.args)
        if err:
            return err
        scopes = _scopes(request.args, app)
        inst = sandbox.store.installation(shop_domain, app.client_id)
        if inst and set(scopes) <= set(inst.scopes):
            return _approved(shop_domain, app, request.args, scopes)
        hidden = {k: v for k, v in request.args.items()}
        hidden["grant_options"] = ",".join(request.args.getlist("grant_options[]"))
        return consent_page(shop_domain, app, scopes, request.path, hidden)


@bp.post("/shops/<shop_domain>/admin/oauth/authorize")
def approve(shop_domain: str):
    """The merchant clicked Install (or Cancel) on the consent page."""
    sandbox = _sandbox()
    with sandbox.store.lock:
        app, err = _check_authorize(shop_domain, request.form)
        if err:
            return err
        if request.form.get("decision") != "approve":
            return error_page("access_denied", "The merchant declined the installation.", 403)
        return _approved(shop_domain, app, request.form, _scopes(request.form, app))


def _approved(shop: str, app: App, params, scopes: list[str]):
    sandbox = _sandbox()
    sandbox.auth.install(shop, app.client_id, scopes)
    online = "per-user" in (params.get("grant_options") or "") or \
        "per-user" in params.getlist("grant_options[]")
    code = AuthCode(code=sandbox.store.random_token("", 32), client_id=app.client_id, shop=shop,
                    scopes=scopes, online=online,
                    expires_at=sandbox.store.now() + sandbox.config.auth_code_ttl)
    sandbox.store.codes[code.code] = code
    query = {"code": code.code, "host": host_param(sandbox.config.public_url, shop),
             "shop": shop, "timestamp": str(int(time.time()))}
    if params.get("state") is not None:
        query["state"] = params["state"]
    query["hmac"] = shopify_hmac(app.secret, query)
    sep = "&" if "?" in params["redirect_uri"] else "?"
    return redirect(params["redirect_uri"] + sep + urlencode(query), 302)


def _oauth_error(error: str, description: str, status: int = 400):
    return json_response({"error": error, "error_description": description}, status)


@bp.post("/shops/<shop_domain>/admin/oauth/access_token")
def access_token(shop_domain: str):
    """Token endpoint: authorization code, token exchange and refresh grants."""
    sandbox = _sandbox()
    params = request.get_json(silent=True) if request.is_json else None
    params = params or {**request.args.to_dict(), **request.form.to_dict()}
    with sandbox.store.lock:
        if sandbox.store.shop(shop_domain) is None:
            return json_response({"errors": "Not Found"}, 404)
        app = sandbox.store.apps.get(params.get("client_id", ""))
        if app is None or not hmac.compare_digest(app.secret, str(params.get("client_secret", ""))):
            return _oauth_error("invalid_client", "Client authentication failed due to unknown "
                                "client, no client authentication included, or unsupported "
                                "authentication method.", 401)
        grant = params.get("grant_type") or "authorization_code"
        expiring = str(params.get("expiring", "0")) in ("1", "true")
        if grant == TOKEN_EXCHANGE:
            return _token_exchange(sandbox, shop_domain, app, params, expiring)
        if grant == "refresh_token":
            body = sandbox.auth.refresh(shop_domain, app, params.get("refresh_token", ""))
            if body is None:
                return _oauth_error("invalid_grant", "The refresh token is invalid, expired, "
                                    "revoked or was already replaced.")
            return json_response(body)
        if grant == "authorization_code":
            return _code_grant(sandbox, shop_domain, app, params, expiring)
        return _oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant}.")


def _code_grant(sandbox, shop: str, app: App, params: dict, expiring: bool):
    code = sandbox.store.codes.get(params.get("code", ""))
    if (code is None or code.used or code.shop != shop or code.client_id != app.client_id
            or sandbox.store.now() > code.expires_at):
        return _oauth_error("invalid_request", "The authorization code was not found or was "
                            "already used")
    code.used = True
    inst = sandbox.store.installation(shop, app.client_id)
    if inst is None:
        return _oauth_error("invalid_request", "The app is not installed on this shop.")
    # The token carries every scope the installation holds, not only the ones just requested.
    return json_response(sandbox.auth.issue(shop, app.client_id, inst.scopes, online=code.online,
                                            expiring=expiring))


def _token_exchange(sandbox, shop: str, app: App, params: dict, expiring: bool):
    if params.get("subject_token_type") != ID_TOKEN_TYPE:
        return _oauth_error("invalid_request", "subject_token_type must be "
                            f"{ID_TOKEN_TYPE}.")
    requested = params.get("requested_token_type", OFFLINE_TYPE)
    if requested not in (OFFLINE_TYPE, ONLINE_TYPE):
        return _oauth_error("invalid_request", "Unsupported requested_token_type.")
    claims = sandbox.auth.verify_session_token(params.get("subject_token", ""), shop, app)
    if claims is None:
        return _oauth_error("invalid_subject_token", "Session token is invalid or expired.")
    inst = sandbox.store.installation(shop, app.client_id)
    if inst is None:
        return _oauth_error("invalid_subject_token", "The app is not installed on this shop.")
    body = sandbox.auth.issue(shop, app.client_id, inst.scopes, online=requested == ONLINE_TYPE,
                              expiring=expiring)
    return json_response(body)


@bp.get("/shops/<shop_domain>/admin/oauth/install")
def managed_install_link(shop_domain: str):
    """``/admin/oauth/install?client_id=``: where an app using Shopify-managed installation
    sends the merchant when its required scopes are not (or no longer) granted. Shopify
    opens the app in the admin, which asks for the missing scopes before it loads the app."""
    sandbox = _sandbox()
    with sandbox.store.lock:
        app = sandbox.store.apps.get(request.args.get("client_id", ""))
        shop = sandbox.store.shop(shop_domain)
        if app is None or shop is None:
            return error_page("not_found", "No such shop or app.", 404)
        handle = shop.domain.split(".", 1)[0]
    return redirect(f"{sandbox.config.public_url}/store/{handle}/apps/{app.client_id}", 302)
