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
    assert f.status == FulfillmentStatus.PENDING
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
