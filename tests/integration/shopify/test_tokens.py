"""Expiring offline tokens against the sandbox: expiry, refresh on 401 and ahead of time, races."""
import dataclasses
import threading

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, OutboxEvent
from app.platforms.shopify.sync import ShopifyCall
from app.platforms.shopify.tokens import _refresh, access_token_for, read_credentials
from app.sync.schedule import Scheduler
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_install import install_via_admin

SHOP_QUERY = "{ shop { name } }"


def installed(stockroom):
    """Install through the admin and finish the import; returns the channel id."""
    install_via_admin(stockroom)
    stockroom.run_worker()
    channel_id = db.session.scalars(select(Channel.id)).one()
    release_session()
    return channel_id


def stored(channel_id):
    credentials = read_credentials(db.session.get(Channel, channel_id, populate_existing=True))
    release_session()
    return credentials


def works(stockroom, token) -> bool:
    """Whether the sandbox accepts ``token`` (401 answers are no data)."""
    import requests

    resp = requests.post(f"{stockroom.sandbox.https_url}/shops/{SHOP}/admin/api/2026-10/graphql.json",
                         json={"query": SHOP_QUERY}, headers={"X-Shopify-Access-Token": token},
                         verify=stockroom.sandbox.ca_bundle, timeout=10)
    return resp.status_code == 200 and resp.json()["data"]["shop"]["name"] is not None


def test_shopify_call_refreshes_on_401_after_the_token_expired(stockroom):
    channel_id = installed(stockroom)
    before = stored(channel_id)
    stockroom.sandbox.control("POST", "clock", {"advance_seconds": 3700})  # past the hour
    assert not works(stockroom, before.access_token)
    data = ShopifyCall(channel_id)("Locations", {"after": None})
    assert len(data["locations"]["nodes"]) == 4
    after = stored(channel_id)
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # rotated, and the new one persisted
    assert works(stockroom, after.access_token)
    # The rotated refresh token is the live one: refreshing again works.
    assert works(stockroom, access_token_for(stockroom.app.extensions["stockroom.shopify"],
                                             channel_id, force_refresh=True))


def test_scheduled_refresh_rotates_before_expiry(stockroom):
    channel_id = installed(stockroom)
    before = stored(channel_id)
    settings = stockroom.app.extensions["stockroom.shopify"]
    stockroom.app.extensions["stockroom.shopify"] = dataclasses.replace(
        settings, refresh_margin_seconds=3600 - 30)  # "expires within the margin" from now on
    try:
        scheduler = Scheduler()
        scheduler.tick(force=True)
        scheduler.tick(force=True)  # already queued: not twice
        assert refresh_jobs() == [("pending", "")]
        stockroom.run_worker()
    finally:
        stockroom.app.extensions["stockroom.shopify"] = settings
    assert refresh_jobs() == [("done", "access token refreshed")]
    after = stored(channel_id)
    assert after.refresh_token != before.refresh_token
    assert after.expires_at > before.expires_at
    assert works(stockroom, after.access_token)
    # Not due with the normal margin: the next tick queues no refresh.
    Scheduler().tick(force=True)
    assert refresh_jobs() == [("done", "access token refreshed")]


def refresh_jobs():
    jobs = [(j.status, j.last_error) for j in db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "shopify.token_refresh").order_by(OutboxEvent.id))]
    release_session()
    return jobs


def test_lost_refresh_response_does_not_lock_the_shop_out(stockroom):
    """A refresh whose answer never got stored (crash, timeout): the old pair still works."""
    channel_id = installed(stockroom)
    settings = stockroom.app.extensions["stockroom.shopify"]
    before = stored(channel_id)
    _refresh(settings, SHOP, before.refresh_token)  # Shopify rotated; we never saw it
    token = access_token_for(settings, channel_id, force_refresh=True)
    assert works(stockroom, token)
    assert works(stockroom, access_token_for(settings, channel_id, force_refresh=True))


def test_concurrent_refreshes_never_lock_the_shop_out(stockroom):
    """Workers refreshing the same shop at once, round after round: every one ends with a
    working token and the stored refresh token stays live. Each thread has its own app
    context and database session, as separate worker processes would."""
    channel_id = installed(stockroom)
    settings = stockroom.app.extensions["stockroom.shopify"]
    issued = stockroom.sandbox.app.extensions["shopify_sandbox"].store.refresh_tokens
    issued_before = len(issued)
    for _round in range(3):
        barrier = threading.Barrier(4)
        results, errors = [], []

        def worker():
            with stockroom.app.app_context():
                try:
                    barrier.wait(timeout=10)
                    token = access_token_for(settings, channel_id, force_refresh=True)
                    results.append(works(stockroom, token))
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(repr(exc))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == [] and results == [True] * 4
        current = stored(channel_id)
        assert works(stockroom, current.access_token)
    # The race was real: Shopify rotated more often than the three rounds' winners.
    assert len(issued) - issued_before > 3
    # After all the racing, the stored refresh token still rotates.
    assert works(stockroom, access_token_for(settings, channel_id, force_refresh=True))
