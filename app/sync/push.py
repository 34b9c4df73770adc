"""The push sequence both adapters share: origin check, plan, commit, call, mark synced."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select

from app.extensions import db
from app.fulfillment import Tracking
from app.fulfillment.sync_state import mark_synced
from app.models import Fulfillment
from app.platforms.base import FulfillmentPlan, PushResult, Skip
from app.sync.errors import PermanentError
from app.sync.origin import made_in_app
from app.sync.queue import Job
from app.sync.transactions import end_read

P = TypeVar("P", bound=FulfillmentPlan)


def read_plan(job: Job, *, if_missing: str | None = None) -> FulfillmentPlan | Skip:
    """The fulfillment of an outbox job as a FulfillmentPlan (scoped by the job's merchant).

    A fulfillment that no longer exists is a permanent error (nothing to retry), or a
    Skip with ``if_missing`` where the push has nothing left to do then.
    """
    f = db.session.get(Fulfillment, job.payload["fulfillment_id"])
    if f is None or f.merchant_id != job.merchant_id:
        if if_missing is not None:
            return Skip(if_missing)
        raise PermanentError("the fulfillment no longer exists")
    lines = f.order.lines
    return FulfillmentPlan(
        fulfillment_id=f.id, status=f.status, origin=f.origin, remote_id=f.remote_id,
        order_remote_id=f.order.remote_id, order_name=f.order.name,
        lines={fl.order_line.remote_id: fl.quantity for fl in f.lines},
        tracking=Tracking(f.tracking_number, f.tracking_company, f.tracking_url),
        notify_customer=f.notify_customer,
        order_units=sum(line.quantity for line in lines),
        order_fulfilled=all(line.fulfilled_quantity >= line.quantity for line in lines),
        # The order's own: a platform fulfillment (or note) of this order can only be
        # claimed by one of its fulfillments, and the channel's whole list grows with it.
        known_remote_ids=frozenset(db.session.scalars(select(Fulfillment.remote_id).where(
            Fulfillment.merchant_id == job.merchant_id, Fulfillment.order_id == f.order_id,
            Fulfillment.channel_id == f.channel_id, Fulfillment.remote_id.is_not(None),
            Fulfillment.id != f.id))))


def run_push(job: Job, *, elsewhere: str, plan: Callable[[Job], P | Skip],
             send: Callable[[Job, P], PushResult]) -> str:
    """Push one fulfillment change made in Stockroom; returns the job's note.

    1. a change the platform told us about (``source`` = platform) is not pushed back:
       ``elsewhere`` says so;
    2. ``plan`` reads what the push needs (or why there is nothing to do) and the read
       transaction ends before any call: no lock (on SQLite, the write lock) is held
       while the platform answers;
    3. ``send`` makes the calls (idempotently: a retried push finds and reuses what a
       first attempt made) and writes what it read back;
    4. the fulfillment is marked synced (with the remote id the push made). The worker
       commits that with the job's completion; a RetryableError / Throttled from the
       calls retries with backoff, a PermanentError dead-letters the job, and the
       failure hook (mark_sync_failed) shows why on the fulfillment.
    """
    if not made_in_app(job):
        return elsewhere
    planned = plan(job)
    end_read()
    if isinstance(planned, Skip):
        return planned.note
    result = send(job, planned)
    mark_synced(planned.fulfillment_id, job.merchant_id, remote_id=result.remote_id)
    return result.note
