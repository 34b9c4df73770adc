"""Orders bigger than one page of Shopify's connections: 120 lines split over 10 fulfillment
orders are mirrored whole and fulfilled in parts from both sides, over real HTTP."""
from collections import Counter

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import (Fulfillment, FulfillmentOrder, FulfillmentOrderLine,
                        Merchant, Order, Origin, StockLocation, SyncState)
from app.platforms.shopify.actions import HOLD, ActionInput, run_fulfillment_order_action
from app.platforms.shopify.paging import read_order, read_order_fulfillments
from app.platforms.shopify.sync import ShopifyCall
from tests.fixtures.factories import make_item, stock
from tests.fixtures.invariants import assert_invariants
from tests.integration.shopify.conftest import SHOP
from tests.integration.shopify.test_fulfillment_sync import level, shop  # noqa: F401

LINES, FULFILLMENT_ORDERS, PER_FO = 120, 10, 12


def _big_order(stockroom, shop, *, split: bool):  # noqa: F811
    """A 120-line order (2 units each, 5 of each SKU stocked on both sides) at Main
    Warehouse; ``split``: into 10 fulfillment orders of 12 lines before Stockroom reads it."""
    skus = [f"BULK-{n:03d}" for n in range(LINES)]
    stockroom.sandbox.control("POST", f"shops/{SHOP}/products", {
        "title": "Wholesale bolt", "variants": [{"title": sku, "sku": sku, "on_hand": 5}
                                                for sku in skus]})
    merchant = db.session.get(Merchant, shop.merchant_id)
    warehouse = db.session.get(StockLocation, shop.warehouse_id)
    for sku in skus:
        stock(warehouse, make_item(merchant, sku), 5)
    db.session.commit()
    summary = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": sku, "quantity": 2} for sku in skus],
        "location_id": shop.remote["Main Warehouse"]})
    (fo,) = summary["fulfillment_orders"]
    lines = fo["line_items"]
    for start in range(PER_FO, LINES if split else 0, PER_FO):
        stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/{fo['id']}/split", {
            "line_items": [{"id": ln["id"], "quantity": 2} for ln in lines[start:start + PER_FO]]})
    gid = summary["gid"]
    # A deadline, not a timing target: 120 variants' webhooks queue ahead of the order's on a
    # loaded machine.
    stockroom.run_worker(until=lambda: db.session.scalar(
        select(Order).where(Order.remote_id == gid)) is not None, timeout=90)
    stockroom.run_worker(timeout=90)
    return db.session.scalar(select(Order).where(Order.remote_id == gid)), summary


@pytest.fixture
def big_order(stockroom, shop):  # noqa: F811
    """A 120-line order (2 units each) at Main Warehouse, split into 10 fulfillment orders of
    12 lines before Stockroom reads it."""
    return _big_order(stockroom, shop, split=True)


def _sandbox_fos(stockroom, order_id):
    return [fo for fo in stockroom.sandbox.shop()["fulfillment_orders"]
            if fo["order_id"] == order_id and fo["status"] != "CLOSED"]


def test_order_of_120_lines_in_10_fulfillment_orders_mirrored_whole(stockroom, big_order):
    order, summary = big_order
    on_shopify = _sandbox_fos(stockroom, summary["id"])
    order = db.session.get(Order, order.id)
    assert len(order.lines) == LINES and all(line.inventory_item_id for line in order.lines)
    mirror = db.session.scalars(select(FulfillmentOrder).where(
        FulfillmentOrder.order_id == order.id)).all()
    assert len(mirror) == FULFILLMENT_ORDERS == len(on_shopify)
    assert sorted(len(fo.lines) for fo in mirror) == [PER_FO] * FULFILLMENT_ORDERS
    remaining = db.session.scalar(select(func.sum(FulfillmentOrderLine.remaining_quantity)).join(
        FulfillmentOrder).where(FulfillmentOrder.order_id == order.id))
    assert remaining == 2 * LINES
    assert all(line.order_line_id for fo in mirror for line in fo.lines)


