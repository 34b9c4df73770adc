"""Shopify's mandatory compliance webhooks: customers/data_request, customers/redact, shop/redact.

What Stockroom holds about a shop's customers: the name and email on each order (the
shipping name stands in for the customer's name), and the raw bodies of received order
and fulfillment webhooks, which carry the customer, addresses and contact details.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import delete, select, update

from app.extensions import db
from app.models import (ChannelListing, ChannelLocation, Order, OrderStatusCount, OutboxEvent,
                        Platform, WebhookInbox)
from app.models._common import utcnow
from app.platforms.shopify.connect import confirm_uninstalled
from app.platforms.shopify.mapping import gid
from app.sync.errors import Rejected
from app.sync.queue import Job

SHOPIFY = Platform.SHOPIFY
#: Webhook topics whose stored bodies can hold a customer's personal data.
PERSONAL_TOPICS = ("orders/", "fulfillments/", "customers/data_request")
#: Shopify sends shop/redact this long after the app is uninstalled.
REDACT_AFTER = dt.timedelta(hours=48)


def _payload(job: Job) -> dict:
    return json.loads(db.session.scalar(select(WebhookInbox.body).where(
        WebhookInbox.id == job.id)))


def _customer_orders(job: Job, numeric_ids: list) -> tuple[list[str], str]:
    """(order gids, customer email) named by a compliance payload."""
    payload = _payload(job)
    email = ((payload.get("customer") or {}).get("email") or "").strip()
    return [gid("Order", i) for i in numeric_ids or []], email


def _body_mentions(body: bytes, order_ids: set[str], email: str) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    ids = {str(data.get("id")), str(data.get("order_id")), str(data.get("admin_graphql_api_id"))}
    numeric = {i.rsplit("/", 1)[-1] for i in order_ids}
    mails = {str(data.get("email") or "").lower(),
             str((data.get("customer") or {}).get("email") or "").lower()}
    return bool(ids & (numeric | order_ids)) or bool(email and email.lower() in mails)


def _redacted_body(body: bytes) -> bytes:
    """Only the ids a handler may still need (to re-read the resource from the API)."""
    data = json.loads(body)
    keep = {k: data[k] for k in ("id", "admin_graphql_api_id", "order_id") if k in data}
    return json.dumps({**keep, "redacted": True}).encode()


def apply_customer_redact(job: Job) -> str:
    """Erase the customer's personal data: the name and email on the listed orders (and on
    any order of this shop with that email), and the stored webhook bodies about them —
    this request's own body included."""
    payload = _payload(job)
    order_ids, email = _customer_orders(job, payload.get("orders_to_redact"))
    match = Order.remote_id.in_(order_ids)
    if email:
        match = match | (Order.customer_email == email)
    redacted_gids = set(order_ids) | set(db.session.scalars(select(Order.remote_id).where(
        Order.channel_id == job.channel_id, Order.merchant_id == job.merchant_id, match)))
    count = db.session.execute(update(Order).where(
        Order.channel_id == job.channel_id, Order.merchant_id == job.merchant_id, match)
        .values(customer_name="", customer_email="")).rowcount
    scrubbed = 0
    rows = db.session.execute(select(WebhookInbox.id, WebhookInbox.topic, WebhookInbox.body)
                              .where(WebhookInbox.channel_id == job.channel_id,
                                     WebhookInbox.id != job.id)).all()
    for row_id, topic, body in rows:
        if topic.startswith(PERSONAL_TOPICS) and _body_mentions(body, redacted_gids, email):
            db.session.execute(update(WebhookInbox).where(WebhookInbox.id == row_id)
                               .values(body=_redacted_body(body)))
            scrubbed += 1
    db.session.execute(update(WebhookInbox).where(WebhookInbox.id == job.id).values(
        body=json.dumps({"orders_to_redact": payload.get("orders_to_redact") or [],
                         "redacted": True}).encode()))
    return f"redacted customer data on {count} orders and {scrubbed} stored webhooks"


def apply_data_request(job: Job) -> str:
    """Recorded for the merchant: the request stays in the inbox (with its payload) to be
    answered from the Sync page, and its note lists the orders holding the customer's data."""
    payload = _payload(job)
    order_ids, email = _customer_orders(job, payload.get("orders_requested"))
    match = Order.remote_id.in_(order_ids)
    if email:
        match = match | (Order.customer_email == email)
    names = db.session.scalars(select(Order.name).where(
        Order.channel_id == job.channel_id, Order.merchant_id == job.merchant_id, match)
        .order_by(Order.id)).all()
    held = ", ".join(names) if names else "no orders"
    return (f"data request recorded for {email or 'the customer'}: Stockroom holds name and "
            f"email on {held}")


def apply_shop_redact(job: Job) -> str:
    """48 h after uninstall: remove the shop's data — only for a shop Shopify confirms
    uninstalled.

    Confirmed: the shop's token is refused now (a missed app/uninstalled is applied here
    too), or was when the uninstall was applied. An uninstall recorded without that
    confirmation (before it was checked) counts only once it is 48 h old, Shopify's own
    schedule. A shop that has the app again (reinstalled) is never erased: rejected.

    Orders (with lines, fulfillments, fulfillment orders), locations, listings, other
    webhook bodies and outbox events go. The channel row stays, emptied of credentials and
    sync state, because this very inbox job belongs to it (a reinstall reuses it and the
    Merchant); stock of the merchant's own locations is the merchant's, not the shop's,
    and stays.
    """
    channel, _ = confirm_uninstalled(job.channel_id)
    if channel.uninstall_confirmed_at is None:
        age = utcnow() - (channel.uninstalled_at or utcnow())
        if age < REDACT_AFTER:
            raise Rejected(f"the shop was uninstalled {age.total_seconds() / 3600:.0f} h ago "
                           "without Shopify confirming it, and Shopify sends shop/redact 48 h "
                           "after an uninstall: nothing was erased")
    for model in (Order, OrderStatusCount, ChannelLocation, ChannelListing, OutboxEvent):
        db.session.execute(delete(model).where(model.channel_id == channel.id))
    db.session.execute(delete(WebhookInbox).where(WebhookInbox.channel_id == channel.id,
                                                  WebhookInbox.id != job.id))
    channel.credentials_encrypted = None
    channel.scopes = ""
    channel.sync_cursors = {}
    return f"shop data removed for {channel.domain}"
