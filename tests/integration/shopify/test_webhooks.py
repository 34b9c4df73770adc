"""POST /shopify/webhooks over HTTP: HMAC first, stored once per event id, 503 without a database."""
import base64
import hashlib
import hmac
import json

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, WebhookInbox
from app.platforms.shopify.settings import load_settings
from sandbox.server import serve_in_thread
from tests.conftest import make_test_app
from tests.fixtures.factories import make_channel, make_merchant
from tests.integration.shopify.conftest import SECRET, SHOP, release_session
from tests.unit.sync.test_inbox import database_away

ORDER = {"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469",
         "line_items": [{"id": 1, "sku": "MUG-WHT", "quantity": 1}]}


def post(url: str, payload: dict, *, event_id: str | None = "ev-1", webhook_id: str | None = "wh",
         shop: str = SHOP, secret: str = SECRET, hmac_header: str | None = None
         ) -> requests.Response:
    """A delivery as Shopify sends it, signed with ``secret`` unless ``hmac_header`` is given."""
    body = json.dumps(payload).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
               "X-Shopify-Hmac-Sha256": digest if hmac_header is None else hmac_header,
               "X-Shopify-Shop-Domain": shop, "X-Shopify-API-Version": "2026-10"}
    if event_id is not None:
        headers["X-Shopify-Event-Id"] = event_id
    if webhook_id is not None:
        headers["X-Shopify-Webhook-Id"] = webhook_id
    return requests.post(f"{url}/shopify/webhooks", data=body, headers=headers, timeout=10)


@pytest.fixture
def channel_id(stockroom) -> int:
    channel = make_channel(make_merchant())
    channel.domain = SHOP
    channel_id = channel.id
    db.session.commit()  # and no transaction left open (SQLite: the write lock)
    return channel_id


def stored() -> list[WebhookInbox]:
    """The inbox rows (detached), with no transaction left open (SQLite: the write lock)."""
    release_session()
    rows = db.session.scalars(select(WebhookInbox).order_by(WebhookInbox.id)).all()
    db.session.expunge_all()
    release_session()
    return rows


def test_receive_webhook_stores_each_event_once(stockroom, channel_id):
    first = post(stockroom.url, ORDER, event_id="ev-1")
    again = post(stockroom.url, {**ORDER, "note": "redelivered"}, event_id="ev-1")
    other = post(stockroom.url, ORDER, event_id="ev-2")
    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 200)
    assert first.content == b""
    rows = stored()
    assert [(r.channel_id, r.dedupe_key) for r in rows] == [(channel_id, "ev-1"),
                                                            (channel_id, "ev-2")]
    assert json.loads(rows[0].body) == ORDER  # the first delivery's raw body
    assert rows[0].order_remote_id == "gid://shopify/Order/450789469"
    assert rows[0].topic == "orders/create"
    assert rows[0].headers["X-Shopify-Event-Id"] == "ev-1"
    assert rows[0].headers["X-Shopify-Shop-Domain"] == SHOP
    assert rows[0].merchant_id == db.session.get(Channel, channel_id).merchant_id


@pytest.mark.parametrize("hmac_header", ["", "forged", None])
def test_receive_webhook_refuses_a_bad_signature_and_stores_nothing(stockroom, channel_id,
                                                                    hmac_header):
    if hmac_header is None:  # a valid signature with another secret
        response = post(stockroom.url, ORDER, secret="shpss_someone_else")
    else:
        response = post(stockroom.url, ORDER, hmac_header=hmac_header)
    assert response.status_code == 401
    assert stored() == []


def test_receive_webhook_for_a_shop_not_ours_answers_200_and_stores_nothing(stockroom,
                                                                           channel_id):
    assert post(stockroom.url, ORDER, shop="stranger.myshopify.com").status_code == 200
    assert post(stockroom.url, ORDER, event_id=None, webhook_id=None).status_code == 200
    assert stored() == []
    # Without an event id, the webhook id stands in (older API versions).
    assert post(stockroom.url, ORDER, event_id=None, webhook_id="wh-7").status_code == 200
    assert [r.dedupe_key for r in stored()] == ["wh-7"]


def test_receive_webhook_without_a_database_answers_503(backend, tmp_path):
    settings = load_settings({"SHOPIFY_API_SECRET": SECRET})
    away = make_test_app(database_away(backend, tmp_path), SHOPIFY_SETTINGS=settings)
    with serve_in_thread(away) as server:
        assert post(server.url, ORDER).status_code == 503
        assert post(server.url, ORDER, hmac_header="forged").status_code == 401  # HMAC first
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200  # Flask's


def test_other_requests_still_reach_flask(stockroom):
    assert requests.get(f"{stockroom.url}/shopify/webhooks", timeout=10).status_code == 404
    assert requests.get(f"{stockroom.url}/healthz", timeout=10).json() == {"status": "ok"}
