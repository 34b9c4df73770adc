"""Download links that work embedded: a link can't carry the session token, so it is signed."""
from __future__ import annotations

import time

from flask import g, request, url_for

from app.auth import authenticate, uses_cookies
from app.web.form_tokens import InvalidFormToken, issue_form_token, verified_nonce
from app.web.forms import optional_int

#: How long a signed link works: long enough to click it, short enough not to matter in logs.
MAX_AGE_SECONDS = 15 * 60


def signed_url(endpoint: str, purpose: str, **args) -> str:
    """``url_for(endpoint)``; embedded (no cookies), signed for this merchant and ``purpose``
    (an HMAC token like the form tokens') for MAX_AGE_SECONDS."""
    if not uses_cookies():
        args.update(merchant=g.merchant_id, sig=issue_form_token(g.merchant_id, purpose))
    return url_for(endpoint, **args)


def _signed_link_merchant(purpose: str) -> int | None:
    """The merchant a valid, recent signed link for ``purpose`` was made for (else None)."""
    merchant_id = optional_int(request.args.get("merchant"))
    token = request.args.get("sig", "")
    if merchant_id is None:
        return None
    try:
        verified_nonce(merchant_id, purpose, token)
    except InvalidFormToken:
        return None
    issued = int(token.partition(".")[0])
    return merchant_id if time.time() - issued <= MAX_AGE_SECONDS else None


def download_merchant(purpose: str) -> int | None:
    """Who asks for a download: the signed-in merchant, else a signed link's (None: 401)."""
    identity = authenticate()
    return identity.merchant_id if identity else _signed_link_merchant(purpose)