def test_order_of_120_lines_fulfilled_in_parts_from_both_sides(stockroom, shop, big_order):  # noqa: F811
    order, summary = big_order
    order_id, merchant_id = order.id, shop.merchant_id
    on_shopify = _sandbox_fos(stockroom, summary["id"])
    # Stockroom -> Shopify: the last 60 lines (5 fulfillment orders) in one fulfillment.
    order = db.session.get(Order, order_id)
    by_remote = {line.remote_id: line for line in order.lines}
    last_half = [by_remote[f"gid://shopify/LineItem/{li['line_item_id']}"]
                 for fo in on_shopify[5:] for li in fo["line_items"]]
    assert len(last_half) == 60
    f = create_fulfillment(order_id, {line.id: 2 for line in last_half}, shop.warehouse_id,
                           merchant_id=merchant_id)
    pushed_id = f.id
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, pushed_id).sync_state
                         == SyncState.SYNCED, timeout=90)
    pushed = db.session.get(Fulfillment, pushed_id)
    remote = next(x for x in stockroom.sandbox.shop()["fulfillments"]
                  if f"gid://shopify/Fulfillment/{x['id']}" == pushed.remote_id)
    assert len(remote["lines"]) == 60 and sum(ln["quantity"] for ln in remote["lines"]) == 120
    assert len({ln["fulfillment_order_id"] for ln in remote["lines"]}) == 5
    # Read back, the 60-line fulfillment comes whole (the documents read 30 / 50 lines of a
    # fulfillment, FulfillmentLineItemPage the rest), so a retried push can adopt it.
    call = ShopifyCall(db.session.get(Order, order_id).channel_id)
    for operation in ("OrderFulfillments", "OrderFulfillmentsForSync"):
        node = read_order_fulfillments(call, operation, summary["gid"])
        assert [len(x["fulfillmentLineItems"]["nodes"]) for x in node["fulfillments"]] == [60]
    whole = read_order(call, summary["gid"])
    assert len(whole["lineItems"]["nodes"]) == LINES
    assert len(whole["fulfillmentOrders"]["nodes"]) == FULFILLMENT_ORDERS

    # Shopify -> webhook -> Stockroom: the merchant fulfills the first fulfillment order there.
    first_fo = _sandbox_fos(stockroom, summary["id"])[0]
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments",
                                     {"fulfillment_order_id": first_fo["id"]})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Fulfillment).where(
        Fulfillment.remote_id == made["gid"])) is not None, timeout=90)
    stockroom.run_worker(timeout=90)
    platform = db.session.scalar(select(Fulfillment).where(Fulfillment.remote_id == made["gid"]))
    assert platform.origin == Origin.PLATFORM and len(platform.lines) == PER_FO
    assert sum(fl.quantity for fl in platform.lines) == 2 * PER_FO

    order = db.session.get(Order, order_id)
    shipped = Counter({line.sku: 2 - line.not_shipped_quantity for line in order.lines})
    assert sum(shipped.values()) == 120 + 2 * PER_FO
    assert level(shop.warehouse_id, "BULK-119").on_hand == 3  # pushed from Stockroom
    assert level(shop.warehouse_id, "BULK-000").on_hand == 3  # fulfilled on Shopify
    assert level(shop.warehouse_id, "BULK-050").on_hand == 5  # not fulfilled yet
    # Shopify's view, read whole, agrees: 4 fulfillment orders left open with 48 lines.
    open_fos = [fo for fo in db.session.scalars(select(FulfillmentOrder).where(
        FulfillmentOrder.order_id == order_id, FulfillmentOrder.status == "OPEN"))]
    assert sum(len(fo.lines) for fo in open_fos) == 48
    assert_invariants()


def test_one_fulfillment_order_of_120_lines_mirrored_whole_and_after_a_hold(stockroom, shop):  # noqa: F811
    """OrderForSync and the hold mutation read 50 lines of a fulfillment order;
    FulfillmentOrderLineItemPage brings the other 70 both times."""
    order, _ = _big_order(stockroom, shop, split=False)
    order_id = order.id
    (fo,) = db.session.scalars(select(FulfillmentOrder).where(
        FulfillmentOrder.order_id == order_id)).all()
    assert len(fo.lines) == LINES and sum(ln.remaining_quantity for ln in fo.lines) == 2 * LINES
    fo_id = fo.id
    note = run_fulfillment_order_action(shop.merchant_id, fo_id, HOLD,
                                        ActionInput(reason="OTHER", notes="Check the address"))
    db.session.commit()
    assert note.startswith("On hold")
    fo = db.session.get(FulfillmentOrder, fo_id)
    assert fo.status == "ON_HOLD" and len(fo.lines) == LINES
    assert all(ln.order_line_id for ln in fo.lines)
