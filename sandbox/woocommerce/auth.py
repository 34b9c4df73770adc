"""REST API authentication as WC_REST_Authentication does it: Basic/query keys, OAuth 1.0a, permissions.

Over HTTPS WooCommerce tries the consumer_key/consumer_secret query parameters, then HTTP
Basic; whatever fails there, and everything over plain HTTP, goes to one-legged OAuth 1.0a
(HMAC-SHA1 or HMAC-SHA256, parameters from the query string, form body or Authorization
header, 15-minute timestamp window, nonces remembered per key). A request that carries no
credentials at all is not an authentication error: it reaches the route as a logged-out
visitor and the route's permission check answers 401.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, unquote_plus

from flask import Request

from sandbox.woocommerce.rest import RestError
from sandbox.woocommerce.state import ApiKey, Store

OAUTH_PARAMS = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                "oauth_signature_method")
NONCE_WINDOW = 15 * 60


def auth_error(message: str) -> RestError:
    """``woocommerce_rest_authentication_error`` (401)."""
    return RestError("woocommerce_rest_authentication_error", message, 401)


@dataclass
class AuthResult:
    """The key that authenticated the request, or the error WooCommerce would report."""

    key: ApiKey | None = None
    error: RestError | None = None
    method: str = ""


# ---------------------------------------------------------------- PHP-compatible parsing

def php_parse_str(query: str) -> dict[str, Any]:
    """parse_str(): '+' is a space, the last duplicate wins, ``a[b]=1`` becomes nested arrays."""
    result: dict[str, Any] = {}
    for raw_key, value in parse_qsl(query, keep_blank_values=True):
        base, _, rest = raw_key.partition("[")
        base = base.lstrip(" ").replace(".", "_").replace(" ", "_")
        if not base:
            continue
        subkeys = re.findall(r"\[([^\]]*)\]", "[" + rest) if rest and "]" in rest else []
        if not subkeys:
            result[base] = value
            continue
        node = result.setdefault(base, {}) if isinstance(result.get(base), dict) else None
        if node is None:
            node = result[base] = {}
        for sub in subkeys[:-1]:
            node = node.setdefault(sub or str(len(node)), {})
        last = subkeys[-1]
        node[last or str(len(node))] = value
    return result


def rawurlencode(value: str) -> str:
    """PHP rawurlencode(): RFC 3986, only A-Z a-z 0-9 - _ . ~ left alone."""
    return quote(value, safe="~")


def join_with_equals_sign(params: dict[str, Any], key_prefix: str = "") -> list[str]:
    """WC_REST_Authentication::join_with_equals_sign (nested arrays become k%5Bsub%5D)."""
    out: list[str] = []
    for key, value in params.items():
        if key_prefix:
            key = f"{key_prefix}%5B{key}%5D"
        if isinstance(value, dict):
            out.extend(join_with_equals_sign(value, key))
        else:
            out.append(rawurlencode(f"{key}={value}"))
    return out


def normalize(value: Any) -> Any:
    """wc_rest_urlencode_rfc3986 applied to a value (recursively for arrays)."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    return rawurlencode(str(value))


def signature_base_string(method: str, base_uri: str, params: dict[str, Any]) -> str:
    """METHOD&rawurlencode(url)&k%3Dv%26... over the params sorted by key (strcmp)."""
    ordered = {k: params[k] for k in sorted(params, key=lambda k: k.encode())}
    normalized = {rawurlencode(k): normalize(v) for k, v in ordered.items()}
    return f"{method}&{rawurlencode(base_uri)}&{'%26'.join(join_with_equals_sign(normalized))}"


def sign(base_string: str, consumer_secret: str, algorithm: str) -> str:
    """base64(HMAC(secret + '&', base string))."""
    digest = hmac.new(f"{consumer_secret}&".encode(), base_string.encode(),
                      getattr(hashlib, algorithm)).digest()
    return base64.b64encode(digest).decode()


# ---------------------------------------------------------------- request helpers

def request_base_uri(req: Request, *, ssl: bool) -> str:
    """get_home_url(null, $request_path, is_ssl() ? 'https' : 'http'): scheme, host, raw path."""
    raw = req.environ.get("RAW_URI") or req.environ.get("REQUEST_URI") or req.full_path
    path = raw.split("?", 1)[0]
    return f"{'https' if ssl else 'http'}://{req.host}{path}"


def parse_oauth_header(header: str) -> dict[str, str]:
    """WC_REST_Authentication::parse_header()."""
    if not header.startswith("OAuth "):
        return {}
    found = re.findall(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header)
    return {name: unquote_plus(quoted or bare) for name, _, quoted, bare in found}


def request_params(req: Request) -> dict[str, Any]:
    """array_merge($_GET, $_POST) plus OAuth parameters from the Authorization header."""
    params = php_parse_str(req.query_string.decode("latin-1"))
    if req.mimetype == "application/x-www-form-urlencoded":
        params.update(php_parse_str(req.get_data(as_text=True)))
    header = req.headers.get("Authorization", "").strip()
    params.update(parse_oauth_header(header))
    return params


