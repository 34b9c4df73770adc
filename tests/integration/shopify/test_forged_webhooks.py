"""Forged and replayed webhooks, sent as an attacker would, against the running app and sandbox.

The attacker holds a body signed with the app's client secret (a delivery of their own shop
seen in transit or in a log, or any other thing the secret signs) and sends it to
POST /shopify/webhooks with headers naming the victim's shop. The HMAC is valid, so intake
stores it; what must hold is that nothing of the victim's changes: the delivery ends
*rejected* with its reason, visible on the Sync page. And Shopify's own deliveries (its
published example payloads, real uninstalls) are still applied.
"""
import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelStatus, JobStatus, Order, WebhookInbox
from app.models._common import utcnow
from tests.fixtures.factories import make_channel, make_merchant, make_order
from tests.integration.shopify.conftest import CLIENT_ID, SECRET, SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import shop  # noqa: F401
from tests.integration.shopify.test_install import install_via_admin

ATTACKER = "second-shop.myshopify.com"
EXAMPLES = Path(__file__).parents[3] / "vendor/shopify/webhooks/2026-07/metadatas"


def example_body(topic: str) -> bytes:
    """Shopify's published example payload of a topic, serialized as Shopify sends JSON."""
    return json.dumps(json.loads((EXAMPLES / f"{topic}.json").read_text())["response"]).encode()


def deliver(stockroom, topic: str, body: bytes | dict, *, shop: str = SHOP) -> str:
    """POST a delivery signed with the client secret (valid HMAC); returns its event id."""
    body = json.dumps(body).encode() if isinstance(body, dict) else body
    event_id = str(uuid.uuid4())
    digest = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    release_session()
    response = requests.post(f"{stockroom.url}/shopify/webhooks", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": digest.decode(), "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07", "X-Shopify-Event-Id": event_id,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": dt.datetime.now(dt.UTC).isoformat()})
    assert response.status_code == 200, response.status_code
    return event_id


def outcome(stockroom, event_id: str) -> WebhookInbox:
    """Run the worker until the delivery is finished one way or another; the row (detached)."""
    def finished():
        return db.session.scalar(select(WebhookInbox.status).where(
            WebhookInbox.dedupe_key == event_id)) in (JobStatus.DONE, JobStatus.REJECTED,
                                                      JobStatus.DEAD, JobStatus.IGNORED)
    stockroom.run_worker(until=finished)
    row = db.session.scalar(select(WebhookInbox).where(WebhookInbox.dedupe_key == event_id))
    db.session.expunge(row)
    release_session()
    return row


def victim() -> dict:
    """What an attack on the victim's shop could change."""
    db.session.expire_all()
    channel = db.session.scalar(select(Channel).where(Channel.domain == SHOP))
    orders = db.session.scalars(select(Order).where(Order.channel_id == channel.id)).all()
    state = {"status": channel.status, "credentials": channel.credentials_encrypted,
             "orders": sorted((o.remote_id, o.customer_name, o.customer_email) for o in orders)}
    release_session()
    return state


def sync_page(stockroom, query: str) -> str:
    """The Sync page as the victim merchant sees it in the Shopify admin (session token)."""
    token = stockroom.sandbox.control(
        "GET", f"session-token?shop={SHOP}&client_id={CLIENT_ID}")["id_token"]
    response = requests.get(f"{stockroom.url}/sync?{query}", timeout=10,
                            headers={"Authorization": f"Bearer {token}", "HX-Request": "true"})
    assert response.status_code == 200
    return response.text


def uninstall(stockroom, shop_domain: str = SHOP) -> None:
    """The merchant removes the app on Shopify (tokens revoked; Shopify sends app/uninstalled)."""
    stockroom.sandbox.control("POST", f"shops/{shop_domain}/uninstall", {"client_id": CLIENT_ID})
    stockroom.run_worker(until=lambda: db.session.scalar(select(Channel.status).where(
        Channel.domain == shop_domain)) == ChannelStatus.UNINSTALLED)
    release_session()


