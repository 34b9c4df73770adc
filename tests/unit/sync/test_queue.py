"""The job queue: leases, per-order ordering, backoff, dead-letter, retry and discard."""
import datetime as dt
import random

import pytest
from sqlalchemy import select

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import JobStatus, OutboxEvent, WebhookInbox
from app.models._common import utcnow
from app.sync.inbox import store_webhook
from app.sync.queue import (backoff_seconds, claim_jobs, discard_job, fail_job, finish_job,
                            reject_job,
                            job_counts, release_jobs, renew_lease, retry_delay, retry_job,
                            worker_lag_seconds)
from tests.fixtures.factories import make_channel, make_merchant, make_order

LEASE = 60
BACKOFF = {"base": 2.0, "cap": 3600.0}


@pytest.fixture
def world(app):
    merchant = make_merchant()
    channel = make_channel(merchant)
    orders = [make_order(channel, [(None, 1)]) for _ in range(2)]
    db.session.commit()
    return merchant, channel, orders


def add_event(merchant, order=None, topic="fulfillment.created"):
    event = OutboxEvent(merchant_id=merchant.id, channel_id=order.channel_id if order else None,
                        order_id=order.id if order else None, topic=topic, payload={})
    db.session.add(event)
    db.session.commit()
    return event.id


def claim(worker="w1", limit=10, now=None):
    return claim_jobs(OutboxEvent, worker_id=worker, limit=limit, lease_seconds=LEASE, now=now)


def test_claim_jobs_leases_and_counts_attempt(world):
    merchant, _, (order, _) = world
    event_id = add_event(merchant, order)
    jobs = claim()
    assert [(j.id, j.attempts, j.order_id) for j in jobs] == [(event_id, 1, order.id)]
    assert claim("w2") == []  # leased
    row = db.session.get(OutboxEvent, event_id)
    assert row.locked_by == "w1" and row.locked_until > utcnow()


def test_claim_jobs_after_lease_expiry_reclaims_and_old_worker_loses_it(world):
    merchant, _, (order, _) = world
    add_event(merchant, order)
    (job,) = claim("w1")
    (again,) = claim("w2", now=utcnow() + dt.timedelta(seconds=LEASE + 1))
    assert again.id == job.id and again.attempts == 2
    assert finish_job(job, worker_id="w1") is False
    db.session.rollback()
    assert finish_job(again, worker_id="w2") is True
    db.session.commit()
    assert db.session.get(OutboxEvent, job.id).status == JobStatus.DONE


def test_claim_jobs_one_job_per_order_in_id_order(world):
    merchant, _, (order_a, order_b) = world
    a1, a2 = add_event(merchant, order_a), add_event(merchant, order_a)
    b1 = add_event(merchant, order_b)
    free = add_event(merchant, None, topic="inventory.levels_changed")
    jobs = claim()
    assert sorted(j.id for j in jobs) == sorted([a1, b1, free])
    first = next(j for j in jobs if j.id == a1)
    assert claim("w2") == []  # a2 waits for a1
    finish_job(first, worker_id="w1")
    db.session.commit()
    assert [j.id for j in claim("w2")] == [a2]


def test_fail_job_backs_off_then_dead_letters_and_dead_blocks_the_order(world):
    merchant, _, (order, _) = world
    first, second = add_event(merchant, order), add_event(merchant, order)
    for attempt in (1, 2, 3):
        (job,) = claim(now=utcnow() + dt.timedelta(hours=attempt * 2))
        assert job.id == first and job.attempts == attempt
        fail_job(job, "HTTP 503", worker_id="w1", max_attempts=3, **BACKOFF)
        row = db.session.get(OutboxEvent, first)
        expected = JobStatus.DEAD if attempt == 3 else JobStatus.FAILED
        assert row.status == expected and row.last_error == "HTTP 503"
        if attempt < 3:
            assert row.next_attempt_at > utcnow()
    assert claim(now=utcnow() + dt.timedelta(days=1)) == []  # dead job holds the order back
    retry_job(OutboxEvent, first, merchant_id=merchant.id)
    db.session.commit()
    (job,) = claim()
    assert job.id == first and job.attempts == 1
    finish_job(job, worker_id="w1")
    db.session.commit()
    assert [j.id for j in claim()] == [second]


