"""Locations, inventory, sync and connections pages: full page vs fragment, forms, errors."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import (Channel, ChannelLocation, InventoryLevel, InventoryMovement, OutboxEvent,
                        StockLocation, WebhookInbox)


def _is_fragment(response, root):
    """The response is only ``root`` (markup it starts with, or the id of a Polaris Card,
    whose outer element carries it)."""
    body = response.get_data(as_text=True)
    if root.startswith("<"):
        return "<html" not in body and body.lstrip().startswith(root)
    return "<html" not in body and re.match(
        rf'\s*<section class="Polaris-ShadowBevel"[^>]*\bid="{root}"', body) is not None


def test_locations_create_rename_deactivate_negative(shop, browser):
    browser.get("/locations")
    response = browser.post("/locations", {"name": "Back room", "allow_negative_stock": "on"},
                            target="locations")
    assert response.status_code == 200 and _is_fragment(response, "locations")
    back = db.session.scalar(select(StockLocation).where(StockLocation.name == "Back room"))
    assert back.allow_negative_stock and back.active
    response = browser.post("/locations", {"name": "back ROOM"}, target="locations")
    assert response.status_code == 422 and "already a location named" in response.get_data(as_text=True)
    browser.post(f"/locations/{back.id}", {"name": "Stock room"}, target="locations")
    browser.post(f"/locations/{back.id}", {"active": "0"}, target="locations")
    browser.post(f"/locations/{back.id}", {"allow_negative_stock": "0"}, target="locations")
    db.session.expire_all()
    back = db.session.get(StockLocation, back.id)
    assert (back.name, back.active, back.allow_negative_stock) == ("Stock room", False, False)
    assert "Deactivated" in browser.get("/locations").get_data(as_text=True)


def test_locations_mapping_flags_unmapped_and_maps(shop, browser):
    channel = db.session.get(Channel, shop.order.channel_id)
    cl = ChannelLocation(merchant_id=shop.merchant_id, channel_id=channel.id, remote_id="gid://1",
                         name="Shopify warehouse")
    db.session.add(cl)
    db.session.commit()
    body = browser.get("/locations").get_data(as_text=True)
    assert "Shopify warehouse" in body and "Unmapped" in body
    response = browser.post(f"/channel-locations/{cl.id}", {"stock_location_id": str(shop.main.id)},
                            target="location-mappings")
    assert _is_fragment(response, "location-mappings")
    assert "Unmapped" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ChannelLocation, cl.id).stock_location_id == shop.main.id


def test_inventory_levels_and_search(shop, browser):
    body = browser.get("/inventory").get_data(as_text=True)
    assert "MUG-1" in body and "TOTE-1" in body and "Available" in body
    response = browser.hx_get("/inventory?q=mug", "inventory-table")
    assert _is_fragment(response, '<div id="inventory-table"')
    assert "TOTE-1" not in response.get_data(as_text=True)


def test_inventory_adjust_and_ledger(shop, browser):
    url = f"/inventory/{shop.mug.id}/adjust"
    browser.get(f"/inventory/{shop.mug.id}")
    response = browser.post(url, {"location_id": str(shop.main.id), "mode": "delta",
                                  "quantity": "-2", "reason": "damaged", "note": "dropped"},
                            target="item-stock")
    assert response.status_code == 200 and _is_fragment(response, '<div id="item-stock"')
    assert "showToast" in response.headers["HX-Trigger"]
    body = response.get_data(as_text=True)
    assert "Damaged" in body and "dropped" in body and "-2" in body
    response = browser.post(url, {"location_id": str(shop.main.id), "mode": "absolute",
                                  "quantity": "10", "reason": "recount"}, target="item-stock")
    level = db.session.scalar(select(InventoryLevel).where(
        InventoryLevel.location_id == shop.main.id, InventoryLevel.item_id == shop.mug.id))
    db.session.refresh(level)
    assert level.on_hand == 10


def test_inventory_adjust_errors_inline(shop, browser):
    url = f"/inventory/{shop.mug.id}/adjust"
    body = browser.post(url, {"location_id": "", "quantity": "1", "reason": "received"},
                        target="item-stock").get_data(as_text=True)
    assert 'id="location-error"' in body
    response = browser.post(url, {"location_id": str(shop.main.id), "quantity": "x",
                                  "reason": "received"}, target="item-stock")
    assert response.status_code == 422 and 'id="quantity-error"' in response.get_data(as_text=True)
    response = browser.post(url, {"location_id": str(shop.main.id), "quantity": "-50",
                                  "reason": "damaged"}, target="item-stock")
    assert response.status_code == 409 and "Not enough stock" in response.get_data(as_text=True)
    assert db.session.scalar(select(InventoryMovement).where(InventoryMovement.reason == "damaged")) is None


def test_sync_page_lists_and_filters_failed(shop, browser):
    db.session.add_all([
        OutboxEvent(merchant_id=shop.merchant_id, topic="fulfillment.created", status="dead",
                    attempts=8, last_error="Shopify: 422 <b>nope</b>"),
        OutboxEvent(merchant_id=shop.merchant_id, topic="fulfillment.shipped", status="done")])
    db.session.commit()
    body = browser.get("/sync").get_data(as_text=True)
    assert "<code>fulfillment.shipped</code>" in body and "&lt;b&gt;nope&lt;/b&gt;" in body
    response = browser.hx_get("/sync?failed=1", "sync-jobs")
    assert _is_fragment(response, '<section id="sync-jobs"')
    body = response.get_data(as_text=True)
    assert "<code>fulfillment.created</code>" in body and "fulfillment.shipped" not in body
    assert "1 failed" in body and "Retry" in body and "hx-confirm=" in body
    assert 'data-count="outbox-dead">1<' in body and 'data-count="inbox-failed">0<' in body
    assert "No" in browser.hx_get("/sync?kind=inbox", "sync-jobs").get_data(as_text=True)


def test_sync_page_shows_rejected_deliveries_with_their_reason(shop, browser):
    channel_id = shop.order.channel_id
    db.session.add_all([
        WebhookInbox(merchant_id=shop.merchant_id, channel_id=channel_id, topic="shop/redact",
                     dedupe_key="e-1", body=b"{}", status="rejected",
                     last_error="the body names <i>other.myshopify.com</i>"),
        WebhookInbox(merchant_id=shop.merchant_id, channel_id=channel_id, topic="orders/create",
                     dedupe_key="e-2", body=b"{}", status="dead", last_error="boom")])
    db.session.commit()
    body = browser.get("/sync?kind=inbox").get_data(as_text=True)
    assert "1 rejected" in body and "1 failed" in body
    assert 'data-count="inbox-rejected">1<' in body
    body = browser.hx_get("/sync?kind=inbox&rejected=1", "sync-jobs").get_data(as_text=True)
    assert "shop/redact" in body and "orders/create" not in body
    assert "Not applied: the body names &lt;i&gt;other.myshopify.com&lt;/i&gt;" in body
    assert "Rejected" in body and "Retry" not in body and "Discard" in body
    rejected = db.session.scalar(select(WebhookInbox.id).where(WebhookInbox.status == "rejected"))
    assert browser.post(f"/sync/inbox/{rejected}/retry", target="sync-jobs").status_code == 422
    body = browser.hx_get("/sync?kind=inbox&failed=1", "sync-jobs").get_data(as_text=True)
    assert "orders/create" in body and "shop/redact" not in body


def test_sync_retry_and_discard(shop, browser):
    event = OutboxEvent(merchant_id=shop.merchant_id, topic="fulfillment.created", status="dead",
                        attempts=8, last_error="boom")
    db.session.add(event)
    db.session.commit()
    response = browser.post(f"/sync/outbox/{event.id}/retry", target="sync-jobs")
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(OutboxEvent, event.id).status == "pending"
    response = browser.post(f"/sync/outbox/{event.id}/discard", target="sync-jobs")
    db.session.expire_all()
    assert db.session.get(OutboxEvent, event.id).status == "discarded"
    response = browser.post(f"/sync/outbox/{event.id}/retry", target="sync-jobs")
    assert response.status_code == 422


def test_connections_lists_channels(shop, browser):
    channel = db.session.get(Channel, shop.order.channel_id)
    channel.scopes = "read_orders,write_fulfillments"
    db.session.commit()
    body = browser.get("/connections").get_data(as_text=True)
    assert channel.domain in body and "write_fulfillments" in body and "Active" in body
    assert "Connect a WooCommerce store" in body


def test_health_endpoints_need_no_sign_in(app, browser):
    assert browser.get("/healthz").json == {"status": "ok"}
    ready = browser.get("/readyz").json
    assert (ready["status"], ready["database"], ready["worker_lag_seconds"]) == ("ready", "ok", 0)
    assert "Create an account" in browser.get("/").get_data(as_text=True)
