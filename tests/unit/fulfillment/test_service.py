"""Fulfillment lifecycle: validation, stock through the ledger, outbox, transitions."""
import pytest
from sqlalchemy import func, select

from app.errors import (AlreadyCanceled, IllegalTransition, InsufficientStock, InvalidInput,
                        NotFound, OrderCanceled, QuantityExceedsUnfulfilled)
from app.extensions import db
from app.fulfillment import (Tracking, cancel_fulfillment, create_fulfillment,
                             create_platform_fulfillment, mark_delivered, mark_shipped,
                             update_tracking)
from app.models import (FulfillmentStatus, InventoryLevel, InventoryMovement, Origin,
                        OutboxEvent, SyncState)
from app.models._common import utcnow
from app.orders import OrderStatus, order_status
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order, stock)
from tests.fixtures.invariants import assert_invariants
from tests.fixtures.stock import on_hand


@pytest.fixture
def shop(app):
    """A merchant with two locations, two items in stock at the first, and an order."""
    merchant = make_merchant()
    main, other = make_location(merchant, "Main"), make_location(merchant, "Other")
    mug, tee = make_item(merchant, "MUG"), make_item(merchant, "TEE")
    stock(main, mug, 10)
    stock(main, tee, 2)
    channel = make_channel(merchant)
    order = make_order(channel, [(mug, 3), (tee, 2)])
    db.session.commit()
    return type("Shop", (), dict(merchant=merchant, main=main, other=other, mug=mug, tee=tee,
                                 channel=channel, order=order))


def lines(shop):
    return {line.sku: line for line in shop.order.lines}


def test_create_fulfillment_partial_decrements_stock_and_writes_outbox(shop):
    mug_line = lines(shop)["MUG"]
    f = create_fulfillment(shop.order, {mug_line.id: 2}, shop.main, merchant_id=shop.merchant.id,
                           tracking=Tracking("1Z999", "UPS", "https://ups.example/1Z999"))
    db.session.commit()
    assert f.status == FulfillmentStatus.SHIPPED  # its tracking ships it (not packed yet)
    assert f.sync_state == SyncState.PENDING
    assert on_hand(shop.main, shop.mug) == 8
    assert mug_line.fulfilled_quantity == 2 and mug_line.not_shipped_quantity == 1
    assert order_status(shop.order) == OrderStatus.PARTIALLY_FULFILLED
    topics = db.session.scalars(select(OutboxEvent.topic).where(
        OutboxEvent.order_id == shop.order.id)).all()
    assert topics == ["fulfillment.created"]
    movement = db.session.scalars(select(InventoryMovement).where(
        InventoryMovement.reference_type == "fulfillment")).one()
    assert (movement.delta, movement.reference_id, movement.reason) == (-2, f.id, "fulfillment")
    assert_invariants()


def test_create_fulfillment_all_lines_fulfills_order(shop):
    create_fulfillment(shop.order, {l.id: l.quantity for l in shop.order.lines}, shop.main,
                       merchant_id=shop.merchant.id)
    db.session.commit()
    assert order_status(shop.order) == OrderStatus.FULFILLED
    assert (on_hand(shop.main, shop.mug), on_hand(shop.main, shop.tee)) == (7, 0)


@pytest.mark.parametrize("qty", [0, -1, 1.5, "2", True])
def test_create_fulfillment_bad_quantity_is_refused(shop, qty):
    with pytest.raises(InvalidInput) as err:
        create_fulfillment(shop.order, {lines(shop)["MUG"].id: qty}, shop.main,
                           merchant_id=shop.merchant.id)
    assert err.value.field == "quantities"


def test_create_fulfillment_more_than_unfulfilled_names_every_line(shop):
    mug, tee = lines(shop)["MUG"], lines(shop)["TEE"]
    with pytest.raises(QuantityExceedsUnfulfilled) as err:
        create_fulfillment(shop.order, {mug.id: 4, tee.id: 3}, shop.main,
                           merchant_id=shop.merchant.id)
    assert [(e.line_id, e.requested, e.unfulfilled) for e in err.value.excesses] == [
        (mug.id, 4, 3), (tee.id, 3, 2)]
    assert "left to fulfill" in str(err.value)


