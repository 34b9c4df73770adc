"""The channel-adapter contract, one suite run against every adapter (Shopify, WooCommerce
and the test-only manual channel): what the sync core promises whatever the platform.

The first tests need no platform (nothing may be called); the later ones push for real,
each through its platform's harness (conftest.py ``channel``, harness.py): the Shopify and
WooCommerce sandboxes over HTTP, the manual channel's book."""
import datetime as dt

import pytest
from sqlalchemy import delete, select

from app.extensions import db
from app.fulfillment import Tracking, cancel_fulfillment, create_fulfillment, update_tracking
from app.models import (Fulfillment, FulfillmentStatus, InventoryLevel, JobStatus, OrderLine,
                        Origin, OutboxEvent, SyncState, WebhookInbox)
from app.models._common import utcnow
from app.platforms.base import CONTRACT, ChannelAdapter
from app.platforms.registry import contract_gaps, register_handlers
from app.platforms.shopify.adapter import ShopifyAdapter
from app.platforms.woocommerce.adapter import WooCommerceAdapter
from app.sync.handlers import find_outbox_handler
from app.sync.topics import Topic
from app.sync.worker import Worker
from tests.contract.harness import NOT_HELD, UNITS, RemoteFulfillment
from tests.contract.manual import ManualAdapter
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


# Below, every adapter pushes for real: a fulfillment made in Stockroom reaches the
# platform, through the same sync core (app/sync/push.py, lock.py) for all three.

FINISHED = (JobStatus.DONE, JobStatus.DEAD, JobStatus.IGNORED, JobStatus.REJECTED)


def push_of(channel, fulfillment_id: int, topic: Topic) -> int:
    """The id of the fulfillment's newest outbox job of ``topic``."""
    jobs = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.order_id == channel.order_id, OutboxEvent.topic == topic)
        .order_by(OutboxEvent.id.desc())).all()
    job_id = next(job.id for job in jobs if job.payload["fulfillment_id"] == fulfillment_id)
    db.session.remove()
    return job_id


def row_of(model, job_id: int):
    """The job's row as it is now."""
    return db.session.get(model, job_id, populate_existing=True)


def pushed(channel, fulfillment_id: int, topic: Topic) -> OutboxEvent:
    """Run the worker until the fulfillment's push of ``topic`` is finished; its job."""
    job_id = push_of(channel, fulfillment_id, topic)
    channel.run_worker(until=lambda: row_of(OutboxEvent, job_id).status in FINISHED)
    return row_of(OutboxEvent, job_id)


def sync_of(fulfillment_id: int) -> tuple[str | None, SyncState]:
    row = db.session.get(Fulfillment, fulfillment_id, populate_existing=True)
    return row.remote_id, row.sync_state


def fulfillments_of(channel) -> list[tuple[int, Origin, FulfillmentStatus]]:
    return [(f.id, f.origin, f.status) for f in db.session.scalars(
        select(Fulfillment).where(Fulfillment.order_id == channel.order_id)
        .order_by(Fulfillment.id))]


def on_hand_at(channel) -> int:
    """Units of the order's item on hand at the mapped stock location."""
    line = db.session.get(OrderLine, channel.line_id)
    on_hand = db.session.scalar(select(InventoryLevel.on_hand).where(
        InventoryLevel.location_id == channel.location_id,
        InventoryLevel.item_id == line.inventory_item_id))
    db.session.remove()
    return on_hand


def retry_at(job_id: int, when: dt.datetime) -> None:
    """When the failed push's retry is due: the worker runs only when a test asks it to,
    so a retry put off here waits for exactly as long as the test needs."""
    row_of(OutboxEvent, job_id).next_attempt_at = when
    db.session.commit()
    db.session.remove()


def taken_up(delivery: WebhookInbox) -> bool:
    """A worker has had the delivery in hand: applied, failed, or put back with a reason."""
    return delivery.status != JobStatus.PENDING or bool(delivery.last_error)


def held(channel, tracking: str) -> RemoteFulfillment:
    """What the platform holds of a live fulfillment of the whole order with ``tracking``."""
    return RemoteFulfillment(live=True, lines={channel.line_remote_id: UNITS},
                             tracking=(tracking,))


def test_push_of_a_fulfillment_records_the_remote_id_and_marks_synced(channel):
    fulfillment_id = channel.fulfill(Tracking("TRK-1"))
    assert sync_of(fulfillment_id) == (None, SyncState.PENDING)
    db.session.remove()
    done = pushed(channel, fulfillment_id, Topic.FULFILLMENT_CREATED)
    assert done.status == JobStatus.DONE, done.last_error
    assert done.last_error == channel.created_note(fulfillment_id)
    remote_id, state = sync_of(fulfillment_id)
    assert remote_id and state == SyncState.SYNCED
    assert channel.remote_fulfillment(fulfillment_id) == held(channel, "TRK-1")
    assert channel.shipments_on_platform() == 1
    channel.run_worker()  # the platform's news of our own push (its echo) changes nothing
    assert fulfillments_of(channel) == [(fulfillment_id, Origin.APP, FulfillmentStatus.SHIPPED)]
    assert sync_of(fulfillment_id) == (remote_id, SyncState.SYNCED)


