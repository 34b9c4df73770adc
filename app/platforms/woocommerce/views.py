"""WooCommerce blueprint: connect (start, key callback, return) and the webhook endpoint."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import urlencode

from flask import Response, current_app, flash, g, jsonify, redirect, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from app.extensions import db
from app.models import Channel, ChannelStatus, Platform
from app.platforms.woocommerce import bp
from app.platforms.woocommerce.client import Keys
from app.platforms.woocommerce.connect import (ConnectRefused, consume_state, default_location_id,
                                               read_state, save_connection, settings,
                                               sign_state, store_owner, webhook_secret)
from app.platforms.woocommerce.urls import UnsafeStoreURL, probe_store
from app.sync.inbox import InboxUnavailable, payload_object, read_webhook_body, store_webhook
from app.auth import check_csrf, login_required

PING = re.compile(rb"webhook_id=\d+")


def _app_url() -> str:
    """Stockroom's public base URL: the setting, else the host this request came in on."""
    return settings().app_url or request.host_url.rstrip("/")


def _back_to_connections(message: str, level: str) -> Response:
    flash(message, level)
    return redirect(url_for("web.list_connections"), 303)


@bp.post("/connect")
@login_required
def start_connect():
    """Check the store URL (no SSRF, a WooCommerce store), then send the owner to wc-auth."""
    check_csrf()
    merchant_id, user_id = g.merchant_id, g.identity.user_id
    location_id = default_location_id(merchant_id)
    db.session.commit()  # nothing held while the store is probed
    try:
        probe = probe_store(request.form.get("store_url", ""), settings())
    except UnsafeStoreURL as exc:
        return _back_to_connections(exc.message, "error")
    owner = store_owner(probe.store_url)
    db.session.commit()
    if owner is not None and owner != merchant_id:
        return _back_to_connections("This store is already connected to another Stockroom "
                                    "account.", "error")
    state = sign_state(merchant_id=merchant_id, user_id=user_id, store_url=probe.store_url,
                       location_id=location_id, name=probe.name, timezone=probe.timezone)
    query = urlencode({
        "app_name": settings().app_name, "scope": "read_write", "user_id": state,
        "return_url": _app_url() + url_for("woocommerce.finish_connect"),
        "callback_url": _app_url() + url_for("woocommerce.receive_keys")})
    return redirect(f"{probe.store_url}/wc-auth/v1/authorize?{query}", 303)


@bp.post("/connect/callback")
def receive_keys():
    """wc-auth's key POST: state verified and consumed, keys stored encrypted, 200 at once."""
    data = request.get_json(silent=True, force=True)
    fields = ("user_id", "consumer_key", "consumer_secret")
    if not isinstance(data, dict) or not all(isinstance(data.get(f), str) and data.get(f)
                                             for f in fields):
        return jsonify(error="Expected wc-auth's key JSON."), 400
    try:
        state = read_state(data["user_id"])
        if data.get("key_permissions") != "read_write":
            raise ConnectRefused("Stockroom needs a read_write key.")
        consume_state(state)
        key_id = data.get("key_id")
        keys = Keys(data["consumer_key"], data["consumer_secret"],
                    key_id if isinstance(key_id, int) else None, data["key_permissions"])
        save_connection(state, keys, app_url=_app_url())
        db.session.commit()
    except ConnectRefused as exc:
        db.session.rollback()
        return jsonify(error=exc.message), 400
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(error="Stockroom could not store the keys; try again."), 503
    return jsonify(status="connected"), 200


@bp.get("/connect/return")
@login_required
def finish_connect():
    """Where wc-auth sends the owner back (success=1 approved, 0 denied)."""
    try:
        state = read_state(request.args.get("user_id", ""))
    except ConnectRefused as exc:
        return _back_to_connections(exc.message, "error")
    if state.merchant_id != g.merchant_id:
        return _back_to_connections("This connection was started from another Stockroom "
                                    "account.", "error")
    if request.args.get("success") != "1":
        try:
            consume_state(state)  # a late key callback for a denied request is refused
            db.session.commit()
        except ConnectRefused:
            db.session.rollback()
        return _back_to_connections("Access was denied on the store: nothing was connected.",
                                    "error")
    connected = store_owner(state.store_url) == g.merchant_id
    db.session.commit()
    if not connected:
        return _back_to_connections("The store did not send its API keys. Try connecting "
                                    "again.", "error")
    return _back_to_connections(f"Connected {state.store_url}. Importing its products and "
                                "open orders…", "success")


