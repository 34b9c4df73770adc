"""Inbound domain commands: each platform change applied once, at the mapped location, and
never pushed back."""
import pytest
from sqlalchemy import select

from app.extensions import db
from app.fulfillment import Tracking, cancel_fulfillment, create_fulfillment, mark_delivered
from app.models import ChannelLocation, Fulfillment, FulfillmentStatus, Origin, OutboxEvent
from app.sync.commands import (CancelFulfillment, LocationRef, MarkDelivered, RecordFulfillment,
                               UpdateTracking, apply_commands, notes_of, resolve_location)
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order, stock)
from tests.fixtures.stock import on_hand


@pytest.fixture
def world(app):
    """An order of 3 + 1 units on a channel whose location "L-1" is mapped to a warehouse
    holding 10 of each item."""
    merchant = make_merchant()
    warehouse = make_location(merchant, "Warehouse")
    tote, mug = make_item(merchant, "TOTE"), make_item(merchant, "MUG")
    stock(warehouse, tote, 10)
    stock(warehouse, mug, 10)
    channel = make_channel(merchant)
    db.session.add(ChannelLocation(merchant_id=merchant.id, channel_id=channel.id,
                                   remote_id="L-1", name="Main", stock_location_id=warehouse.id))
    order = make_order(channel, [(tote, 3), (mug, 1)])
    db.session.commit()
    w = type("World", (), {})()
    w.merchant, w.channel, w.order, w.warehouse, w.tote, w.mug = (
        merchant, channel, order, warehouse, tote, mug)
    w.scope = dict(merchant_id=merchant.id, channel_id=channel.id)
    w.tote_line, w.mug_line = (line.remote_id for line in order.lines)
    return w


def record(w, lines, *, remote_id="F-1", location="L-1", kind=None, tracking=Tracking()):
    return RecordFulfillment(order_id=w.order.id, remote_id=remote_id, lines=lines,
                             location=LocationRef(location, kind=kind, name="Main"),
                             tracking=tracking, happened="Shipped on the test platform",
                             unmapped_note="Location Main is not mapped: stock not adjusted.")


def pushes():
    """Outbox events that would push something to a platform (made in Stockroom)."""
    return [e for e in db.session.scalars(select(OutboxEvent))
            if e.payload.get("source") == str(Origin.APP)]


def test_record_takes_stock_at_the_mapped_location_once(world):
    command = record(world, {world.tote_line: 2}, tracking=Tracking("1Z9"))
    [applied] = apply_commands([command], **world.scope)
    db.session.commit()
    f = applied.fulfillment
    assert applied.changed and applied.note == f"recorded as {f.name}"
    assert (f.origin, f.remote_id, f.tracking_number) == (Origin.PLATFORM, "F-1", "1Z9")
    assert on_hand(world.warehouse, world.tote) == 8
    assert pushes() == []  # made on the platform: never sent back

    [again] = apply_commands([command], **world.scope)  # a replayed webhook
    assert (again.changed, again.note) == (False, f"already recorded as {f.name}")
    assert db.session.scalars(select(Fulfillment)).all() == [f]
    assert on_hand(world.warehouse, world.tote) == 8


def test_record_with_tracking_is_shipped_and_packed_there_and_without_is_pending(world):
    """The platform made it: with tracking it left already (Shipped, packed there, off our
    pick list); without, it is Pending and still to pack, as one made here."""
    [tracked, untracked] = apply_commands([
        record(world, {world.tote_line: 1}, tracking=Tracking("1Z9")),
        record(world, {world.mug_line: 1}, remote_id="F-2")], **world.scope)
    db.session.commit()
    f, g = tracked.fulfillment, untracked.fulfillment
    assert f.status == FulfillmentStatus.SHIPPED and f.packed_at == f.shipped_at is not None
    assert not f.to_pack
    assert (g.status, g.shipped_at, g.packed_at, g.to_pack) == (
        FulfillmentStatus.PENDING, None, None, True)
    assert pushes() == []


def test_tracking_from_the_platform_ships_a_pending_one_without_packing_it(world):
    made = create_fulfillment(world.order.id, {world.order.lines[0].id: 1}, world.warehouse.id,
                              merchant_id=world.merchant.id)
    db.session.commit()
    [applied] = apply_commands([UpdateTracking(made.id, Tracking("1Z7"))], **world.scope)
    db.session.commit()
    assert applied.changed and made.status == FulfillmentStatus.SHIPPED
    assert made.packed_at is None and made.to_pack  # still on our shelves
    assert [e.topic for e in pushes()] == ["fulfillment.created"]  # the change is not pushed


def test_record_never_counts_more_than_is_left_here(world):
    create_fulfillment(world.order.id, {world.order.lines[0].id: 2}, world.warehouse.id,
                       merchant_id=world.merchant.id)
    db.session.commit()
    [applied] = apply_commands([record(world, {world.tote_line: 3, world.mug_line: 1,
                                               "not-a-line": 5})], **world.scope)
    quantities = {fl.order_line.remote_id: fl.quantity for fl in applied.fulfillment.lines}
    assert quantities == {world.tote_line: 1, world.mug_line: 1}
    assert on_hand(world.warehouse, world.tote) == 7

    [nothing] = apply_commands([record(world, {world.tote_line: 1}, remote_id="F-2")],
                               **world.scope)
    assert (nothing.changed, nothing.fulfillment) == (False, None)
    assert nothing.note == "nothing left to fulfill here: recorded nothing"