def test_fail_job_runs_the_failure_hook_in_its_transaction(world):
    """The hook's writes land with the failure record (nobody sees the job dead and its
    effect not yet shown); a hook that raises loses only its own writes; a lost lease
    runs no hook."""
    merchant, _, (order, other) = world
    first, marker = add_event(merchant, order), add_event(merchant, other)
    seen = []

    def hook(dead):
        seen.append(dead)
        db.session.get(OutboxEvent, marker).last_error = f"dead={dead}"

    for attempt in (1, 2):
        (job,) = [j for j in claim(now=utcnow() + dt.timedelta(hours=attempt * 2))
                  if j.id == first]
        assert fail_job(job, "HTTP 503", worker_id="w1", max_attempts=2, on_failure=hook,
                        **BACKOFF) is True
        db.session.rollback()  # nothing left uncommitted: both writes are in the database
        assert db.session.get(OutboxEvent, marker).last_error == f"dead={attempt == 2}"
    assert seen == [False, True]
    assert db.session.get(OutboxEvent, first).status == JobStatus.DEAD

    def broken(dead):
        db.session.get(OutboxEvent, marker).last_error = "half-written"
        raise RuntimeError("hook bug")

    retry_job(OutboxEvent, first, merchant_id=merchant.id)
    db.session.commit()
    (job,) = [j for j in claim() if j.id == first]
    assert fail_job(job, "HTTP 503", worker_id="w1", max_attempts=5, on_failure=broken,
                    **BACKOFF) is True
    db.session.rollback()
    row = db.session.get(OutboxEvent, first)
    assert (row.status, row.last_error) == (JobStatus.FAILED, "HTTP 503")
    assert db.session.get(OutboxEvent, marker).last_error == "dead=True"

    (job,) = [j for j in claim(now=utcnow() + dt.timedelta(hours=5)) if j.id == first]
    claim("w2", now=utcnow() + dt.timedelta(hours=5, seconds=LEASE + 1))  # lease lost
    assert fail_job(job, "HTTP 503", worker_id="w1", max_attempts=5, on_failure=hook,
                    **BACKOFF) is False
    assert seen == [False, True]


def test_fail_job_honors_retry_after_as_minimum(world):
    merchant, _, (order, _) = world
    add_event(merchant, order)
    (job,) = claim()
    fail_job(job, "THROTTLED", worker_id="w1", max_attempts=5, retry_after=600, **BACKOFF)
    row = db.session.scalars(select(OutboxEvent)).one()
    assert row.next_attempt_at >= utcnow() + dt.timedelta(seconds=590)


def test_fail_job_permanent_goes_dead_at_once(world):
    merchant, _, (order, _) = world
    add_event(merchant, order)
    (job,) = claim()
    fail_job(job, "userErrors: invalid", worker_id="w1", max_attempts=5, permanent=True,
             **BACKOFF)
    assert db.session.scalars(select(OutboxEvent.status)).one() == JobStatus.DEAD


def test_backoff_seconds_grows_exponentially_with_bounded_jitter():
    rng = random.Random(1)
    for attempts, full in [(1, 2), (2, 4), (5, 32), (30, 3600)]:
        for _ in range(20):
            value = backoff_seconds(attempts, base=2, cap=3600, rng=rng)
            assert full / 2 <= value <= full


def test_release_jobs_gives_back_without_counting(world):
    merchant, _, (order, _) = world
    add_event(merchant, order)
    claim("w1")
    assert release_jobs(OutboxEvent, worker_id="w1") == 1
    (job,) = claim("w2")
    assert job.attempts == 1


def test_retry_and_discard_are_scoped_and_validated(world):
    merchant, _, (order, _) = world
    event_id = add_event(merchant, order)
    stranger = make_merchant("Stranger")
    with pytest.raises(NotFound):
        retry_job(OutboxEvent, event_id, merchant_id=stranger.id)
    with pytest.raises(InvalidInput):
        retry_job(OutboxEvent, event_id, merchant_id=merchant.id)  # pending: nothing to retry
    discard_job(OutboxEvent, event_id, merchant_id=merchant.id)
    db.session.commit()
    assert db.session.get(OutboxEvent, event_id).status == JobStatus.DISCARDED
    with pytest.raises(InvalidInput):
        discard_job(OutboxEvent, event_id, merchant_id=merchant.id)


def test_retry_delay_honors_retry_after_with_jitter_on_top():
    rng = random.Random(2)
    for _ in range(50):
        value = retry_delay(1, base=2, cap=3600, retry_after=30, rng=rng)
        assert 30 <= value <= 37.5
    assert 1 <= retry_delay(1, base=2, cap=3600, retry_after=None, rng=rng) <= 2
    # A long backoff is not shortened by a short Retry-After.
    assert retry_delay(10, base=2, cap=3600, retry_after=1, rng=rng) >= 512


def test_renew_lease_extends_own_lease_only(world):
    merchant, _, (order, _) = world
    add_event(merchant, order)
    (job,) = claim("w1")
    before = db.session.get(OutboxEvent, job.id).locked_until
    assert renew_lease(job, worker_id="w1", lease_seconds=LEASE * 10) is True
    assert db.session.get(OutboxEvent, job.id, populate_existing=True).locked_until > before
    (again,) = claim("w2", now=utcnow() + dt.timedelta(seconds=LEASE * 11))
    assert renew_lease(job, worker_id="w1", lease_seconds=LEASE) is False


