"""Inventory out: Stockroom's stock changes reach the sandbox shop as absolute `available`."""
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelListing, InventoryItem, InventoryPushState
from app.platforms.shopify.imports import match_unmatched_listings
from app.stock import adjust_stock
from app.stock.push import mark_dirty
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import place_order, shop  # noqa: F401


def _list_catalog(stockroom, shop):  # noqa: F811
    """The import's listings, matched by SKU to the items made after install (as the next
    reconciliation matches them)."""
    stockroom.run_worker()  # the import lists the shop's variants
    channel = db.session.scalar(select(Channel))
    assert db.session.query(ChannelListing).count() == len(stockroom.sandbox.shop()["variants"])
    match_unmatched_listings(shop.merchant_id, channel.id)
    mark_dirty(shop.merchant_id, channel_id=channel.id)
    db.session.commit()
    return channel.id


def _remote(stockroom, sku, location_name, shop):  # noqa: F811
    location_id = int(shop.remote[location_name].rsplit("/", 1)[-1]) \
        if isinstance(shop.remote[location_name], str) else shop.remote[location_name]
    return next((lvl for lvl in stockroom.sandbox.shop()["levels"]
                 if lvl["sku"] == sku and lvl["location_id"] == location_id), None)


def _item_id(sku):
    return db.session.scalar(select(InventoryItem.id).where(InventoryItem.sku == sku))


def _all_pushed():
    return db.session.scalar(select(InventoryPushState.id).where(
        InventoryPushState.generation > InventoryPushState.pushed_generation)) is None


def test_push_inventory_sets_available_at_mapped_locations(stockroom, shop):  # noqa: F811
    _list_catalog(stockroom, shop)
    stockroom.run_worker(until=_all_pushed)
    # Shopify's on hand becomes Stockroom's 10; at Main Warehouse the seeded open order
    # holds 2 (its lines are linked to the item since the listing matched), so Shopify
    # shows 8 available there.
    main = _remote(stockroom, "TOTE-NAT", "Main Warehouse", shop)
    assert (main["on_hand"], main["committed"], main["available"]) == (10, 2, 8)
    assert _remote(stockroom, "TOTE-NAT", "Downtown Store", shop)["available"] == 10

    adjust_stock(shop.merchant_id, shop.warehouse_id, _item_id("TOTE-NAT"), absolute=4,
                 reason="correction")
    db.session.commit()
    stockroom.run_worker()
    main = _remote(stockroom, "TOTE-NAT", "Main Warehouse", shop)
    assert (main["on_hand"], main["available"]) == (4, 2)
    # Only the changed location moved.
    assert _remote(stockroom, "TOTE-NAT", "Downtown Store", shop)["available"] == 10
    state = db.session.scalars(select(InventoryPushState)).all()
    assert all(s.pushed_generation >= s.generation and s.last_error == "" for s in state)


def test_push_inventory_leaves_shopify_committed_units_out(stockroom, shop):  # noqa: F811
    _list_catalog(stockroom, shop)
    stockroom.run_worker(until=_all_pushed)
    place_order(stockroom, [("MUG-WHT", 3)], location_id=shop.remote["Main Warehouse"])
    # 10 on hand on Shopify, 1 held by the seeded open order and 3 by this one.
    assert _remote(stockroom, "MUG-WHT", "Main Warehouse", shop)["available"] == 6
    adjust_stock(shop.merchant_id, shop.warehouse_id, _item_id("MUG-WHT"), delta=-1,
                 reason="damaged")
    db.session.commit()
    stockroom.run_worker()
    # 9 on hand in Stockroom, 4 of them promised to the open Shopify orders we know of.
    main = _remote(stockroom, "MUG-WHT", "Main Warehouse", shop)
    assert (main["on_hand"], main["available"]) == (9, 5)


def test_push_inventory_rereads_when_shopify_changed_meanwhile(stockroom, shop):  # noqa: F811
    _list_catalog(stockroom, shop)
    stockroom.run_worker(until=_all_pushed)
    release_session()
    # The merchant counts the shelf in Shopify admin: our last-seen value is now stale.
    stockroom.sandbox.control("POST", f"shops/{SHOP}/inventory", {
        "sku": "BEANIE-NVY", "location_id": shop.remote["Downtown Store"], "delta": -4})
    adjust_stock(shop.merchant_id, shop.downtown_id, _item_id("BEANIE-NVY"), absolute=12,
                 reason="correction")
    db.session.commit()
    stockroom.run_worker()
    assert _remote(stockroom, "BEANIE-NVY", "Downtown Store", shop)["available"] == 12
    assert _all_pushed()


def test_push_inventory_unmapped_location_untouched(stockroom, shop):  # noqa: F811
    from app.models import ChannelLocation
    channel_id = _list_catalog(stockroom, shop)
    stockroom.run_worker(until=_all_pushed)
    before = _remote(stockroom, "TOTE-BLK", "Main Warehouse", shop)["available"]
    downtown = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.channel_id == channel_id, ChannelLocation.name == "Main Warehouse"))
    downtown.stock_location_id = None
    db.session.commit()
    adjust_stock(shop.merchant_id, shop.warehouse_id, _item_id("TOTE-BLK"), absolute=1,
                 reason="correction")
    db.session.commit()
    stockroom.run_worker()
    assert _remote(stockroom, "TOTE-BLK", "Main Warehouse", shop)["available"] == before
