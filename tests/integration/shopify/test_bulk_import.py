"""A large shop's catalog through a Shopify bulk operation over real HTTP: started by the
import, resumed by bulk_operations/finish (or by the scheduled poll when that never
comes), the JSONL file stored through the paginated import's upserts."""
from __future__ import annotations

import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import BulkOperation, ChannelListing, ChannelListingLevel, WebhookInbox
from app.sync.schedule import Scheduler
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_catalog import levels_by_location, listings, sandbox_levels
from tests.integration.shopify.test_imports import import_state, override
from tests.integration.shopify.test_install import install_via_admin

VARIANTS = 700  # two batches of bulk.BATCH_VARIANTS: the line checkpoint moves mid-file


def operation() -> BulkOperation | None:
    db.session.expire_all()
    op = db.session.scalars(select(BulkOperation)).one_or_none()
    if op is not None:
        db.session.expunge(op)
    release_session()
    return op


def import_done() -> bool:
    return import_state().get("step") == "done"


def _seed(stockroom) -> None:
    stockroom.sandbox.control("POST", f"shops/{SHOP}/catalog",
                              {"variants": VARIANTS, "products": VARIANTS // 5, "locations": 3})


def test_import_reads_a_large_catalog_through_a_bulk_operation(stockroom):
    override(stockroom, bulk_import_min_variants=100)
    _seed(stockroom)
    install_via_admin(stockroom)
    stockroom.run_worker(until=import_done, timeout=60)
    op = operation()
    assert op.status == "COMPLETED" and op.url and op.object_count > VARIANTS
    assert op.lines_done > 0  # the checkpoint of the first batch (the last one ends the file)
    rows = listings()
    assert len(rows) == VARIANTS + 5
    for sku in ("TOTE-NAT", "MUG-WHT", "SKU-000001", f"SKU-{VARIANTS:06d}"):
        assert levels_by_location(rows[sku]) == sandbox_levels(stockroom, sku), sku
    levels = db.session.scalar(select(func.count()).select_from(ChannelListingLevel))
    state = import_state()
    assert state["counts"]["variants"] == VARIANTS + 5  # each variant stored once
    assert state["counts"]["levels"] == levels
    assert state["variants_total"] == VARIANTS + 5 and "bulk_fallback" not in state
    assert state["counts"]["orders"] == 3  # the open orders step ran after it
    hooks = db.session.scalar(select(func.count()).select_from(WebhookInbox).where(
        WebhookInbox.topic == "bulk_operations/finish", WebhookInbox.status == "done"))
    assert hooks == 1


def test_small_shop_is_imported_by_paging(stockroom):
    install_via_admin(stockroom)  # 5 variants, under the default 10,000
    stockroom.run_worker(until=import_done)
    assert operation() is None and len(listings()) == 5


def test_scheduled_poll_carries_on_when_the_webhook_never_comes(stockroom):
    override(stockroom, bulk_import_min_variants=0)
    stockroom.sandbox.control("POST", "webhooks/faults", {
        "delay": 5, "delay_seconds": 600, "topics": ["bulk_operations/finish"]})
    install_via_admin(stockroom)
    stockroom.run_worker(until=lambda: operation() is not None)
    remote = operation().remote_id
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ops = stockroom.sandbox.control("GET", f"shops/{SHOP}/bulk-operations")
        if next(o for o in ops["bulk_operations"] if o["id"] == remote)["status"] == "COMPLETED":
            break
        time.sleep(0.1)
    stockroom.run_worker()
    assert import_state()["step"] == "products" and import_state()["waiting"]
    assert db.session.scalar(select(func.count()).select_from(ChannelListing)) == 0
    release_session()
    assert Scheduler().tick(force=True) >= 1  # the bulk poll queues the run's continuation
    release_session()
    stockroom.run_worker(until=import_done)
    assert operation().status == "COMPLETED" and len(listings()) == 5


def test_failed_operation_falls_back_to_paging(stockroom):
    override(stockroom, bulk_import_min_variants=0)
    stockroom.sandbox.control("POST", "bulk/pause", {"paused": True})
    install_via_admin(stockroom)
    stockroom.run_worker(until=lambda: operation() is not None)
    # Shopify cancels it (the merchant's staff, support, an expired file: not our doing).
    sandbox = stockroom.sandbox.app.extensions["shopify_sandbox"]
    with sandbox.store.lock:
        remote = next(iter(sandbox.store.bulk_operations.values()))
        remote.cancel_requested, remote.status = True, "CANCELING"
    stockroom.sandbox.control("POST", "bulk/pause", {"paused": False})
    stockroom.run_worker(until=import_done, timeout=30)
    state = import_state()
    assert operation().status == "CANCELED" and state["bulk_fallback"] == "canceled"
    assert len(listings()) == 5 and state["counts"]["variants"] == 5
