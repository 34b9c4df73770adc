"""The webhook endpoint (signatures, ping, dedupe) and the reconciliation that repairs misses."""
import datetime as dt

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelListing, JobStatus, Order, OutboxEvent, WebhookInbox
from app.platforms.woocommerce.scheduled import enqueue_reconciliations
from app.platforms.woocommerce.views import webhook_signature
from app.security.keyring import get_keyring
from tests.integration.woocommerce.conftest import connected, release_session, woo_channel


def post(stockroom, channel_id, body: bytes, headers: dict):
    release_session()
    return requests.post(f"{stockroom.url}/woocommerce/webhooks/{channel_id}", data=body,
                         headers=headers, verify=stockroom.ca_bundle, timeout=10)


def signed_headers(secret, body, *, webhook_id="7", topic="order.updated",
                   delivery="0123456789abcdef0123456789abcdef"):
    return {"Content-Type": "application/json", "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": topic.split(".")[0], "X-WC-Webhook-Event": "updated",
            "X-WC-Webhook-ID": webhook_id, "X-WC-Webhook-Delivery-ID": delivery,
            "X-WC-Webhook-Source": "https://shop.example/",
            "X-WC-Webhook-Signature": webhook_signature(secret, body)}


def test_webhook_signatures_ping_and_dedupe(stockroom):
    connected(stockroom)
    channel = woo_channel()
    channel_id, secret = channel.id, get_keyring().decrypt(channel.webhook_secret_encrypted)
    before = db.session.query(WebhookInbox).count()
    body = b'{"id":4242,"status":"processing","date_modified_gmt":"2026-11-23T10:00:00"}'
    good = signed_headers(secret, body)
    for headers, payload in (
            (dict(good, **{"X-WC-Webhook-Signature": webhook_signature("wrong", body)}), body),
            (good, body + b" "),  # the signature covers the raw bytes exactly
            ({k: v for k, v in good.items() if k != "X-WC-Webhook-Signature"}, body),
            (dict(good, **{"X-WC-Webhook-Signature": ""}), body)):
        assert post(stockroom, channel_id, payload, headers).status_code == 401
    assert post(stockroom, channel_id + 999, body, good).status_code == 401
    ping = post(stockroom, channel_id, b"webhook_id=12",
                {"Content-Type": "application/x-www-form-urlencoded"})
    assert ping.status_code == 200
    assert db.session.query(WebhookInbox).count() == before  # nothing stored for any of those
    release_session()
    assert post(stockroom, channel_id, body, good).status_code == 200
    assert post(stockroom, channel_id, body, good).status_code == 200  # a duplicate delivery
    other = b'{"id":4243,"status":"processing","date_modified_gmt":"2026-11-23T10:00:00"}'
    # Same Delivery-ID (same webhook, same second) but another order: another event.
    assert post(stockroom, channel_id, other, signed_headers(secret, other)).status_code == 200
    # Same body from another webhook (order.created vs order.updated): the same state of the
    # same order, and its headers are not signed: not stored again.
    assert post(stockroom, channel_id, body, signed_headers(
        secret, body, webhook_id="8", topic="order.created")).status_code == 200
    rows = db.session.scalars(select(WebhookInbox).where(WebhookInbox.id > 0)
                              .order_by(WebhookInbox.id)).all()[before:]
    assert len(rows) == 2 and len({r.dedupe_key for r in rows}) == 2
    assert rows[0].body == body and rows[0].headers["X-Wc-Webhook-Delivery-Id"] == \
        "0123456789abcdef0123456789abcdef"


def test_duplicated_and_reordered_deliveries_apply_the_current_state(stockroom):
    connected(stockroom)
    sandbox = stockroom.sandbox
    sandbox.control("PUT", "/stores/demo-store/faults", json={"duplicate": 20, "reorder": 2})
    data = sandbox.control("POST", "/stores/demo-store/orders",
                           json={"line_items": [{"sku": "TOTE-CANVAS", "quantity": 1}]})
    sandbox.control("POST", f"/stores/demo-store/orders/{data['id']}/status",
                    json={"status": "on-hold"})
    sandbox.control("DELETE", "/stores/demo-store/faults")
    stockroom.settle()
    sent = [d for d in sandbox.deliveries(kind="delivery") if d.get("code") == 200]
    assert sum(1 for d in sent if d["duplicate"]) >= 1
    order = db.session.scalar(select(Order).where(Order.remote_id == str(data["id"])))
    assert order is not None and order.cancelled_at is None
    rows = db.session.scalars(select(WebhookInbox)).all()
    assert len(rows) < len(sent)  # the identical duplicates were stored once
    assert all(r.status == JobStatus.DONE for r in rows)


