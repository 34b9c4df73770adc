"""The push handlers' round loop: read a batch, commit, call the platform, record, commit; the sync's unit of work.

app/stock/push.py reads and records (flushes only); this loop, run by a platform's worker
handler, owns the commits between network calls, as the worker owns a job's final one.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from app.extensions import db
from app.models import OutboxEvent
from app.stock.push import (PUSH_TOPIC, PendingPush, pending_batch, record_push_failed,
                            record_pushed)
from app.sync.queue import Job
from app.sync.transactions import commit_step, end_read

#: A push job works for at most this long, then leaves the rest to a follow-up job (fair
#: between channels, and well inside the worker's lease).
JOB_SECONDS = 20.0

PushBatch = Callable[[list[PendingPush]], tuple[list[PendingPush], dict[str, list[PendingPush]]]]


def push_rounds(job: Job, *, limit: int, adjust: Callable[[int, list[PendingPush]],
                                                          list[PendingPush]],
                push: PushBatch) -> str:
    """The loop of every platform's push handler: dirty rows in id order, round by round.

    ``adjust(channel_id, rows)`` corrects the quantities for what the platform holds
    itself (and may drop rows it can't push); ``push(rows)`` sends them and returns
    (pushed rows, {error message: refused rows}). Each round's reads end before the
    network call and its results commit right after, so a crash loses no more than a
    round, which the next job pushes again (idempotently: absolute quantities).
    """
    started, pushed, refused, after_id = time.monotonic(), 0, 0, 0
    while True:
        read, last_id = pending_batch(job.channel_id, limit=limit, after_id=after_id)
        rows = adjust(job.channel_id, read) if read else []
        end_read()  # end the read before calling the platform
        if last_id is None:
            return f"pushed {_quantities(pushed)}" + (f", {refused} refused" if refused else "")
        after_id = last_id
        if not rows:
            continue  # every row of this batch was skipped or refused: on to the next
        ok, errors = push(rows)
        record_pushed(ok)
        for message, failed in errors.items():
            record_push_failed(failed, message)
            refused += len(failed)
        pushed += len(ok)
        commit_step()
        if time.monotonic() - started > JOB_SECONDS:
            db.session.add(OutboxEvent(merchant_id=job.merchant_id, channel_id=job.channel_id,
                                       topic=PUSH_TOPIC, payload={}))
            return f"pushed {_quantities(pushed)} so far; continuing in a new job"


def _quantities(n: int) -> str:
    return f"{n} quantit{'y' if n == 1 else 'ies'}"
