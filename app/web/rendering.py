"""One view, two answers: the full page, or only the fragment an HTMX request targets."""
from __future__ import annotations

import json
from collections.abc import Mapping

from flask import Response, flash, make_response, render_template

from app.auth import uses_cookies
from app.extensions import htmx


def is_htmx() -> bool:
    """An HTMX request that expects a fragment (a history restore needs the whole page)."""
    return bool(htmx) and not htmx.history_restore_request


def render(page: str, fragments: Mapping[str, str] | None = None, /, *, status: int = 200,
           **context) -> Response:
    """Render ``page``, or the fragment whose root id the HTMX request targets.

    ``fragments`` maps a target element id to its fragment template. A reload or a
    shared link never carries HX-Request, so it always gets the full page. The answer
    varies on the HTMX headers, so caches keep both.
    """
    template = page
    if is_htmx() and fragments:
        template = fragments.get(htmx.target or "", page)
    response = make_response(render_template(template, **context), status)
    response.vary.update(("HX-Request", "HX-Target"))
    return response


def with_toast(response: Response, message: str, *, level: str = "success") -> Response:
    """Tell the browser to show a toast: an HX-Trigger event for HTMX, a flash otherwise."""
    if is_htmx():
        events = json.loads(response.headers.get("HX-Trigger") or "{}")
        events["showToast"] = {"message": message, "level": level}
        response.headers["HX-Trigger"] = json.dumps(events)
    elif uses_cookies():
        flash(message, level)
    return response


def redirect_after_post(location: str, message: str | None = None) -> Response:
    """POST/redirect/GET: a 303 for plain forms, ``HX-Redirect`` for HTMX (flash survives).

    Embedded (no cookies): ``HX-Location`` instead, an htmx navigation that carries the
    session token, and the message as a toast event.
    """
    if not uses_cookies() and is_htmx():
        response = Response(status=204, headers={"HX-Location": json.dumps(
            {"path": location, "target": "body"})})
        return with_toast(response, message) if message else response
    if message:
        flash(message, "success")
    if is_htmx():
        return Response(status=204, headers={"HX-Redirect": location})
    response = make_response("", 303)
    response.headers["Location"] = location
    return response
