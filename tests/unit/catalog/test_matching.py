"""Listings in: the matching rules, their reasons, and what the merchant decides."""
import pytest
from sqlalchemy import select

from app.catalog import (RemoteLevel, RemoteVariant, create_item, create_items_from_listings,
                         ignore_listings, match_listing, reconsider_listings,
                         record_remote_levels, remove_remote_listings, seed_catalog_from_channel,
                         update_item, upsert_remote_listings)
from app.errors import InvalidInput
from app.extensions import db
from app.models import (ChannelListing, ChannelListingLevel, ChannelLocation, InventoryItem,
                        InventoryLevel, MatchStatus, OrderLine)
from tests.fixtures.factories import (confirm_stock, make_channel, make_item, make_location,
                                      make_merchant, make_order)


def _v(vid, sku, *, product="P1", barcode="", problem="", title=None):
    return RemoteVariant(remote_variant_id=vid, remote_product_id=product,
                         remote_inventory_item_id=f"I{vid}", sku=sku, title=title or f"T {vid}",
                         barcode=barcode, problem=problem)


def _listing(channel, vid):
    return db.session.scalar(select(ChannelListing).where(
        ChannelListing.channel_id == channel.id, ChannelListing.remote_variant_id == vid))


def test_each_rule_gives_its_outcome_and_reason(app):
    merchant = make_merchant()
    exact, by_barcode = make_item(merchant, "TEE-S"), make_item(merchant, "MUG-1")
    by_barcode.barcode = "0123456789012"
    make_item(merchant, "CAP-RED")
    channel = make_channel(merchant)
    counts = upsert_remote_listings(merchant.id, channel.id, [
        _v("1", "TEE-S"), _v("2", "", barcode="0123456789012"), _v("3", "cap-red "),
        _v("4", "SOCK"), _v("5", "SOCK"), _v("6", ""), _v("7", "NEW-1"),
        _v("8", "TEE-S2", problem="Stock is not a number: 'lots'")])
    assert counts == {"listings": 8, "new": 8, "matched": 2, "unmatched": 6}
    outcome = {vid: (_listing(channel, vid).match_status, _listing(channel, vid).match_note)
               for vid in "12345678"}
    assert outcome["1"] == ("matched", "SKU") and _listing(channel, "1").inventory_item_id == exact.id
    assert outcome["2"] == ("matched", "barcode")
    assert outcome["3"][0] == "unmatched" and "case or spacing" in outcome["3"][1]
    assert _listing(channel, "3").suggested_item_id is not None
    assert outcome["4"][0] == outcome["5"][0] == "unmatched" and "2 listings" in outcome["4"][1]
    assert outcome["6"] == ("unmatched", "No SKU on the store: give it one there, or match it by hand.")
    assert outcome["7"] == ("unmatched", "No item has this SKU yet.")
    assert outcome["8"] == ("unmatched", "Stock is not a number: 'lots'")


def test_a_new_duplicate_unmatches_the_listing_it_duplicates(app):
    merchant = make_merchant()
    make_item(merchant, "TEE-S")
    channel = make_channel(merchant)
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "TEE-S")])
    assert _listing(channel, "1").match_status == "matched"
    upsert_remote_listings(merchant.id, channel.id, [_v("2", "tee-s")])
    assert _listing(channel, "1").match_status == "unmatched"
    assert "2 listings" in _listing(channel, "1").match_note
    # Ignoring the extra one lets the first match again.
    ignore_listings(merchant.id, [_listing(channel, "2").id])
    assert _listing(channel, "1").match_status == "matched"


def test_seed_creates_items_once_and_later_stores_match_by_sku_then_barcode(app):
    merchant = make_merchant()
    shop, store = make_channel(merchant), make_channel(merchant)
    upsert_remote_listings(merchant.id, shop.id, [
        _v("1", "TEE-S", barcode="111"), _v("2", "TEE-M", barcode="222"), _v("3", ""),
        _v("4", "DUP"), _v("5", "DUP")])
    result = seed_catalog_from_channel(merchant.id, shop.id)
    assert sorted(result["created"]) == ["TEE-M", "TEE-S"]
    assert len(result["skipped"]) == 3
    again = seed_catalog_from_channel(merchant.id, shop.id)  # run twice: nothing twice
    assert again["created"] == [] and db.session.scalar(
        select(db.func.count()).select_from(InventoryItem)) == 2
    item = db.session.scalar(select(InventoryItem).where(InventoryItem.sku == "TEE-S"))
    assert (item.barcode, item.source_channel_id, item.source_remote_id) == ("111", shop.id, "1")
    upsert_remote_listings(merchant.id, store.id, [_v("w1", "TEE-S"), _v("w2", "", barcode="222")])
    assert _listing(store, "w1").match_note == "SKU"
    assert _listing(store, "w2").match_note == "barcode"


