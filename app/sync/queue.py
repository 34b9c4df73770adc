"""The job queue over the outbox and the webhook inbox: claim with leases, finish, retry.

Both tables carry the same job columns (status, attempts, next_attempt_at, locked_by,
locked_until, last_error). A worker claims jobs by writing a lease (locked_by +
locked_until) and commits that at once; it then works without holding any database lock
and finishes the job in a new transaction, checking that the lease is still its own. A
crashed worker's lease simply expires and the job is claimed again.

Outbox jobs of one order run one at a time and in id order: a job is claimable only when
no earlier job of the same order is unfinished (pending, failed, leased or dead). A
channel's inventory pushes run one at a time too (ONE_PER_CHANNEL).
"""
from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import JobStatus, OutboxEvent, WebhookInbox
from app.models._common import utcnow
from app.sync.topics import Topic

JobModel = type[OutboxEvent] | type[WebhookInbox]

log = logging.getLogger(__name__)

#: Statuses a worker may claim.
CLAIMABLE = (JobStatus.PENDING, JobStatus.FAILED)
#: Statuses that block later jobs of the same order (not finished one way or another).
UNFINISHED = (JobStatus.PENDING, JobStatus.FAILED, JobStatus.DEAD)
#: Outbox topics whose jobs run one at a time per channel: a second push of a store's
#: quantities while one is in flight would read the same dirty rows and send them twice
#: (harmless, absolute quantities, but twice the platform's rate limit).
ONE_PER_CHANNEL = (Topic.INVENTORY_PUSH_REQUESTED,)


@dataclass(frozen=True)
class Job:
    """A detached snapshot of a claimed job, safe to use outside any transaction."""

    model: JobModel
    id: int
    merchant_id: int
    channel_id: int | None
    topic: str
    attempts: int
    order_id: int | None = None
    payload: Any = None  # outbox: the JSON payload; inbox: None (the handler reads the body)

    @property
    def queue(self) -> str:
        """"outbox" or "inbox", for logs."""
        return "outbox" if self.model is OutboxEvent else "inbox"


def claim_jobs(model: JobModel, *, worker_id: str, limit: int, lease_seconds: float,
               now: dt.datetime | None = None) -> list[Job]:
    """Lease up to ``limit`` due jobs to ``worker_id`` and commit; returns their snapshots.

    An attempt is counted at claim time, so a job that crashes its worker every time is
    still dead-lettered after the configured attempts.
    """
    now = now or utcnow()
    query = (select(model).where(
        model.status.in_(CLAIMABLE), model.next_attempt_at <= now,
        or_(model.locked_until.is_(None), model.locked_until < now))
        .order_by(model.id).limit(limit)
        .with_for_update(skip_locked=True))
    if model is OutboxEvent:
        earlier = aliased(OutboxEvent)
        query = query.where(~exists().where(and_(
            earlier.order_id == OutboxEvent.order_id, earlier.id < OutboxEvent.id,
            earlier.status.in_(UNFINISHED))))
        running = aliased(OutboxEvent)
        query = query.where(or_(OutboxEvent.topic.not_in(ONE_PER_CHANNEL), ~exists().where(and_(
            running.channel_id == OutboxEvent.channel_id, running.topic == OutboxEvent.topic,
            running.id != OutboxEvent.id, running.status.in_(CLAIMABLE),
            running.locked_until >= now))))
    else:
        # Deliveries about one order apply one at a time, in arrival order: two updates of
        # the same fulfillment on two workers could otherwise commit the older read last.
        earlier_hook = aliased(WebhookInbox)
        query = query.where(or_(WebhookInbox.order_remote_id.is_(None), ~exists().where(and_(
            earlier_hook.channel_id == WebhookInbox.channel_id,
            earlier_hook.order_remote_id == WebhookInbox.order_remote_id,
            earlier_hook.id < WebhookInbox.id, earlier_hook.status.in_(UNFINISHED)))))
    try:
        rows = db.session.scalars(query).all()
        until = now + dt.timedelta(seconds=lease_seconds)
        for row in rows:
            row.locked_by, row.locked_until = worker_id, until
            row.attempts += 1
        jobs = [_snapshot(model, row) for row in rows]
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return jobs


