"""The inventory fan-out: which platform quantities a stock change makes stale."""
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelListing, ChannelLocation, ChannelStatus, InventoryPushState, OutboxEvent
from app.stock import adjust_stock
from app.stock.push import (PUSH_TOPIC, mark_dirty, pending_batch, pending_pushes,
                             record_pushed)
from tests.fixtures.factories import (confirm_stock, make_channel, make_item, make_location,
                                      make_merchant, stock)


def _setup():
    merchant = make_merchant()
    here, there = make_location(merchant, "Here"), make_location(merchant, "There")
    item, other = make_item(merchant, "A-1"), make_item(merchant, "B-2")
    stock(here, item, 5)
    channel = make_channel(merchant)
    mapped = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id, remote_id="L1",
                             stock_location_id=here.id)
    unmapped = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id, remote_id="L2")
    db.session.add_all([mapped, unmapped])
    confirm_stock(mapped)
    for i, it in enumerate((item, other)):
        db.session.add(ChannelListing(merchant_id=merchant.id, channel_id=channel.id,
                                      remote_variant_id=f"V{i}", remote_inventory_item_id=f"I{i}",
                                      sku=it.sku, inventory_item_id=it.id))
    db.session.flush()
    return merchant, here, there, item, other, channel


def _push_jobs(channel_id):
    return db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == PUSH_TOPIC, OutboxEvent.channel_id == channel_id)).all()


def test_mark_dirty_only_mapped_location_and_changed_item(app):
    merchant, here, there, item, other, channel = _setup()
    assert mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id]) == {channel.id}
    pending = pending_pushes(channel.id, limit=10)
    assert [(p.sku, p.location_remote_id, p.quantity) for p in pending] == [("A-1", "L1", 5)]
    # Another location's change touches nothing.
    assert mark_dirty(merchant.id, location_id=there.id, item_ids=[item.id]) == set()


def test_mark_dirty_coalesces_into_one_waiting_job(app):
    merchant, here, _, item, other, channel = _setup()
    for _ in range(3):
        mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id, other.id])
    assert len(_push_jobs(channel.id)) == 1
    assert len(pending_pushes(channel.id, limit=10)) == 2


def test_record_pushed_keeps_change_made_during_push_dirty(app):
    merchant, here, _, item, _, channel = _setup()
    mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id])
    read = pending_pushes(channel.id, limit=10)
    adjust_stock(merchant.id, here.id, item.id, delta=-2, reason="damaged")  # lands mid-push
    mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id])
    record_pushed(read)
    again = pending_pushes(channel.id, limit=10)
    assert [(p.sku, p.quantity, p.remote_quantity) for p in again] == [("A-1", 3, 5)]
    record_pushed(again)
    assert pending_pushes(channel.id, limit=10) == []


def test_mark_dirty_skips_inactive_channel(app):
    merchant, here, _, item, _, channel = _setup()
    channel.status = ChannelStatus.UNINSTALLED
    db.session.flush()
    assert mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id]) == set()
    assert db.session.scalar(select(InventoryPushState.id)) is None


def test_fan_out_merges_waiting_stock_changes(app):
    from app.sync.worker import Worker
    merchant, here, there, item, other, channel = _setup()
    stock(there, other, 2)
    for delta in (-1, -1, -1):
        adjust_stock(merchant.id, here.id, item.id, delta=delta, reason="damaged")
    adjust_stock(merchant.id, here.id, other.id, delta=4, reason="received")
    channel_id = channel.id
    db.session.commit()
    worker = Worker(app, worker_id="w", poll_seconds=0.01)
    job = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "inventory.levels_changed").order_by(OutboxEvent.id))
    db.session.commit()
    from app.sync.queue import claim_jobs
    claimed = claim_jobs(OutboxEvent, worker_id="w", limit=1, lease_seconds=30)
    db.session.commit()
    assert [c.id for c in claimed] == [job.id]
    worker.run_job(claimed[0])
    db.session.remove()
    changes = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "inventory.levels_changed")).all()
    assert {c.status for c in changes} == {"done"} and len(changes) >= 5
    assert sorted((p.sku, p.quantity) for p in pending_pushes(channel_id, limit=10)) == [
        ("A-1", 2), ("B-2", 4)]
    assert len(_push_jobs(channel_id)) == 1


def test_mark_dirty_counts_each_change_once_per_row(app):
    merchant, here, _, item, other, channel = _setup()
    mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id, other.id])
    mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id])
    generations = dict(db.session.execute(
        select(ChannelListing.sku, InventoryPushState.generation)
        .join(ChannelListing, ChannelListing.id == InventoryPushState.listing_id)).all())
    assert generations == {"A-1": 2, "B-2": 1}  # only the mapped location got rows


def test_pending_batch_moves_past_rows_it_cannot_push(app):
    merchant, here, _, item, other, channel = _setup()
    mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id, other.id])
    # The first row's listing lost its item after it was marked: it can't be pushed.
    listing = db.session.scalar(select(ChannelListing).where(ChannelListing.sku == "A-1"))
    listing.inventory_item_id = None
    db.session.flush()
    first_id, second_id = db.session.scalars(
        select(InventoryPushState.id).order_by(InventoryPushState.id)).all()
    rows, last = pending_batch(channel.id, limit=1)
    assert (rows, last) == ([], first_id)  # nothing to push, but the reader moves on
    rows, last = pending_batch(channel.id, limit=1, after_id=last)
    assert [(r.sku, r.quantity) for r in rows] == [("B-2", 0)] and last == second_id
    assert pending_batch(channel.id, limit=1, after_id=last) == ([], None)


def test_push_rounds_goes_on_after_a_batch_the_platform_adjustment_dropped(app):
    from app.stock.push import record_push_failed
    from app.sync.queue import Job
    from app.sync.rounds import push_rounds

    merchant, here, _, item, other, channel = _setup()
    mark_dirty(merchant.id, location_id=here.id, item_ids=[item.id, other.id])
    db.session.commit()
    sent = []

    def adjust(_, rows):  # as Shopify does for a variant without an inventory item
        dropped = [r for r in rows if r.sku == "A-1"]
        record_push_failed(dropped, "no inventory item")
        return [r for r in rows if r.sku != "A-1"]

    def push(rows):
        sent.extend(r.sku for r in rows)
        return rows, {}

    job = Job(model=OutboxEvent, id=0, merchant_id=merchant.id, channel_id=channel.id,
              topic=PUSH_TOPIC, attempts=1)
    assert push_rounds(job, limit=1, adjust=adjust, push=push) == "pushed 1 quantity"
    assert sent == ["B-2"]
    assert pending_pushes(channel.id, limit=10) == []