def test_merchant_decisions_stand_until_the_store_changes_the_sku(app):
    merchant = make_merchant()
    tee, mug = make_item(merchant, "TEE-S"), make_item(merchant, "MUG-1")
    channel = make_channel(merchant)
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "tee s"), _v("2", "GIFT")])
    match_listing(merchant.id, _listing(channel, "1").id, tee.id)
    ignore_listings(merchant.id, [_listing(channel, "2").id])
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "tee s"), _v("2", "GIFT")])
    assert (_listing(channel, "1").inventory_item_id, _listing(channel, "1").match_note) == (
        tee.id, "Matched by hand.")
    assert _listing(channel, "2").match_status == "ignored"
    # The store renames the SKU: the hand match no longer holds, matching runs again.
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "MUG-1"), _v("2", "GIFT")])
    assert _listing(channel, "1").inventory_item_id == mug.id
    assert _listing(channel, "2").match_status == "ignored"
    reconsider_listings(merchant.id, [_listing(channel, "2").id])
    assert _listing(channel, "2").match_status == "unmatched"


def test_items_by_hand_refuse_case_twins_and_match_waiting_listings(app):
    merchant = make_merchant()
    channel = make_channel(merchant)
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "BAG-9")])
    item = create_item(merchant.id, "BAG-9", "Bag", barcode="999")
    assert _listing(channel, "1").inventory_item_id == item.id
    with pytest.raises(InvalidInput, match="case or spacing"):
        create_item(merchant.id, "bag-9")
    with pytest.raises(InvalidInput, match="SKU"):
        create_item(merchant.id, "  ")
    other = create_item(merchant.id, "BAG-10")
    with pytest.raises(InvalidInput, match="already exists"):
        update_item(merchant.id, other.id, sku="BAG-9", title="x")
    update_item(merchant.id, item.id, sku="BAG-9B", title="Bag")
    assert _listing(channel, "1").inventory_item_id is None  # matched by SKU: the SKU moved on


def test_matching_links_open_order_lines_and_deleted_listings_stop(app):
    merchant = make_merchant()
    channel = make_channel(merchant)
    order = make_order(channel, [(None, 2)])
    line = db.session.scalar(select(OrderLine).where(OrderLine.order_id == order.id))
    line.sku = "LATE-1"
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "LATE-1", product="P9")])
    item = create_item(merchant.id, "LATE-1")
    assert db.session.get(OrderLine, line.id).inventory_item_id == item.id
    assert remove_remote_listings(merchant.id, channel.id, remote_product_id="P9") == 1
    assert _listing(channel, "1").match_status == MatchStatus.DELETED
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "LATE-1", product="P9")])  # restored
    assert _listing(channel, "1").match_status == "matched"


def test_item_created_from_listing_takes_confirmed_platform_on_hand(app):
    merchant = make_merchant()
    warehouse = make_location(merchant, "Warehouse")
    channel = make_channel(merchant)
    cl = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id, remote_id="L1",
                         name="Main", stock_location_id=warehouse.id)
    db.session.add(cl)
    db.session.flush()
    confirm_stock(cl)
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "NEW-1"), _v("2", "NEG-1")])
    assert record_remote_levels(merchant.id, channel.id, [
        RemoteLevel("1", "L1", 7, 5, 2), RemoteLevel("2", "L1", -3, -3, 0),
        RemoteLevel("1", "UNKNOWN", 1, 1, 0)]) == 2
    assert db.session.scalar(select(db.func.count()).select_from(ChannelListingLevel)) == 2
    result = create_items_from_listings(merchant.id, [_listing(channel, "1").id,
                                                      _listing(channel, "2").id])
    assert sorted(result["created"]) == ["NEG-1", "NEW-1"]
    levels = {lv.item.sku: lv.on_hand for lv in db.session.scalars(select(InventoryLevel))}
    assert levels == {"NEW-1": 7}  # a negative count is not taken


def test_a_listing_back_on_the_store_is_pushed_again(app):
    from app.stock.push import pending_pushes
    merchant = make_merchant()
    warehouse = make_location(merchant, "Warehouse")
    item = make_item(merchant, "BACK-1")
    channel = make_channel(merchant)
    cl = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id, remote_id="L1",
                         stock_location_id=warehouse.id)
    db.session.add(cl)
    db.session.flush()
    confirm_stock(cl)
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "BACK-1", product="P1")])
    from app.stock.push import record_pushed
    record_pushed(pending_pushes(channel.id, limit=10))
    remove_remote_listings(merchant.id, channel.id, remote_product_id="P1")
    assert pending_pushes(channel.id, limit=10) == []
    upsert_remote_listings(merchant.id, channel.id, [_v("1", "BACK-1", product="P1")])
    assert [p.sku for p in pending_pushes(channel.id, limit=10)] == ["BACK-1"]
    assert _listing(channel, "1").inventory_item_id == item.id
