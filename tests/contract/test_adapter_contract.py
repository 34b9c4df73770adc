"""The channel-adapter contract, one suite run against every adapter (Shopify, WooCommerce
and the test-only manual channel): what the sync core promises whatever the platform."""
import datetime as dt

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.fulfillment import Tracking, create_fulfillment, update_tracking
from app.models import Fulfillment, JobStatus, Origin, OutboxEvent, SyncState, WebhookInbox
from app.models._common import utcnow
from app.platforms.base import CONTRACT, ChannelAdapter
from app.platforms.registry import contract_gaps, register_handlers
from app.platforms.shopify.adapter import ShopifyAdapter
from app.platforms.woocommerce.adapter import WooCommerceAdapter
from app.sync.handlers import find_outbox_handler
from app.sync.topics import Topic
from app.sync.worker import Worker
from tests.contract.manual import SHIPPED, ManualAdapter
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order, stock)

ADAPTERS = [ShopifyAdapter(), WooCommerceAdapter(), ManualAdapter()]
PUSH_TOPICS = [t for t, _ in CONTRACT if t.startswith("fulfillment.")]


@pytest.fixture
def adapter(app, request):
    register_handlers((ManualAdapter(),))  # the real ones are registered by create_app
    return request.param


def fulfillment_on(adapter, *, remote_id=None):
    """A fulfillment made in Stockroom on a channel of the adapter's platform, with no job
    queued yet (each test queues the one it is about)."""
    merchant = make_merchant()
    location, item = make_location(merchant), make_item(merchant)
    stock(location, item, 5)
    order = make_order(make_channel(merchant, adapter.platform), [(item, 2)])
    f = create_fulfillment(order, {order.lines[0].id: 2}, location, merchant_id=merchant.id,
                           tracking=Tracking("TRK-1"))
    f.remote_id = remote_id
    db.session.execute(delete(OutboxEvent))
    db.session.commit()
    return f


def queue(f, topic, source=Origin.APP):
    db.session.add(OutboxEvent(merchant_id=f.merchant_id, channel_id=f.channel_id,
                               order_id=f.order_id, topic=topic,
                               payload={"fulfillment_id": f.id, "source": str(source)}))
    db.session.commit()


def run_worker(app) -> OutboxEvent:
    Worker(app, worker_id="w-contract").run_pass()
    return db.session.scalars(select(OutboxEvent).execution_options(
        populate_existing=True)).one()


def state_of(f):
    row = db.session.get(Fulfillment, f.id, populate_existing=True)
    return row.remote_id, row.sync_state


parametrize_adapters = pytest.mark.parametrize("adapter", ADAPTERS, indirect=True,
                                               ids=lambda a: a.platform)


@parametrize_adapters
def test_adapter_implements_the_contract(adapter):
    assert isinstance(adapter, ChannelAdapter)
    assert contract_gaps(adapter) == []
    for topic, method in CONTRACT:
        assert find_outbox_handler(topic, adapter.platform).__name__ == method


@parametrize_adapters
@pytest.mark.parametrize("topic", PUSH_TOPICS)
def test_push_of_a_platform_change_is_never_sent_back(app, adapter, topic):
    # Done without any call: none of these channels has credentials or a reachable store,
    # so an attempt to call the platform would fail the job.
    f = fulfillment_on(adapter, remote_id="R-1")
    before = state_of(f)
    queue(f, topic, source=Origin.PLATFORM)
    job = run_worker(app)
    assert job.status == JobStatus.DONE, job.last_error
    assert "nothing to push" in job.last_error
    assert state_of(f) == before


@parametrize_adapters
def test_push_of_a_fulfillment_already_on_the_platform_is_not_made_twice(app, adapter):
    f = fulfillment_on(adapter, remote_id="R-1")
    queue(f, Topic.FULFILLMENT_CREATED)
    job = run_worker(app)
    assert job.status == JobStatus.DONE, job.last_error
    assert "R-1" in job.last_error
    assert state_of(f)[0] == "R-1"


@parametrize_adapters
def test_cancel_of_a_fulfillment_never_pushed_calls_nothing(app, adapter):
    f = fulfillment_on(adapter)
    queue(f, Topic.FULFILLMENT_CANCELED)
    job = run_worker(app)
    assert job.status == JobStatus.DONE, job.last_error
    assert "never reached" in job.last_error or "not in the book" in job.last_error
    assert state_of(f) == (None, SyncState.PENDING)


# The manual channel has nowhere to call: its whole path runs here, every step through
# the same sync core the two platforms use.

def test_manual_push_records_the_remote_id_and_marks_synced(app):
    adapter = ManualAdapter()
    register_handlers((adapter,))
    f = fulfillment_on(adapter)
    queue(f, Topic.FULFILLMENT_CREATED)
    job = run_worker(app)
    assert (job.status, job.last_error) == (JobStatus.DONE,
                                            f"written in the book as manual:{f.id}")
    assert state_of(f) == (f"manual:{f.id}", SyncState.SYNCED)
    assert SHIPPED[f"manual:{f.id}"]["lines"] == {f.order.lines[0].remote_id: 2}

    update_tracking(f.id, Tracking("TRK-2"), merchant_id=f.merchant_id)
    db.session.execute(delete(OutboxEvent).where(OutboxEvent.status == JobStatus.DONE))
    db.session.commit()
    assert state_of(f)[1] == SyncState.PENDING
    assert run_worker(app).status == JobStatus.DONE
    assert SHIPPED[f"manual:{f.id}"]["tracking"] == "TRK-2"
    assert state_of(f) == (f"manual:{f.id}", SyncState.SYNCED)


def test_manual_inbound_waits_while_a_push_is_in_flight(app):
    adapter = ManualAdapter()
    register_handlers((adapter,))
    f = fulfillment_on(adapter)
    queue(f, Topic.FULFILLMENT_CREATED)
    db.session.add(WebhookInbox(merchant_id=f.merchant_id, channel_id=f.channel_id,
                                topic="shipment.noted",
                                dedupe_key="n-1", headers={}, body=b"{}"))
    db.session.commit()
    outbox = db.session.scalars(select(OutboxEvent)).one()
    outbox.status = JobStatus.FAILED  # waiting for its retry: still holding the sync lock
    outbox.next_attempt_at = utcnow() + dt.timedelta(hours=1)
    db.session.commit()
    Worker(app, worker_id="w-contract").run_pass()
    inbox = db.session.scalars(select(WebhookInbox).execution_options(
        populate_existing=True)).one()
    assert (inbox.status, inbox.attempts) == (JobStatus.PENDING, 0)
    assert "in flight" in inbox.last_error
