"""Scenario 9: the catalog import's worker is SIGKILLed mid-products; another worker resumes it."""
from __future__ import annotations

import signal

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, ChannelListing, ChannelListingLevel, ChannelLocation
from tests.integration.shopify.conftest import iframe_src, parse_form
from tests.reliability.harness import CLIENT_ID, SHOP, read_db, wait_until

VARIANTS = 1200


def _import_state() -> dict:
    return read_db(lambda: dict((db.session.scalar(select(Channel)).sync_cursors or {})
                                .get("import") or {}))


def _install(stockroom) -> None:
    """The managed install in the sandbox admin, as a merchant does it."""
    sandbox = stockroom.sandbox
    browser = requests.Session()
    consent = browser.get(f"{sandbox.http_url}/store/{SHOP}/apps/{CLIENT_ID}", timeout=10)
    form = parse_form(consent.text)
    frame = browser.post(sandbox.http_url + form.action,
                         data={**form.fields, "decision": "approve"}, timeout=10)
    assert browser.get(iframe_src(frame.text), allow_redirects=False,
                       timeout=20).status_code == 302


def test_catalog_import_resumes_after_its_worker_is_killed(stockroom, report):
    sandbox = stockroom.sandbox
    sandbox.control("POST", f"shops/{SHOP}/catalog", {"variants": VARIANTS, "products": 240,
                                                      "locations": 2, "prefix": "CAT"})
    sandbox.control("POST", f"shops/{SHOP}/plan", {"plan": "plus"})
    # Small pages, one long job: the kill lands in the middle of it.
    stockroom.settings.update(SHOPIFY_IMPORT_PAGE_SIZE="20", SHOPIFY_IMPORT_PAGES_PER_JOB="1000")
    stockroom.start_app()
    first = stockroom.start_worker()
    _install(stockroom)
    wait_until(lambda: _import_state().get("step") == "products"
               and _import_state()["counts"].get("variants", 0) >= 300,
               timeout=120, what="the products step to be well under way")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = _import_state()
    assert at_kill["step"] == "products" and at_kill["after"]
    stockroom.start_worker()  # claims the job once its lease (10 s) has run out
    wait_until(lambda: _import_state().get("step") == "done", timeout=180,
               what="the import to finish after the kill")
    total = VARIANTS + 5  # the shop's 5 seeded variants too
    state = _import_state()

    def stored():
        return (db.session.scalar(select(func.count()).select_from(ChannelListing)),
                db.session.scalar(select(func.count(func.distinct(
                    ChannelListing.remote_variant_id)))),
                db.session.scalar(select(func.count()).select_from(ChannelListingLevel)),
                db.session.scalar(select(func.count()).select_from(ChannelLocation)))
    listings, distinct, levels, locations = read_db(stored)
    assert state["counts"]["variants"] == total  # every page counted once
    assert listings == distinct == total  # nothing created twice
    assert levels == 5 * 4 + VARIANTS * 2 == state["counts"]["levels"]
    assert locations == 4
    attempts = [a for a in stockroom.job_attempts() if a.get("topic") == "channel.installed"]
    report(scenario="9 catalog import, worker SIGKILLed", events=total,
           faults=f"1 worker SIGKILLed at {at_kill['counts']['variants']} variants",
           lost=total - listings, duplicated=listings - distinct)
    assert len(attempts) >= 1  # the second worker finished the killed worker's job


pytestmark = pytest.mark.slow
