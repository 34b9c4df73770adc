"""Scenarios 4-5: webhooks duplicated, shuffled, delayed; the app killed while receiving them."""
from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (Fulfillment, FulfillmentStatus, InventoryItem, InventoryLevel,
                        WebhookInbox)
from tests.fixtures.invariants import assert_invariants
from tests.reliability.harness import (SHOP, SKUS, Outcome, install, place_orders,
                                       postgres_in_make_test, read_db, subscribe_to_stock_edits,
                                       wait_for_orders, wait_settled)


#: The issue asks for 5,000; on 2 cores that alone takes ~4 minutes (every order or
#: fulfillment event is re-read from the platform), so `make test` runs 1,000.
STORM_DELIVERIES = int(os.environ.get("RELIABILITY_STORM_DELIVERIES", "5000"))
ORDERS, PLATFORM_FULFILLMENTS = 30, 20


def check_intake(stockroom) -> tuple[Outcome, list[dict]]:
    """Every event the platform sent is stored exactly once; no delivery was given up."""
    deliveries = stockroom.sandbox.deliveries()
    events = {d["event_id"] for d in deliveries}
    stored = Counter(read_db(lambda: list(db.session.scalars(select(WebhookInbox.dedupe_key)))))
    outcome = Outcome(lost=len(events - set(stored)),
                      duplicated=sum(n - 1 for n in stored.values() if n > 1))
    failed = [d for d in deliveries if d["state"] != "delivered"]
    if failed:
        outcome.problems.append(f"{len(failed)} deliveries not delivered: {failed[0]}")
    if outcome.lost:
        outcome.problems.append(f"{outcome.lost} events never stored")
    return outcome, deliveries


def check_platform_fulfillments(stockroom, shop, outcome: Outcome) -> None:
    """The fault-free reference: the platform's final state, which in-order delivery yields
    (each fulfillment here once, same status and latest tracking; stock = initial - live)."""
    snapshot = stockroom.sandbox.shop()
    ours = read_db(lambda: Counter(db.session.scalars(
        select(Fulfillment.remote_id).where(Fulfillment.remote_id.is_not(None)))))
    outcome.duplicated += sum(n - 1 for n in ours.values() if n > 1)
    live_units = Counter()
    sku_of = {}
    for order in snapshot["orders"]:
        for li in order["line_items"]:
            sku_of[li["id"]] = li["sku"]
    for remote in snapshot["fulfillments"]:
        gid = f"gid://shopify/Fulfillment/{remote['id']}"
        f = read_db(lambda: db.session.scalar(select(Fulfillment).where(
            Fulfillment.remote_id == gid)) and (lambda x: (x.status, x.tracking_number))(
            db.session.scalar(select(Fulfillment).where(Fulfillment.remote_id == gid))))
        if f is None and remote["status"] == "CANCELLED":
            continue  # made and canceled on the platform before we heard: no effect here
        if f is None:
            outcome.lost += 1
            outcome.problems.append(f"{gid} is on the platform, not here")
            continue
        status, number = f
        cancelled = remote["status"] == "CANCELLED"
        if cancelled != (status == FulfillmentStatus.CANCELED):
            outcome.problems.append(f"{gid}: {status} here, {remote['status']} there")
        latest = (remote["tracking"] or [{}])[-1].get("number") or ""
        if latest != (number or ""):
            outcome.stale.append(f"{gid}: tracking {number!r} here, {latest!r} there")
        if not cancelled:
            for line in remote["lines"]:
                live_units[sku_of[line["line_item_id"]]] += line["quantity"]
    for sku in SKUS:
        on_hand = read_db(lambda: db.session.scalar(
            select(InventoryLevel.on_hand).join(InventoryItem,
                                                InventoryItem.id == InventoryLevel.item_id)
            .where(InventoryItem.sku == sku, InventoryLevel.location_id == shop.warehouse_id)))
        if on_hand != shop.initial - live_units[sku]:
            outcome.problems.append(f"{sku}: on hand {on_hand}, reference "
                                    f"{shop.initial - live_units[sku]}")


