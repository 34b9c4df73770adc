"""Webhook intake's one statement: channel found, delivery stored and committed, duplicates skipped."""
import datetime as dt
import socket
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Channel, ChannelStatus, JobStatus, Platform, WebhookInbox
from app.models._common import utcnow
from app.sync.inbox import INSERTED_COLUMNS, InboxUnavailable, store_webhook
from tests.conftest import make_test_app
from tests.fixtures.factories import make_channel, make_merchant

BODY = b'{"id": 1}'


@dataclass(frozen=True)
class ChannelRef:
    id: int
    merchant_id: int
    platform: str
    domain: str


def add_channel(platform=Platform.SHOPIFY) -> ChannelRef:
    """A committed channel, as plain values: reading a model's attributes after the commit
    would start a transaction, which on SQLite holds the write lock the store waits for."""
    channel = make_channel(make_merchant(), platform=platform)
    ref = ChannelRef(channel.id, channel.merchant_id, channel.platform, channel.domain)
    db.session.commit()
    return ref


@pytest.fixture
def channel(app) -> ChannelRef:
    return add_channel()


def _store(app, channel, key, **overrides):
    args = dict(platform=channel.platform, domain=channel.domain, topic="orders/create",
                dedupe_key=key, headers={"X-Shopify-Event-Id": key}, body=BODY,
                order_remote_id="gid://shopify/Order/1")
    return store_webhook(app, **{**args, **overrides})


def _count() -> int:
    count = db.session.scalar(select(func.count()).select_from(WebhookInbox))
    db.session.rollback()  # SQLite: never hold the write lock into the next store
    return count


def test_store_webhook_dedupes_on_event_key(app, channel):
    before = utcnow()
    first = _store(app, channel, "e-1")
    again = _store(app, channel, "e-1", body=b'{"id": 2}')
    other = _store(app, channel, "e-2")
    assert isinstance(first, int) and again is None and isinstance(other, int)
    assert _count() == 2
    row = db.session.get(WebhookInbox, first)
    assert (row.merchant_id, row.channel_id, row.topic, row.dedupe_key, row.body) == \
        (channel.merchant_id, channel.id, "orders/create", "e-1", BODY)  # the first one's body
    assert row.headers == {"X-Shopify-Event-Id": "e-1"}
    assert row.order_remote_id == "gid://shopify/Order/1"
    assert (row.status, row.attempts, row.last_error, row.locked_by) == \
        (JobStatus.PENDING, 0, "", None)
    assert before <= row.received_at <= utcnow() and row.next_attempt_at == row.received_at
    assert row.received_at.tzinfo == dt.UTC


def test_store_webhook_same_event_id_on_two_channels_is_two_deliveries(app, channel):
    second = add_channel()
    assert _store(app, channel, "e-1") is not None and _store(app, second, "e-1") is not None
    assert _count() == 2


def test_store_webhook_unknown_domain_or_other_platform_stores_nothing(app, channel):
    assert _store(app, channel, "e-1", domain="stranger.myshopify.com") is None
    assert _store(app, channel, "e-2", platform=Platform.WOOCOMMERCE) is None
    assert _count() == 0


def test_store_webhook_by_channel_id_only_for_an_active_channel(app, channel):
    store = add_channel(Platform.WOOCOMMERCE)
    by_id = dict(domain=None, platform=Platform.WOOCOMMERCE)
    assert _store(app, store, "wc-1", channel_id=store.id, **by_id) is not None
    assert _store(app, store, "wc-2", channel_id=channel.id, **by_id) is None  # a Shopify one
    db.session.get(Channel, store.id).status = ChannelStatus.UNINSTALLED
    db.session.commit()
    assert _store(app, store, "wc-3", channel_id=store.id, **by_id) is None
    assert _count() == 1
    with pytest.raises(ValueError):
        _store(app, store, "wc-4", channel_id=store.id)  # a domain and an id


def test_store_webhook_fills_every_column_without_a_null_start():
    left_null = {"id", "locked_by", "locked_until", "applied_at"}
    assert set(INSERTED_COLUMNS) | left_null == set(WebhookInbox.__table__.columns.keys())
    assert not set(INSERTED_COLUMNS) & left_null


def database_away(backend: str, folder) -> str:
    """The URL of a database that does not answer (a missing folder, a closed port)."""
    if backend == "sqlite":
        return f"sqlite:///{folder}/no-such-folder/stockroom.sqlite3"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/stockroom"


def test_store_webhook_database_away_raises_inbox_unavailable(backend, tmp_path):
    away = make_test_app(database_away(backend, tmp_path))
    with pytest.raises(InboxUnavailable):
        store_webhook(away, platform=Platform.SHOPIFY, domain="a.myshopify.com",
                      topic="orders/create", dedupe_key="e-1", headers={}, body=BODY)


@pytest.mark.postgres
def test_store_webhook_replaces_a_dead_pooled_connection(app, channel):
    assert _store(app, channel, "e-1") is not None
    # The server ends the pooled intake connection (a restart, an idle timeout, a failover).
    ended = db.session.scalar(text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND query LIKE 'INSERT INTO webhook_inbox%'"))
    db.session.commit()
    # At least the one just used (earlier tests' concurrent deliveries may have left more
    # pooled intake connections in this database: every one of them is ended).
    assert ended >= 1
    assert _store(app, channel, "e-2") is not None  # sent again on a new connection
    assert _store(app, channel, "e-2") is None
    assert _count() == 2
