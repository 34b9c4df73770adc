"""Bench 8: production's topology on one machine, faults included.

Two gunicorn nodes (2 sync workers each, different ports) on one PostgreSQL behind a small
proxy (tests/reliability/proxy.py), three `flask worker`s, the Shopify sandbox as its own
process on the standard plan (100 points/s, shared by every worker through the rate-limit
row). ``BENCH_TOPOLOGY_ORDERS`` orders (default 200) are placed; their webhooks come
through the proxy; as they arrive four merchants fulfill each twice over through the real
form, against stock below demand. Run twice in the same bench: without faults (the
reference), then with a worker SIGKILLed a third of the way and a web node (master and
workers) halfway. Prints the time until everything settled, fulfill answers, lost /
duplicated / oversold, and THROTTLED answers per 1,000 API calls of every process
together. The scenario and its checks are tests/reliability/topology.py's (the same code
test_topology.py asserts on).
"""
from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

from bench.common import database
from bench.report import Figure, Results

ORDERS = int(os.environ.get("BENCH_TOPOLOGY_ORDERS", "200"))
SETTING = ("2 gunicorn nodes (2 workers each) behind a proxy, 3 flask workers, PostgreSQL, "
           "Shopify sandbox standard plan")


def _one_run(kill: bool) -> dict:
    from app.extensions import db
    from tests.conftest import make_test_app
    from tests.fixtures.invariants import assert_invariants
    from tests.reliability.harness import Sandbox, install, read_db
    from tests.reliability.test_webhook_faults import check_intake
    from tests.reliability.topology import Topology, storm

    with database("postgresql", "topology") as url, \
            tempfile.TemporaryDirectory(prefix="stockroom-topology-") as tmp:
        sandbox = Sandbox(Path(tmp))
        app = make_test_app(url)
        topology = Topology(url, sandbox, Path(tmp) / "processes")
        topology.tmp.mkdir()
        try:
            sandbox.reset(topology.url)
            with app.app_context():
                topology.start_app()
                for _ in range(3):
                    topology.start_worker()
                shop = install(topology, initial=60, plan="standard")
                result = storm(topology, shop, orders=ORDERS, clients=4,
                               rng=random.Random(8), kill=kill)
                intake, _ = check_intake(topology)
                oversold = []
                try:
                    read_db(assert_invariants)
                except AssertionError as exc:
                    oversold.append(str(exc))
                db.session.remove()
                db.engine.dispose()
        finally:
            topology.stop()
            sandbox.stop()
    return {"result": result, "intake": intake, "oversold": oversold}


def run(results: Results) -> None:
    """The reference run, then the run with kills."""
    runs = {kill: _one_run(kill) for kill in (False, True)}
    ref = runs[False]["result"]
    for kill, figures in runs.items():
        r, intake = figures["result"], figures["intake"]
        lost = r.outcome.lost + intake.lost
        duplicated = r.outcome.duplicated + intake.duplicated
        oversold = len(figures["oversold"])
        per_1000 = 1000 * r.throttled / r.calls if r.calls else 0.0
        answers = ", ".join(f"{n} {k}" for k, n in sorted(r.fulfill_attempts.items()))
        label = "SIGKILL a worker and a web node mid-run" if kill else "no faults"
        results.add(Figure(
            "8 topology", f"storm + contended fulfill, {label}", SETTING,
            f"{r.orders} orders, {r.deliveries} webhook deliveries, {r.calls} API calls in "
            f"{r.seconds:.0f} s; lost {lost}, duplicated {duplicated}, oversold {oversold}; "
            f"THROTTLED {r.throttled} ({per_1000:.1f} per 1,000 calls)",
            reference=(f"no faults: {ref.seconds:.0f} s, {ref.calls} calls, "
                       f"{ref.throttled} THROTTLED") if kill else "",
            bar="0 lost, 0 duplicated, 0 oversold, <= 5 THROTTLED per 1,000 calls",
            met=(not r.errors and lost == 0 and duplicated == 0 and oversold == 0
                 and per_1000 <= 5),
            note=(f"fulfill answers: {answers}; proxy: {r.proxy.get('forwarded')} forwarded "
                  f"(per node {r.proxy.get('per_node')}), {r.proxy.get('bad_gateway')} "
                  f"answered 502 (the node died with the request), "
                  f"{r.proxy.get('refused_skipped')} skipped a refusing node"
                  + (f"; faults: {'; '.join(r.killed)}" if r.killed else "")
                  + (f"; problems: {r.outcome.problems[:3]} {figures['oversold'][:1]}"
                     if r.outcome.problems or figures["oversold"] else "")
                  + (f"; errors: {r.errors[:2]}" if r.errors else ""))))


if __name__ == "__main__":
    from bench.common import machine

    out = Results(machine())
    run(out)
    print(out.markdown())
