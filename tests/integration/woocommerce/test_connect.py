"""Connecting a store as its owner would: wc-auth approve/deny, forged and replayed key
callbacks, SSRF attempts (direct and by redirect), and the initial import by the worker."""
import json

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import (Channel, ChannelListing, ChannelLocation, JobStatus, Merchant, Order,
                        OutboxEvent, UsedNonce)
from app.platforms.woocommerce.connect import sign_state
from app.security.keyring import get_keyring
from tests.integration.woocommerce.conftest import (Owner, connected, release_session,
                                                    woo_channel)


@pytest.mark.parametrize("https", [False, True], ids=["oauth1-over-http", "basic-over-https"])
def test_connect_approve_stores_keys_encrypted_and_imports(stockroom, https):
    owner, merchant_id, location_id = connected(stockroom, https=https)
    channel = woo_channel()
    assert channel.merchant_id == merchant_id and channel.status == "active"
    assert channel.domain == stockroom.sandbox.store_url(https=https)
    key = stockroom.sandbox.store()["keys"][-1]  # the key wc-auth just made
    assert key["consumer_secret"].encode() not in channel.credentials_encrypted
    assert get_keyring().decrypt_json(channel.credentials_encrypted)["consumer_secret"] == \
        key["consumer_secret"]
    store_location = db.session.scalar(select(ChannelLocation).where(
        ChannelLocation.channel_id == channel.id))
    assert store_location.kind == "store" and store_location.stock_location_id == location_id
    hooks = stockroom.sandbox.store()["webhooks"]
    assert sorted(h["topic"] for h in hooks) == [
        "order.created", "order.deleted", "order.updated", "product.created",
        "product.deleted", "product.restored", "product.updated"]
    assert all(h["delivery_url"] == f"{stockroom.url}/woocommerce/webhooks/{channel.id}"
               and h["status"] == "active" and not h["pending_delivery"] for h in hooks)
    secret = get_keyring().decrypt(channel.webhook_secret_encrypted)
    assert {h["secret"] for h in hooks} == {secret}
    listings = {row.sku: row for row in db.session.scalars(select(ChannelListing))}
    assert set(listings) == {"TEE-CLASSIC", "TOTE-CANVAS", "MUG-ENAMEL", "GIFT-CARD",
                             "HOODIE-S", "HOODIE-M", "HOODIE-L", "BEANIE-BLK", "BEANIE-GRY"}
    matched = {sku for sku, row in listings.items() if row.inventory_item_id is not None}
    assert matched == {"TEE-CLASSIC", "HOODIE-M", "BEANIE-BLK"}  # the rest listed, unmatched
    assert listings["HOODIE-M"].remote_product_id != listings["HOODIE-M"].remote_variant_id
    job = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "channel.connected"))
    assert "import done" in job.last_error and "9 listings" in job.last_error
    assert "3 matched" in job.last_error and "6 unmatched" in job.last_error
    orders = db.session.scalars(select(Order)).all()
    assert len(orders) == 4  # 3 processing + 1 on-hold; completed and pending are not open
    domain, channel_id = channel.domain, channel.id
    release_session()
    page = owner.http.get(stockroom.url + "/connections", timeout=10).text
    assert domain in page
    # Counts and a link to the listings page (which lists them, with the reason for each).
    assert "6 unmatched" in page and f"/listings?status=unmatched&amp;channel={channel_id}" in page
    assert '<td class="Polaris-IndexTable__TableCell">Demo Store<br>' in page  # from its REST index
    # Its zone too: demo-store is set to "UTC+2" (gmt_offset 2, no city), a fixed zone.
    assert db.session.get(Merchant, merchant_id).timezone == "Etc/GMT-2"


def test_connect_deny_stores_nothing_and_burns_the_state(stockroom):
    owner = Owner(stockroom)
    owner.sign_up()
    final = owner.deny(stockroom.sandbox.store_url())
    assert final.url.endswith("/connections")
    assert "denied" in final.text
    assert woo_channel() is None
    assert not stockroom.sandbox.deliveries(kind="wc_auth_callback")
    state = requests.utils.unquote(final.history[0].url.split("user_id=")[1].split("&")[0]) \
        if final.history else None
    assert db.session.scalar(select(UsedNonce).where(UsedNonce.purpose == "woocommerce-connect"))
    release_session()
    assert state
    if state:  # a late callback for the denied request is refused
        late = requests.post(stockroom.url + "/woocommerce/connect/callback", json={
            "key_id": 1, "user_id": state, "consumer_key": "ck_x", "consumer_secret": "cs_x",
            "key_permissions": "read_write"}, verify=stockroom.ca_bundle, timeout=10)
        assert late.status_code == 400
    assert woo_channel() is None