def test_record_of_every_unit_left(world):
    [applied] = apply_commands([record(world, None)], **world.scope)
    assert sum(fl.quantity for fl in applied.fulfillment.lines) == 4
    assert (on_hand(world.warehouse, world.tote), on_hand(world.warehouse, world.mug)) == (7, 9)


def test_record_at_an_unmapped_location_keeps_stock_and_says_why(world):
    [applied] = apply_commands([record(world, None, location="L-9")], **world.scope)
    assert applied.changed
    assert on_hand(world.warehouse, world.tote) == 10
    assert "Location Main is not mapped" in applied.fulfillment.stock_note


def test_resolve_location_by_kind_prefers_the_named_one(world):
    other = make_location(world.merchant, "Back room")
    for remote_id, loc in (("z-other", other), ("store", world.warehouse)):
        db.session.add(ChannelLocation(merchant_id=world.merchant.id, channel_id=world.channel.id,
                                       remote_id=remote_id, kind="store",
                                       stock_location_id=loc.id))
    db.session.flush()
    assert resolve_location(world.channel.id, LocationRef("store", kind="store")) == \
        world.warehouse.id
    assert resolve_location(world.channel.id, LocationRef("gone", kind="store")) == other.id
    assert resolve_location(world.channel.id, LocationRef("gone")) is None


def test_cancel_restores_stock_once_and_keeps_delivered(world):
    [made] = apply_commands([record(world, {world.tote_line: 2})], **world.scope)
    cancel = CancelFulfillment(made.fulfillment.id)
    [applied] = apply_commands([cancel], **world.scope)
    assert (applied.changed, applied.note) == (True, "canceled: stock restored")
    assert made.fulfillment.status == FulfillmentStatus.CANCELED
    assert on_hand(world.warehouse, world.tote) == 10
    assert pushes() == []
    [again] = apply_commands([cancel], **world.scope)
    assert (again.changed, again.note) == (False, "already canceled")
    assert on_hand(world.warehouse, world.tote) == 10

    [other] = apply_commands([record(world, {world.mug_line: 1}, remote_id="F-2")],
                             **world.scope)
    mark_delivered(other.fulfillment.id, merchant_id=world.merchant.id)
    [kept] = apply_commands([CancelFulfillment(other.fulfillment.id)], **world.scope)
    assert (kept.changed, other.fulfillment.status) == (False, FulfillmentStatus.DELIVERED)


def test_tracking_and_delivery_change_only_what_differs(world):
    [made] = apply_commands([record(world, {world.tote_line: 1}, tracking=Tracking("A1"))],
                            **world.scope)
    fid = made.fulfillment.id
    same = apply_commands([UpdateTracking(fid, Tracking("A1")), UpdateTracking(fid, Tracking())],
                          **world.scope)
    assert [a.changed for a in same] == [False, False]  # an empty number never erases ours
    assert notes_of(same, otherwise="nothing to change") == "nothing to change"

    changed = apply_commands([UpdateTracking(fid, Tracking("B2", "UPS")), MarkDelivered(fid),
                              MarkDelivered(fid)], **world.scope)
    assert [a.changed for a in changed] == [True, True, False]
    assert notes_of(changed, otherwise="-") == "tracking updated, delivered"
    f = db.session.get(Fulfillment, fid)
    assert (f.tracking_number, f.tracking_company, f.status) == ("B2", "UPS",
                                                                 FulfillmentStatus.DELIVERED)
    assert pushes() == []


def test_changes_to_a_canceled_fulfillment_are_refused(world):
    [made] = apply_commands([record(world, {world.tote_line: 1})], **world.scope)
    cancel_fulfillment(made.fulfillment.id, merchant_id=world.merchant.id)
    applied = apply_commands([UpdateTracking(made.fulfillment.id, Tracking("C3")),
                              MarkDelivered(made.fulfillment.id)], **world.scope)
    assert [a.changed for a in applied] == [False, False]
    assert notes_of(applied, otherwise="-") == "already canceled"
    assert made.fulfillment.tracking_number == ""


def test_commands_are_scoped_by_merchant_and_channel(world):
    [made] = apply_commands([record(world, {world.tote_line: 1})], **world.scope)
    stranger = make_merchant("Stranger")
    other_channel = make_channel(stranger)
    db.session.commit()
    for scope in (dict(merchant_id=stranger.id, channel_id=other_channel.id),
                  dict(merchant_id=world.merchant.id, channel_id=other_channel.id)):
        with pytest.raises(LookupError):
            apply_commands([CancelFulfillment(made.fulfillment.id)], **scope)
        with pytest.raises(LookupError):
            apply_commands([record(world, None, remote_id="F-9")], **scope)
    db.session.rollback()
    assert db.session.get(Fulfillment, made.fulfillment.id).status == FulfillmentStatus.PENDING
    assert db.session.scalars(select(Fulfillment)).all() == [made.fulfillment]
