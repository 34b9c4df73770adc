"""POST /shopify/webhooks over HTTP: size, HMAC and a JSON object first, stored once per event
id, 503 without a database; every payload Shopify publishes accepted."""
import base64
import hashlib
import hmac
import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, WebhookInbox
from app.platforms.shopify.settings import load_settings
from sandbox.server import serve_in_thread
from sandbox.shopify.reference import reference_dir
from tests.conftest import make_test_app
from tests.fixtures.factories import make_channel, make_merchant
from tests.integration.shopify.conftest import SECRET, SHOP, release_session
from tests.unit.sync.test_inbox import database_away

ORDER = {"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469",
         "line_items": [{"id": 1, "sku": "MUG-WHT", "quantity": 1}]}


def signature(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def delivery_headers(body: bytes, *, topic: str = "orders/create", event_id: str | None = "ev-1",
                     webhook_id: str | None = "wh", shop: str = SHOP, secret: str = SECRET,
                     hmac_header: str | None = None) -> dict[str, str]:
    """Shopify's headers for ``body``, signed with ``secret`` unless ``hmac_header`` is given."""
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
               "X-Shopify-Hmac-Sha256": signature(body, secret) if hmac_header is None
               else hmac_header, "X-Shopify-Shop-Domain": shop, "X-Shopify-API-Version": "2026-10"}
    if event_id is not None:
        headers["X-Shopify-Event-Id"] = event_id
    if webhook_id is not None:
        headers["X-Shopify-Webhook-Id"] = webhook_id
    return headers


def post(url: str, payload: dict | None, *, body: bytes | None = None, **header_args
         ) -> requests.Response:
    """A delivery as Shopify sends it: ``payload`` as JSON, or the raw ``body``."""
    body = json.dumps(payload).encode() if body is None else body
    return requests.post(f"{url}/shopify/webhooks", data=body,
                         headers=delivery_headers(body, **header_args), timeout=10)


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


@pytest.mark.parametrize("hmac_header", ["", "forged", "h\u00e9", None])
def test_receive_webhook_refuses_a_bad_signature_and_stores_nothing(stockroom, channel_id,
                                                                    hmac_header, caplog):
    if hmac_header is None:  # a valid signature with another secret
        response = post(stockroom.url, ORDER, secret="shpss_someone_else")
    else:
        response = post(stockroom.url, ORDER, hmac_header=hmac_header)
    assert response.status_code == 401
    assert stored() == []
    assert "refused with 401: X-Shopify-Hmac-Sha256 missing or not the body's HMAC" in caplog.text


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


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"orders/create"', b"42", b"null",
                                  b"", b"\xff\xfe{}", b'{"id": 1'])
def test_receive_webhook_refuses_a_signed_body_that_is_not_a_json_object(stockroom, channel_id,
                                                                        body, caplog):
    """Verified with our secret, yet no Shopify payload: 400, nothing stored, the reason logged."""
    assert post(stockroom.url, None, body=body).status_code == 400
    assert stored() == []
    assert "refused with 400: signed body is not a JSON object (topic 'orders/create', " \
           f"shop '{SHOP}')" in caplog.text


def published_examples() -> dict[str, dict]:
    """Shopify's example payload of every webhook topic (its published metadata)."""
    root = reference_dir() / "webhooks" / "2026-07" / "metadatas"
    return {f"{path.parent.name}/{path.stem}": json.loads(path.read_text())["response"]
            for path in sorted(root.glob("*/*.json"))}


def test_receive_webhook_accepts_every_published_example_payload(stockroom, channel_id):
    examples = published_examples()
    assert len(examples) > 40 and "shop/redact" in examples and "app/uninstalled" in examples
    for n, (topic, payload) in enumerate(examples.items()):
        response = post(stockroom.url, payload, topic=topic, event_id=f"ev-{n}")
        assert response.status_code == 200, topic
    assert sorted(r.topic for r in stored()) == sorted(examples)


LIMIT = 64 * 1024


@pytest.fixture
def small_limit(stockroom, channel_id):
    """The webhook body limit set low, as an operator would set WEBHOOK_MAX_CONTENT_LENGTH."""
    stockroom.app.config["WEBHOOK_MAX_CONTENT_LENGTH"] = LIMIT
    return stockroom


def padded(size: int) -> bytes:
    """A valid order payload of exactly ``size`` bytes (JSON allows trailing whitespace)."""
    body = json.dumps(ORDER).encode()
    return body + b" " * (size - len(body))


def test_receive_webhook_takes_a_body_of_the_limit_and_refuses_one_byte_more(small_limit,
                                                                            caplog):
    assert post(small_limit.url, None, body=padded(LIMIT), event_id="at-limit").status_code == 200
    assert post(small_limit.url, None, body=padded(LIMIT + 1), event_id="over").status_code == 413
    assert [r.dedupe_key for r in stored()] == ["at-limit"]
    assert f"refused with 413: body over {LIMIT} bytes" in caplog.text


def test_receive_webhook_refuses_a_too_long_content_length_before_reading_the_body(small_limit):
    """The headers alone are answered: a server that read the body first would wait for it."""
    body = padded(LIMIT + 1)
    parts = urlsplit(small_limit.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    connection.putrequest("POST", "/shopify/webhooks")
    for name, value in delivery_headers(body).items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()  # and not one byte of the body
    assert connection.getresponse().status == 413
    connection.close()
    assert stored() == []


def test_receive_webhook_reads_a_chunked_body_only_up_to_the_limit(small_limit):
    """No Content-Length (chunked): read in bounded chunks, refused past the limit."""
    def chunks(body: bytes):
        yield from (body[i:i + 8192] for i in range(0, len(body), 8192))

    for event_id, size, status in (("chunked-ok", LIMIT, 200), ("chunked-over", LIMIT + 1, 413)):
        body = padded(size)
        response = requests.post(f"{small_limit.url}/shopify/webhooks", data=chunks(body),
                                 headers=delivery_headers(body, event_id=event_id), timeout=10)
        assert response.request.headers["Transfer-Encoding"] == "chunked"
        assert response.status_code == status, event_id
    assert [r.dedupe_key for r in stored()] == ["chunked-ok"]
