"""Opening stock: nothing is pushed before the merchant confirms; the choice and its ledger."""
import pytest
from sqlalchemy import select

from app.catalog import (AlreadyConfirmed, RemoteLevel, RemoteVariant, comparison,
                         confirm_opening_stock, record_remote_levels, unconfirmed_locations,
                         upsert_remote_listings)
from app.errors import InvalidInput
from app.extensions import db
from app.models import ChannelLocation, InventoryLevel, InventoryMovement
from app.stock.locations import map_channel_location
from app.stock.push import mark_dirty, pending_pushes
from tests.fixtures.factories import make_channel, make_item, make_location, make_merchant, stock


def _setup():
    merchant = make_merchant()
    warehouse = make_location(merchant, "Warehouse")
    items = {sku: make_item(merchant, sku) for sku in ("A", "B", "C", "D", "E")}
    stock(warehouse, items["A"], 4)
    stock(warehouse, items["B"], 9)
    channel = make_channel(merchant)
    cl = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id, remote_id="L1",
                         name="Main", stock_location_id=warehouse.id)
    db.session.add(cl)
    db.session.flush()
    upsert_remote_listings(merchant.id, channel.id, [
        RemoteVariant(sku, "P", None, sku, sku) for sku in items] + [
        RemoteVariant("E2", "P", None, "E", "E twin")])
    record_remote_levels(merchant.id, channel.id, [
        RemoteLevel("A", "L1", 10, 8, 2), RemoteLevel("B", "L1", 9, 9, 0),
        RemoteLevel("C", "L1", -2, -2, 0), RemoteLevel("D", "L1", None, None, None)])
    return merchant, warehouse, items, channel, cl


def _on_hand(warehouse, item):
    return db.session.scalar(select(InventoryLevel.on_hand).where(
        InventoryLevel.location_id == warehouse.id, InventoryLevel.item_id == item.id)) or 0


def test_nothing_is_pushed_before_confirmation(app):
    merchant, warehouse, items, channel, cl = _setup()
    assert unconfirmed_locations(merchant.id) == [cl]
    assert mark_dirty(merchant.id, channel_id=channel.id) == set()
    assert pending_pushes(channel.id, limit=100) == []


def test_platform_truth_becomes_the_opening_balance(app):
    merchant, warehouse, items, channel, cl = _setup()
    view = comparison(merchant.id, cl.id)
    assert {r.sku: (r.stockroom_on_hand, r.platform_on_hand) for r in view.rows}["A"] == (4, 10)
    result = confirm_opening_stock(merchant.id, cl.id, "platform")
    assert result["changed"] == 1  # A: 4 -> 10; B already 9
    assert set(result["kept"]) == {"C", "D"}  # negative, untracked
    assert view.unmatched == 2 and "E" not in {r.sku for r in view.rows}  # duplicate SKU
    assert _on_hand(warehouse, items["A"]) == 10 and _on_hand(warehouse, items["C"]) == 0
    movement = db.session.scalar(select(InventoryMovement).where(
        InventoryMovement.reason == "opening_balance"))
    assert (movement.delta, movement.reference_type, movement.reference_id) == (
        6, "channel_location", cl.id)
    pushes = {p.sku: p.quantity for p in pending_pushes(channel.id, limit=100)}
    assert pushes["A"] == 10 and pushes["B"] == 9
    with pytest.raises(AlreadyConfirmed):
        confirm_opening_stock(merchant.id, cl.id, "platform")


def test_stockroom_truth_pushes_stockrooms_counts(app):
    merchant, warehouse, items, channel, cl = _setup()
    result = confirm_opening_stock(merchant.id, cl.id, "stockroom")
    assert result == {"truth": "stockroom", "changed": 0, "kept": {}}
    assert _on_hand(warehouse, items["A"]) == 4
    assert {p.sku: p.quantity for p in pending_pushes(channel.id, limit=100)}["A"] == 4


def test_bad_choices_and_a_new_mapping_needs_confirming_again(app):
    merchant, warehouse, items, channel, cl = _setup()
    with pytest.raises(InvalidInput):
        confirm_opening_stock(merchant.id, cl.id, "both")
    confirm_opening_stock(merchant.id, cl.id, "stockroom")
    other = make_location(merchant, "Other")
    map_channel_location(merchant.id, cl.id, other.id)
    assert cl.stock_confirmed_at is None and unconfirmed_locations(merchant.id) == [cl]
    map_channel_location(merchant.id, cl.id, None)
    with pytest.raises(InvalidInput, match="Map"):
        confirm_opening_stock(merchant.id, cl.id, "platform")
