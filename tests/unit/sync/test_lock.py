"""The sync lock: an order's unfinished fulfillment pushes hold it, nothing else does."""
import pytest

from app.extensions import db
from app.models import JobStatus, OutboxEvent
from app.sync.lock import orders_with_push_in_flight, push_in_flight
from app.sync.topics import FULFILLMENT_TOPICS, Topic
from tests.fixtures.factories import make_channel, make_merchant, make_order


@pytest.fixture
def world(app):
    merchant = make_merchant()
    channels = [make_channel(merchant), make_channel(merchant)]
    orders = [make_order(channels[0], [(None, 1)]), make_order(channels[0], [(None, 1)]),
              make_order(channels[1], [(None, 1)])]
    db.session.commit()
    return merchant, orders


def add_event(merchant, order, topic, status=JobStatus.PENDING):
    db.session.add(OutboxEvent(merchant_id=merchant.id, channel_id=order.channel_id,
                               order_id=order.id, topic=topic, payload={}, status=status))
    db.session.commit()


@pytest.mark.parametrize("topic", FULFILLMENT_TOPICS)
@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.FAILED])
def test_push_in_flight_unfinished_push_holds_its_order_only(world, topic, status):
    merchant, orders = world
    add_event(merchant, orders[0], topic, status)
    assert push_in_flight(orders[0].id)
    assert not push_in_flight(orders[1].id)
    assert orders_with_push_in_flight(orders[0].channel_id) == {orders[0].id}
    assert orders_with_push_in_flight(orders[2].channel_id) == set()


@pytest.mark.parametrize("status", [JobStatus.DONE, JobStatus.DEAD])
def test_push_in_flight_finished_push_releases(world, status):
    merchant, orders = world
    add_event(merchant, orders[0], Topic.FULFILLMENT_CREATED, status)
    assert not push_in_flight(orders[0].id)
    assert orders_with_push_in_flight(orders[0].channel_id) == set()


def test_push_in_flight_other_topics_hold_nothing(world):
    merchant, orders = world
    add_event(merchant, orders[0], Topic.ORDER_REFUND_RECORDED)
    assert not push_in_flight(orders[0].id)
    assert orders_with_push_in_flight(orders[0].channel_id) == set()


def test_topic_values_are_the_stored_strings():
    assert Topic.FULFILLMENT_CREATED == "fulfillment.created"
    assert f"{Topic.SHOPIFY_RECONCILE}" == "shopify.reconcile"
    assert len(FULFILLMENT_TOPICS) == 5
