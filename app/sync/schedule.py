"""Periodic jobs (token refresh, reconciliation): due work is enqueued into the outbox.

A periodic task never does its work itself: it decides which channels are due and writes
one outbox event per channel, so the work runs in the ordinary queue (leases, retries,
backoff, the Sync page) on whichever worker claims it. A task must not enqueue a job
that is already queued: :func:`enqueue_once` checks that under a lock on the channel's
row, so any number of workers may tick at the same time.

The worker loop ticks the :class:`Scheduler` through :class:`ScheduledWorker` (what
``flask worker`` runs, unless ``--no-schedule``); ``flask shopify reconcile`` and
``flask shopify refresh-tokens`` queue the same jobs by hand.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, JobStatus, OutboxEvent
from app.sync.worker import Worker

log = logging.getLogger("stockroom.sync")

#: A task: () -> number of jobs it enqueued. It commits its own writes.
Task = Callable[[], int]

_tasks: dict[str, tuple[float, Task]] = {}

#: Unfinished from the scheduler's point of view: queued, retrying or running.
QUEUED = (JobStatus.PENDING, JobStatus.FAILED)


def register_periodic(name: str, task: Task, *, every_seconds: float) -> None:
    """Run ``task`` from the worker at most every ``every_seconds`` per process."""
    _tasks[name] = (every_seconds, task)


def enqueue_once(channel_id: int, topic: str, payload: dict | None = None) -> bool:
    """Queue ``topic`` for the channel unless such a job is already queued. Flushes.

    The channel's row is locked first (FOR UPDATE; SQLite's BEGIN IMMEDIATE serializes
    anyway), so two workers ticking together queue it once.
    """
    channel = db.session.scalar(select(Channel).where(Channel.id == channel_id)
                                .with_for_update())
    if channel is None:
        return False
    queued = db.session.scalar(select(OutboxEvent.id).where(
        OutboxEvent.channel_id == channel_id, OutboxEvent.topic == topic,
        OutboxEvent.status.in_(QUEUED)).limit(1))
    if queued is not None:
        return False
    db.session.add(OutboxEvent(merchant_id=channel.merchant_id, channel_id=channel_id,
                               topic=topic, payload=payload or {}))
    db.session.flush()
    return True


class Scheduler:
    """Runs each registered task when its interval has passed (per process)."""

    def __init__(self) -> None:
        self.last_run: dict[str, float] = {}

    def tick(self, *, force: bool = False) -> int:
        """Run the due tasks (all of them with ``force``); returns the jobs they enqueued."""
        now = time.monotonic()
        queued = 0
        for name, (every, task) in sorted(_tasks.items()):
            if not force and now - self.last_run.get(name, -every) < every:
                continue
            self.last_run[name] = now
            try:
                count = task()
                db.session.commit()
            except Exception:  # noqa: BLE001 - a failing task must not stop the worker
                db.session.rollback()
                log.exception("periodic task %s crashed", name)
                continue
            queued += count
            if count:
                log.info(json.dumps({"event": "scheduled", "task": name, "jobs": count}))
        return queued


class ScheduledWorker(Worker):
    """The worker with the scheduler's tick before each pass (``flask worker``)."""

    def __init__(self, app: Flask, **kwargs) -> None:
        super().__init__(app, **kwargs)
        self.scheduler = Scheduler()

    def run_pass(self) -> int:
        """Enqueue due periodic jobs, then run one pass over the queues."""
        self.scheduler.tick()
        return super().run_pass()
