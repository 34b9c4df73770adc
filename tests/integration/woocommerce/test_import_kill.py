"""The connect import survives its worker being SIGKILLed midway: the next worker takes the
job over when its lease runs out and resumes at the checkpoint; nothing is created twice."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import ChannelListing, ChannelListingLevel, JobStatus, OutboxEvent
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.integration.woocommerce.conftest import (Owner, make_owner_location,
                                                    release_session, woo_channel)

REPO = Path(__file__).resolve().parents[3]
PRODUCTS = 3000  # 30 pages: the kill lands well inside the products step


def import_state() -> dict:
    release_session()
    channel = woo_channel()
    state = dict(((channel.sync_cursors or {}) if channel else {}).get("import") or {})
    release_session()
    return state


def start_worker(database_url: str, sandbox, log) -> subprocess.Popen:
    """`flask worker` as its own process, configured from the environment like production
    (but for the sandbox origin allowed, and a 2-second lease)."""
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="test",
               STOCKROOM_ENCRYPTION_KEYS=TEST_ENCRYPTION_KEY, PYTHONPATH=str(REPO),
               WOOCOMMERCE_SANDBOX_ORIGINS=f"{sandbox.http_url},{sandbox.https_url}",
               WOOCOMMERCE_CA_BUNDLE=sandbox.ca_bundle, SYNC_LEASE_SECONDS="2",
               WOOCOMMERCE_IMPORT_PAGES_PER_JOB="1000")
    return subprocess.Popen([str(Path(sys.executable).parent / "flask"), "--app", "wsgi",
                             "worker", "--batch", "1", "--poll", "0.05"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def test_import_resumes_after_the_worker_is_killed(stockroom, database_url, tmp_path):
    sandbox = stockroom.sandbox
    sandbox.control("POST", "/stores/demo-store/catalog",
                    json={"products": PRODUCTS, "variations": 0, "prefix": "KILL"})
    owner = Owner(stockroom)
    merchant_id = owner.sign_up()
    make_owner_location(merchant_id)
    assert owner.approve(sandbox.store_url()).url.endswith("/connections")
    log = (tmp_path / "worker.log").open("w")
    worker = start_worker(database_url, sandbox, log)
    try:
        deadline = time.monotonic() + 60
        while not (import_state().get("step") == "products"
                   and import_state().get("page", 0) >= 5):
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the import did not reach page 5"
            time.sleep(0.02)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        log.close()
    killed_at = import_state()
    assert killed_at["step"] == "products", killed_at  # killed midway, not after the end
    job = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "channel.connected"))
    assert job.status != JobStatus.DONE and job.locked_by  # its lease still names the dead one
    release_session()
    time.sleep(2.5)  # the lease runs out
    stockroom.run_worker(until=lambda: import_state().get("step") == "done", timeout=120)
    state = import_state()
    assert state["run"] == killed_at["run"]  # the same run, resumed
    assert state["counts"]["products"] == PRODUCTS + 6  # each page counted once
    total = PRODUCTS + 9  # generated simple products + the seeded 4 simple and 5 variations
    rows = db.session.execute(select(func.count(), func.count(func.distinct(
        ChannelListing.remote_variant_id))).select_from(ChannelListing)).one()
    assert tuple(rows) == (total, total)
    assert db.session.scalar(select(func.count()).select_from(ChannelListingLevel)) == total
    job = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "channel.connected"))
    assert job.status == JobStatus.DONE and job.attempts >= 2
