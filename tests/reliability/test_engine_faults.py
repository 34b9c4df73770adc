"""Scenarios 6-8: PostgreSQL restarted, a poison message, two workers racing on one order."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import time
import uuid
from collections import defaultdict

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.fulfillment import (Tracking, cancel_fulfillment, create_fulfillment, mark_shipped,
                             update_tracking)
from app.models import (ChannelLocation, Fulfillment, InventoryItem, JobStatus, Merchant,
                        OrderLine, OutboxEvent, SyncState, User, WebhookInbox)
from tests.conftest import _migrate, make_test_app
from tests.fixtures.factories import make_location, stock
from tests.fixtures.invariants import assert_invariants
from tests.reliability.harness import (SECRET, SHOP, PostgresCluster, Stockroom, check_pushes,
                                       fulfill_orders, install, place_orders, read_db,
                                       wait_for_orders, wait_settled, wait_until)
from tests.reliability.test_webhook_faults import check_intake


def post_webhook(stockroom, topic: str, payload: dict, event_id: str | None = None
                 ) -> requests.Response:
    """A correctly signed delivery, straight to the app (as Shopify would send it)."""
    body = json.dumps(payload).encode()
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return requests.post(f"{stockroom.url}/shopify/webhooks", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": digest, "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Webhook-Id": str(uuid.uuid4())})


@pytest.fixture
def own_postgres(sandbox, tmp_path):
    """A PostgreSQL server of this test's own (the shared one is never restarted), migrated,
    with Stockroom's processes pointed at it."""
    if not PostgresCluster.available():
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    cluster = PostgresCluster()
    try:
        _migrate(cluster.url)
        app = make_test_app(cluster.url)
        handle = Stockroom(cluster.url, sandbox, tmp_path)
        sandbox.reset(handle.url)
        with app.app_context():
            try:
                yield cluster, handle
            finally:
                handle.stop()
                db.session.remove()
                db.engine.dispose()
    finally:
        cluster.destroy()


@pytest.mark.postgres
def test_postgres_restarted_mid_run(own_postgres, backend, report):
    """6. PostgreSQL stops twice mid-run (while 20 orders arrive, while they are pushed) -> intake
    answers 503 meanwhile (the platform retries), /readyz says so, workers pause and resume,
    nothing lost, nothing done twice."""
    cluster, stockroom = own_postgres
    rng = random.Random(6)
    stockroom.start_app()
    for _ in range(2):
        stockroom.start_worker()
    shop = install(stockroom)
    wait_settled(stockroom)
    already = len(stockroom.sandbox.deliveries())
    refused = []

    def outage(seconds: float) -> None:
        db.session.remove()
        db.engine.dispose()  # our own pooled connections die with the server
        cluster.stop("fast")
        refused.append(post_webhook(stockroom, "orders/updated", {"id": 1}).status_code)
        ready = requests.get(f"{stockroom.url}/readyz", timeout=10)
        refused.append(ready.status_code)
        assert requests.get(f"{stockroom.url}/healthz", timeout=10).status_code == 200
        time.sleep(seconds)
        cluster.start()

    placed = place_orders(stockroom, shop, 20, rng=rng)
    time.sleep(0.5)
    outage(3)
    order_ids = wait_for_orders(placed)
    fulfillment_ids, units = fulfill_orders(shop, order_ids)
    time.sleep(0.5)
    outage(3)
    wait_settled(stockroom, timeout=180)

    assert refused == [503, 503, 503, 503], "intake or /readyz answered OK without a database"
    outcome, deliveries = check_intake(stockroom)
    pushes = check_pushes(stockroom, shop, fulfillment_ids, units)
    deliveries = deliveries[already:]
    answered_503 = sum(1 for d in deliveries for a in d["attempts"] if a["status"] == 503)
    paused = sum(1 for x in stockroom.log_lines() if x.get("event") == "database_unavailable")
    report(scenario="6 PostgreSQL restarted mid-run", events=len(deliveries)
           + len(fulfillment_ids), faults=f"2 restarts: {answered_503} deliveries got 503, "
           f"{paused} worker pauses", lost=outcome.lost + pushes.lost,
           duplicated=outcome.duplicated + pushes.duplicated)
    assert paused > 0, "the workers never noticed the outage"
    assert outcome.problems == [] and pushes.problems == []
    assert len(order_ids) == 20
    read_db(assert_invariants)


