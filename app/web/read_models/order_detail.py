"""Read models of one order's page: the order, its fulfillments and its timeline (both directions)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import Fulfillment, Order, OutboxEvent, WebhookInbox


def order(merchant_id: int, order_id: int) -> Order:
    """The merchant's order with its lines, or NotFound."""
    row = db.session.scalar(select(Order).where(Order.merchant_id == merchant_id,
                                                Order.id == order_id)
                            .options(selectinload(Order.lines), selectinload(Order.channel)))
    if row is None:
        raise NotFound("That order does not exist.")
    return row


def order_fulfillments(merchant_id: int, order_id: int) -> list[Fulfillment]:
    """The order's fulfillments, oldest first, with lines and location."""
    return list(db.session.scalars(
        select(Fulfillment).where(Fulfillment.merchant_id == merchant_id,
                                  Fulfillment.order_id == order_id)
        .order_by(Fulfillment.id)
        .options(selectinload(Fulfillment.lines), selectinload(Fulfillment.location))))


def order_timeline(merchant_id: int, order_id: int) -> list[OutboxEvent]:
    """Everything that happened to the order (outbox events), newest first."""
    return list(db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.merchant_id == merchant_id,
                                  OutboxEvent.order_id == order_id)
        .order_by(OutboxEvent.id.desc()).limit(200)))


@dataclass(frozen=True)
class TimelineEntry:
    """One event of an order's timeline: an outbox job (Stockroom -> platform, or a change
    a webhook caused) or an inbox delivery (platform -> Stockroom)."""

    kind: str  # "outbox" | "inbox"
    id: int
    topic: str
    status: str
    attempts: int
    last_error: str
    at: dt.datetime
    payload: dict


def order_webhooks(merchant_id: int, order: Order) -> list[WebhookInbox]:
    """Webhooks received about the order (newest first), without their bodies."""
    if not order.remote_id:
        return []
    return list(db.session.scalars(
        select(WebhookInbox).where(WebhookInbox.merchant_id == merchant_id,
                                   WebhookInbox.channel_id == order.channel_id,
                                   WebhookInbox.order_remote_id == order.remote_id)
        .options(defer(WebhookInbox.body), defer(WebhookInbox.headers))
        .order_by(WebhookInbox.id.desc()).limit(200)))


def timeline_entries(events: list[OutboxEvent], webhooks: list[WebhookInbox]
                     ) -> list[TimelineEntry]:
    """Both directions merged, newest first."""
    entries = [TimelineEntry("outbox", e.id, e.topic, e.status, e.attempts, e.last_error,
                             e.created_at, e.payload or {}) for e in events]
    entries += [TimelineEntry("inbox", w.id, w.topic, w.status, w.attempts, w.last_error,
                              w.received_at, {}) for w in webhooks]
    return sorted(entries, key=lambda e: (e.at, e.kind == "outbox", e.id), reverse=True)
