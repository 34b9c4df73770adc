"""Shopify webhook intake: POST /shopify/webhooks, answered in front of Flask's request cycle.

Every delivery is an HMAC over the raw body, one INSERT and an empty answer; nothing of
Flask's per-request machinery (request context, session cookie, URL routing, the
dashboard's hooks and headers) applies to it, and it cost more CPU than the delivery
itself. So this small WSGI middleware answers that one method and path and hands every
other request to Flask unchanged (docs/decisions/0004-webhook-intake-before-flask.md).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable

from flask import Flask
from werkzeug.exceptions import RequestEntityTooLarge

from app.models import Platform
from app.platforms.shopify.mapping import webhook_order_gid
from app.sync.inbox import InboxUnavailable, payload_object, read_webhook_body, store_webhook

PATH = "/shopify/webhooks"
_STATUS_LINES = {200: "200 OK", 400: "400 BAD REQUEST", 401: "401 UNAUTHORIZED",
                 413: "413 CONTENT TOO LARGE", 500: "500 INTERNAL SERVER ERROR",
                 503: "503 SERVICE UNAVAILABLE"}


class WebhookIntake:
    """WSGI middleware: answers ``POST /shopify/webhooks`` itself, passes the rest to Flask."""

    def __init__(self, app: Flask, wsgi_app: Callable):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        settings = self.app.extensions.get("stockroom.shopify")
        if settings is None:
            return self.wsgi_app(environ, start_response)  # Shopify not configured: 404
        try:
            status = receive_webhook(self.app, settings.client_secret, environ)
        except RequestEntityTooLarge:
            limit = self.app.config["WEBHOOK_MAX_CONTENT_LENGTH"]
            status = _refused(self.app, environ, 413, f"body over {limit} bytes")
        except Exception:  # noqa: BLE001 - what Flask would do: log it, answer 500
            self.app.logger.exception("Exception on POST %s", PATH)
            status = 500
        start_response(_STATUS_LINES[status], [("Content-Length", "0")])
        return [b""]


def receive_webhook(app: Flask, client_secret: str, environ: dict) -> int:
    """One endpoint for every topic: HMAC of the raw body, stored in the inbox; the status.

    Nothing is stored, and a warning names why, unless the body is at most
    WEBHOOK_MAX_CONTENT_LENGTH (else RequestEntityTooLarge, before more is read: 413),
    X-Shopify-Hmac-Sha256 is its HMAC with the client secret, compared in constant time
    (else 401), and it is a JSON object, as every Shopify payload is (else 400: the same
    secret signs session tokens and OAuth queries, whose signed text is never JSON, so
    such a pair re-sent as a webhook stops here). 200 once the delivery is committed, or
    when there is nothing to store (a redelivery of a stored event, a shop that is not
    ours, no event id); 503 when the database can't take it, so Shopify delivers it again.
    """
    body = read_webhook_body(environ, app.config["WEBHOOK_MAX_CONTENT_LENGTH"])
    sent = environ.get("HTTP_X_SHOPIFY_HMAC_SHA256", "")
    digest = base64.b64encode(hmac.new(client_secret.encode(), body,
                                       hashlib.sha256).digest()).decode()
    if not sent or not hmac.compare_digest(digest.encode(), sent.encode()):
        return _refused(app, environ, 401, "X-Shopify-Hmac-Sha256 missing or not the body's HMAC")
    payload = payload_object(body)
    if payload is None:
        return _refused(app, environ, 400, "signed body is not a JSON object")
    key = environ.get("HTTP_X_SHOPIFY_EVENT_ID") or environ.get("HTTP_X_SHOPIFY_WEBHOOK_ID")
    if not key:
        return 200  # nothing to deduplicate it by: not a delivery we can keep
    topic = environ.get("HTTP_X_SHOPIFY_TOPIC", "")
    try:
        # A shop without a channel here is not ours: nothing stored, and 200.
        store_webhook(app, platform=Platform.SHOPIFY, topic=topic, dedupe_key=key,
                      domain=environ.get("HTTP_X_SHOPIFY_SHOP_DOMAIN", "").lower(),
                      headers=shopify_headers(environ), body=body,
                      order_remote_id=_order_of(topic, payload))
    except InboxUnavailable:
        return 503  # not stored: Shopify must deliver it again
    return 200


def _refused(app: Flask, environ: dict, status: int, reason: str) -> int:
    """Log why a delivery was refused (what the headers claim, never the body); ``status``."""
    # %r: header values are the sender's text; a newline in one can't forge a log line.
    app.logger.warning("Shopify webhook refused with %d: %s (topic %r, shop %r)", status, reason,
                       environ.get("HTTP_X_SHOPIFY_TOPIC", "")[:100],
                       environ.get("HTTP_X_SHOPIFY_SHOP_DOMAIN", "")[:255])
    return status


def shopify_headers(environ: dict) -> dict[str, str]:
    """The X-Shopify-* headers, named as Werkzeug names them (X-Shopify-Event-Id)."""
    return {name[5:].replace("_", "-").title(): value for name, value in environ.items()
            if name.startswith("HTTP_X_SHOPIFY_")}


def _order_of(topic: str, payload: dict) -> str | None:
    try:
        return webhook_order_gid(topic, payload)
    except (TypeError, KeyError, AttributeError):
        return None  # stored anyway: the handler reports what is wrong with it