# ---------------------------------------------------------------- authentication

def authenticate(store: Store, req: Request, *, allow_insecure_http: bool = False) -> AuthResult:
    """WC_REST_Authentication::authenticate() for one request."""
    result = AuthResult()
    is_ssl = req.scheme == "https"
    if is_ssl or allow_insecure_http:
        result = basic_authentication(store, req)
        if result.key:
            return result
    params = request_params(req)
    oauth = oauth_authentication(store, req, params, ssl=is_ssl)
    if oauth.key or oauth.error:
        return oauth
    return result


def basic_authentication(store: Store, req: Request) -> AuthResult:
    """Query-string keys first, then the Basic header; unknown key = not authenticated."""
    key = req.args.get("consumer_key", "")
    secret = req.args.get("consumer_secret", "")
    if not (key and secret):
        key, secret = "", ""
    if not key and req.authorization and req.authorization.type == "basic":
        key = req.authorization.username or ""
        secret = req.authorization.password or ""
    if not key or not secret:
        return AuthResult(method="basic_auth")
    api_key = store.find_key(key)
    if api_key is None:
        return AuthResult(method="basic_auth")
    if not hmac.compare_digest(api_key.consumer_secret.encode(), secret.encode()):
        return AuthResult(error=auth_error("Consumer secret is invalid."), method="basic_auth")
    return AuthResult(key=api_key, method="basic_auth")


def missing_oauth_params(params: dict[str, Any]) -> RestError | None:
    """None when every OAuth parameter is there, else the error naming the missing ones."""
    missing = [p for p in OAUTH_PARAMS if not params.get(p)]
    if not missing:
        return None
    noun = "parameter" if len(missing) == 1 else "parameters"
    return RestError("woocommerce_rest_authentication_missing_parameter",
                     f"Missing OAuth {noun} {', '.join(missing)}", 401)


def oauth_authentication(store: Store, req: Request, params: dict[str, Any], *,
                         ssl: bool) -> AuthResult:
    """perform_oauth_authentication(): key, signature, then timestamp and nonce."""
    if not any(params.get(p) for p in OAUTH_PARAMS):
        return AuthResult(method="oauth1")
    error = missing_oauth_params(params)
    if error:
        return AuthResult(error=error, method="oauth1")
    api_key = store.find_key(str(params["oauth_consumer_key"]))
    if api_key is None:
        return AuthResult(error=auth_error("Consumer key is invalid."), method="oauth1")
    error = check_signature(api_key, req, params, ssl=ssl)
    if error is None:
        error = check_timestamp_and_nonce(api_key, str(params["oauth_timestamp"]),
                                          str(params["oauth_nonce"]))
    if error:
        return AuthResult(error=error, method="oauth1")
    return AuthResult(key=api_key, method="oauth1")


def check_signature(api_key: ApiKey, req: Request, params: dict[str, Any], *,
                    ssl: bool) -> RestError | None:
    """check_oauth_signature(): rebuild the base string and compare in constant time."""
    params = dict(params)
    given = unquote(str(params.pop("oauth_signature")).replace(" ", "+"))
    base = signature_base_string(req.method.upper(), request_base_uri(req, ssl=ssl), params)
    method = params.get("oauth_signature_method")
    if method not in ("HMAC-SHA1", "HMAC-SHA256"):
        return auth_error("Invalid signature - signature method is invalid.")
    expected = sign(base, api_key.consumer_secret, method.removeprefix("HMAC-").lower())
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return auth_error("Invalid signature - provided signature does not match.")
    return None


def check_timestamp_and_nonce(api_key: ApiKey, timestamp: str, nonce: str,
                              now: float | None = None) -> RestError | None:
    """15-minute window; a nonce is refused while remembered (kept per timestamp, like WC)."""
    now = int(now if now is not None else time.time())
    try:
        stamp = int(float(timestamp))
    except ValueError:
        stamp = 0
    if stamp < now - NONCE_WINDOW or stamp > now + NONCE_WINDOW:
        return auth_error("Invalid timestamp.")
    if nonce in api_key.nonces.values():
        return auth_error("Invalid nonce - nonce has already been used.")
    api_key.nonces[stamp] = nonce
    for old in [t for t in api_key.nonces if t < now - NONCE_WINDOW]:
        del api_key.nonces[old]
    return None


def check_permissions(api_key: ApiKey, method: str) -> RestError | None:
    """check_permissions(): read for GET/HEAD, write for POST/PUT/PATCH/DELETE."""
    permissions = api_key.permissions
    if method in ("HEAD", "GET"):
        if permissions not in ("read", "read_write"):
            return auth_error("The API key provided does not have read permissions.")
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        if permissions not in ("write", "read_write"):
            return auth_error("The API key provided does not have write permissions.")
    elif method != "OPTIONS":
        return auth_error("Unknown request method.")
    return None