def test_create_fulfillment_insufficient_stock_collects_all_and_changes_nothing(shop):
    db.session.execute(InventoryLevel.__table__.update().values(on_hand=0))  # bypass to set up
    db.session.execute(InventoryMovement.__table__.delete())
    db.session.commit()
    mug, tee = lines(shop)["MUG"], lines(shop)["TEE"]
    with pytest.raises(InsufficientStock) as err:
        create_fulfillment(shop.order, {mug.id: 1, tee.id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    db.session.rollback()
    assert sorted(s.sku for s in err.value.shortfalls) == ["MUG", "TEE"]
    assert "Not enough stock at Main" in err.value.message
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic == "fulfillment.created")) == 0
    assert mug.fulfilled_quantity == 0


def test_create_fulfillment_location_allowing_negative_goes_below_zero(shop):
    dropship = make_location(shop.merchant, "Dropship", allow_negative=True)
    create_fulfillment(shop.order, {lines(shop)["MUG"].id: 3}, dropship,
                       merchant_id=shop.merchant.id)
    db.session.commit()
    assert on_hand(dropship, shop.mug) == -3
    assert_invariants()


def test_create_fulfillment_other_merchants_location_is_not_found(shop):
    stranger = make_merchant("Stranger")
    their_location = make_location(stranger)
    with pytest.raises(NotFound):
        create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, their_location,
                           merchant_id=shop.merchant.id)


def test_create_fulfillment_other_merchants_order_is_not_found(shop):
    stranger = make_merchant("Stranger")
    with pytest.raises(NotFound):
        create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1},
                           make_location(stranger), merchant_id=stranger.id)


def test_create_fulfillment_inactive_location_is_refused(shop):
    closed = make_location(shop.merchant, "Closed", active=False)
    with pytest.raises(InvalidInput) as err:
        create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, closed,
                           merchant_id=shop.merchant.id)
    assert err.value.field == "location"


def test_create_fulfillment_unknown_line_and_empty_are_refused(shop):
    with pytest.raises(InvalidInput):
        create_fulfillment(shop.order, {999999: 1}, shop.main, merchant_id=shop.merchant.id)
    with pytest.raises(InvalidInput):
        create_fulfillment(shop.order, {}, shop.main, merchant_id=shop.merchant.id)


def test_create_fulfillment_canceled_order_is_refused(shop):
    shop.order.cancelled_at = utcnow()
    db.session.commit()
    with pytest.raises(OrderCanceled):
        create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    assert order_status(shop.order) == OrderStatus.CANCELED


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.example/1", "not a url"])
def test_create_fulfillment_non_web_tracking_url_is_refused(shop, url):
    with pytest.raises(InvalidInput) as err:
        create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id, tracking=Tracking("1", "UPS", url))
    assert err.value.field == "tracking_url"


def test_create_fulfillment_line_without_item_moves_no_stock(shop):
    order = make_order(shop.channel, [(None, 1), (shop.mug, 1)])
    gift, mug = order.lines
    f = create_fulfillment(order, {gift.id: 1, mug.id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    db.session.commit()
    assert [fl.stock_moved for fl in f.lines] == [False, True]
    cancel_fulfillment(f.id, merchant_id=shop.merchant.id)
    db.session.commit()
    assert on_hand(shop.main, shop.mug) == 10
    assert_invariants()


def test_create_fulfillment_platform_origin_at_unmapped_location_records_without_stock(shop):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, None,
                           merchant_id=shop.merchant.id, origin=Origin.PLATFORM,
                           remote_id="gid://shopify/Fulfillment/1",
                           stock_note="Shopify location 'Pop-up' is not mapped")
    db.session.commit()
    assert f.location_id is None and f.sync_state == SyncState.SYNCED
    assert on_hand(shop.main, shop.mug) == 10
    assert lines(shop)["MUG"].fulfilled_quantity == 1
    with pytest.raises(InvalidInput):  # only the platform may record without a location
        create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, None,
                           merchant_id=shop.merchant.id)


def test_mark_shipped_then_delivered_follows_transitions(shop):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    mark_shipped(f.id, merchant_id=shop.merchant.id)
    assert f.status == FulfillmentStatus.SHIPPED and f.shipped_at is not None
    with pytest.raises(IllegalTransition):
        mark_shipped(f.id, merchant_id=shop.merchant.id)
    mark_delivered(f.id, merchant_id=shop.merchant.id)
    assert f.status == FulfillmentStatus.DELIVERED
    with pytest.raises(IllegalTransition) as err:
        cancel_fulfillment(f.id, merchant_id=shop.merchant.id)
    assert "delivered" in err.value.message


