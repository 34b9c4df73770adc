"""Script requests (HTMX, fetch) whose Shopify session token was refused: retry or re-auth.

A challenge for app.auth's ``login_required``, registered before the framed-page
bounce (``session_tokens.bounce_challenge``, which answers document loads). A request that
carried ``Authorization: Bearer <session token>`` and was not authenticated gets 401 with
Shopify's headers instead of the standalone sign-in redirect:

- an invalid token (expired, not yet valid, wrong audience, bad signature, iss/dest
  mismatch): ``X-Shopify-Retry-Invalid-Session-Request: 1`` (added after every refused
  request by views.py): App Bridge retries once with a fresh token;
- a valid token of a shop that is not installed (or was uninstalled):
  ``X-Shopify-API-Request-Failure-Reauthorize: 1`` and ``…-Reauthorize-Url`` pointing at
  ``/shopify/app`` (token exchange; a reinstall reuses the Merchant); HTMX requests also
  get ``HX-Redirect`` there, so the frame navigates to it.
"""
from __future__ import annotations

from flask import Response, current_app, g, request, url_for

from app.extensions import htmx
from app.platforms.shopify.session_tokens import verify_session_token


def script_session_challenge() -> Response | None:
    """The 401 answer for a script request with a refused session token (see module doc)."""
    header = request.headers.get("Authorization", "")
    if current_app.extensions.get("stockroom.shopify") is None \
            or not header.startswith("Bearer "):
        return None
    claims = verify_session_token(header[len("Bearer "):])
    if claims is None:
        return Response(status=401)
    g.shopify_auth_failed = False  # a fresh token won't help: the shop must authorize again
    reauth = url_for("shopify.open_app", shop=claims.shop, host=request.args.get("host", ""),
                     embedded="1", _external=True)
    headers = {"X-Shopify-API-Request-Failure-Reauthorize": "1",
               "X-Shopify-API-Request-Failure-Reauthorize-Url": reauth}
    if htmx:
        headers["HX-Redirect"] = reauth
    return Response(status=401, headers=headers)
