"""Who is asking: pluggable authenticators, ``login_required``, CSRF protection.

The seam for other ways of signing in
-------------------------------------
A request is authenticated by the first *authenticator* that recognizes it. An
authenticator is a callable taking no arguments (it reads ``flask.request`` itself) and
returning an :class:`Identity` or ``None``. They are tried in registration order:

1. ``session_authenticator`` (registered by :func:`init_auth`): the standalone sign-in of
   WooCommerce owners, a ``user_id`` in Flask's signed session cookie.
2. whatever other modules register with :func:`register_authenticator` -- e.g. the
   embedded Shopify app's session-token (JWT) check in ``app/platforms/shopify/``::

       register_authenticator(app, shopify_session_token_authenticator)

   returning ``Identity(merchant_id, method="shopify_session_token",
   cookie_based=False)``.
3. In demo mode only (``DEMO`` config, set by ``make demo``), the demo merchant.

A ``before_request`` hook (registered after ``init_web``, which clears both at the start
of every request) may instead set ``g.identity`` (an :class:`Identity`) or just
``g.merchant_id``; :func:`authenticate` accepts either as is.

``cookie_based`` decides CSRF: a credential the browser attaches by itself (a cookie)
needs the CSRF token on every unsafe request; a bearer token a script must add
(Shopify's session token in ``Authorization``) cannot be forged cross-site, so it
doesn't. Anything that only sets ``g.merchant_id`` is treated as cookie-based (the safe
default).

Every view decorated with :func:`login_required` finds ``g.merchant_id`` set and must
scope every query by it.
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from app.extensions import db, htmx

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_EXTENSION_KEY = "stockroom.authenticators"
_RESOLVED = "stockroom.identity"
_CHALLENGES_KEY = "stockroom.challenges"


@dataclass(frozen=True)
class Identity:
    """The authenticated party of a request: always a merchant, sometimes a user."""

    merchant_id: int
    user_id: int | None = None
    method: str = "session"
    #: True when the browser sends the credential by itself (cookies): CSRF applies.
    cookie_based: bool = True


Authenticator = Callable[[], Identity | None]


def register_authenticator(app: Flask, authenticator: Authenticator, *, first: bool = False
                           ) -> None:
    """Add ``authenticator`` after those already registered on ``app`` (``first``: before
    them all, for a credential the request carries explicitly, which must outrank an
    ambient session cookie)."""
    chain = app.extensions.setdefault(_EXTENSION_KEY, [])
    chain.insert(0, authenticator) if first else chain.append(authenticator)


def register_challenge(app: Flask, challenge: Callable[[], Response | None]) -> None:
    """Add a way to answer an unauthenticated request before the sign-in redirect.

    The embedded Shopify app registers its "bounce page" here: a page load inside the
    admin's frame without a session token gets one from App Bridge and reloads.
    """
    app.extensions.setdefault(_CHALLENGES_KEY, []).append(challenge)


def session_authenticator() -> Identity | None:
    """The standalone sign-in: ``user_id`` in the signed session cookie."""
    from app.models import User

    user_id = session.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = db.session.scalar(select(User).where(User.id == user_id))
    if user is None:  # deleted since: the cookie is worthless
        session.pop("user_id", None)
        return None
    return Identity(merchant_id=user.merchant_id, user_id=user.id, method="session")


#: The demo merchant's email (the demo package, demo/seed.py, creates that merchant).
DEMO_EMAIL = "demo@stockroom.test"


def _demo_identity() -> Identity | None:
    from app.models import Merchant

    merchant_id = db.session.scalar(select(Merchant.id).where(Merchant.email == DEMO_EMAIL))
    return Identity(merchant_id, method="demo") if merchant_id is not None else None


def authenticate() -> Identity | None:
    """The request's identity (resolved once per request), setting ``g.merchant_id``."""
    if _RESOLVED in request.environ:
        return request.environ[_RESOLVED]
    if g.get("identity") is not None:
        identity = g.identity
    elif g.get("merchant_id") is not None:
        identity = Identity(merchant_id=g.merchant_id, method="external")
    else:
        identity = None
        for authenticator in current_app.extensions.get(_EXTENSION_KEY, []):
            identity = authenticator()
            if identity is not None:
                break
        if identity is None and current_app.config.get("DEMO"):
            identity = _demo_identity()
    request.environ[_RESOLVED] = identity
    g.identity = identity
    g.merchant_id = identity.merchant_id if identity else None
    return identity


def _forget_identity() -> None:
    """Start every request unauthenticated (``g`` can outlive a request in tests)."""
    g.pop("identity", None)
    g.pop("merchant_id", None)


def login_required(view):
    """Answer only authenticated requests; others go to the sign-in page (HTMX: HX-Redirect)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if authenticate() is None:
            for challenge in current_app.extensions.get(_CHALLENGES_KEY, []):
                response = challenge()
                if response is not None:
                    return response
            target = url_for("web.sign_in", next=request.full_path.rstrip("?"))
            if htmx:
                return Response(status=401, headers={"HX-Redirect": target})
            return redirect(target)
        return view(*args, **kwargs)

    return wrapped


def uses_cookies() -> bool:
    """False when this request was authenticated by a credential a script adds (the embedded
    app's session token): then nothing may be stored in cookies (third-party in a frame)."""
    identity = g.get("identity")
    return identity is None or identity.cookie_based


def csrf_token() -> str:
    """The session's CSRF token (created on first use); forms and hx-headers send it back.

    Empty for a non-cookie identity: it needs no CSRF token, and creating one would set a
    session cookie.
    """
    if not uses_cookies():
        return ""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Abort with 400 unless an unsafe request carries the session's CSRF token.

    Skipped for a request authenticated by a non-cookie credential (see module doc).
    """
    if request.method not in _UNSAFE_METHODS:
        return
    identity = authenticate()
    if identity is not None and not identity.cookie_based:
        return
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        abort(400, description="The form expired or did not come from this site. "
                               "Reload the page and try again.")


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site (no open redirect), else ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def sign_in_session(user_id: int) -> None:
    """Start a fresh session for ``user_id`` (a new session: no fixation of an old one)."""
    session.clear()
    session.permanent = True
    session["user_id"] = user_id
    _forget_identity()
    request.environ.pop(_RESOLVED, None)


def sign_out_session() -> None:
    """Forget the signed-in user and every other value of the session."""
    session.clear()
    _forget_identity()
    request.environ.pop(_RESOLVED, None)


def init_auth(app: Flask) -> None:
    """Cookie settings, the session authenticator and the ``csrf_token()`` template global."""
    secure = app.config.get("STOCKROOM_SECURE_COOKIES")
    if secure is None:
        import os

        env = os.environ.get("STOCKROOM_SECURE_COOKIES")
        # Plain-http demo and tests can't use Secure cookies; everything else must.
        secure = (env not in ("0", "false", "no") if env is not None
                  else not (app.config.get("DEMO") or app.testing))
    app.config.update(SESSION_COOKIE_SECURE=bool(secure), SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax")
    app.config.setdefault("LOGIN_MAX_FAILURES", 5)
    app.config.setdefault("LOGIN_MAX_FAILURES_PER_IP", 50)
    app.config.setdefault("LOGIN_WINDOW_SECONDS", 15 * 60)
    if session_authenticator not in app.extensions.get(_EXTENSION_KEY, []):
        app.extensions.setdefault(_EXTENSION_KEY, []).insert(0, session_authenticator)
    app.jinja_env.globals["csrf_token"] = csrf_token
    # Registered before any other module's hooks, so theirs may set g.identity after it.
    app.before_request(_forget_identity)
