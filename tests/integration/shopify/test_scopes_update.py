"""app/scopes_update: the shop stops granting a scope Stockroom needs (sandbox control ->
webhook -> worker), the channel shows "needs re-authorization" on Connections and the
embedded home, and the link there leads through Shopify's grant screen back to a full token."""
import re
from html import unescape

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, WebhookInbox
from app.platforms.shopify.tokens import read_credentials
from tests.integration.shopify.conftest import CLIENT_ID, SHOP, parse_form, iframe_src, \
    release_session
from tests.integration.shopify.test_fulfillment_order_actions import Admin
from tests.integration.shopify.test_install import install_via_admin

NEEDED = "read_inventory,write_inventory"


def channel() -> Channel:
    db.session.expire_all()
    return db.session.scalars(select(Channel)).one()


def test_revoked_scope_needs_reauthorization_until_the_merchant_grants_it_again(stockroom):
    install_via_admin(stockroom)
    stockroom.run_worker()
    granted = channel().scopes.split(",")
    release_session()
    fewer = [s for s in granted if s not in NEEDED.split(",")]
    sent = stockroom.sandbox.control("POST", f"shops/{SHOP}/scopes",
                                     {"client_id": CLIENT_ID, "scopes": fewer})
    assert sorted(sent["previous"]) == sorted(granted) and sent["shop_id"].startswith(
        "gid://shopify/Shop/")
    stockroom.run_worker(until=lambda: "write_inventory" not in channel().scopes.split(","))
    note = db.session.scalar(select(WebhookInbox.last_error).where(
        WebhookInbox.topic == "app/scopes_update"))
    assert note == "needs re-authorization: missing read_inventory, write_inventory"

    settings = stockroom.app.extensions["stockroom.shopify"]
    link = f"{settings.shop_url(SHOP)}/admin/oauth/install?client_id={CLIENT_ID}"
    admin = Admin(stockroom)
    connections = admin.get("/connections").text
    assert "Needs re-authorization" in connections and "Missing read_inventory, write_inventory" \
        in connections
    assert f'href="{link}" target="_top"' in unescape(connections)
    home = admin.get("/").text
    banner = re.search(r'<div class="Polaris-Banner [^"]*banner-critical reauthorize".*?</div>',
                       home, re.S)
    assert banner and f'href="{link}" target="_top"' in unescape(banner.group(0))

    # The merchant follows it: Shopify's admin asks for the scopes, then loads the app.
    release_session()
    hop = requests.get(link, allow_redirects=False, verify=stockroom.sandbox.ca_bundle, timeout=10)
    assert hop.status_code == 302
    browser = requests.Session()
    consent = browser.get(hop.headers["Location"], timeout=10)
    assert consent.status_code == 200 and "write_inventory" in consent.text
    form = parse_form(consent.text)
    frame = browser.post(stockroom.sandbox.http_url + form.action,
                         data={**form.fields, "decision": "approve"}, timeout=10)
    landing = browser.get(iframe_src(frame.text), allow_redirects=False, timeout=20)
    assert landing.status_code == 302
    after = channel()
    assert {"read_inventory", "write_inventory"} <= set(after.scopes.split(","))
    assert "write_inventory" in read_credentials(after).scope
    assert "Needs re-authorization" not in Admin(stockroom).get("/connections").text


def test_scopes_update_that_keeps_every_needed_scope_shows_nothing(stockroom):
    install_via_admin(stockroom)
    stockroom.run_worker()
    granted = channel().scopes.split(",")
    release_session()
    stockroom.sandbox.control("POST", f"shops/{SHOP}/scopes",
                              {"client_id": CLIENT_ID, "scopes": granted + ["read_customers"]})
    stockroom.run_worker(until=lambda: "read_customers" in channel().scopes.split(","))
    assert db.session.scalar(select(WebhookInbox.last_error).where(
        WebhookInbox.topic == "app/scopes_update")) == "every scope Stockroom needs is granted"
    assert "Needs re-authorization" not in Admin(stockroom).get("/").text
