"""Fixtures of the fault-injection suite (real processes) and its summary table."""
from __future__ import annotations

import time

import pytest

from app.extensions import db
from tests.conftest import make_test_app, truncate_all
from tests.reliability.harness import Sandbox, Stockroom

#: One row per scenario run, printed by pytest_terminal_summary.
RESULTS: list[dict] = []


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The Shopify sandbox as its own OS process, for the whole run (reset per test)."""
    handle = Sandbox(tmp_path_factory.mktemp("sandbox"))
    yield handle
    handle.stop()


@pytest.fixture
def stockroom(database_url, sandbox, tmp_path):
    """Stockroom's processes on the test database (started by each scenario), with the test's
    own app context for setup and for reading the final state."""
    app = make_test_app(database_url)
    handle = Stockroom(database_url, sandbox, tmp_path)
    sandbox.reset(handle.url)
    with app.app_context():
        try:
            yield handle
        finally:
            handle.stop()
            db.session.remove()
            truncate_all()
            db.engine.dispose()


@pytest.fixture
def report(request, backend):
    """Record a scenario's figures for the summary table: report(events=..., faults=..., ...)."""
    started = time.monotonic()

    def record(*, scenario: str, events: int, faults: str, lost: int, duplicated: int) -> None:
        RESULTS.append({"scenario": scenario, "backend": backend, "events": events,
                        "faults": faults, "lost": lost, "duplicated": duplicated,
                        "seconds": time.monotonic() - started})
    return record


def pytest_terminal_summary(terminalreporter):
    """The figures, not just "passed": one line per scenario run."""
    if not RESULTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability: fault-injection summary")
    header = f"{'scenario':<44} {'db':<10} {'events':>7}  {'faults injected':<44} {'lost':>4} " \
             f"{'dup':>4} {'s':>5}"
    write(header)
    write("-" * len(header))
    for r in RESULTS:
        write(f"{r['scenario']:<44} {r['backend']:<10} {r['events']:>7}  {r['faults']:<44} "
              f"{r['lost']:>4} {r['duplicated']:>4} {r['seconds']:>5.0f}")
