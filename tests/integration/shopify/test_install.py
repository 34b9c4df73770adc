"""Installing Stockroom on a sandbox shop: managed installation + token exchange, code grant."""
import base64
import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelLocation, ChannelStatus, Merchant, OutboxEvent
from app.platforms.shopify.tokens import read_credentials
from tests.integration.shopify.conftest import (CLIENT_ID, SECRET, SHOP, iframe_src, parse_form,
                                               release_session)


def install_via_admin(stockroom, shop=SHOP) -> requests.Response:
    """As a merchant: open the app in the sandbox admin, approve the scopes, load the iframe."""
    release_session()
    browser = requests.Session()
    admin = f"{stockroom.sandbox.http_url}/store/{shop}/apps/{CLIENT_ID}"
    consent = browser.get(admin, timeout=10)
    assert consent.status_code == 200 and "read_merchant_managed_fulfillment_orders" in consent.text
    form = parse_form(consent.text)
    frame = browser.post(stockroom.sandbox.http_url + form.action,
                         data={**form.fields, "decision": "approve"}, timeout=10)
    assert frame.status_code == 200, frame.text[:300]
    return browser.get(iframe_src(frame.text), allow_redirects=False, timeout=20)


def test_open_app_managed_install_exchanges_token_and_imports_locations(stockroom):
    response = install_via_admin(stockroom)
    assert response.status_code == 302
    assert "id_token=" in response.headers["Location"] and "embedded=1" in response.headers["Location"]
    channel = db.session.scalars(select(Channel)).one()
    assert (channel.domain, channel.status) == (SHOP, ChannelStatus.ACTIVE)
    credentials = read_credentials(channel)
    assert credentials.refresh_token and credentials.expires_at > time.time() + 3000  # expiring
    assert credentials.access_token.encode() not in channel.credentials_encrypted
    assert "write_merchant_managed_fulfillment_orders" in channel.scopes
    merchant_id = channel.merchant_id
    stockroom.run_worker()
    kinds = sorted((loc.name, loc.kind) for loc in db.session.scalars(select(ChannelLocation)))
    assert ("ShipFast 3PL", "fulfillment_service") in kinds
    assert ("Main Warehouse", "merchant_managed") in kinds
    # The shop's zone (Settings > General) is the merchant's: its dates are shown in it.
    assert db.session.get(Merchant, merchant_id).timezone == "America/Toronto"


def test_install_on_a_shop_in_another_zone_takes_that_zone(stockroom):
    domain = "tokyo-shop.myshopify.com"
    stockroom.sandbox.control("POST", "shops", {"domain": domain, "iana_timezone": "Asia/Tokyo"})
    assert install_via_admin(stockroom, shop=domain).status_code == 302
    stockroom.run_worker()
    (merchant,) = db.session.scalars(select(Merchant)).all()
    assert merchant.timezone == "Asia/Tokyo"


def test_open_app_reinstall_reuses_merchant(stockroom):
    install_via_admin(stockroom)
    stockroom.sandbox.control("POST", f"shops/{SHOP}/uninstall", {"client_id": CLIENT_ID})
    stockroom.run_worker(until=lambda: db.session.scalars(select(Channel.status)).one()
                         == ChannelStatus.UNINSTALLED)
    channel = db.session.scalars(select(Channel)).one()
    assert channel.credentials_encrypted is None
    install_via_admin(stockroom)
    db.session.expire_all()
    assert db.session.query(Merchant).count() == 1
    assert db.session.scalars(select(Channel.status)).one() == ChannelStatus.ACTIVE


def test_open_app_without_valid_id_token_serves_bounce_page(stockroom):
    page = requests.get(f"{stockroom.url}/shopify/app", params={
        "shop": SHOP, "host": "x", "embedded": "1", "id_token": "forged.token.value"}, timeout=10)
    assert page.status_code == 200 and "shopify.idToken()" in page.text
    assert f"{stockroom.sandbox.http_url}/_sandbox/app-bridge.js" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert csp == f"frame-ancestors https://{SHOP} {stockroom.sandbox.http_url}"
    assert db.session.query(Channel).count() == 0


