"""What the WooCommerce webhook endpoint refuses: bodies that are not a JSON object."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import WebhookInbox
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

