"""The bulk seeder writes rows that keep the app's invariants (ledger, fulfilled quantities)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import (Fulfillment, FulfillmentLine, InventoryLevel, InventoryMovement, Merchant,
                        Order, OrderLine, StockLocation)
from demo.seed_bulk import seed_bulk
from app.web.read_models.orders import OrderFilters, order_status_counts, orders_page


def test_seed_bulk_keeps_ledger_and_fulfilled_quantities(app):
    seeded = seed_bulk(db.session.connection(), orders=300, skus=40, seed=3)
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(Order)) == 300
    lines = db.session.scalar(select(func.count()).select_from(OrderLine))
    assert 600 <= lines <= 1200  # 1-5 lines, 3 on average
    # Every level equals the sum of its ledger.
    mismatched = db.session.execute(
        select(InventoryLevel.id).join(InventoryMovement, InventoryMovement.level_id == InventoryLevel.id)
        .group_by(InventoryLevel.id, InventoryLevel.on_hand)
        .having(func.sum(InventoryMovement.delta) != InventoryLevel.on_hand)).all()
    assert mismatched == []
    # Every line's fulfilled quantity is what its live fulfillments hold.
    held = dict(db.session.execute(
        select(FulfillmentLine.order_line_id, func.sum(FulfillmentLine.quantity))
        .join(Fulfillment).where(Fulfillment.status != "canceled")
        .group_by(FulfillmentLine.order_line_id)).all())
    for line_id, fulfilled in db.session.execute(select(OrderLine.id,
                                                        OrderLine.fulfilled_quantity)):
        assert held.get(line_id, 0) == fulfilled
    counts = order_status_counts(seeded.merchant_id, OrderFilters())
    assert counts["all"] == 300
    assert 0.5 * 300 < counts["fulfilled"] + counts["partially_fulfilled"] < 0.7 * 300
    assert set(seeded.open_order_ids) <= set(db.session.scalars(select(Order.id)))


def test_seed_bulk_twice_then_the_app_writes_after_it(app):
    first = seed_bulk(db.session.connection(), orders=20, skus=5, seed=1)
    second = seed_bulk(db.session.connection(), orders=20, skus=5, seed=2)
    db.session.commit()
    assert second.merchant_id != first.merchant_id
    # Sequences moved past the explicit ids: the ORM can insert fulfillments and movements.
    order = db.session.get(Order, second.open_order_ids[0])
    location = db.session.get(StockLocation, second.location_ids[0])
    fulfillment = create_fulfillment(order, {ln.id: ln.quantity for ln in order.lines},
                                     location, merchant_id=second.merchant_id)
    db.session.commit()
    assert fulfillment.id > max(db.session.scalars(select(Fulfillment.id).where(
        Fulfillment.id != fulfillment.id)))


def test_seed_bulk_orders_are_searchable_and_later_ones_too(app):
    from tests.fixtures.factories import make_channel, make_order

    seeded = seed_bulk(db.session.connection(), orders=30, skus=5, seed=3)
    other = seed_bulk(db.session.connection(), orders=10, skus=5, seed=4)
    db.session.commit()
    order = db.session.get(Order, seeded.open_order_ids[0])
    sku, email = order.lines[0].sku, order.customer_email
    with_sku = set(db.session.scalars(select(OrderLine.order_id).where(
        OrderLine.merchant_id == seeded.merchant_id, OrderLine.sku == sku)))
    found = {o.id for o in orders_page(seeded.merchant_id, OrderFilters(q=sku), limit=100).orders}
    assert found == with_sku and order.id in found
    assert [o.id for o in orders_page(seeded.merchant_id, OrderFilters(q=email)).orders] \
        == [order.id]
    # Each merchant's rows are indexed once (no duplicate search rows from the two seeds).
    assert order_status_counts(other.merchant_id, OrderFilters(q="SKU-"))["all"] == 10
    # The search indexes still follow rows the app writes after a seed.
    channel = make_channel(db.session.get(Merchant, seeded.merchant_id))
    later = make_order(channel, [(None, 1)])
    later.customer_email = "written.after@seed.test"
    db.session.commit()
    assert [o.id for o in orders_page(seeded.merchant_id,
                                      OrderFilters(q="after@seed")).orders] == [later.id]


def test_seed_bulk_streams_batches_and_marks_orders(app):
    # Batches smaller than the seed: the ledger still balances across batch boundaries.
    seeded = seed_bulk(db.session.connection(), orders=250, skus=30, seed=5, batch_orders=70,
                       markers={"qzten": 10, "qzhundred": 100})
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 250
    assert seeded.counts["orders"] == 250
    for term, n in (("qzten", 10), ("qzhundred", 100)):
        assert db.session.scalar(select(func.count()).select_from(Order).where(
            Order.customer_email.contains(term))) == n
    mismatched = db.session.execute(
        select(InventoryLevel.id).join(InventoryMovement,
                                       InventoryMovement.level_id == InventoryLevel.id)
        .group_by(InventoryLevel.id, InventoryLevel.on_hand)
        .having(func.sum(InventoryMovement.delta) != InventoryLevel.on_hand)).all()
    assert mismatched == []
    # on_hand_after runs down each level's ledger in order, ending at the level's on_hand.
    for level in db.session.scalars(select(InventoryLevel).where(
            InventoryLevel.merchant_id == seeded.merchant_id).limit(20)):
        after = db.session.scalars(select(InventoryMovement.on_hand_after).where(
            InventoryMovement.level_id == level.id).order_by(InventoryMovement.id)).all()
        assert after[-1] == level.on_hand