def test_forged_app_uninstalled_for_an_installed_shop_is_rejected(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    before = victim()
    assert before["status"] == ChannelStatus.ACTIVE and before["orders"]
    # A body that agrees with the headers: only Shopify can say whether it is true.
    forged = {"id": 1, "name": "Demo Shop", "domain": SHOP, "myshopify_domain": SHOP}
    row = outcome(stockroom, deliver(stockroom, "app/uninstalled", forged))
    assert row.status == JobStatus.REJECTED
    assert "Shopify says the app is still installed" in row.last_error
    assert victim() == before  # still installed, token kept
    page = sync_page(stockroom, "kind=inbox&rejected=1")
    assert "app/uninstalled" in page and "Shopify says the app is still installed" in page


def test_replayed_uninstall_of_another_shop_is_rejected(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    install_via_admin(stockroom, shop=ATTACKER)  # the attacker's own shop has the app
    stockroom.run_worker()
    uninstall(stockroom, ATTACKER)  # ... and removes it: a real, signed app/uninstalled
    before = victim()
    real = stockroom.sandbox.control("GET", f"webhooks/deliveries?topic=app/uninstalled"
                                     f"&shop={ATTACKER}")[-1]["payload"]
    row = outcome(stockroom, deliver(stockroom, "app/uninstalled", real))
    assert row.status == JobStatus.REJECTED
    assert row.last_error == (f"the body's myshopify_domain is '{ATTACKER}', but it was "
                              f"delivered for {SHOP} (X-Shopify-Shop-Domain)")
    assert victim() == before


def test_forged_shop_redact_for_an_installed_shop_erases_nothing(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    before = victim()
    row = outcome(stockroom, deliver(stockroom, "shop/redact",
                                     {"shop_id": 1, "shop_domain": SHOP}))
    assert row.status == JobStatus.REJECTED
    assert "Shopify says the app is still installed" in row.last_error
    assert victim() == before  # every order still there, the shop still connected


def test_shop_redact_naming_another_shop_is_rejected_before_anything(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    before = victim()
    row = outcome(stockroom, deliver(stockroom, "shop/redact",
                                     {"shop_id": 2, "shop_domain": ATTACKER}))
    assert row.status == JobStatus.REJECTED and "shop_domain" in row.last_error
    assert victim() == before


def test_customers_redact_naming_another_shop_redacts_nothing(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    before = victim()
    ids = [int(remote_id.rsplit("/", 1)[1]) for remote_id, _, _ in before["orders"]]
    row = outcome(stockroom, deliver(stockroom, "customers/redact", {
        "shop_id": 2, "shop_domain": ATTACKER, "customer": {"id": 1, "email": "x@example.com"},
        "orders_to_redact": ids}))
    assert row.status == JobStatus.REJECTED and ATTACKER in row.last_error
    assert victim() == before  # names and emails kept


def test_order_webhook_with_malformed_ids_is_rejected(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    before = victim()
    for body in ({"id": 1, "admin_graphql_api_id": "gid://shopify/Customer/1"},
                 {"id": "1 OR 1=1"}, {"admin_graphql_api_id": "gid://shopify/Order/1"}):
        row = outcome(stockroom, deliver(stockroom, "orders/updated", body))
        assert row.status == JobStatus.REJECTED, body
    assert victim() == before


def test_uninstall_then_reinstall_then_late_deliveries_change_nothing(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    uninstall(stockroom)  # a real uninstall, confirmed: token deleted
    install_via_admin(stockroom)  # reinstalled within 48 h
    stockroom.run_worker()
    before = victim()
    assert before["status"] == ChannelStatus.ACTIVE and before["orders"]
    # Shopify's redaction scheduled at the uninstall arrives (the sandbox sends it now) ...
    stockroom.sandbox.control("POST", f"shops/{SHOP}/compliance/shop_redact", {})
    stockroom.run_worker(until=lambda: db.session.scalar(select(WebhookInbox.status).where(
        WebhookInbox.topic == "shop/redact")) in (JobStatus.DONE, JobStatus.REJECTED))
    assert db.session.scalar(select(WebhookInbox.status).where(
        WebhookInbox.topic == "shop/redact")) == JobStatus.REJECTED
    # ... and the old app/uninstalled is replayed (a new event id, so intake stores it).
    old = stockroom.sandbox.control("GET", f"webhooks/deliveries?topic=app/uninstalled"
                                    f"&shop={SHOP}")[0]["payload"]
    row = outcome(stockroom, deliver(stockroom, "app/uninstalled", old))
    assert row.status == JobStatus.REJECTED
    assert victim() == before  # the reinstalled shop keeps its token and its orders


def test_uninstall_is_not_applied_while_shopify_cannot_answer(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    before = victim()
    stockroom.sandbox.control("POST", "faults/api", {
        "kind": "error", "status": 503, "count": 100, "shop": SHOP,
        "operation": "AppInstallation"})
    event_id = deliver(stockroom, "app/uninstalled", {"id": 1, "myshopify_domain": SHOP})
    stockroom.run_worker(until=lambda: db.session.scalar(select(WebhookInbox.status).where(
        WebhookInbox.dedupe_key == event_id)) == JobStatus.FAILED)
    row = db.session.scalar(select(WebhookInbox).where(WebhookInbox.dedupe_key == event_id))
    assert "could not ask Shopify whether the app is installed" in row.last_error
    assert victim() == before  # never destroyed on doubt: retried later
    stockroom.sandbox.control("DELETE", "faults")


def test_shopifys_example_app_uninstalled_is_applied_for_an_uninstalled_shop(stockroom, shop):  # noqa: F811,E501
    stockroom.run_worker()
    # The app is really removed, but that delivery is lost; Shopify's example body (which
    # names no shop) comes instead: Shopify refuses the token, so it is applied.
    stockroom.sandbox.control("POST", "webhooks/faults", {"drop": 10, "topics": ["app/uninstalled"]})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/uninstall", {"client_id": CLIENT_ID})
    row = outcome(stockroom, deliver(stockroom, "app/uninstalled",
                                     example_body("app/uninstalled")))
    assert row.status == JobStatus.DONE and "Shopify refused the shop's token" in row.last_error
    after = victim()
    assert (after["status"], after["credentials"]) == (ChannelStatus.UNINSTALLED, None)


def test_shopifys_example_order_and_fulfillment_payloads_are_applied(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    for topic in ("orders/create", "orders/updated", "orders/cancelled", "fulfillments/create",
                  "fulfillments/update", "fulfillment_orders/moved",
                  "fulfillment_orders/hold_released", "fulfillment_orders/placed_on_hold",
                  "fulfillment_orders/cancelled", "fulfillment_orders/fulfillment_request_accepted",
                  "fulfillment_orders/fulfillment_request_rejected",
                  "fulfillment_orders/cancellation_request_accepted",
                  "fulfillment_orders/cancellation_request_rejected"):
        row = outcome(stockroom, deliver(stockroom, topic, example_body(topic)))
        assert row.status == JobStatus.DONE, (topic, row.status, row.last_error)


def test_shopifys_example_compliance_payloads_are_applied(stockroom):
    # The examples name their shop "{shop}.myshopify.com": a channel of that domain, whose
    # uninstall was recorded before confirmations existed, 49 hours ago.
    merchant = make_merchant()
    channel = make_channel(merchant)
    channel.domain = "{shop}.myshopify.com"
    make_order(channel, [(None, 1)])
    channel.status, channel.credentials_encrypted = ChannelStatus.UNINSTALLED, None
    channel.uninstalled_at = utcnow() - dt.timedelta(hours=49)
    channel_id = channel.id
    db.session.commit()
    for topic in ("customers/data_request", "customers/redact", "shop/redact"):
        row = outcome(stockroom, deliver(stockroom, topic, example_body(topic),
                                         shop="{shop}.myshopify.com"))
        assert row.status == JobStatus.DONE, (topic, row.status, row.last_error)
    assert db.session.query(Order).filter(Order.channel_id == channel_id).count() == 0


def test_unconfirmed_uninstall_is_erased_only_after_48_hours(stockroom):
    merchant = make_merchant()
    channel = make_channel(merchant)
    channel.domain = "old-uninstall.myshopify.com"
    make_order(channel, [(None, 1)])
    channel.status, channel.credentials_encrypted = ChannelStatus.UNINSTALLED, None
    channel.uninstalled_at = utcnow() - dt.timedelta(hours=3)
    channel_id = channel.id
    db.session.commit()
    body = {"shop_id": 7, "shop_domain": "old-uninstall.myshopify.com"}
    row = outcome(stockroom, deliver(stockroom, "shop/redact", body,
                                     shop="old-uninstall.myshopify.com"))
    assert row.status == JobStatus.REJECTED and "uninstalled 3 h ago" in row.last_error
    assert db.session.query(Order).filter(Order.channel_id == channel_id).count() == 1
