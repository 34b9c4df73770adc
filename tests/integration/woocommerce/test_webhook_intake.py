"""What the WooCommerce webhook endpoint refuses: bodies that are not a JSON object, replays
under changed headers, bodies over the limit; the sandbox's real deliveries still taken."""
import http.client
import ssl
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, WebhookInbox
from app.security.keyring import get_keyring
from tests.integration.woocommerce.conftest import connected, release_session, woo_channel
from tests.integration.woocommerce.test_webhooks import post, signed_headers


def inbox_count() -> int:
    release_session()
    count = db.session.scalar(select(func.count()).select_from(WebhookInbox))
    release_session()
    return count


@pytest.fixture
def store(stockroom):
    """demo-store connected; (channel id, its webhook secret)."""
    connected(stockroom)
    channel = woo_channel()
    secret = get_keyring().decrypt(channel.webhook_secret_encrypted)
    channel_id = channel.id
    release_session()
    return channel_id, secret


@pytest.mark.parametrize("body", [b"webhook_id=12", b"[1, 2]", b'"order.updated"', b"42",
                                  b"null", b"", b"\xff\xfe{}", b'{"id": 4242'])
def test_receive_webhook_refuses_a_signed_body_that_is_not_a_json_object(stockroom, store, body,
                                                                        caplog):
    channel_id, secret = store
    before = inbox_count()
    assert post(stockroom, channel_id, body, signed_headers(secret, body)).status_code == 400
    assert inbox_count() == before
    assert f"refused with 400: signed body is not a JSON object (channel {channel_id}, " \
           "topic 'order.updated'" in caplog.text


def test_receive_webhook_answers_the_ping_and_stores_nothing(stockroom, store, caplog):
    channel_id, _ = store
    before = inbox_count()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert post(stockroom, channel_id, b"webhook_id=12", form).status_code == 200
    assert post(stockroom, channel_id, b"webhook_id=12&x=1", form).status_code == 401
    assert post(stockroom, channel_id, b'{"id": 4242}', {}).status_code == 401  # unsigned
    assert inbox_count() == before
    assert "refused with 401: no X-WC-Webhook-Signature and not a ping" in caplog.text


def test_receive_webhook_stores_a_replayed_delivery_once_whatever_its_headers(stockroom, store):
    """A captured signed delivery re-sent with another webhook id, delivery id or topic: the
    headers are not signed, so it is the same event, stored (and applied) once."""
    channel_id, _ = store
    placed = stockroom.sandbox.control("POST", "/stores/demo-store/orders", json={
        "line_items": [{"sku": "TEE-CLASSIC", "quantity": 1}]})
    stockroom.settle()
    captured = next(d for d in stockroom.sandbox.deliveries(kind="delivery")
                    if d["resource_id"] == placed["id"] and d["code"] == 200)
    assert db.session.scalar(select(func.count()).select_from(Order).where(
        Order.remote_id == str(placed["id"]))) == 1
    before = inbox_count()
    body, headers = captured["body"].encode(), captured["request_headers"]
    for changed in ({"X-WC-Webhook-ID": "9999"},
                    {"X-WC-Webhook-Delivery-ID": "f" * 32},
                    {"X-WC-Webhook-Topic": "order.deleted", "X-WC-Webhook-Event": "deleted"},
                    {"X-WC-Webhook-ID": "9998", "X-WC-Webhook-Topic": "order.created",
                     "X-WC-Webhook-Delivery-ID": "e" * 32}):
        assert post(stockroom, channel_id, body, dict(headers, **changed)).status_code == 200
    assert inbox_count() == before


LIMIT = 64 * 1024


def padded(size: int) -> bytes:
    body = b'{"id": 4242, "status": "processing"}'
    return body + b" " * (size - len(body))


@pytest.fixture
def small_limit(stockroom, store):
    """The webhook body limit set low, as an operator would set WEBHOOK_MAX_CONTENT_LENGTH."""
    stockroom.app.config["WEBHOOK_MAX_CONTENT_LENGTH"] = LIMIT
    return store


def test_receive_webhook_takes_a_body_of_the_limit_and_refuses_one_byte_more(stockroom,
                                                                            small_limit, caplog):
    channel_id, secret = small_limit
    before = inbox_count()
    at_limit, over = padded(LIMIT), padded(LIMIT + 1)
    assert post(stockroom, channel_id, at_limit, signed_headers(secret, at_limit)).status_code \
        == 200
    assert post(stockroom, channel_id, over, signed_headers(secret, over)).status_code == 413
    assert inbox_count() == before + 1
    assert "refused with 413: body over WEBHOOK_MAX_CONTENT_LENGTH" in caplog.text


def test_receive_webhook_refuses_a_too_long_content_length_before_reading_the_body(
        stockroom, small_limit):
    """The headers alone are answered: a server that read the body first would wait for it."""
    channel_id, secret = small_limit
    body = padded(LIMIT + 1)
    parts = urlsplit(stockroom.url)
    context = ssl.create_default_context(cafile=stockroom.ca_bundle)
    connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=5,
                                             context=context)
    connection.putrequest("POST", f"/woocommerce/webhooks/{channel_id}")
    for name, value in signed_headers(secret, body).items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()  # and not one byte of the body
    assert connection.getresponse().status == 413
    connection.close()


def test_receive_webhook_reads_a_chunked_body_only_up_to_the_limit(stockroom, small_limit):
    channel_id, secret = small_limit
    before = inbox_count()

    def chunks(body: bytes):
        yield from (body[i:i + 8192] for i in range(0, len(body), 8192))

    for size, status in ((LIMIT, 200), (LIMIT + 1, 413)):
        body = padded(size)
        response = requests.post(f"{stockroom.url}/woocommerce/webhooks/{channel_id}",
                                 data=chunks(body), headers=signed_headers(secret, body),
                                 verify=stockroom.ca_bundle, timeout=10)
        assert response.request.headers["Transfer-Encoding"] == "chunked"
        assert response.status_code == status, size
    assert inbox_count() == before + 1
