"""Forged deliveries, made as an attacker would: a (text, HMAC) pair that Shopify signed with
our client secret for the attacker's own shop, re-sent as a webhook about another shop.

The client secret signs more than webhooks: App Bridge session tokens (HS256, the signature is
the HMAC of ``header.payload``) and the app's launch and OAuth callback queries (hex HMAC of
the sorted query). Each is handed to every merchant who installs the app. None of them is a
JSON object, which every Shopify payload is, so intake refuses them before anything is stored.
"""
import base64
import hashlib
import hmac
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, ChannelStatus, Order, WebhookInbox
from app.platforms.shopify.tokens import read_credentials
from tests.integration.shopify.conftest import (CLIENT_ID, SECRET, SHOP, iframe_src,
                                               release_session)
from tests.integration.shopify.test_install import (install_via_admin, sandbox_browser,
                                                   start_code_grant)

VICTIM = SHOP  # seeded with open orders, imported at install
ATTACKER = "second-shop.myshopify.com"
DESTRUCTIVE = ("app/uninstalled", "shop/redact")


def _query_pair(url: str) -> tuple[bytes, str]:
    """What Shopify signed in a signed query (the sorted k=v pairs but hmac), its HMAC as base64."""
    params = dict(parse_qsl(urlsplit(url).query))
    text = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    return text.encode(), base64.b64encode(bytes.fromhex(params["hmac"])).decode()


def session_token_pair(stockroom) -> tuple[bytes, str]:
    """The attacker's own session token, as App Bridge's shopify.idToken() hands it over."""
    token = stockroom.sandbox.control(
        "GET", f"session-token?shop={ATTACKER}&client_id={CLIENT_ID}")["id_token"]
    header, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    return f"{header}.{payload}".encode(), base64.b64encode(raw).decode()


def launch_query_pair(stockroom) -> tuple[bytes, str]:
    """The attacker opens the app in its own admin: the iframe's signed launch URL."""
    admin = requests.get(f"{stockroom.sandbox.http_url}/store/{ATTACKER}/apps/{CLIENT_ID}",
                         timeout=10)
    assert admin.status_code == 200, admin.text[:300]
    return _query_pair(iframe_src(admin.text))


def oauth_callback_pair(stockroom) -> tuple[bytes, str]:
    """The attacker installs through its own install link: the signed OAuth callback."""
    browser = sandbox_browser(stockroom)
    start = start_code_grant(stockroom, browser, shop=ATTACKER)
    assert start.status_code == 302, start.text[:300]
    # Installed already: Shopify skips the consent page and redirects to the callback at once.
    authorized = browser.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert authorized.status_code == 302, authorized.text[:300]
    callback = authorized.headers["Location"]
    assert callback.startswith(f"{stockroom.url}/shopify/auth/callback?")
    return _query_pair(callback)


FORGERIES = {"session-token": session_token_pair, "launch-query": launch_query_pair,
             "oauth-callback": oauth_callback_pair}


@pytest.fixture
def two_shops(stockroom):
    """Victim and attacker, each installed through the sandbox admin; the victim's orders in."""
    install_via_admin(stockroom, shop=VICTIM)
    install_via_admin(stockroom, shop=ATTACKER)
    stockroom.run_worker()
    release_session()
    return stockroom


def victim_state() -> tuple[str, bool, int]:
    """(status, has a token, order count) of the victim's channel."""
    db.session.expire_all()
    channel = db.session.scalars(select(Channel).where(Channel.domain == VICTIM)).one()
    state = (channel.status, bool(channel.credentials_encrypted and
                                   read_credentials(channel).access_token),
             db.session.scalar(select(func.count()).select_from(Order).where(
                 Order.channel_id == channel.id)))
    release_session()
    return state


def inbox_count() -> int:
    release_session()
    count = db.session.scalar(select(func.count()).select_from(WebhookInbox))
    release_session()
    return count


def send_forged(stockroom, text: bytes, signature: str, topic: str) -> requests.Response:
    """The pair sent as a webhook about the victim, with every unsigned header chosen."""
    release_session()
    return requests.post(f"{stockroom.url}/shopify/webhooks", data=text, timeout=10, headers={
        "Content-Type": "application/json", "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Shop-Domain": VICTIM,
        "X-Shopify-API-Version": "2026-10", "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()), "X-Shopify-Triggered-At": "2026-12-06T20:00:00Z"})


@pytest.mark.parametrize("forgery", FORGERIES)
def test_receive_webhook_refuses_a_pair_signed_for_another_purpose(two_shops, forgery, caplog):
    before = victim_state()
    assert before[0] == ChannelStatus.ACTIVE and before[1] and before[2] > 0
    stored = inbox_count()
    text, signature = FORGERIES[forgery](two_shops)
    # A real forgery: the text's HMAC with our client secret, as the header carries it.
    assert hmac.compare_digest(signature, base64.b64encode(hmac.new(
        SECRET.encode(), text, hashlib.sha256).digest()).decode())
    for topic in DESTRUCTIVE:
        assert send_forged(two_shops, text, signature, topic).status_code == 400
    assert inbox_count() == stored
    two_shops.run_worker()
    assert victim_state() == before  # still installed, its token and orders kept
    refusals = [r.getMessage() for r in caplog.records if "webhook refused" in r.getMessage()]
    assert len(refusals) == len(DESTRUCTIVE)
    assert all("not a JSON object" in m and VICTIM in m for m in refusals)
    assert not any(text.decode() in m for m in refusals)  # never the body
