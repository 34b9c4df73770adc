"""The worker runs handlers and records outcomes; two workers keep per-order order."""
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import InventoryLevel, JobStatus, OutboxEvent
from app.stock import adjust_stock
from app.sync.errors import Deferred, PermanentError, RetryableError, Throttled
from app.sync.handlers import outbox_handler
from app.sync.worker import Worker
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order)

calls = defaultdict(list)


@outbox_handler("test.ok")
def _ok(job):
    calls["ok"].append(job.id)
    return "pushed"


@outbox_handler("test.retry")
def _retry(job):
    raise RetryableError("HTTP 503 from platform", retry_after=30)


@outbox_handler("test.throttled")
def _throttled(job):
    raise Throttled("THROTTLED", retry_after=4)


@outbox_handler("test.permanent")
def _permanent(job):
    raise PermanentError("platform refused: invalid tracking")


@outbox_handler("test.defer")
def _defer(job):
    raise Deferred("order push in flight", seconds=5)


@outbox_handler("test.crash")
def _crash(job):
    raise KeyError("fulfillment_id")


@outbox_handler("test.stock")
def _stock(job):
    # A handler's writes land in the same commit as the job's completion.
    adjust_stock(job.merchant_id, job.payload["location_id"], job.payload["item_id"], delta=1,
                 reason="received")


def add(merchant, topic, order=None, payload=None):
    event = OutboxEvent(merchant_id=merchant.id, topic=topic, payload=payload or {},
                        order_id=order.id if order else None,
                        channel_id=order.channel_id if order else None)
    db.session.add(event)
    db.session.commit()
    return event.id


def test_run_job_records_each_outcome(app):
    merchant = make_merchant()
    ids = {t: add(merchant, f"test.{t}") for t in
           ("ok", "retry", "permanent", "defer", "crash", "unknown")}
    worker = Worker(app, worker_id="w-test")
    assert worker.run_pass() == 6
    rows = {r.topic.split(".")[1]: r for r in db.session.scalars(select(OutboxEvent))}
    assert (rows["ok"].status, rows["ok"].last_error) == (JobStatus.DONE, "pushed")
    assert rows["retry"].status == JobStatus.FAILED
    assert rows["retry"].last_error == "HTTP 503 from platform"
    assert rows["permanent"].status == JobStatus.DEAD
    assert (rows["defer"].status, rows["defer"].attempts) == (JobStatus.PENDING, 0)
    assert rows["crash"].status == JobStatus.FAILED and "KeyError" in rows["crash"].last_error
    assert rows["unknown"].status == JobStatus.IGNORED
    assert all(r.locked_by is None for r in rows.values())
    assert ids["ok"] in calls["ok"]


def test_run_job_commits_handler_writes_with_completion(app):
    merchant = make_merchant()
    location, item = make_location(merchant), make_item(merchant)
    add(merchant, "test.stock", payload={"location_id": location.id, "item_id": item.id})
    Worker(app, worker_id="w-stock").run_pass()
    assert db.session.scalars(select(InventoryLevel.on_hand)).one() == 1
    assert db.session.scalars(select(OutboxEvent.status).where(
        OutboxEvent.topic == "test.stock")).one() == JobStatus.DONE


