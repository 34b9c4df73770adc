"""Transfers between stock locations: every unit through the ledger, shortfalls at once."""
import pytest
from sqlalchemy import select

from app.errors import InsufficientStock, InvalidInput, NotFound
from app.extensions import db
from app.models import InventoryMovement, OutboxEvent, TransferStatus
from app.stock.push import fan_out_levels_changed, pending_pushes
from app.sync.queue import Job
from app.warehouse.transfers import (ReceiveExceedsShipped, TransferLinesInvalid,
                                     TransferStateConflict, add_transfer_lines, cancel_transfer,
                                     create_transfer, receive_transfer, remove_transfer_line,
                                     ship_transfer)
from tests.fixtures.factories import listed_at, make_location, make_merchant, stock
from tests.fixtures.stock import on_hand


@pytest.fixture
def setup(setup):
    """The warehouse setup (conftest.py) with 2 totes at Main as well."""
    merchant, main, shop, mug, tote = setup
    stock(main, tote, 2)
    db.session.commit()
    return setup


def test_create_transfer_is_a_draft_that_moves_nothing(setup):
    merchant, main, shop, mug, tote = setup
    transfer = create_transfer(merchant.id, main.id, shop.id,
                               [("mug-1 ", "2"), ("", ""), ("MUG-1", 1), ("TOTE-1", "1")])
    db.session.commit()
    assert transfer.status == TransferStatus.DRAFT
    assert sorted((ln.item.sku, ln.quantity) for ln in transfer.lines) == [("MUG-1", 3),
                                                                          ("TOTE-1", 1)]
    assert on_hand(main, mug) == 5 and on_hand(shop, mug) == 0
    assert [e.kind for e in transfer.events] == ["created"]


def test_create_transfer_reports_every_bad_line_at_once(setup):
    merchant, main, shop, *_ = setup
    with pytest.raises(TransferLinesInvalid) as err:
        create_transfer(merchant.id, main.id, shop.id,
                        [("NOPE", "1"), ("MUG-1", "-2"), ("TOTE-1", "two"), ("MUG-1", "0")])
    assert err.value.errors == {"sku-0": "No item has the SKU NOPE.",
                                "qty-1": "Can't be negative.", "qty-2": "Enter a whole number.",
                                "qty-3": "Enter at least 1."}


def test_create_transfer_refuses_same_location_and_other_merchants(setup):
    merchant, main, shop, *_ = setup
    with pytest.raises(InvalidInput) as err:
        create_transfer(merchant.id, main.id, main.id, [("MUG-1", 1)])
    assert err.value.field == "destination"
    other = make_location(make_merchant(), "Theirs")
    with pytest.raises(NotFound):
        create_transfer(merchant.id, main.id, other.id, [("MUG-1", 1)])
    with pytest.raises(InvalidInput):
        create_transfer(merchant.id, main.id, shop.id, [("", "")])


def test_ship_then_receive_in_parts_moves_stock_through_the_ledger(setup):
    merchant, main, shop, mug, tote = setup
    transfer = create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 4), ("TOTE-1", 2)])
    ship_transfer(merchant.id, transfer.id)
    db.session.commit()
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert (on_hand(main, mug), on_hand(main, tote), on_hand(shop, mug)) == (1, 0, 0)
    lines = {ln.item.sku: ln for ln in transfer.lines}
    receive_transfer(merchant.id, transfer.id, {lines["MUG-1"].id: "3", lines["TOTE-1"].id: ""})
    db.session.commit()
    assert transfer.status == TransferStatus.PARTIALLY_RECEIVED
    assert (on_hand(shop, mug), on_hand(shop, tote)) == (3, 0)
    receive_transfer(merchant.id, transfer.id, {lines["MUG-1"].id: 1, lines["TOTE-1"].id: 2})
    db.session.commit()
    assert transfer.status == TransferStatus.RECEIVED and transfer.received_at is not None
    assert (on_hand(shop, mug), on_hand(shop, tote), on_hand(main, mug)) == (4, 2, 1)
    reasons = db.session.scalars(select(InventoryMovement.reason).where(
        InventoryMovement.reference_type == "transfer",
        InventoryMovement.reference_id == transfer.id).order_by(InventoryMovement.id)).all()
    assert reasons == ["transfer_out", "transfer_out", "transfer_in", "transfer_in",
                       "transfer_in"]
    assert [e.kind for e in transfer.events] == ["created", "shipped", "received", "received"]


def test_ship_transfer_reports_every_shortfall_and_moves_nothing(setup):
    merchant, main, shop, mug, tote = setup
    transfer = create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 6), ("TOTE-1", 3)])
    db.session.commit()
    with pytest.raises(InsufficientStock) as err:
        ship_transfer(merchant.id, transfer.id)
    db.session.rollback()
    assert sorted((s.sku, s.missing) for s in err.value.shortfalls) == [("MUG-1", 1),
                                                                       ("TOTE-1", 1)]
    assert on_hand(main, mug) == 5
    main.allow_negative_stock = True
    ship_transfer(merchant.id, transfer.id)
    assert on_hand(main, mug) == -1