def signed(params: dict, secret: str = SECRET) -> dict:
    """Install-request query signed the way Shopify signs it."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def sandbox_browser(stockroom) -> requests.Session:
    """A client trusting the sandbox's CA. trust_env off: requests lets REQUESTS_CA_BUNDLE
    from the environment override a Session's own ``verify``."""
    browser = requests.Session()
    browser.trust_env = False
    browser.verify = stockroom.sandbox.ca_bundle
    return browser


def start_code_grant(stockroom, browser, shop=SHOP):
    release_session()
    return browser.get(f"{stockroom.url}/shopify/auth/install", params=signed(
        {"shop": shop, "timestamp": str(int(time.time()))}), allow_redirects=False, timeout=10)


def approve_consent(stockroom, browser, authorize_url) -> str:
    consent = browser.get(authorize_url, timeout=10)
    assert consent.status_code == 200, consent.text[:300]
    form = parse_form(consent.text)
    approved = browser.post(urlsplit(authorize_url)._replace(query="").geturl(),
                            data={**form.fields, "decision": "approve"}, allow_redirects=False,
                            verify=stockroom.sandbox.ca_bundle, timeout=10)
    assert approved.status_code == 302, approved.text[:300]
    return approved.headers["Location"]


def test_code_grant_installs_once_and_refuses_replay(stockroom):
    browser = sandbox_browser(stockroom)
    start = start_code_grant(stockroom, browser)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{stockroom.sandbox.https_url}/shops/{SHOP}/admin/oauth/authorize")
    query = parse_qs(urlsplit(authorize).query)
    assert query["client_id"] == [CLIENT_ID] and query["redirect_uri"] == [
        f"{stockroom.url}/shopify/auth/callback"]
    callback = approve_consent(stockroom, browser, authorize)
    done = browser.get(callback, allow_redirects=False, timeout=20)
    assert done.status_code == 302, done.text[:300]
    # Shopify's rule: the embedded app lives at https://{base64-decoded host}/apps/{api key};
    # host names the admin's store by its handle.
    assert done.headers["Location"] == (f"{stockroom.sandbox.http_url}/store/demo-shop/apps/"
                                        f"{CLIENT_ID}")
    channel = db.session.scalars(select(Channel)).one()
    assert read_credentials(channel).refresh_token
    release_session()
    replay = browser.get(callback, allow_redirects=False, timeout=10)
    assert replay.status_code == 400
    assert db.session.query(OutboxEvent).filter_by(topic="channel.installed").count() == 1


def test_code_grant_callback_from_another_browser_is_refused(stockroom):
    browser = sandbox_browser(stockroom)
    authorize = start_code_grant(stockroom, browser).headers["Location"]
    callback = approve_consent(stockroom, browser, authorize)
    other_browser = requests.get(callback, allow_redirects=False, timeout=10)
    assert other_browser.status_code == 400
    assert db.session.query(Channel).count() == 0


@pytest.mark.parametrize("params", [
    {"shop": SHOP, "timestamp": "1"},  # signed but a day+ old
    {"shop": "evil.example.com", "timestamp": None},  # not a myshopify domain
])
def test_start_install_refuses_stale_or_foreign(stockroom, params):
    params = {k: v or str(int(time.time())) for k, v in params.items()}
    response = requests.get(f"{stockroom.url}/shopify/auth/install", params=signed(params),
                            allow_redirects=False, timeout=10)
    assert response.status_code == 400


def test_start_install_refuses_forged_hmac(stockroom):
    params = signed({"shop": SHOP, "timestamp": str(int(time.time()))}, secret="not-our-secret")
    response = requests.get(f"{stockroom.url}/shopify/auth/install", params=params,
                            allow_redirects=False, timeout=10)
    assert response.status_code == 400


def test_finish_install_refuses_forged_callback(stockroom):
    browser = requests.Session()
    start_code_grant(stockroom, browser)
    params = signed({"code": "x", "shop": SHOP, "state": "y", "host": "h",
                     "timestamp": str(int(time.time()))}, secret="forged")
    response = browser.get(f"{stockroom.url}/shopify/auth/callback?{urlencode(params)}",
                           allow_redirects=False, timeout=10)
    assert response.status_code == 400
