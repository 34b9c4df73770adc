"""Uninstall and reinstall, compliance webhooks and scope changes, against the sandbox."""
import dataclasses
import json

from sqlalchemy import delete, select

from app.extensions import db
from app.models import (Channel, ChannelListing, ChannelLocation, ChannelStatus, Fulfillment,
                        InventoryLevel, Merchant, Order, OrderStatusCount, OutboxEvent,
                        WebhookInbox)
from app.orders.counts import status_counts
from app.platforms.shopify.imports import UNINSTALLED_NOTE
from app.platforms.shopify.settings import DEFAULT_TOML, load_settings
from app.platforms.shopify.tokens import read_credentials
from app.sync.schedule import Scheduler
from tests.integration.shopify.conftest import CLIENT_ID, SECRET, SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import place_order, shop  # noqa: F401
from tests.integration.shopify.test_install import install_via_admin


def channel() -> Channel:
    db.session.expire_all()
    return db.session.scalars(select(Channel)).one()


def uninstall(stockroom):
    stockroom.sandbox.control("POST", f"shops/{SHOP}/uninstall", {"client_id": CLIENT_ID})
    stockroom.run_worker(until=lambda: channel().status == ChannelStatus.UNINSTALLED)


def inbox_note(topic):
    row = db.session.scalar(select(WebhookInbox).where(WebhookInbox.topic == topic))
    return row.status, row.last_error, row.merchant_id


def test_uninstall_then_reinstall_reuses_the_merchant_and_resumes_sync(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    first = channel()
    ids = (first.id, first.merchant_id)
    orders, listings = db.session.query(Order).count(), db.session.query(ChannelListing).count()
    release_session()
    uninstall(stockroom)
    gone = channel()
    assert gone.credentials_encrypted is None and gone.uninstalled_at is not None
    release_session()
    # Nothing is scheduled for an uninstalled shop.
    Scheduler().tick(force=True)
    assert db.session.scalar(select(OutboxEvent.id).where(
        OutboxEvent.topic.in_(("shopify.reconcile", "shopify.token_refresh")))) is None
    # Jobs queued just before the uninstall end quietly instead of failing for hours.
    for topic in ("shopify.reconcile", "shopify.token_refresh"):
        db.session.add(OutboxEvent(merchant_id=ids[1], channel_id=ids[0], topic=topic))
    db.session.commit()
    stockroom.run_worker()
    assert set(db.session.execute(select(OutboxEvent.status, OutboxEvent.last_error).where(
        OutboxEvent.topic.in_(("shopify.reconcile", "shopify.token_refresh"))))) == {
        ("done", UNINSTALLED_NOTE)}
    db.session.execute(delete(OutboxEvent).where(OutboxEvent.topic.in_(
        ("shopify.reconcile", "shopify.token_refresh"))))
    db.session.commit()

    install_via_admin(stockroom)
    stockroom.run_worker()
    again = channel()
    assert (again.id, again.merchant_id, again.status) == (*ids, ChannelStatus.ACTIVE)
    assert read_credentials(again).refresh_token
    assert db.session.query(Merchant).count() == 1
    # The import ran again: nothing duplicated, the mapping of locations kept.
    assert db.session.query(Order).count() == orders
    assert db.session.query(ChannelListing).count() == listings
    assert db.session.scalar(select(ChannelLocation.stock_location_id).where(
        ChannelLocation.name == "Main Warehouse")) == shop.warehouse_id
    release_session()
    order, _ = place_order(stockroom, [("MUG-WHT", 1)])  # webhooks flow again
    assert order.merchant_id == ids[1]


def test_customers_redact_deletes_that_customers_personal_data(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    # A checkout by the customer the sandbox will name (the first order's), and another's.
    first = db.session.scalar(select(Order).where(Order.name == "#1001"))
    target_email, target_gid = first.customer_email, first.remote_id
    release_session()
    assert target_email
    mine, _ = place_order(stockroom, [("MUG-WHT", 1)])  # "Ada Lovelace", ada@example.com
    other = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", {
        "lines": [{"sku": "MUG-WHT", "quantity": 1}], "email": "someone@example.com",
        "customer_name": "Someone Else"})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Order).where(
        Order.remote_id == other["gid"])) is not None)
    release_session()

    sent = stockroom.sandbox.control("POST", f"shops/{SHOP}/compliance/customers_redact", {})
    assert sent["payload"]["customer"]["email"] == target_email
    stockroom.run_worker(until=lambda: db.session.scalar(select(WebhookInbox.status).where(
        WebhookInbox.topic == "customers/redact")) == "done")
    redacted = db.session.scalars(select(Order).where(
        Order.customer_email == "", Order.customer_name == "")).all()
    assert target_gid in {o.remote_id for o in redacted}
    assert all(o.customer_email != target_email for o in db.session.scalars(select(Order)))
    kept = db.session.scalar(select(Order).where(Order.remote_id == other["gid"]))
    assert (kept.customer_email, kept.customer_name) == ("someone@example.com", "Someone Else")
    # Stored webhook bodies no longer carry the customer's data (the request's own too).
    for row in db.session.scalars(select(WebhookInbox)):
        assert target_email.encode() not in row.body, row.topic
    assert b"someone@example.com" in b"".join(db.session.scalars(select(WebhookInbox.body)))
    status, note, _ = inbox_note("customers/redact")
    assert "redacted customer data on" in note