def test_receive_more_than_shipped_is_refused(setup):
    merchant, main, shop, mug, _ = setup
    transfer = create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 2)])
    ship_transfer(merchant.id, transfer.id)
    line = transfer.lines[0]
    receive_transfer(merchant.id, transfer.id, {line.id: 1})
    with pytest.raises(ReceiveExceedsShipped) as err:
        receive_transfer(merchant.id, transfer.id, {line.id: 2})
    assert (err.value.excesses[0].requested, err.value.excesses[0].outstanding) == (2, 1)
    with pytest.raises(TransferLinesInvalid):
        receive_transfer(merchant.id, transfer.id, {line.id: "-1"})


def test_cancel_in_transit_returns_what_did_not_arrive_once(setup):
    merchant, main, shop, mug, _ = setup
    transfer = create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 4)])
    ship_transfer(merchant.id, transfer.id)
    receive_transfer(merchant.id, transfer.id, {transfer.lines[0].id: 1})
    cancel_transfer(merchant.id, transfer.id)
    db.session.commit()
    assert (on_hand(main, mug), on_hand(shop, mug)) == (4, 1)
    assert transfer.status == TransferStatus.CANCELED
    with pytest.raises(TransferStateConflict):
        cancel_transfer(merchant.id, transfer.id)
    with pytest.raises(TransferStateConflict):
        receive_transfer(merchant.id, transfer.id, {transfer.lines[0].id: 1})


def test_cancel_draft_moves_nothing_and_edits_only_drafts(setup):
    merchant, main, shop, mug, tote = setup
    transfer = create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 1)])
    add_transfer_lines(merchant.id, transfer.id, [("TOTE-1", 1), ("MUG-1", 2)])
    assert sorted((ln.item.sku, ln.quantity) for ln in transfer.lines) == [("MUG-1", 3),
                                                                          ("TOTE-1", 1)]
    tote_line = next(ln for ln in transfer.lines if ln.item_id == tote.id)
    remove_transfer_line(merchant.id, transfer.id, tote_line.id)
    before = db.session.query(InventoryMovement).count()
    cancel_transfer(merchant.id, transfer.id)
    assert db.session.query(InventoryMovement).count() == before
    with pytest.raises(TransferStateConflict):
        ship_transfer(merchant.id, transfer.id)


def test_other_merchant_cannot_touch_a_transfer(setup):
    merchant, main, shop, *_ = setup
    transfer = create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 1)])
    intruder = make_merchant()
    for action in (ship_transfer, cancel_transfer):
        with pytest.raises(NotFound):
            action(intruder.id, transfer.id)


def test_transfer_movements_mark_the_mapped_confirmed_location_dirty(setup):
    merchant, main, shop, mug, _ = setup
    channel = listed_at(merchant, shop, mug, "L-shop")
    transfer = create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 3)])
    ship_transfer(merchant.id, transfer.id)
    receive_transfer(merchant.id, transfer.id, {transfer.lines[0].id: 3})
    db.session.commit()
    events = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "inventory.levels_changed").order_by(OutboxEvent.id.desc())).all()
    arrival = events[0]
    assert arrival.payload == {"location_id": shop.id, "item_ids": [mug.id]}
    fan_out_levels_changed(Job(model=OutboxEvent, id=arrival.id, merchant_id=merchant.id,
                               channel_id=None, topic=arrival.topic, attempts=0,
                               payload=arrival.payload))
    pending = pending_pushes(channel.id, limit=10)
    assert [(p.location_remote_id, p.sku, p.quantity) for p in pending] == [("L-shop", "MUG-1", 3)]


@pytest.mark.postgres
def test_concurrent_ships_from_one_origin_never_oversell(setup, app):
    """Ten drafts each taking the origin's whole stock, shipped at once: exactly one ships."""
    from tests.integration.test_concurrency import run_concurrently

    merchant, main, shop, mug, _ = setup
    ids = [create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 5)]).id for _ in range(10)]
    merchant_id = merchant.id
    db.session.commit()
    outcomes = run_concurrently(app, lambda i: ship_transfer(merchant_id, ids[i]), n=10)
    assert outcomes == {"ok": 1, "InsufficientStock": 9}
    db.session.expire_all()
    assert on_hand(main, mug) == 0


@pytest.mark.postgres
def test_concurrent_receives_of_one_line_never_exceed_what_was_shipped(setup, app):
    from tests.integration.test_concurrency import run_concurrently

    merchant, main, shop, mug, _ = setup
    transfer = create_transfer(merchant.id, main.id, shop.id, [("MUG-1", 5)])
    ship_transfer(merchant.id, transfer.id)
    merchant_id, transfer_id, line_id = merchant.id, transfer.id, transfer.lines[0].id
    db.session.commit()
    outcomes = run_concurrently(
        app, lambda i: receive_transfer(merchant_id, transfer_id, {line_id: 2}), n=8)
    assert outcomes["ok"] == 2 and sum(outcomes.values()) == 8
    db.session.expire_all()
    assert on_hand(shop, mug) == 4