def webhook_signature(secret: str, body: bytes) -> str:
    """WooCommerce's X-WC-Webhook-Signature: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def dedupe_key(body: bytes) -> str:
    """What identifies one event: the signed body alone, never a header.

    Every X-WC-* header is outside the signature, so a captured delivery re-sent with
    another X-WC-Webhook-ID, Delivery-ID or Topic must still be the same event. Nor do
    those headers name one: X-WC-Webhook-ID is the *webhook's* id (one per topic and
    store), and Delivery-ID is wp_hash(webhook id . time()), shared by every delivery of
    that webhook in the same second. WooCommerce builds the payload at delivery time, so
    identical bytes are the same state of the same resource (or, for a deletion, the same
    ``{"id": N}``), and the handler re-reads that order whatever the topic: applying it
    once is enough, while any change (another order, another modification) is another key.
    Not the resource id + date_modified_gmt: that has one-second resolution, and a second
    change within the same second would be dropped as a duplicate.
    """
    return f"wc:{hashlib.sha256(body).hexdigest()}"


def _order_of(topic: str, payload: dict) -> str | None:
    """The order a delivery is about (for the order's timeline), when it says."""
    order_id = payload.get("id") if topic.startswith("order.") else None
    return str(order_id) if isinstance(order_id, int) else None


def _refused(channel_id: int, status: int, reason: str) -> Response:
    """Log why a delivery was refused (what the headers claim, never the body)."""
    # %r: header values are the sender's text; a newline in one can't forge a log line.
    current_app.logger.warning("WooCommerce webhook refused with %d: %s (channel %d, topic %r, "
                               "source %r)", status, reason, channel_id,
                               request.headers.get("X-WC-Webhook-Topic", "")[:100],
                               request.headers.get("X-WC-Webhook-Source", "")[:255])
    return Response(status=status)


@bp.post("/webhooks/<int:channel_id>")
def receive_webhook(channel_id: int):
    """Signature on the raw body (constant time), a JSON object, stored in the inbox, then 200.

    Refused, nothing stored and a warning naming why: a body over WEBHOOK_MAX_CONTENT_LENGTH
    (413, before more is read), a missing or wrong signature (401), a signed body that is
    not a JSON object (400: WooCommerce's payloads always are). The unsigned ping is
    answered 200 and not stored.
    """
    try:
        body = read_webhook_body(request.environ, current_app.config["WEBHOOK_MAX_CONTENT_LENGTH"])
    except RequestEntityTooLarge:
        return _refused(channel_id, 413, "body over WEBHOOK_MAX_CONTENT_LENGTH")
    sent = request.headers.get("X-WC-Webhook-Signature", "")
    if not sent:
        if PING.fullmatch(body):
            return Response(status=200)  # WooCommerce's ping on creation: nothing to do
        return _refused(channel_id, 401, "no X-WC-Webhook-Signature and not a ping")
    try:
        channel = db.session.get(Channel, channel_id)
        secret = (webhook_secret(channel) if channel is not None and channel.platform ==
                  Platform.WOOCOMMERCE and channel.status == ChannelStatus.ACTIVE else None)
        db.session.commit()  # no transaction (SQLite: the write lock) held into the insert
    except SQLAlchemyError:
        db.session.rollback()
        return Response(status=503)  # not stored: never acknowledge what we don't have
    expected = webhook_signature(secret or "", body)
    if secret is None or not hmac.compare_digest(expected.encode(), sent.encode()):
        return _refused(channel_id, 401, "not an active store's channel, or a wrong signature")
    payload = payload_object(body)
    if payload is None:
        return _refused(channel_id, 400, "signed body is not a JSON object")
    headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-wc-")}
    topic = request.headers.get("X-WC-Webhook-Topic", "")
    try:
        # Stored only while the channel is still active (it may be disconnected meanwhile).
        store_webhook(current_app, platform=Platform.WOOCOMMERCE, channel_id=channel_id,
                      topic=topic, dedupe_key=dedupe_key(body), headers=headers, body=body,
                      order_remote_id=_order_of(topic, payload))
    except InboxUnavailable:
        return Response(status=503)
    return Response(status=200)
