"""The sync lock: while a fulfillment push of an order is unfinished, inbound changes wait."""
from __future__ import annotations

from sqlalchemy import Select, select

from app.extensions import db
from app.models import JobStatus, Order, OutboxEvent
from app.sync.errors import Deferred
from app.sync.topics import FULFILLMENT_PREFIX

# Why: a push and the platform's own event for the same fulfillment can race (the merchant
# fulfills here while Shopify's webhook of our push, or a reconciliation, arrives). While
# an outbox job of an order's fulfillments is queued or retrying, an inbound webhook for
# that order is deferred (app.sync.errors.Deferred: retried later, never dropped) and a
# reconciliation leaves the order for its next run; once the push recorded the remote id,
# the echo is recognized by it and changes nothing. The lock is the outbox itself: no row
# of its own to forget to release, and a dead-lettered push stops holding it.

#: Unfinished pushes: queued (pending) or waiting for a retry (failed). A running job is
#: pending with a lease.
UNFINISHED = (JobStatus.PENDING, JobStatus.FAILED)


def unfinished_pushes(*, order_id: int | None = None, channel_id: int | None = None,
                      topic: str | None = None) -> Select:
    """The sync lock's one query: the order ids of fulfillment pushes (OutboxEvent) not
    finished yet, of one order or one channel; ``topic``: pushes of that topic instead
    (a return recorded in Stockroom holds the lock for the platform's returns/* echoes)."""
    query = select(OutboxEvent.order_id).where(
        OutboxEvent.order_id.is_not(None),
        OutboxEvent.topic == topic if topic else OutboxEvent.topic.like(FULFILLMENT_PREFIX + "%"),
        OutboxEvent.status.in_(UNFINISHED))
    if order_id is not None:
        query = query.where(OutboxEvent.order_id == order_id)
    if channel_id is not None:
        query = query.where(OutboxEvent.channel_id == channel_id)
    return query


def push_in_flight(order_id: int, *, topic: str | None = None) -> bool:
    """The sync lock, for one order: True while a push of its fulfillments (or, with
    ``topic``, of that topic) is unfinished."""
    return db.session.scalar(unfinished_pushes(order_id=order_id, topic=topic).limit(1)) \
        is not None


def orders_with_push_in_flight(channel_id: int) -> set[int]:
    """The sync lock, for a reconciliation: the channel's orders with a push unfinished."""
    return set(db.session.scalars(unfinished_pushes(channel_id=channel_id)))


def defer_while_pushing(order: Order | None) -> None:
    """The sync lock, for a webhook: raise Deferred (the delivery is retried later, never
    dropped) while a push of the order's fulfillments is unfinished."""
    if order is not None and push_in_flight(order.id):
        raise Deferred(f"a push of order {order.name} is in flight")