def test_customers_data_request_is_recorded_for_the_merchant(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    sent = stockroom.sandbox.control("POST", f"shops/{SHOP}/compliance/customers_data_request",
                                     {})
    stockroom.run_worker(until=lambda: db.session.scalar(select(WebhookInbox.status).where(
        WebhookInbox.topic == "customers/data_request")) == "done")
    status, note, merchant_id = inbox_note("customers/data_request")
    assert merchant_id == shop.merchant_id
    assert sent["payload"]["customer"]["email"] in note and "#1001" in note
    body = json.loads(db.session.scalar(select(WebhookInbox.body).where(
        WebhookInbox.topic == "customers/data_request")))
    assert body["data_request"]["id"] == sent["payload"]["data_request"]["id"]


def test_shop_redact_removes_the_shops_data(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    order, summary = place_order(stockroom, [("BEANIE-GRY", 1)],
                                 location_id=shop.remote["Main Warehouse"])
    made = stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": summary["fulfillment_orders"][0]["id"]})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Fulfillment).where(
        Fulfillment.remote_id == made["gid"])) is not None)
    shop_channel_id = channel().id
    release_session()
    uninstall(stockroom)
    stockroom.sandbox.control("POST", f"shops/{SHOP}/compliance/shop_redact", {})
    stockroom.run_worker(until=lambda: db.session.scalar(select(WebhookInbox.status).where(
        WebhookInbox.topic == "shop/redact")) == "done")
    for model in (Order, OrderStatusCount, Fulfillment, ChannelLocation, ChannelListing,
                  OutboxEvent):
        assert db.session.query(model).filter(model.channel_id == shop_channel_id).count() \
            == 0, model.__name__
    assert status_counts(channel().merchant_id)["all"] == 0  # one order was counted before
    assert [row.topic for row in db.session.scalars(select(WebhookInbox))] == ["shop/redact"]
    gone = channel()
    assert (gone.credentials_encrypted, gone.scopes, gone.sync_cursors) == (None, "", {})
    # The merchant's own stock is the merchant's: it stays.
    assert db.session.query(InventoryLevel).count() > 0
    assert db.session.query(Merchant).count() == 1


def test_scope_change_in_the_toml_is_picked_up_on_the_next_load(stockroom, tmp_path):
    install_via_admin(stockroom)
    stockroom.run_worker()
    before = channel()
    merchant_id, old_token = before.merchant_id, read_credentials(before).access_token
    assert "read_customers" not in before.scopes.split(",")
    release_session()
    # A new version of the app asks for one more scope: the toml changes and is deployed.
    text = DEFAULT_TOML.read_text().replace('scopes = "', 'scopes = "read_customers,', 1)
    new_toml = tmp_path / "shopify.app.toml"
    new_toml.write_text(text)
    stockroom.sandbox.control("POST", "apps", {
        "toml_path": str(new_toml), "secret": SECRET,
        "application_url": f"{stockroom.url}/shopify/app",
        "redirect_urls": [f"{stockroom.url}/shopify/auth/callback"]})
    old = stockroom.app.extensions["stockroom.shopify"]
    fresh = load_settings({"SHOPIFY_API_SECRET": SECRET, "SHOPIFY_APP_TOML": str(new_toml),
                           "SHOPIFY_APP_URL": old.application_url,
                           "SHOPIFY_SHOP_URL_TEMPLATE": old.shop_url_template,
                           "SHOPIFY_ADMIN_ORIGINS": ",".join(old.admin_origins),
                           "SHOPIFY_APP_BRIDGE_URL": old.app_bridge_url,
                           "SHOPIFY_CA_BUNDLE": old.ca_bundle})
    assert "read_customers" in fresh.scopes
    stockroom.app.extensions["stockroom.shopify"] = fresh
    try:
        # The merchant opens the app: Shopify asks for the new scope, the app exchanges again.
        landing = install_via_admin(stockroom)
    finally:
        stockroom.app.extensions["stockroom.shopify"] = dataclasses.replace(old)
    assert landing.status_code == 302
    after = channel()
    assert "read_customers" in after.scopes.split(",")
    assert after.merchant_id == merchant_id and db.session.query(Merchant).count() == 1
    assert read_credentials(after).access_token != old_token
