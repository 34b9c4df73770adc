"""The import after install against the sandbox: subscriptions, variants by SKU, open orders,
paginated and resumable after an interruption."""
import dataclasses

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (Channel, ChannelListing, Fulfillment, FulfillmentOrder, InventoryMovement,
                        Merchant, Order, OutboxEvent)
from app.platforms.shopify.imports import BEFORE_INSTALL_NOTE, unmatched_listings
from app.platforms.shopify.subscriptions import ensure_webhook_subscriptions
from app.platforms.shopify.sync import ShopifyCall
from app.platforms.shopify.tokens import read_credentials
from tests.fixtures.factories import make_item
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_install import install_via_admin

SEEDED_OPEN_ORDERS = 3
SUBSCRIPTIONS_QUERY = "{ webhookSubscriptions(first: 100) { nodes { id topic uri } } }"


def override(stockroom, **changes):
    """Run the app with some Shopify settings changed (as the environment would)."""
    settings = stockroom.app.extensions["stockroom.shopify"]
    stockroom.app.extensions["stockroom.shopify"] = dataclasses.replace(settings, **changes)
    return stockroom.app.extensions["stockroom.shopify"]


def channel():
    value = db.session.scalars(select(Channel)).one()
    return value


def import_state():
    db.session.expire_all()
    state = dict(channel().sync_cursors.get("import") or {})
    release_session()
    return state


def place(stockroom, lines, location=None):
    body = {"lines": [{"sku": s, "quantity": q} for s, q in lines]}
    if location:
        body["location_id"] = location
    return stockroom.sandbox.control("POST", f"shops/{SHOP}/orders", body)


def subscriptions(stockroom):
    token = read_credentials(channel()).access_token
    release_session()
    return stockroom.sandbox.gql(token, SUBSCRIPTIONS_QUERY)["data"]["webhookSubscriptions"]["nodes"]


def test_import_matches_variants_by_sku_and_lists_the_unmatched(stockroom):
    install_via_admin(stockroom)
    merchant_id = channel().merchant_id
    merchant = db.session.get(Merchant, merchant_id)
    for sku in ("TOTE-NAT", "MUG-WHT", "BEANIE-GRY"):
        make_item(merchant, sku)
    make_item(merchant, "TOTE")  # a prefix of TOTE-NAT/TOTE-BLK: must not match either
    db.session.commit()
    stockroom.run_worker()
    listings = {lst.sku: lst for lst in db.session.scalars(select(ChannelListing))}
    assert sorted(listings) == ["BEANIE-GRY", "BEANIE-NVY", "MUG-WHT", "TOTE-BLK", "TOTE-NAT"]
    assert {sku for sku, lst in listings.items() if lst.inventory_item_id} == {
        "TOTE-NAT", "MUG-WHT", "BEANIE-GRY"}
    assert all(lst.remote_inventory_item_id.startswith("gid://shopify/InventoryItem/")
               for lst in listings.values())
    assert [lst.sku for lst in unmatched_listings(merchant_id)] == ["BEANIE-NVY", "TOTE-BLK"]
    # An item the merchant adds later is matched by the next reconciliation, nothing else.
    make_item(db.session.get(Merchant, merchant_id), "TOTE-BLK")
    db.session.add(OutboxEvent(merchant_id=merchant_id, channel_id=channel().id,
                               topic="shopify.reconcile"))
    db.session.commit()
    stockroom.run_worker()
    assert [lst.sku for lst in unmatched_listings(merchant_id)] == ["BEANIE-NVY"]
    assert db.session.query(ChannelListing).count() == 5