def test_forged_callbacks_are_refused(stockroom):
    owner = Owner(stockroom)
    merchant_id = owner.sign_up()
    url = stockroom.url + "/woocommerce/connect/callback"
    body = {"key_id": 9, "consumer_key": "ck_forged", "consumer_secret": "cs_forged",
            "key_permissions": "read_write"}
    with stockroom.app.test_request_context():
        stockroom.app.config["SECRET_KEY"], real = "attacker", stockroom.app.config["SECRET_KEY"]
        forged_state = sign_state(merchant_id=merchant_id, user_id=None,
                                  store_url="https://evil.example", location_id=None)
        stockroom.app.config["SECRET_KEY"] = real
        genuine = sign_state(merchant_id=merchant_id, user_id=None,
                             store_url=stockroom.sandbox.store_url(), location_id=None)
    for user_id in ("1", str(merchant_id), forged_state, genuine[:-2] + "xx"):
        response = requests.post(url, json={**body, "user_id": user_id},
                                 verify=stockroom.ca_bundle, timeout=10)
        assert response.status_code == 400, user_id
    read_only = requests.post(url, json={**body, "user_id": genuine, "key_permissions": "read"},
                              verify=stockroom.ca_bundle, timeout=10)
    assert read_only.status_code == 400 and "read_write" in read_only.json()["error"]
    not_json = requests.post(url, data="user_id=1", verify=stockroom.ca_bundle, timeout=10)
    assert not_json.status_code == 400
    assert woo_channel() is None


def test_replayed_callback_is_refused_and_changes_nothing(stockroom):
    connected(stockroom)
    before = woo_channel().credentials_encrypted
    release_session()
    callback = stockroom.sandbox.deliveries(kind="wc_auth_callback")[0]
    assert callback["code"] == 200
    replay = requests.post(callback["url"], data=callback["body"],
                           headers={"Content-Type": "application/json"},
                           verify=stockroom.ca_bundle, timeout=10)
    assert replay.status_code == 400 and "already used" in replay.json()["error"]
    tampered = dict(json.loads(callback["body"]), consumer_secret="cs_attacker")
    again = requests.post(callback["url"], json=tampered, verify=stockroom.ca_bundle, timeout=10)
    assert again.status_code == 400
    assert woo_channel().credentials_encrypted == before


def test_store_of_another_account_cannot_be_connected(stockroom):
    connected(stockroom)
    release_session()
    other = Owner(stockroom, email="intruder@example.test")
    other.sign_up("Intruder")
    answer = other.start_connect(stockroom.sandbox.store_url())
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/connections")
    page = other.http.get(stockroom.url + "/connections", timeout=10).text
    assert "already connected to another" in page


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:9/shop", "https://127.0.0.1/", "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.7", "https://[::1]:8443", "https://[::ffff:127.0.0.1]", "https://2130706433",
    "https://localhost", "file:///etc/passwd", "ftp://shop.example.com",
    "http://shop.example.com", "https://user:pw@shop.example.com", "javascript:alert(1)"])
def test_connect_refuses_private_local_and_non_https_urls(stockroom, target):
    owner = Owner(stockroom)
    owner.sign_up()
    answer = owner.start_connect(target)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/connections")
    page = owner.http.get(stockroom.url + "/connections", timeout=10).text
    assert "toast-error" in page
    assert woo_channel() is None


def test_connect_refuses_a_redirect_to_private_addresses(stockroom, redirector):
    owner = Owner(stockroom)
    owner.sign_up()
    for target in ("http://169.254.169.254/latest/meta-data/", redirector.trap_url,
                   "file:///etc/passwd"):
        redirector.location = target
        answer = owner.start_connect(redirector.url + "/shop")
        assert answer.status_code == 303 and answer.headers["Location"].endswith("/connections")
        page = owner.http.get(stockroom.url + "/connections", timeout=10).text
        assert "redirected to" in page and "refuses" in page
    assert redirector.hits and not redirector.trapped  # asked the redirector, never the target
    redirector.location = stockroom.sandbox.store_url() + "/wp-json/"
    followed = owner.start_connect(redirector.url + "/shop")  # to an allowed store: followed
    assert followed.headers["Location"].startswith(stockroom.sandbox.store_url() + "/wc-auth/")


def test_worker_never_calls_a_store_url_that_fails_the_guard(stockroom, redirector):
    owner = Owner(stockroom)
    merchant_id = owner.sign_up()
    ring = get_keyring()
    channel = Channel(merchant_id=merchant_id, platform="woocommerce", domain=redirector.trap_url,
                      credentials_encrypted=ring.encrypt_json({"consumer_key": "ck_1",
                                                               "consumer_secret": "cs_1"}),
                      webhook_secret_encrypted=ring.encrypt("s"), sync_cursors={})
    db.session.add(channel)
    db.session.flush()
    db.session.add(OutboxEvent(merchant_id=merchant_id, channel_id=channel.id,
                               topic="channel.connected", payload={}))
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.scalar(select(OutboxEvent.status)) ==
                         JobStatus.DEAD)
    job = db.session.scalar(select(OutboxEvent))
    assert "refuses to call this store" in job.last_error
    assert not redirector.trapped


def test_connect_needs_the_csrf_token_and_a_signed_in_owner(stockroom):
    owner = Owner(stockroom)
    owner.sign_up()
    url = stockroom.url + "/woocommerce/connect"
    data = {"store_url": stockroom.sandbox.store_url()}
    forged = owner.http.post(url, data=data, timeout=10, allow_redirects=False)
    assert forged.status_code == 400  # a cross-site form can't start a connection
    stranger = requests.post(url, data=data, verify=stockroom.ca_bundle, timeout=10,
                             allow_redirects=False)
    assert stranger.status_code == 302 and "/sign-in" in stranger.headers["Location"]
    back = requests.get(stockroom.url + "/woocommerce/connect/return?success=1&user_id=x",
                        verify=stockroom.ca_bundle, timeout=10, allow_redirects=False)
    assert back.status_code == 302 and "/sign-in" in back.headers["Location"]
    assert woo_channel() is None