def _snapshot(model: JobModel, row) -> Job:
    return Job(model=model, id=row.id, merchant_id=row.merchant_id, channel_id=row.channel_id,
               topic=row.topic, attempts=row.attempts,
               order_id=getattr(row, "order_id", None), payload=getattr(row, "payload", None))


def _owned(job: Job, worker_id: str):
    """The job's row if this worker still holds its lease (else someone else took it)."""
    row = db.session.get(job.model, job.id, with_for_update=True, populate_existing=True)
    if row is None or row.locked_by != worker_id:
        return None
    return row


def finish_job(job: Job, *, worker_id: str, status: JobStatus = JobStatus.DONE,
               note: str = "") -> bool:
    """Mark the job done (or ignored) in the current transaction; the caller commits.

    Returns False when the lease was lost (the job was reclaimed): the caller must then
    roll back its own writes, because another worker owns the job now.
    """
    row = _owned(job, worker_id)
    if row is None:
        return False
    row.status, row.locked_by, row.locked_until = status, None, None
    row.last_error = note
    _set_done_at(row)
    return True


def _set_done_at(row) -> None:
    if isinstance(row, OutboxEvent):
        row.done_at = utcnow()
    else:
        row.applied_at = utcnow()


def backoff_seconds(attempts: int, *, base: float, cap: float, rng: random.Random = random
                    ) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return delay / 2 + rng.uniform(0, delay / 2)


def retry_delay(attempts: int, *, base: float, cap: float, retry_after: float | None = None,
                rng: random.Random = random) -> float:
    """Seconds until the next attempt: the backoff, but never sooner than the platform asked.

    A platform's Retry-After (or Shopify's bucket refill time) is a floor; a little jitter
    on top keeps many workers that were told the same time from all coming back at once.
    """
    delay = backoff_seconds(attempts, base=base, cap=cap, rng=rng)
    if retry_after:
        delay = max(delay, retry_after * (1 + rng.uniform(0, 0.25)))
    return delay


def fail_job(job: Job, error: str, *, worker_id: str, max_attempts: int, base: float,
             cap: float, retry_after: float | None = None, permanent: bool = False,
             on_failure: Callable[[bool], None] | None = None) -> bool:
    """Record a failed attempt and commit: retry later with backoff, or dead-letter.

    ``on_failure(dead)`` (the topic's failure hook, e.g. the fulfillment's sync state)
    writes in the same transaction, so nobody ever sees the job dead and the fulfillment
    still pending. It runs in a savepoint: if it raises, its writes are undone, logged,
    and the failure itself is still recorded. Returns False when the lease was lost
    (nothing written, the hook not run).
    """
    row = _owned(job, worker_id)
    if row is None:
        db.session.rollback()
        return False
    row.locked_by, row.locked_until = None, None
    row.last_error = error[:4000]
    dead = permanent or row.attempts >= max_attempts
    if dead:
        row.status = JobStatus.DEAD
    else:
        delay = retry_delay(row.attempts, base=base, cap=cap, retry_after=retry_after)
        row.status = JobStatus.FAILED
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
    if on_failure is not None:
        db.session.flush()
        try:
            with db.session.begin_nested():
                on_failure(dead)
        except Exception:  # noqa: BLE001 - the failure itself must still be recorded
            log.exception("failure hook crashed (job %s %s)", job.model.__tablename__, job.id)
    db.session.commit()
    return True


def reject_job(job: Job, reason: str, *, worker_id: str) -> bool:
    """Record a delivery as rejected (never applied, never retried) and commit."""
    row = _owned(job, worker_id)
    if row is None:
        db.session.rollback()
        return False
    row.locked_by, row.locked_until = None, None
    row.status = JobStatus.REJECTED
    row.last_error = reason[:4000]
    db.session.commit()
    return True


def defer_job(job: Job, reason: str, *, worker_id: str, seconds: float) -> bool:
    """Put the job back without counting the attempt (sync lock held elsewhere); commit."""
    row = _owned(job, worker_id)
    if row is None:
        db.session.rollback()
        return False
    row.locked_by, row.locked_until = None, None
    row.attempts = max(0, row.attempts - 1)
    row.last_error = f"deferred: {reason}"[:4000]
    row.next_attempt_at = utcnow() + dt.timedelta(seconds=seconds)
    db.session.commit()
    return True


