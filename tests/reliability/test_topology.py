"""Scenario 10: production's topology (2 web nodes behind a proxy, 3 workers, one PostgreSQL)
through a webhook storm and contended fulfillments, a worker and a web node SIGKILLed."""
from __future__ import annotations

import os
import random

import pytest

from tests.fixtures.invariants import assert_invariants
from tests.reliability.harness import install, read_db
from tests.reliability.test_webhook_faults import check_intake
from tests.reliability.topology import Topology, storm

#: At most this many THROTTLED answers per 1,000 calls, every worker and node together.
THROTTLED_PER_1000 = 5
ORDERS = int(os.environ.get("RELIABILITY_TOPOLOGY_ORDERS", "60"))


@pytest.fixture
def topology(stockroom, tmp_path):
    """The suite's Stockroom handle, as two nodes behind a proxy (same database, sandbox)."""
    handle = Topology(stockroom.database_url, stockroom.sandbox, tmp_path / "topology")
    handle.tmp.mkdir()
    stockroom.sandbox.reset(handle.url)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.mark.postgres
def test_two_nodes_three_workers_storm_and_contention_with_kills(topology, report):
    topology.start_app()
    for _ in range(3):
        topology.start_worker()
    # Standard plan (100 points/s): the three workers share one bucket; stock below demand.
    shop = install(topology, initial=25, plan="standard")
    result = storm(topology, shop, orders=ORDERS, clients=4, rng=random.Random(10))

    assert result.errors == []
    intake, _ = check_intake(topology)
    outcome = result.outcome
    outcome.lost += intake.lost
    outcome.duplicated += intake.duplicated
    outcome.problems += intake.problems
    report(scenario="10 two nodes + proxy, 3 workers, kills", events=result.deliveries,
           faults="; ".join(result.killed) + f"; {result.throttled} THROTTLED of "
           f"{result.calls} API calls", lost=outcome.lost, duplicated=outcome.duplicated)
    assert len(result.killed) == 2
    assert outcome.problems == [] and outcome.lost == 0 and outcome.duplicated == 0
    read_db(assert_invariants)  # no level below zero, ledger == level, no line over-fulfilled
    # Both clients of every order got an answer: at most one created, the other refused
    # (stock short, the race lost, or nothing left): contended, never lost or doubled.
    assert result.fulfill_attempts["created"] > 0
    assert sum(result.fulfill_attempts.values()) == 2 * result.orders, result.fulfill_attempts
    assert set(result.fulfill_attempts) <= {"created", "refused", "nothing left"}, \
        result.fulfill_attempts
    assert result.fulfill_attempts["created"] == len(result.fulfillment_ids)
    # The web node's death was seen by the proxy and absorbed; both nodes served.
    assert all(n > 0 for n in result.proxy["per_node"].values()), result.proxy
    assert result.calls > 0
    assert result.throttled * 1000 <= THROTTLED_PER_1000 * result.calls, \
        f"{result.throttled} THROTTLED in {result.calls} calls"