def sign_in(stockroom, email: str, password: str) -> requests.Session:
    """The merchant signs in on the standalone dashboard (gunicorn, real cookies + CSRF)."""
    browser = requests.Session()
    page = browser.get(f"{stockroom.url}/sign-in", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = browser.post(f"{stockroom.url}/sign-in", timeout=10, data={
        "email": email, "password": password, "csrf_token": token})
    assert response.status_code == 200 and "sign-in" not in response.url, response.text[:300]
    return browser


def test_poison_messages_dead_lettered_others_flow_retry_after_fix(stockroom, report):
    """7. A push the platform can't take (its location is not mapped) -> dead-lettered with
    its error after the configured attempts; a webhook that is no Shopify payload (signed,
    but malformed) -> rejected at its first attempt, never retried (docs/security.md);
    other orders' jobs keep flowing, the poisoned order's later job waits; after the fix
    (the location mapped), Retry on the Sync page pushes it and the queue moves on."""
    rng = random.Random(7)
    stockroom.settings.update(SYNC_MAX_ATTEMPTS="3")
    stockroom.start_app()
    for _ in range(2):
        stockroom.start_worker()
    shop = install(stockroom)
    placed = place_orders(stockroom, shop, 8, rng=rng)
    order_ids = wait_for_orders(placed)
    merchant = db.session.get(Merchant, shop.merchant_id)
    backroom = make_location(merchant, "Backroom")
    for item in db.session.scalars(select(InventoryItem)):
        stock(backroom, item, 100)
    backroom_id = backroom.id
    db.session.add(User(merchant_id=shop.merchant_id, email="owner@example.com",
                        password_hash=generate_password_hash("correct horse battery")))
    db.session.commit()

    poisoned_order = order_ids[0]
    lines = db.session.scalars(select(OrderLine).where(OrderLine.order_id == poisoned_order))
    poison = create_fulfillment(poisoned_order, {line.id: line.quantity for line in lines},
                                backroom_id, merchant_id=shop.merchant_id)
    poison_id = poison.id
    db.session.commit()
    update_tracking(poison_id, Tracking("1Z999", "UPS", ""), merchant_id=shop.merchant_id)
    db.session.commit()
    db.session.remove()
    malformed = str(uuid.uuid4())
    bad = post_webhook(stockroom, "fulfillments/create", {"id": 4242, "status": "success"},
                       event_id=malformed)
    assert bad.status_code == 200  # stored: the failure is the app's to show, not Shopify's
    others, units = fulfill_orders(shop, order_ids[1:])

    def poison_settled() -> bool:
        pushes = read_db(lambda: db.session.scalars(select(OutboxEvent.status).where(
            OutboxEvent.topic == "fulfillment.created",
            OutboxEvent.order_id == poisoned_order)).all())
        hooks = read_db(lambda: db.session.scalars(select(WebhookInbox.status).where(
            WebhookInbox.dedupe_key == malformed)).all())
        return pushes == [JobStatus.DEAD] and hooks == [JobStatus.REJECTED]
    wait_until(poison_settled, timeout=120,
               what="the push dead-lettered and the malformed webhook rejected")
    wait_until(lambda: read_db(lambda: db.session.scalar(select(func.count()).select_from(
        Fulfillment).where(Fulfillment.id.in_(others), Fulfillment.remote_id.is_not(None))))
        == len(others), timeout=120, what="the other orders' pushes")
    flowing = check_pushes(stockroom, shop, others, units)
    dead_push = read_db(lambda: db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.order_id == poisoned_order, OutboxEvent.topic == "fulfillment.created")))
    dead_hook = read_db(lambda: db.session.scalar(select(WebhookInbox).where(
        WebhookInbox.dedupe_key == malformed)))
    assert "not mapped to a Shopify location" in dead_push.last_error
    assert "order_id" in dead_hook.last_error and dead_hook.attempts == 1
    assert read_db(lambda: db.session.get(Fulfillment, poison_id).sync_state) == SyncState.FAILED
    waiting = read_db(lambda: db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.order_id == poisoned_order,
        OutboxEvent.topic == "fulfillment.tracking_updated")))
    assert (waiting.status, waiting.attempts) == (JobStatus.PENDING, 0), "ran before its turn"

    # The fix: the merchant maps Backroom to Shopify's Downtown Store, then retries.
    mapping = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.name == "Downtown Store"))
    mapping.stock_location_id = backroom_id
    db.session.commit()
    db.session.remove()
    browser = sign_in(stockroom, "owner@example.com", "correct horse battery")
    page = browser.get(f"{stockroom.url}/sync?failed=1", timeout=10).text
    assert 'data-count="outbox-dead">1<' in page and 'data-count="inbox-dead">0<' in page
    assert 'data-count="inbox-rejected">1<' in page
    action = f"/sync/outbox/{dead_push.id}/retry"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert action in page
    assert browser.post(stockroom.url + action, data={"csrf_token": token},
                        timeout=10).status_code == 200
    wait_until(lambda: read_db(lambda: db.session.get(Fulfillment, poison_id).sync_state
                               == SyncState.SYNCED and db.session.scalar(
        select(OutboxEvent.status).where(OutboxEvent.id == waiting.id)) == JobStatus.DONE),
        timeout=60, what="the retried push and the job behind it")
    healed = check_pushes(stockroom, shop, [poison_id])
    remote = {f"gid://shopify/Fulfillment/{f['id']}": f for f in stockroom.sandbox.shop()[
        "fulfillments"]}
    pushed = remote[read_db(lambda: db.session.get(Fulfillment, poison_id).remote_id)]
    assert pushed["tracking"][-1]["number"] == "1Z999"  # the job that waited ran after it
    report(scenario="7 poison messages", events=len(others) + 3,
           faults="1 unpushable fulfillment, 1 malformed webhook",
           lost=flowing.lost + healed.lost, duplicated=flowing.duplicated + healed.duplicated)
    assert flowing.problems == [] and healed.problems == []
    read_db(assert_invariants)