def test_two_workers_never_overlap_jobs_of_one_order(app):
    merchant = make_merchant()
    channel = make_channel(merchant)
    orders = [make_order(channel, [(None, 1)]) for _ in range(4)]
    expected = defaultdict(list)
    for i in range(24):
        order = orders[i % 4]
        expected[order.id].append(add(merchant, "test.ordered", order))
    db.session.commit()
    spans, lock = defaultdict(list), threading.Lock()

    @outbox_handler("test.ordered")
    def _ordered(job):
        start = time.monotonic()
        time.sleep(0.01)
        with lock:
            spans[job.order_id].append((job.id, start, time.monotonic()))

    workers = [Worker(app, worker_id=f"w{i}", batch=3, poll_seconds=0.05) for i in range(2)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while sum(len(v) for v in spans.values()) < 24 and time.monotonic() < deadline:
        time.sleep(0.05)
    for w in workers:
        w.stop()
    for t in threads:
        t.join(timeout=30)
    for order_id, runs in spans.items():
        assert [job_id for job_id, _, _ in runs] == expected[order_id], "out of order"
        for (_, _, end), (_, start, _) in zip(runs, runs[1:]):
            assert start >= end, "two jobs of one order overlapped"
    assert sum(len(v) for v in spans.values()) == 24


@pytest.mark.parametrize("threads", [[], ["--threads", "3"]], ids=["one thread", "3 threads"])
def test_worker_command_exits_cleanly_on_sigterm(database_url, repo_root, threads):
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test"}
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker",
                             "--poll", "0.1", *threads], cwd=repo_root, env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        assert "started" in line, line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert "stopped after 0 jobs" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def test_throttled_waits_without_counting_an_attempt(app):
    merchant = make_merchant()
    event_id = add(merchant, "test.throttled")
    worker = Worker(app, worker_id="w-throttle")
    assert worker.run_pass() == 1
    row = db.session.get(OutboxEvent, event_id)
    assert (row.status, row.attempts, row.locked_by) == (JobStatus.PENDING, 0, None)
    from app.models._common import utcnow
    import datetime as dt
    assert row.next_attempt_at >= utcnow() + dt.timedelta(seconds=3.5)
    assert "THROTTLED" in row.last_error


def test_run_job_logs_one_json_line_per_attempt(app, caplog):
    import json
    import logging

    merchant = make_merchant()
    add(merchant, "test.ok")
    with caplog.at_level(logging.INFO, logger="stockroom.sync"):
        Worker(app, worker_id="w-log").run_pass()
    (line,) = [json.loads(r.getMessage()) for r in caplog.records
               if r.getMessage().startswith('{"event": "job_attempt"')]
    assert (line["topic"], line["outcome"], line["attempt"], line["worker"]) == (
        "test.ok", "done", 1, "w-log")
    assert {"order_id", "channel_id", "platform", "duration_ms", "started_at"} <= set(line)


def test_worker_threads_run_two_jobs_side_by_side(app):
    merchant = make_merchant()
    both_started = threading.Barrier(2, timeout=20)
    seen = []

    @outbox_handler("test.side_by_side")
    def _side_by_side(job):
        both_started.wait()  # one job at a time would break the barrier: the job fails
        seen.append(job.id)
        return "ran"

    ids = [add(merchant, "test.side_by_side") for _ in range(2)]
    db.session.commit()  # end the read of the ids (SQLite: it holds the write lock)
    worker = Worker(app, worker_id="w-threads", poll_seconds=0.05, threads=2)
    runner = threading.Thread(target=worker.run)
    runner.start()
    deadline = time.monotonic() + 60
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    runner.join(timeout=30)
    assert not runner.is_alive()
    rows = db.session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids))).all()
    assert [(r.status, r.last_error) for r in rows] == [(JobStatus.DONE, "ran")] * 2
    assert sorted(seen) == ids


def test_worker_threads_keep_jobs_of_one_order_in_order(app):
    merchant = make_merchant()
    channel = make_channel(merchant)
    orders = [make_order(channel, [(None, 1)]) for _ in range(3)]
    expected = defaultdict(list)
    for i in range(18):
        expected[orders[i % 3].id].append(add(merchant, "test.threaded", orders[i % 3]))
    db.session.commit()
    ran, lock = defaultdict(list), threading.Lock()

    @outbox_handler("test.threaded")
    def _threaded(job):
        time.sleep(0.005)
        with lock:
            ran[job.order_id].append(job.id)

    worker = Worker(app, worker_id="w-ordered", poll_seconds=0.05, threads=3)
    runner = threading.Thread(target=worker.run)
    runner.start()
    deadline = time.monotonic() + 60
    while sum(len(v) for v in ran.values()) < 18 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.stop()
    runner.join(timeout=30)
    assert dict(ran) == dict(expected)
    assert db.session.scalar(select(OutboxEvent.id).where(
        OutboxEvent.locked_by.is_not(None)).limit(1)) is None  # every thread released