def test_reconciliation_repairs_missed_webhooks_and_reenables_disabled_ones(stockroom):
    connected(stockroom)
    sandbox = stockroom.sandbox
    sandbox.control("PUT", "/stores/demo-store/faults", json={"fail": 60})
    placed = [sandbox.control("POST", "/stores/demo-store/orders", json={
        "line_items": [{"sku": "TEE-CLASSIC", "quantity": 1}]})["id"] for _ in range(8)]
    sandbox.drain()
    hooks = sandbox.store()["webhooks"]
    assert any(h["status"] == "disabled" for h in hooks)
    stockroom.run_worker()
    assert not db.session.scalars(select(Order).where(
        Order.remote_id.in_([str(i) for i in placed]))).all()
    sandbox.control("DELETE", "/stores/demo-store/faults")
    from app.platforms.woocommerce.sync import request_reconcile
    request_reconcile(woo_channel())
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.scalar(select(OutboxEvent.status).where(
        OutboxEvent.topic == "channel.reconcile_requested").order_by(OutboxEvent.id))
        == JobStatus.DONE)
    job = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "channel.reconcile_requested").order_by(OutboxEvent.id))
    assert "8 orders reconciled" in job.last_error and "re-enabled" in job.last_error
    assert len(db.session.scalars(select(Order).where(
        Order.remote_id.in_([str(i) for i in placed]))).all()) == 8
    assert all(h["status"] == "active" for h in sandbox.store()["webhooks"])
    assert woo_channel().sync_cursors["orders_synced_at"]
    release_session()
    assert enqueue_reconciliations() == 0  # just ran: not due
    channel = woo_channel()
    ran = dt.datetime.fromisoformat(channel.sync_cursors["orders_synced_at"])
    channel.sync_cursors = dict(channel.sync_cursors, orders_synced_at=(
        ran - dt.timedelta(hours=1)).isoformat())
    db.session.commit()
    assert enqueue_reconciliations() == 1  # due: queued once,
    assert enqueue_reconciliations() == 0  # and not twice while it waits
    row = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "channel.reconcile_requested",
        OutboxEvent.status == JobStatus.PENDING))
    assert row.payload == {"scheduled": True}


def test_reconcile_cli_queues_a_run(stockroom):
    connected(stockroom)
    release_session()
    result = stockroom.app.test_cli_runner().invoke(args=["woocommerce-reconcile"])
    assert "queued for 1 of 1 WooCommerce store" in result.output
    due = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "channel.reconcile_requested",
        OutboxEvent.status == JobStatus.PENDING)).all()
    assert len(due) == 1


def test_signed_order_delivery_without_a_well_formed_id_is_rejected(stockroom):
    # Signed with the channel's own secret (an insider, or a replay), but no order id a
    # store would send: rejected with the reason, and nothing read or applied.
    connected(stockroom)
    stockroom.run_worker()
    channel = woo_channel()
    channel_id, secret = channel.id, get_keyring().decrypt(channel.webhook_secret_encrypted)
    orders = sorted(db.session.scalars(select(Order.remote_id)))
    bodies = [b'{"status":"processing"}', b'{"id":-3}', b'{"id":"4242"}', b'{"id":true}']
    # Not a JSON object: refused at intake already (test_webhook_intake.py), never stored.
    not_an_object = b'["id", 4242]'
    assert post(stockroom, channel_id, not_an_object,
                signed_headers(secret, not_an_object, delivery="f" * 32)).status_code == 400
    for n, body in enumerate(bodies):
        headers = signed_headers(secret, body, delivery=f"{n:032x}")
        assert post(stockroom, channel_id, body, headers).status_code == 200
    stockroom.run_worker()
    rows = db.session.scalars(select(WebhookInbox).where(
        WebhookInbox.body.in_(bodies)).order_by(WebhookInbox.id)).all()
    assert [(r.status, r.last_error) for r in rows] == [
        (JobStatus.REJECTED, "the body's id is None, not a WooCommerce order id"),
        (JobStatus.REJECTED, "the body's id is -3, not a WooCommerce order id"),
        (JobStatus.REJECTED, "the body's id is '4242', not a WooCommerce order id"),
        (JobStatus.REJECTED, "the body's id is True, not a WooCommerce order id")]
    assert sorted(db.session.scalars(select(Order.remote_id))) == orders


def test_signed_product_delivery_without_a_well_formed_id_is_rejected(stockroom):
    connected(stockroom)
    stockroom.run_worker()
    channel = woo_channel()
    channel_id, secret = channel.id, get_keyring().decrypt(channel.webhook_secret_encrypted)
    before = sorted(db.session.scalars(select(ChannelListing.remote_variant_id).where(
        ChannelListing.deleted_at.is_(None))))
    release_session()
    cases = [("product.updated", b'{"sku":"TEE-CLASSIC"}'),
             ("product.deleted", b'{"id":"105"}'), ("product.created", b'{"id":0}')]
    for n, (topic, body) in enumerate(cases):
        headers = signed_headers(secret, body, topic=topic, delivery=f"{n + 100:032x}")
        assert post(stockroom, channel_id, body, headers).status_code == 200
    stockroom.run_worker()
    rows = db.session.scalars(select(WebhookInbox).where(
        WebhookInbox.body.in_([b for _, b in cases])).order_by(WebhookInbox.id)).all()
    assert [(r.status, r.last_error) for r in rows] == [
        (JobStatus.REJECTED, "the body's id is None, not a WooCommerce product id"),
        (JobStatus.REJECTED, "the body's id is '105', not a WooCommerce product id"),
        (JobStatus.REJECTED, "the body's id is 0, not a WooCommerce product id")]
    assert sorted(db.session.scalars(select(ChannelListing.remote_variant_id).where(
        ChannelListing.deleted_at.is_(None)))) == before  # nothing removed or read