def test_two_workers_racing_on_one_order(stockroom, report):
    """8. Six jobs for each of 4 orders (create with tracking, so Shipped; re-track; create,
    ship and cancel a second; create a third) queued at once, three workers claiming ->
    each order's jobs ran one at a time and in order, and the platform ends in the state
    the sequence means (the first IN_TRANSIT from its create push, tracking B)."""
    stockroom.start_app()
    stockroom.start_worker()
    shop = install(stockroom)
    placed = [stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": "MUG-WHT", "quantity": 4}],
        "location_id": shop.remote["Main Warehouse"]}) for _ in range(4)]
    order_ids = wait_for_orders(placed)
    wait_settled(stockroom)
    stockroom.stop_workers()
    expected = {}
    m = shop.merchant_id
    for order_id in order_ids:
        line = db.session.scalar(select(OrderLine).where(OrderLine.order_id == order_id))
        first = create_fulfillment(order_id, {line.id: 2}, shop.warehouse_id, merchant_id=m,
                                   tracking=Tracking(f"A{order_id}", "UPS", "")).id
        update_tracking(first, Tracking(f"B{order_id}", "UPS", ""), merchant_id=m)
        second = create_fulfillment(order_id, {line.id: 1}, shop.warehouse_id,
                                    merchant_id=m).id
        mark_shipped(second, merchant_id=m)  # the first shipped as it was made (tracking)
        cancel_fulfillment(second, merchant_id=m)
        third = create_fulfillment(order_id, {line.id: 1}, shop.warehouse_id,
                                   merchant_id=m).id
        db.session.commit()
        expected[order_id] = (first, second, third)
    db.session.remove()
    for _ in range(3):
        stockroom.start_worker(batch=3)
    wait_settled(stockroom, timeout=120)

    runs = defaultdict(list)
    for a in stockroom.job_attempts():
        if a["queue"] == "outbox" and a["order_id"] in expected:
            runs[a["order_id"]].append((a["started_at"], a["started_at"] + a["duration_ms"] / 1000,
                                        a["job_id"], a["worker"]))
    overlaps = out_of_order = 0
    for order_runs in runs.values():
        order_runs.sort()
        ids = [job_id for _, _, job_id, _ in order_runs]
        out_of_order += ids != sorted(ids)
        overlaps += sum(1 for a, b in zip(order_runs, order_runs[1:]) if b[0] < a[1])
    workers = {w for order_runs in runs.values() for *_, w in order_runs}

    remote = {f"gid://shopify/Fulfillment/{f['id']}": f
              for f in stockroom.sandbox.shop()["fulfillments"]}
    problems = []
    for order_id, (first, second, third) in expected.items():
        ids = read_db(lambda: [db.session.get(Fulfillment, i).remote_id
                               for i in (first, second, third)])
        got = [remote.get(i) for i in ids]
        if got[0] is None or got[2] is None:
            problems.append(f"order {order_id}: not all on the platform: {ids}")
            continue
        if (got[0]["status"], got[0]["shipment_status"], got[0]["tracking"][-1]["number"]) != (
                "SUCCESS", "IN_TRANSIT", f"B{order_id}"):
            problems.append(f"order {order_id}: first is {got[0]}")
        # The second was canceled here before its push ran: it never goes to the platform
        # (or, had it gone, it must be canceled there).
        if (got[1] or {"status": "CANCELLED"})["status"] != "CANCELLED" \
                or got[2]["status"] != "SUCCESS":
            problems.append(f"order {order_id}: second {got[1]}, third {got[2]['status']}")
    pushes = check_pushes(stockroom, shop, [f for first, _, third in expected.values()
                                            for f in (first, third)])
    report(scenario="8 workers racing on one order", events=sum(map(len, runs.values())),
           faults=f"3 workers, {len(expected)} orders x 6 jobs, {overlaps} overlaps",
           lost=pushes.lost, duplicated=pushes.duplicated)
    assert len(workers) >= 2, "only one worker ran: no race"
    assert (overlaps, out_of_order) == (0, 0)
    assert problems == [] and pushes.problems == []
    read_db(assert_invariants)


pytestmark = pytest.mark.slow