@pytest.mark.parametrize("origin", [Origin.APP, Origin.PLATFORM])
def test_create_fulfillment_with_tracking_is_shipped_at_once(shop, origin):
    """The rule whichever side made it: a tracking number ships it; only a platform's
    (packed where it was made) is packed too."""
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id, tracking=Tracking("1Z1", "UPS"),
                           origin=origin, remote_id="gid://f/9" if origin == "platform" else None)
    db.session.commit()
    assert f.status == FulfillmentStatus.SHIPPED and f.shipped_at is not None
    assert (f.packed_at == f.shipped_at) == (origin == Origin.PLATFORM)
    assert f.to_pack == (origin == Origin.APP)
    event = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.order_id == shop.order.id)).one()  # one event: made and shipped
    assert (event.topic, event.payload["shipped"]) == ("fulfillment.created", True)


@pytest.mark.parametrize("origin", [Origin.APP, Origin.PLATFORM])
def test_create_fulfillment_without_tracking_is_pending_and_unpacked(shop, origin):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id, origin=origin)
    db.session.commit()
    assert (f.status, f.shipped_at, f.packed_at, f.to_pack) == (
        FulfillmentStatus.PENDING, None, None, True)
    assert "shipped" not in db.session.scalars(select(OutboxEvent.payload).where(
        OutboxEvent.topic == "fulfillment.created")).one()


@pytest.mark.parametrize("source", [Origin.APP, Origin.PLATFORM])
def test_update_tracking_ships_a_pending_fulfillment_without_packing_it(shop, source):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    db.session.commit()
    update_tracking(f.id, Tracking("", "UPS"), merchant_id=shop.merchant.id, source=source)
    assert f.status == FulfillmentStatus.PENDING  # a carrier without a number ships nothing
    update_tracking(f.id, Tracking("1Z2", "UPS"), merchant_id=shop.merchant.id, source=source)
    db.session.commit()
    assert f.status == FulfillmentStatus.SHIPPED and f.shipped_at is not None
    assert f.packed_at is None and f.to_pack  # still on the shelves: the pick list has it
    events = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.order_id == shop.order.id).order_by(OutboxEvent.id)).all()
    assert [(e.topic, e.payload.get("shipped", False)) for e in events] == [
        ("fulfillment.created", False), ("fulfillment.tracking_updated", False),
        ("fulfillment.tracking_updated", True)]  # one event for the change, no .shipped


def test_update_tracking_of_a_shipped_one_keeps_it_shipped(shop):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id, tracking=Tracking("1Z3"))
    db.session.commit()
    shipped_at = f.shipped_at
    update_tracking(f.id, Tracking("1Z4"), merchant_id=shop.merchant.id)
    update_tracking(f.id, Tracking(""), merchant_id=shop.merchant.id)  # removed: not un-shipped
    db.session.commit()
    assert (f.status, f.shipped_at, f.tracking_number) == (FulfillmentStatus.SHIPPED,
                                                           shipped_at, "")
    assert not any(p.get("shipped") for p in db.session.scalars(select(OutboxEvent.payload).where(
        OutboxEvent.topic == "fulfillment.tracking_updated")))


def test_mark_shipped_packs_a_pending_one_and_refuses_a_tracked_one(shop):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    mark_shipped(f.id, merchant_id=shop.merchant.id)
    assert f.packed_at == f.shipped_at and f.packed_at is not None and not f.to_pack
    tracked = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                                 merchant_id=shop.merchant.id, tracking=Tracking("1Z5"))
    with pytest.raises(IllegalTransition) as err:
        mark_shipped(tracked.id, merchant_id=shop.merchant.id)
    assert err.value.message == f"Fulfillment {tracked.name} is shipped: it can't be shipped."
    assert tracked.packed_at is None


def test_update_tracking_replaces_details_and_emits(shop):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    db.session.commit()
    f.sync_state = SyncState.SYNCED
    update_tracking(f.id, Tracking(" 9400 ", "USPS", ""), merchant_id=shop.merchant.id)
    db.session.commit()
    assert (f.tracking_number, f.tracking_company, f.sync_state) == ("9400", "USPS",
                                                                     SyncState.PENDING)
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic == "fulfillment.tracking_updated")) == 1


