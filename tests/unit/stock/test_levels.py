"""Manual stock adjustments through the ledger."""
import pytest
from sqlalchemy import select

from app.errors import InsufficientStock, InvalidInput, NotFound
from app.extensions import db
from app.models import InventoryMovement, OutboxEvent
from app.stock import adjust_stock, ledger_sum
from tests.fixtures.factories import make_item, make_location, make_merchant, stock


@pytest.fixture
def setup(app):
    merchant = make_merchant()
    location, item = make_location(merchant, "Main"), make_item(merchant, "MUG")
    stock(location, item, 5)
    db.session.commit()
    return merchant, location, item


def test_adjust_stock_delta_writes_one_movement(setup):
    merchant, location, item = setup
    level = adjust_stock(merchant.id, location.id, item.id, delta=-2, reason="damaged",
                         note="dropped")
    db.session.commit()
    assert level.on_hand == 3 and ledger_sum(level.id) == 3
    last = db.session.scalars(select(InventoryMovement).order_by(InventoryMovement.id.desc())
                              ).first()
    assert (last.delta, last.reason, last.note, last.on_hand_after) == (-2, "damaged",
                                                                       "dropped", 3)


def test_adjust_stock_absolute_sets_count_via_delta(setup):
    merchant, location, item = setup
    level = adjust_stock(merchant.id, location.id, item.id, absolute=12, reason="recount")
    assert level.on_hand == 12 and ledger_sum(level.id) == 12


def test_adjust_stock_same_count_writes_nothing(setup):
    merchant, location, item = setup
    before = db.session.query(InventoryMovement).count()
    adjust_stock(merchant.id, location.id, item.id, absolute=5, reason="recount")
    assert db.session.query(InventoryMovement).count() == before


def test_adjust_stock_below_zero_refused_unless_location_allows(setup):
    merchant, location, item = setup
    with pytest.raises(InsufficientStock) as err:
        adjust_stock(merchant.id, location.id, item.id, delta=-6, reason="correction")
    assert err.value.shortfalls[0].missing == 1
    db.session.rollback()
    location.allow_negative_stock = True
    level = adjust_stock(merchant.id, location.id, item.id, delta=-6, reason="correction")
    assert level.on_hand == -1


@pytest.mark.parametrize("kwargs, field", [
    ({"delta": 1, "absolute": 1, "reason": "correction"}, "quantity"),
    ({"reason": "correction"}, "quantity"),
    ({"delta": 1, "reason": "because"}, "reason"),
    ({"absolute": -1, "reason": "recount"}, "quantity"),
    ({"delta": 1.5, "reason": "correction"}, "quantity"),
    ({"delta": 1, "reason": "other", "note": "x" * 501}, "note"),
])
def test_adjust_stock_bad_input_names_the_field(setup, kwargs, field):
    merchant, location, item = setup
    with pytest.raises(InvalidInput) as err:
        adjust_stock(merchant.id, location.id, item.id, **kwargs)
    assert err.value.field == field


def test_adjust_stock_is_scoped_by_merchant(setup):
    _, location, item = setup
    stranger = make_merchant("Stranger")
    with pytest.raises(NotFound):
        adjust_stock(stranger.id, location.id, item.id, delta=1, reason="received")
    with pytest.raises(NotFound):
        adjust_stock(stranger.id, make_location(stranger).id, item.id, delta=1,
                     reason="received")


def test_adjust_stock_marks_level_changed_for_push(setup):
    merchant, location, item = setup
    adjust_stock(merchant.id, location.id, item.id, delta=1, reason="received")
    event = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc())).first()
    assert event.topic == "inventory.levels_changed"
    assert event.payload == {"location_id": location.id, "item_ids": [item.id]}