def renew_lease(job: Job, *, worker_id: str, lease_seconds: float) -> bool:
    """Extend this worker's lease just before running the job; commit.

    A batch is claimed at once, so the last job of a batch would otherwise start late in
    its lease; renewing means a job's lease always covers its whole run. False when the
    lease was lost (expired and taken by another worker): skip the job.
    """
    until = utcnow() + dt.timedelta(seconds=lease_seconds)
    result = db.session.execute(
        update(job.model).where(job.model.id == job.id, job.model.locked_by == worker_id,
                                job.model.status.in_(CLAIMABLE))
        .values(locked_until=until))
    db.session.commit()
    return result.rowcount == 1


#: The statuses the Sync page counts per queue (rejected: inbox deliveries not believed).
COUNTED = (JobStatus.PENDING, JobStatus.FAILED, JobStatus.DEAD, JobStatus.REJECTED)


def job_counts(merchant_id: int) -> dict[str, dict[str, int]]:
    """Pending / failed / dead / rejected jobs per queue of one merchant (the Sync page)."""
    counts = {}
    for name, model in (("outbox", OutboxEvent), ("inbox", WebhookInbox)):
        rows = db.session.execute(
            select(model.status, func.count()).where(
                model.merchant_id == merchant_id, model.status.in_(COUNTED))
            .group_by(model.status))
        found = dict(rows.all())
        counts[name] = {status.value: found.get(status, 0) for status in COUNTED}
    return counts


def worker_lag_seconds(now: dt.datetime | None = None) -> float:
    """How long the oldest job that is due and not leased has been waiting (0: none).

    An operator's figure across all merchants (no tenant data leaves it): when it grows,
    the workers are down or can't keep up.
    """
    now = now or utcnow()
    oldest = []
    for model in (OutboxEvent, WebhookInbox):
        due = db.session.scalar(select(func.min(model.next_attempt_at)).where(
            model.status.in_(CLAIMABLE), model.next_attempt_at <= now,
            or_(model.locked_until.is_(None), model.locked_until < now)))
        if due is not None:
            oldest.append(due)
    if not oldest:
        return 0.0
    due = min(oldest)
    if due.tzinfo is None:
        due = due.replace(tzinfo=dt.UTC)
    return max(0.0, (now - due).total_seconds())


def release_jobs(model: JobModel, *, worker_id: str) -> int:
    """Give back every job leased to ``worker_id`` (graceful shutdown); commit."""
    result = db.session.execute(
        update(model).where(model.locked_by == worker_id)
        .values(locked_by=None, locked_until=None, attempts=model.attempts - 1))
    db.session.commit()
    return result.rowcount


def _merchant_job(model: JobModel, job_id: int, merchant_id: int):
    row = db.session.scalar(select(model).where(model.id == job_id,
                                                model.merchant_id == merchant_id)
                            .with_for_update())
    if row is None:
        raise NotFound("That sync job does not exist.")
    return row


def retry_job(model: JobModel, job_id: int, *, merchant_id: int):
    """Queue a failed or dead job again now, with a fresh set of attempts. Flushes."""
    row = _merchant_job(model, job_id, merchant_id)
    if row.status not in (JobStatus.FAILED, JobStatus.DEAD):
        raise InvalidInput(f"Only failed jobs can be retried; this one is {row.status}.")
    row.status, row.attempts, row.next_attempt_at = JobStatus.PENDING, 0, utcnow()
    row.locked_by = row.locked_until = None
    db.session.flush()
    return row


def discard_job(model: JobModel, job_id: int, *, merchant_id: int):
    """Drop a failed, dead or rejected job (it stays listed as discarded). Flushes.

    A rejected delivery can be discarded (acknowledged) but not retried: it was refused for
    what it says, and a retry would refuse it again.
    """
    row = _merchant_job(model, job_id, merchant_id)
    if row.status not in (JobStatus.FAILED, JobStatus.DEAD, JobStatus.PENDING,
                          JobStatus.REJECTED):
        raise InvalidInput(f"This job is {row.status}: there is nothing to discard.")
    row.status = JobStatus.DISCARDED
    row.locked_by = row.locked_until = None
    db.session.flush()
    return row