@postgres_in_make_test
def test_webhook_storm_duplicated_shuffled_delayed(stockroom, report):
    """4. A storm of 5,000 deliveries (the issue's figure; RELIABILITY_STORM_DELIVERIES sets
    it): 30% duplicated, all shuffled (reversed in batches of 8), 10% delayed -> every
    event stored once, final state identical to the platform's, which in-order delivery gives.

    Orders placed, fulfilled on the platform, re-tracked twice, a quarter canceled; the rest
    of the storm is stock edits on the platform (stored and deduplicated like the others).
    """
    rng = random.Random(4)
    stockroom.start_app()
    for _ in range(2):
        stockroom.start_worker()
    shop = install(stockroom)
    subscribe_to_stock_edits(stockroom)
    wait_settled(stockroom)
    total = STORM_DELIVERIES
    originals = round(total / 1.3)
    already = len(stockroom.sandbox.deliveries())
    stockroom.sandbox.control("POST", "webhooks/faults", {
        "duplicate": total - originals, "delay": originals // 10, "delay_seconds": 2,
        "reorder": originals, "reorder_batch": 8})

    sandbox = stockroom.sandbox
    placed = place_orders(stockroom, shop, ORDERS, rng=rng)
    made = []
    # The merchant fulfills some on Shopify, re-tracks them, cancels some.
    for order in placed[:PLATFORM_FULFILLMENTS]:
        fo = order["fulfillment_orders"][0]
        made.append(sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
            "fulfillment_order_id": fo["id"], "tracking": {"number": f"A{fo['id']}",
                                                           "company": "UPS"}}))
    for n in range(2):
        for f in made:
            sandbox.control("POST", f"shops/{SHOP}/fulfillments/{f['id']}/tracking",
                            {"number": f"{'BC'[n]}{f['id']}", "company": "UPS"})
    for f in rng.sample(made, PLATFORM_FULFILLMENTS // 4):
        sandbox.control("POST", f"shops/{SHOP}/fulfillments/{f['id']}/cancel", {})
    # The rest of the storm: stock edits on the platform (stored, then nothing to apply).
    # Events, not deliveries: duplicates of earlier deliveries are in the log already.
    padding = originals - len({d["event_id"] for d in sandbox.deliveries()[already:]})
    for _ in range(max(0, padding)):
        sandbox.control("POST", f"shops/{SHOP}/inventory", {
            "sku": rng.choice(SKUS), "location_id": shop.remote["Downtown Store"],
            "delta": rng.choice((-1, 1))})
    sandbox.control("POST", "webhooks/flush")
    order_ids = wait_for_orders(placed)
    wait_settled(stockroom, timeout=300)

    outcome, deliveries = check_intake(stockroom)
    check_platform_fulfillments(stockroom, shop, outcome)
    deliveries = deliveries[already:]
    duplicates = len(deliveries) - len({d["event_id"] for d in deliveries})
    report(scenario="4 webhook storm (dup/shuffle/delay)", events=len(deliveries),
           faults=f"{duplicates} duplicates, {originals // 10} delayed, all shuffled"
           + (f"; {len(outcome.stale)} STALE tracking" if outcome.stale else ""),
           lost=outcome.lost, duplicated=outcome.duplicated)
    assert len(deliveries) >= total * 0.98
    assert outcome.problems == [] and outcome.lost == outcome.duplicated == 0
    assert len(order_ids) == ORDERS
    read_db(assert_invariants)
    # Deliveries about one order apply one at a time (claim_jobs): no tracking number may
    # end up older than Shopify's.
    assert outcome.stale == []


@postgres_in_make_test
def test_app_killed_while_receiving_webhooks(stockroom, report):
    """5. gunicorn's workers are SIGKILLed 4 times during a burst of deliveries (20 orders,
    450 stock edits), then the whole app (master too) is killed and started again -> every
    delivery is stored, or failed and was retried by the platform until stored; none lost,
    none applied twice."""
    rng = random.Random(5)
    stockroom.start_app()
    stockroom.start_worker()
    shop = install(stockroom)
    subscribe_to_stock_edits(stockroom)
    wait_settled(stockroom)
    already = len(stockroom.sandbox.deliveries())
    sandbox = stockroom.sandbox
    placed = place_orders(stockroom, shop, 20, rng=rng)

    def stock_edits(count: int) -> None:
        for _ in range(count):
            sandbox.control("POST", f"shops/{SHOP}/inventory", {
                "sku": rng.choice(SKUS), "location_id": shop.remote["Downtown Store"],
                "delta": rng.choice((-1, 1))})

    kills = 0
    for _ in range(4):  # gunicorn's workers die mid-request; the master starts new ones
        stock_edits(100)
        time.sleep(rng.uniform(0.05, 0.3))
        for pid in stockroom.gunicorn_children():
            stockroom_kill(pid)
            kills += 1
    stock_edits(50)  # then the whole app dies, and is down for a while
    children = stockroom.gunicorn_children()
    stockroom.stop_app(signal.SIGKILL)
    for pid in children:
        stockroom_kill(pid)
    kills += 1 + len(children)
    time.sleep(2)
    stockroom.start_app()
    wait_for_orders(placed)
    wait_settled(stockroom, timeout=180)

    outcome, deliveries = check_intake(stockroom)
    deliveries = deliveries[already:]
    failed_attempts = sum(1 for d in deliveries for a in d["attempts"]
                          if not (a["status"] and 200 <= a["status"] < 300))
    report(scenario="5 app killed while receiving webhooks", events=len(deliveries),
           faults=f"{kills} processes SIGKILLed, {failed_attempts} deliveries failed",
           lost=outcome.lost, duplicated=outcome.duplicated)
    assert failed_attempts > 0, "no delivery was ever refused: the kills missed"
    assert outcome.problems == [] and outcome.lost == outcome.duplicated == 0
    read_db(assert_invariants)


def stockroom_kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


pytestmark = pytest.mark.slow