def test_cancel_fulfillment_restores_at_same_location_once(shop):
    stock(shop.other, shop.mug, 5)
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 3}, shop.other,
                           merchant_id=shop.merchant.id)
    db.session.commit()
    assert (on_hand(shop.main, shop.mug), on_hand(shop.other, shop.mug)) == (10, 2)
    cancel_fulfillment(f.id, merchant_id=shop.merchant.id)
    db.session.commit()
    assert (on_hand(shop.main, shop.mug), on_hand(shop.other, shop.mug)) == (10, 5)
    assert lines(shop)["MUG"].fulfilled_quantity == 0
    with pytest.raises(AlreadyCanceled) as err:
        cancel_fulfillment(f.id, merchant_id=shop.merchant.id)
    assert "already canceled" in err.value.message
    db.session.rollback()
    assert on_hand(shop.other, shop.mug) == 5
    assert_invariants()


def test_cancel_fulfillment_platform_source_is_not_pushed_back(shop):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    f.sync_state = SyncState.SYNCED
    cancel_fulfillment(f.id, merchant_id=shop.merchant.id, source=Origin.PLATFORM)
    db.session.commit()
    event = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "fulfillment.canceled")).one()
    assert event.payload["source"] == "platform"
    assert f.sync_state == SyncState.SYNCED


def test_cancel_fulfillment_other_merchant_is_not_found(shop):
    f = create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                           merchant_id=shop.merchant.id)
    db.session.commit()
    with pytest.raises(NotFound):
        cancel_fulfillment(f.id, merchant_id=make_merchant("Stranger").id)
    assert f.status == FulfillmentStatus.PENDING


def test_create_fulfillment_rollback_drops_outbox_with_change(shop):
    create_fulfillment(shop.order, {lines(shop)["MUG"].id: 1}, shop.main,
                       merchant_id=shop.merchant.id)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic.like("fulfillment.%"))) == 0
    assert on_hand(shop.main, shop.mug) == 10


@pytest.mark.parametrize("where, main_after, note", [
    ("main", 10 - 3, ""),  # the mapped location covers it: stock taken there
    ("other", 10, "Shipped on Shopify, but Not enough stock at Other: MUG (needs 3, "
                    "0 available). Stock was not adjusted."),
    (None, 10, "Location X is not mapped: stock not adjusted."),
])
def test_create_platform_fulfillment_never_fails_for_stock(shop, where, main_after, note):
    mug_line = shop.order.lines[0]
    location = getattr(shop, where) if where else None
    f = create_platform_fulfillment(
        shop.order.id, {mug_line.id: 3}, location.id if location else None,
        merchant_id=shop.merchant.id, tracking=Tracking("1Z9"), remote_id="gid://f/1",
        happened="Shipped on Shopify",
        unmapped_note="Location X is not mapped: stock not adjusted.")
    db.session.commit()
    assert (f.origin, f.remote_id, f.tracking_number, f.stock_note) == \
        (Origin.PLATFORM, "gid://f/1", "1Z9", note)
    # Made on the platform with tracking: shipped, and packed there (not on the pick list).
    assert f.status == FulfillmentStatus.SHIPPED and f.packed_at is not None
    assert f.location_id == (shop.main.id if where == "main" else None)
    assert on_hand(shop.main, shop.mug) == main_after
    assert mug_line.fulfilled_quantity == 3
    assert_invariants()


def test_line_quantity_problems_names_every_bad_line_at_once(shop):
    from app.fulfillment import line_quantity_problems

    mug, tee = lines(shop)["MUG"], lines(shop)["TEE"]
    problems = line_quantity_problems(shop.order, {mug.id: -1, tee.id: 3})
    assert problems == {mug.id: "Can't be negative.", tee.id: "Only 2 left to fulfill."}
    assert line_quantity_problems(shop.order, {mug.id: 3, tee.id: 0}) == {}


def test_fulfillment_input_problems_agree_with_what_create_fulfillment_refuses(shop):
    from app.fulfillment import fulfillment_input_problems

    mug = lines(shop)["MUG"]
    problems = fulfillment_input_problems({mug.id: 0}, None, Tracking(url="javascript:x"))
    assert set(problems) == {"quantities", "location", "tracking_url"}
    for field in problems:
        with pytest.raises(InvalidInput) as raised:
            create_fulfillment(shop.order.id, {mug.id: 1} if field != "quantities" else {},
                               shop.main.id if field != "location" else None,
                               merchant_id=shop.merchant.id,
                               tracking=Tracking(url="javascript:x" if field == "tracking_url"
                                                 else ""))
        assert (raised.value.field, raised.value.message) == (field, problems[field])
    assert fulfillment_input_problems({mug.id: 1}, shop.main.id, Tracking()) == {}