def test_push_of_changed_tracking_puts_the_new_number_on_the_platform(channel):
    fulfillment_id = channel.fulfill(Tracking("TRK-1"))
    assert pushed(channel, fulfillment_id, Topic.FULFILLMENT_CREATED).status == JobStatus.DONE
    update_tracking(fulfillment_id, Tracking("TRK-2"), merchant_id=channel.merchant_id)
    db.session.commit()
    assert sync_of(fulfillment_id)[1] == SyncState.PENDING
    db.session.remove()
    done = pushed(channel, fulfillment_id, Topic.FULFILLMENT_TRACKING_UPDATED)
    assert done.status == JobStatus.DONE, done.last_error
    remote_id, state = sync_of(fulfillment_id)
    assert remote_id and state == SyncState.SYNCED
    assert channel.remote_fulfillment(fulfillment_id) == held(channel, "TRK-2")
    assert channel.shipments_on_platform() == 1
    channel.run_worker()
    assert db.session.get(Fulfillment, fulfillment_id).tracking_number == "TRK-2"


def test_push_of_a_cancel_leaves_the_platform_without_a_live_fulfillment(channel):
    fulfillment_id = channel.fulfill(Tracking("TRK-1"))
    assert pushed(channel, fulfillment_id, Topic.FULFILLMENT_CREATED).status == JobStatus.DONE
    remote_id = sync_of(fulfillment_id)[0]
    cancel_fulfillment(fulfillment_id, merchant_id=channel.merchant_id)
    db.session.commit()
    db.session.remove()
    done = pushed(channel, fulfillment_id, Topic.FULFILLMENT_CANCELED)
    assert done.status == JobStatus.DONE, done.last_error
    assert sync_of(fulfillment_id) == (remote_id, SyncState.SYNCED)
    remote = channel.remote_fulfillment(fulfillment_id)
    assert remote is not None and not remote.live
    if channel.platform != "shopify":  # Shopify keeps a canceled fulfillment, as canceled
        assert remote == NOT_HELD
    channel.run_worker()  # the platform's news of the cancel changes nothing here
    assert fulfillments_of(channel) == [(fulfillment_id, Origin.APP, FulfillmentStatus.CANCELED)]


def test_inbound_waits_while_a_push_of_the_order_is_in_flight(channel):
    fulfillment_id = channel.fulfill(Tracking("TRK-1"))
    push_id = push_of(channel, fulfillment_id, Topic.FULFILLMENT_CREATED)
    channel.lose_next_push()
    channel.run_worker(until=lambda: row_of(OutboxEvent, push_id).status == JobStatus.FAILED)
    retry_at(push_id, utcnow() + dt.timedelta(hours=1))  # failed, waiting for its retry
    assert sync_of(fulfillment_id) == (None, SyncState.PENDING)
    db.session.remove()

    inbound = channel.deliver_platform_change()
    assert inbound
    channel.run_worker(until=lambda: all(taken_up(row_of(WebhookInbox, i)) for i in inbound))
    for inbox_id in inbound:
        row = row_of(WebhookInbox, inbox_id)
        assert (row.status, row.attempts) == (JobStatus.PENDING, 0), row.last_error
        assert "in flight" in row.last_error
    assert row_of(OutboxEvent, push_id).status == JobStatus.FAILED
    db.session.remove()

    retry_at(push_id, utcnow())
    channel.run_worker(until=lambda: row_of(OutboxEvent, push_id).status in FINISHED and all(
        row_of(WebhookInbox, i).status in FINISHED for i in inbound))
    done = row_of(OutboxEvent, push_id)
    assert done.status == JobStatus.DONE, done.last_error
    for inbox_id in inbound:
        row = row_of(WebhookInbox, inbox_id)
        assert row.status == JobStatus.DONE, row.last_error
    remote_id, state = sync_of(fulfillment_id)
    assert remote_id and state == SyncState.SYNCED
    assert fulfillments_of(channel) == [(fulfillment_id, Origin.APP, FulfillmentStatus.SHIPPED)]
    assert channel.remote_fulfillment(fulfillment_id) == held(channel, "TRK-1")
    assert channel.shipments_on_platform() == 1


def test_a_fulfillment_made_on_the_platform_is_recorded_once_with_stock_at_the_mapping(channel):
    stocked = on_hand_at(channel)
    channel.fulfill_on_platform()
    channel.run_worker(until=lambda: fulfillments_of(channel))
    channel.run_worker()  # its echoes and follow-ups too
    [(fulfillment_id, origin, status)] = fulfillments_of(channel)
    assert origin == Origin.PLATFORM
    f = row_of(Fulfillment, fulfillment_id)
    # The same rule on every platform: with tracking it is Shipped, and packed there.
    assert (status == FulfillmentStatus.SHIPPED) == bool(f.tracking_number)
    assert (f.packed_at is not None) == bool(f.tracking_number)
    assert f.location_id == channel.location_id  # the platform location's mapping
    assert {fl.order_line_id: fl.quantity for fl in f.lines} == {channel.line_id: UNITS}
    assert on_hand_at(channel) == stocked - UNITS
    # Made there: nothing of it is pushed back.
    assert [e.topic for e in db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.order_id == channel.order_id, OutboxEvent.topic.like("fulfillment.%")))
        if e.payload.get("source") == str(Origin.APP)] == []
    db.session.remove()

    channel.deliver_platform_change()  # more news of the same order: still one
    channel.run_worker()
    assert [row[0] for row in fulfillments_of(channel)] == [fulfillment_id]
    assert on_hand_at(channel) == stocked - UNITS
