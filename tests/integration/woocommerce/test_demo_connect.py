"""The demo's connect_demo_store: the sandbox store connected without a browser, then imported."""
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelListing, JobStatus, Merchant, Order, OutboxEvent, StockLocation
from demo.woocommerce import connect_demo_store
from tests.integration.woocommerce.conftest import release_session


def test_connect_demo_store_imports_matched_listings_and_open_orders(stockroom):
    merchant = Merchant(name="Demo")
    db.session.add(merchant)
    db.session.flush()
    db.session.add(StockLocation(merchant_id=merchant.id, name="Main warehouse"))
    db.session.flush()
    store_url = stockroom.sandbox.store_url()
    channel, created = connect_demo_store(merchant.id, store_url, app_url=stockroom.url)
    assert created
    db.session.commit()
    assert connect_demo_store(merchant.id, store_url, app_url=stockroom.url)[1] is False
    release_session()
    stockroom.run_worker(until=lambda: db.session.scalar(select(OutboxEvent.status).where(
        OutboxEvent.topic == "channel.connected")) == JobStatus.DONE)
    unmatched = db.session.scalars(select(ChannelListing.sku).where(
        ChannelListing.inventory_item_id.is_(None))).all()
    assert unmatched == ["GIFT-CARD"]
    assert db.session.query(Order).count() == 4
    assert len(stockroom.sandbox.store()["webhooks"]) == 7  # 3 order + 4 product topics


def test_connect_store_with_key_and_import_inline(stockroom):
    from demo.woocommerce import connect_store_with_key, import_store_now

    merchant = Merchant(name="Seeded")
    db.session.add(merchant)
    db.session.flush()
    db.session.add(StockLocation(merchant_id=merchant.id, name="Main warehouse"))
    db.session.commit()
    merchant_id = merchant.id
    key = stockroom.sandbox.control("POST", "/stores/second-store/keys",
                                    json={"permissions": "read_write"})
    channel = connect_store_with_key(merchant_id, stockroom.sandbox.store_url(
        "second-store", https=True) + "/", key, app_url=stockroom.url, name="Second")
    channel_id = channel.id
    db.session.commit()
    release_session()
    note = import_store_now(channel_id)
    assert "7 webhooks" in note and "4 orders" in note and "9 listings" in note
    assert db.session.query(Order).count() == 4
    job = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "channel.connected"))
    assert job.status == JobStatus.DONE and job.last_error.startswith("inline:")