def test_job_counts_and_worker_lag(world):
    merchant, _, (order, other) = world
    add_event(merchant, order)
    dead = add_event(merchant, other)
    row = db.session.get(OutboxEvent, dead)
    row.status = JobStatus.DEAD
    row = db.session.get(OutboxEvent, add_event(merchant))
    row.next_attempt_at = utcnow() - dt.timedelta(seconds=90)
    db.session.commit()
    assert job_counts(merchant.id) == {
        "outbox": {"pending": 2, "failed": 0, "dead": 1, "rejected": 0},
        "inbox": {"pending": 0, "failed": 0, "dead": 0, "rejected": 0}}
    assert job_counts(merchant.id + 1)["outbox"] == {"pending": 0, "failed": 0, "dead": 0,
                                                     "rejected": 0}
    assert 89 <= worker_lag_seconds() <= 200
    claim("w1", limit=10)  # leased jobs are being worked on: no lag
    assert worker_lag_seconds() == 0.0


def test_claim_jobs_inbox_one_delivery_per_order_in_arrival_order(app, world):
    _, channel, _ = world
    args = dict(platform=channel.platform, domain=channel.domain, topic="fulfillments/update",
                headers={}, body=b"{}")
    db.session.rollback()  # reading the channel began a transaction (SQLite: the write lock)
    first = store_webhook(app, dedupe_key="a-1", order_remote_id="gid://shopify/Order/1", **args)
    second = store_webhook(app, dedupe_key="a-2", order_remote_id="gid://shopify/Order/1", **args)
    other = store_webhook(app, dedupe_key="b-1", order_remote_id="gid://shopify/Order/2", **args)
    unattributed = store_webhook(app, dedupe_key="c-1", order_remote_id=None, **args)
    jobs = claim_jobs(WebhookInbox, worker_id="w1", limit=10, lease_seconds=60)
    assert sorted(j.id for j in jobs) == sorted([first, other, unattributed])
    # While the first is in flight, nobody else may take the second.
    assert claim_jobs(WebhookInbox, worker_id="w2", limit=10, lease_seconds=60) == []
    finish_job(next(j for j in jobs if j.id == first), worker_id="w1")
    db.session.commit()
    assert [j.id for j in claim_jobs(WebhookInbox, worker_id="w2", limit=10,
                                     lease_seconds=60)] == [second]


def test_claim_jobs_runs_one_inventory_push_per_channel_at_a_time(world):
    merchant, channel, _ = world
    other = make_channel(merchant)
    db.session.commit()
    first = add_channel_event(merchant, channel.id, "inventory.push_requested")
    second = add_channel_event(merchant, channel.id, "inventory.push_requested")
    elsewhere = add_channel_event(merchant, other.id, "inventory.push_requested")
    plain = add_channel_event(merchant, channel.id, "fulfillment.created")
    assert [j.id for j in claim("w1", limit=1)] == [first]
    # While the first push is leased, the channel's second push waits; others don't.
    assert [j.id for j in claim("w2")] == [elsewhere, plain]
    # Once the first lease has run out (a crashed worker), the second can be claimed.
    later = utcnow() + dt.timedelta(seconds=LEASE + 1)
    assert second in [j.id for j in claim("w3", now=later)]


def add_channel_event(merchant, channel_id, topic):
    event = OutboxEvent(merchant_id=merchant.id, channel_id=channel_id, topic=topic, payload={})
    db.session.add(event)
    db.session.commit()
    return event.id


def test_reject_job_is_final_counted_and_may_only_be_discarded(app, world):
    merchant, channel, _ = world
    merchant_id = merchant.id
    args = dict(platform=channel.platform, domain=channel.domain, topic="orders/updated",
                headers={}, body=b"{}", order_remote_id="gid://shopify/Order/1")
    db.session.rollback()  # reading the channel began a transaction (SQLite: the write lock)
    first = store_webhook(app, dedupe_key="r-1", **args)
    second = store_webhook(app, dedupe_key="r-2", **args)
    job = claim_jobs(WebhookInbox, worker_id="w1", limit=10, lease_seconds=LEASE)[0]
    assert job.id == first
    assert reject_job(job, "the body names another shop", worker_id="w1")
    row = db.session.get(WebhookInbox, first)
    assert (row.status, row.last_error, row.applied_at) == (
        JobStatus.REJECTED, "the body names another shop", None)
    assert job_counts(merchant_id)["inbox"]["rejected"] == 1
    # Final: never claimed again, and it does not hold up the order's next delivery.
    assert [j.id for j in claim_jobs(WebhookInbox, worker_id="w2", limit=10,
                                     lease_seconds=LEASE)] == [second]
    with pytest.raises(InvalidInput):
        retry_job(WebhookInbox, first, merchant_id=merchant_id)
    discard_job(WebhookInbox, first, merchant_id=merchant_id)
    db.session.commit()
    assert db.session.get(WebhookInbox, first).status == JobStatus.DISCARDED