def test_import_brings_open_and_partially_fulfilled_orders_with_fulfillment_orders(stockroom):
    snapshot = stockroom.sandbox.shop()
    main = next(loc["id"] for loc in snapshot["locations"] if loc["name"] == "Main Warehouse")
    partial = place(stockroom, [("TOTE-NAT", 3)], location=main)
    fo = partial["fulfillment_orders"][0]
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
        "fulfillment_order_id": fo["id"], "line_items": [{"id": fo["line_items"][0]["id"],
                                                           "quantity": 1}],
        "tracking": {"number": "1Z999", "company": "UPS"}})
    done = place(stockroom, [("MUG-WHT", 1)], location=main)
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillments",
                              {"fulfillment_order_id": done["fulfillment_orders"][0]["id"]})
    cancelled = place(stockroom, [("MUG-WHT", 1)], location=main)
    stockroom.sandbox.control("POST", f"shops/{SHOP}/orders/{cancelled['id']}/cancel")
    install_via_admin(stockroom)
    stockroom.run_worker()

    names = set(db.session.scalars(select(Order.name)))
    assert partial["name"] in names and done["name"] not in names
    assert cancelled["name"] not in names and len(names) == SEEDED_OPEN_ORDERS + 1
    order = db.session.scalar(select(Order).where(Order.remote_id == partial["gid"]))
    assert [(ln.quantity, ln.fulfilled_quantity) for ln in order.lines] == [(3, 1)]
    earlier = db.session.scalars(select(Fulfillment).where(Fulfillment.order_id == order.id)).one()
    assert (earlier.origin, earlier.location_id, earlier.stock_note, earlier.tracking_number) == (
        "platform", None, BEFORE_INSTALL_NOTE, "1Z999")
    mirror = db.session.scalars(select(FulfillmentOrder).where(
        FulfillmentOrder.order_id == order.id)).all()
    assert [(m.status, [ln.remaining_quantity for ln in m.lines]) for m in mirror] == [
        ("IN_PROGRESS", [2])]
    assert db.session.query(FulfillmentOrder).count() >= SEEDED_OPEN_ORDERS + 1
    assert db.session.query(InventoryMovement).count() == 0  # history moves no stock
    state = import_state()
    assert state["step"] == "done" and state["counts"]["orders"] == SEEDED_OPEN_ORDERS + 1


def test_import_resumes_after_an_interruption_without_redoing_pages(stockroom):
    override(stockroom, import_page_size=2, import_pages_per_job=1)
    for sku in ("TOTE-NAT", "TOTE-BLK", "MUG-WHT", "BEANIE-GRY", "BEANIE-NVY"):
        place(stockroom, [(sku, 1)])
    total = SEEDED_OPEN_ORDERS + 5
    install_via_admin(stockroom)
    stockroom.run_worker(until=lambda: (import_state().get("step") == "orders"
                                        and import_state().get("after") is not None))
    before = import_state()
    imported_before = db.session.query(Order).count()
    release_session()
    assert before["counts"]["orders"] == 2 and imported_before == 2
    # Shopify goes down: the continuation job fails after the client's own retries.
    stockroom.sandbox.control("POST", "faults/api", {"kind": "error", "status": 503,
                                                     "count": 1000, "shop": SHOP})
    stockroom.run_worker(until=lambda: db.session.scalar(select(func.count()).where(
        OutboxEvent.topic == "shopify.import", OutboxEvent.status == "failed")) == 1,
        timeout=30)
    assert import_state()["after"] == before["after"]  # the checkpoint stayed put
    stockroom.sandbox.control("DELETE", "faults")
    stockroom.run_worker(until=lambda: import_state().get("step") == "done", timeout=30)
    state = import_state()
    assert state["counts"]["orders"] == total  # each page counted once
    assert state["counts"]["variants"] == 5
    assert db.session.query(Order).count() == total
    assert db.session.query(func.count(func.distinct(FulfillmentOrder.order_id))).scalar() == total


@pytest.mark.parametrize("via", ["api", "toml"])
def test_ensure_webhook_subscriptions_is_idempotent(stockroom, via):
    settings = override(stockroom, webhooks_via=via)
    install_via_admin(stockroom)
    stockroom.run_worker()
    ours = f"{stockroom.url}/shopify/webhooks"
    topics = sorted(s["topic"] for s in subscriptions(stockroom))
    expected = sorted(t.replace("/", "_").upper() for t in settings.webhook_topics
                      if t not in settings.compliance_topics)
    assert topics == (expected if via == "api" else [])
    call = ShopifyCall(channel().id)
    assert ensure_webhook_subscriptions(call, settings) == (0, 0)  # nothing to do twice
    # A leftover of ours: a topic the toml no longer has, and (toml mode) a duplicate.
    token = read_credentials(channel()).access_token
    release_session()
    create = """mutation($t: WebhookSubscriptionTopic!, $u: String!) {
      webhookSubscriptionCreate(topic: $t, webhookSubscription: {uri: $u}) {
        userErrors { message } } }"""
    for topic in ("ORDERS_FULFILLED",) + (("ORDERS_CREATE",) if via == "toml" else ()):
        result = stockroom.sandbox.gql(token, create, {"t": topic, "u": ours})
        assert result["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    stale = 2 if via == "toml" else 1
    assert ensure_webhook_subscriptions(ShopifyCall(channel().id), settings) == (0, stale)
    assert sorted(s["topic"] for s in subscriptions(stockroom)) == topics
