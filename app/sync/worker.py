"""The sync worker: claims outbox and inbox jobs, runs their handlers, records outcomes."""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
import uuid

from flask import Flask
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from app.extensions import db
from app.models import Channel, JobStatus, OutboxEvent, WebhookInbox
from app.sync.errors import Deferred, PermanentError, Rejected, RetryableError, Throttled
from app.sync.handlers import (Delivery, find_failure_hook, find_inbox_handler,
                               find_outbox_handler, find_payload_check)
from app.sync.inbox import payload_object
from app.sync.queue import (Job, claim_jobs, defer_job, fail_job, finish_job, reject_job,
                            release_jobs, renew_lease, retry_delay)

log = logging.getLogger("stockroom.sync")

#: The database itself is away (server down, restarted, connection dropped): the worker
#: pauses and resumes; the job's lease expires and it is claimed again.
DATABASE_AWAY = (OperationalError, InterfaceError)


def new_worker_id() -> str:
    """host:pid:random — unique per worker process, readable in the lease column."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Processes jobs until stopped; any number of these may run on any hosts."""

    def __init__(self, app: Flask, *, worker_id: str | None = None, batch: int = 10,
                 poll_seconds: float = 1.0, threads: int = 1):
        self.app = app
        self.worker_id = worker_id or new_worker_id()
        self.threads = max(1, threads)
        # Threads claim one job at a time, so two waiting jobs (two stores' pushes) run side
        # by side instead of one after the other in the thread that claimed both.
        self.batch = batch if self.threads == 1 else 1
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        cfg = app.config
        self.lease_seconds = cfg["SYNC_LEASE_SECONDS"]
        self.max_attempts = cfg["SYNC_MAX_ATTEMPTS"]
        self.backoff = {"base": cfg["SYNC_BACKOFF_BASE_SECONDS"],
                        "cap": cfg["SYNC_BACKOFF_CAP_SECONDS"]}

    def stop(self, *_args) -> None:
        """Ask the loop to finish the job in hand and exit (SIGTERM/SIGINT handler)."""
        self.stopping.set()

    def run(self, *, once: bool = False) -> int:
        """Loop until stopped (or one pass if ``once``); returns the number of jobs run.

        With ``threads`` > 1 the same loop also runs in that many - 1 more threads, each
        with its own worker id (its own leases), app context and database session: jobs are
        claimed with row locks and leases exactly as between worker processes, so the
        guarantees between processes (one order's jobs in order, a lost lease rolls back)
        hold between threads too.
        """
        if self.threads == 1:
            return self._loop(once=once)
        siblings = [Worker(self.app, worker_id=f"{self.worker_id}/{n}", batch=1,
                           poll_seconds=self.poll_seconds) for n in range(1, self.threads)]
        for sibling in siblings:
            sibling.stopping = self.stopping  # one SIGTERM stops every thread
        counts = [0] * len(siblings)

        def work(index: int, sibling: Worker) -> None:
            counts[index] = sibling._loop(once=once)

        pool = [threading.Thread(target=work, args=(i, w), name=f"worker-{i + 1}", daemon=True)
                for i, w in enumerate(siblings)]
        for thread in pool:
            thread.start()
        try:
            done = self._loop(once=once)
        finally:
            if not once:
                self.stopping.set()
            for thread in pool:
                thread.join()
        return done + sum(counts)

    def _loop(self, *, once: bool) -> int:
        done = 0
        with self.app.app_context():
            try:
                while not self.stopping.is_set():
                    try:
                        count = self.run_pass()
                    except DATABASE_AWAY as exc:  # database away: pause, then resume
                        self._forget_connections()
                        log.warning(json.dumps({"event": "database_unavailable",
                                                "worker": self.worker_id,
                                                "error": str(exc.orig)[:200]}))
                        count = 0
                        self.stopping.wait(self.poll_seconds * 5)
                    done += count
                    if once:
                        break
                    if count == 0:
                        self.stopping.wait(self.poll_seconds)
            finally:
                self._release()
        return done

    def run_pass(self) -> int:
        """Claim and run one batch from each queue; returns how many jobs ran."""
        count = 0
        for model in (OutboxEvent, WebhookInbox):
            jobs = claim_jobs(model, worker_id=self.worker_id, limit=self.batch,
                              lease_seconds=self.lease_seconds)
            for job in jobs:
                if self.stopping.is_set():
                    break  # the rest is released on the way out
                if not renew_lease(job, worker_id=self.worker_id,
                                   lease_seconds=self.lease_seconds):
                    continue  # its lease ran out while earlier jobs ran: someone else has it
                self.run_job(job)
                count += 1
        return count

    @staticmethod
    def _forget_connections() -> None:
        """End the session; pooled connections to a restarted server are replaced on checkout
        (pool_pre_ping on PostgreSQL)."""
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        db.session.remove()

    def run_job(self, job: Job) -> str:
        """Run one claimed job's handler and record the outcome; returns the outcome.

        Logs one JSON line per attempt: queue, job, topic, merchant, channel, platform,
        order, attempt number, outcome, note, start time and duration.
        """
        started, started_at = time.monotonic(), time.time()
        outcome, note, platform = "done", None, None
        try:
            platform = self._platform(job)
            handler = self._handler_for(job, platform)
            if handler is None:
                outcome, note = "ignored", "no handler for this topic"
                status = JobStatus.IGNORED
            else:
                if job.model is WebhookInbox:
                    self._check_delivery(job, platform)
                note = handler(job)
                status = JobStatus.DONE
            if not finish_job(job, worker_id=self.worker_id, status=status, note=note or ""):
                db.session.rollback()
                outcome = "lease_lost"
            else:
                db.session.commit()
        except Rejected as exc:
            # Not to be believed: nothing of it is applied (its writes rolled back), and no
            # retry can make it true. The reason is what the merchant sees on the Sync page.
            db.session.rollback()
            reject_job(job, exc.reason, worker_id=self.worker_id)
            outcome, note = "rejected", exc.reason
        except Deferred as exc:
            db.session.rollback()
            defer_job(job, str(exc), worker_id=self.worker_id, seconds=exc.seconds)
            outcome, note = "deferred", str(exc)
        except Throttled as exc:
            # Pacing, not failure: wait what the platform asked (plus jitter), attempt not
            # counted, so a long throttling storm never dead-letters the job.
            db.session.rollback()
            wait = retry_delay(0, base=0.5, cap=0.5, retry_after=exc.retry_after or 1.0)
            defer_job(job, str(exc), worker_id=self.worker_id, seconds=wait)
            outcome, note = "throttled", str(exc)
        except (RetryableError, PermanentError) as exc:
            db.session.rollback()
            permanent = isinstance(exc, PermanentError)
            dead = self._record_failure(job, str(exc), permanent=permanent,
                                        retry_after=getattr(exc, "retry_after", None),
                                        platform=platform)
            outcome, note = ("dead" if dead else "retry"), str(exc)
        except DATABASE_AWAY:
            raise  # the loop pauses; the lease will expire
        except Exception as exc:  # noqa: BLE001 - a bug in a handler must not stop the worker
            db.session.rollback()
            log.exception("handler crashed")
            note = f"{type(exc).__name__}: {exc}"
            dead = self._record_failure(job, note, permanent=False, platform=platform)
            outcome = "dead" if dead else "error"
        log.info(json.dumps({
            "event": "job_attempt", "queue": job.queue, "job_id": job.id, "topic": job.topic,
            "merchant_id": job.merchant_id, "channel_id": job.channel_id, "platform": platform,
            "order_id": job.order_id, "attempt": job.attempts, "outcome": outcome,
            "note": (note or "")[:300], "worker": self.worker_id,
            "started_at": round(started_at, 4),
            "duration_ms": round((time.monotonic() - started) * 1000, 1)}))
        return outcome

    def _record_failure(self, job: Job, error: str, *, permanent: bool,
                        retry_after: float | None = None, platform: str | None = None) -> bool:
        """fail_job with the topic's failure hook in its transaction; True when the job is dead."""
        hook = (find_failure_hook(job.topic, platform)
                if job.model is OutboxEvent else None)
        fail_job(job, error, worker_id=self.worker_id, max_attempts=self.max_attempts,
                 permanent=permanent, retry_after=retry_after, **self.backoff,
                 on_failure=None if hook is None else lambda dead: hook(job, error, dead))
        return permanent or job.attempts >= self.max_attempts

    @staticmethod
    def _check_delivery(job: Job, platform: str | None) -> None:
        """Before any handler acts: the body is a JSON object, and the topic's payload check
        (body agrees with headers, ids well-formed) passes; raises Rejected otherwise."""
        headers, body, domain = db.session.execute(
            db.select(WebhookInbox.headers, WebhookInbox.body, Channel.domain)
            .join(Channel, Channel.id == WebhookInbox.channel_id)
            .where(WebhookInbox.id == job.id)).one()
        db.session.rollback()  # end the read: the handler starts its own transaction
        payload = payload_object(body)
        if payload is None:
            raise Rejected("the body is not a JSON object")
        check = find_payload_check(platform, job.topic)
        if check is not None:
            check(Delivery(topic=job.topic, headers=dict(headers or {}), payload=payload,
                           channel_domain=domain))

    @staticmethod
    def _handler_for(job: Job, platform: str | None):
        if job.model is OutboxEvent:
            return find_outbox_handler(job.topic, platform)
        return find_inbox_handler(platform, job.topic)

    @staticmethod
    def _platform(job: Job) -> str | None:
        if job.channel_id is None:
            return None
        platform = db.session.scalar(db.select(Channel.platform).where(
            Channel.id == job.channel_id))
        db.session.rollback()  # end the read: the handler starts its own transaction
        return platform

    def _release(self) -> None:
        try:
            for model in (OutboxEvent, WebhookInbox):
                release_jobs(model, worker_id=self.worker_id)
        except SQLAlchemyError:
            db.session.rollback()  # leases expire on their own


def install_signal_handlers(worker: Worker) -> None:
    """SIGTERM and SIGINT finish the job in hand, release the rest, then exit."""
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
