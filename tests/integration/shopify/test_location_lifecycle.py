"""Locations created, renamed, deactivated, reactivated and deleted in the Shopify admin
(sandbox controls -> locations/* webhooks -> worker -> what the merchant sees and what is
pushed), and a fulfillment order moved by Shopify to a location Stockroom has not mapped."""
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (Channel, ChannelLocation, FulfillmentOrder, InventoryItem,
                        InventoryPushState, OutboxEvent, RemoteStatus, WebhookInbox)
from app.platforms.shopify.imports import match_unmatched_listings
from app.stock import adjust_stock
from app.stock.push import mark_dirty
from tests.fixtures.factories import confirm_stock
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_fulfillment_order_actions import Admin
from tests.integration.shopify.test_fulfillment_sync import place_order, shop  # noqa: F401


def location(remote_gid: str) -> ChannelLocation | None:
    db.session.expire_all()
    return db.session.scalar(select(ChannelLocation).where(ChannelLocation.remote_id == remote_gid))


def gid(number) -> str:
    return f"gid://shopify/Location/{number}"


def inbox_note(topic: str) -> str:
    return db.session.scalars(select(WebhookInbox.last_error).where(
        WebhookInbox.topic == topic).order_by(WebhookInbox.id.desc())).first()


def wait_stored(stockroom, topic: str) -> None:
    """Until the sandbox's delivery of ``topic`` is in the inbox (the worker not run)."""
    import time

    deadline = time.monotonic() + 10
    while db.session.scalar(select(WebhookInbox.id).where(WebhookInbox.topic == topic)) is None:
        db.session.remove()
        assert time.monotonic() < deadline, f"{topic} never arrived"
        time.sleep(0.05)
    db.session.remove()


def remote_available(stockroom, sku: str, location_id: int) -> int | None:
    return next((lvl["available"] for lvl in stockroom.sandbox.shop()["levels"]
                 if lvl["sku"] == sku and lvl["location_id"] == location_id), None)


def all_pushed_but_held() -> bool:
    """Every dirty push state belongs to a location no push may reach."""
    return db.session.scalar(
        select(InventoryPushState.id).join(
            ChannelLocation, ChannelLocation.id == InventoryPushState.channel_location_id)
        .where(InventoryPushState.generation > InventoryPushState.pushed_generation,
               ChannelLocation.remote_status == RemoteStatus.ACTIVE)) is None


@pytest.fixture
def pushed(stockroom, shop):  # noqa: F811
    """The shop fixture with both mapped locations confirmed and every quantity pushed."""
    stockroom.run_worker()
    channel = db.session.scalar(select(Channel))
    confirm_stock(*db.session.scalars(select(ChannelLocation).where(
        ChannelLocation.stock_location_id.is_not(None))))
    match_unmatched_listings(shop.merchant_id, channel.id)
    mark_dirty(shop.merchant_id, channel_id=channel.id)
    db.session.commit()
    stockroom.run_worker(until=all_pushed_but_held)
    return shop


def test_location_created_on_shopify_needs_mapping_on_locations_and_home(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    created = stockroom.sandbox.control("POST", f"shops/{SHOP}/locations", {"name": "Pop-up Store"})
    stockroom.run_worker(until=lambda: location(created["gid"]) is not None)
    new = location(created["gid"])
    assert (new.name, new.stock_location_id, new.remote_status, new.kind) == (
        "Pop-up Store", None, RemoteStatus.ACTIVE, "merchant_managed")
    assert "needs mapping" in inbox_note("locations/create")
    admin = Admin(stockroom)
    row = re.search(rf'<tr\b[^>]*\bid="channel-location-{new.id}">.*?</tr>',
                    admin.get("/locations").text, re.S).group(0)
    assert "Pop-up Store" in row and "Needs mapping" in row
    home = admin.get("/").text
    attention = re.search(r'<section class="Polaris-ShadowBevel"[^>]*id="attention".*?</section>',
                          home, re.S)
    assert attention and "Pop-up Store" in attention.group(0)
    # The shop's 3PL locations are not mapped either: all are listed, counted.
    unmapped = db.session.query(ChannelLocation).filter(
        ChannelLocation.stock_location_id.is_(None)).count()
    assert f"{unmapped} platform locations need mapping" in attention.group(0)


def test_location_renamed_on_shopify_is_renamed_here(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    downtown = shop.remote["Downtown Store"]
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{downtown}/rename",
                              {"name": "Downtown Flagship"})
    stockroom.run_worker(until=lambda: location(gid(downtown)).name == "Downtown Flagship")
    renamed = location(gid(downtown))
    assert renamed.stock_location_id == shop.downtown_id  # the mapping stays
    assert "renamed from Downtown Store to Downtown Flagship" in inbox_note("locations/update")
    assert "Downtown Flagship" in Admin(stockroom).get("/locations").text


def test_deactivated_location_gets_no_push_until_active_again_and_none_once_deleted(
        stockroom, pushed):
    downtown = pushed.remote["Downtown Store"]
    assert remote_available(stockroom, "TOTE-NAT", downtown) == 10
    item_id = db.session.scalar(select(InventoryItem.id).where(InventoryItem.sku == "TOTE-NAT"))
    release_session()
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{downtown}/deactivate", {
        "destination_location_id": pushed.remote["Main Warehouse"]})
    wait_stored(stockroom, "locations/deactivate")
    # A stock change whose push had not gone out yet when the deactivation arrived.
    adjust_stock(pushed.merchant_id, pushed.downtown_id, item_id, absolute=3, reason="correction")
    db.session.commit()
    stockroom.run_worker(
        until=lambda: location(gid(downtown)).remote_status == RemoteStatus.INACTIVE)
    assert "no more inventory pushes there" in inbox_note("locations/deactivate")
    stockroom.run_worker()
    assert remote_available(stockroom, "TOTE-NAT", downtown) == 10  # nothing pushed there
    admin = Admin(stockroom)
    row = re.search(r'<tr\b[^>]*\bid="channel-location-\d+">(?:(?!</tr>).)*Downtown Store.*?</tr>',
                    admin.get("/locations").text, re.S).group(0)
    assert "Deactivated on Shopify" in row and "No inventory is pushed here" in row
    held = re.search(r'<section class="Polaris-ShadowBevel"[^>]*id="held-pushes".*?</section>',
                     admin.get("/sync").text, re.S)
    assert held and "Downtown Store" in held.group(0)
    assert "1 quantity not pushed, deactivated on the platform" in held.group(0)
    home = admin.get("/").text
    assert "Downtown Store</strong> (deactivated on Shopify)" in home

    # Active again: what waited is pushed.
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{downtown}/activate", {})
    stockroom.run_worker(
        until=lambda: remote_available(stockroom, "TOTE-NAT", downtown) == 3)
    assert location(gid(downtown)).remote_status == RemoteStatus.ACTIVE
    assert "held-pushes" not in Admin(stockroom).get("/sync").text

    # Deactivated and deleted: never pushed to again.
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{downtown}/deactivate",
                              {"destination_location_id": pushed.remote["Main Warehouse"]})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{downtown}/delete", {})
    stockroom.run_worker(
        until=lambda: location(gid(downtown)).remote_status == RemoteStatus.DELETED)
    gone_id = location(gid(downtown)).id

    def generations():
        db.session.expire_all()
        return sorted((s.id, s.generation) for s in db.session.scalars(
            select(InventoryPushState).where(InventoryPushState.channel_location_id == gone_id)))

    before = generations()
    adjust_stock(pushed.merchant_id, pushed.downtown_id, item_id, absolute=5, reason="correction")
    db.session.commit()
    stockroom.run_worker()
    assert generations() == before  # nothing marked for a location Shopify deleted
    assert location(gid(downtown)).stock_location_id == pushed.downtown_id  # history kept
    assert "Deleted on Shopify" in Admin(stockroom).get("/locations").text
    # Both deliveries re-read the location: the first to run found it gone already.
    notes = db.session.scalars(select(WebhookInbox.last_error).where(
        WebhookInbox.topic.in_(("locations/deactivate", "locations/delete")))).all()
    assert "Downtown Store deleted on Shopify: no more inventory pushes there (it stays mapped; "\
        "the Sync page lists what waits)" in notes


def test_delete_webhook_for_a_location_shopify_still_has_changes_nothing(stockroom, shop):  # noqa: F811
    from tests.integration.shopify.test_forged_webhooks import deliver, outcome

    stockroom.run_worker()
    main = shop.remote["Main Warehouse"]
    event = deliver(stockroom, "locations/delete", {"id": main})
    row = outcome(stockroom, event)
    assert row.status == "done"
    assert location(gid(main)).remote_status == RemoteStatus.ACTIVE  # Shopify still has it


def test_fulfillment_order_moved_to_an_unmapped_location_shows_on_the_order(stockroom, shop):  # noqa: F811
    stockroom.run_worker()
    popup = stockroom.sandbox.control("POST", f"shops/{SHOP}/locations", {"name": "Pop-up Store"})
    order, _ = place_order(stockroom, [("MUG-WHT", 1)], location_id=shop.remote["Main Warehouse"])
    order_id = order.id
    release_session()
    # Shopify relocates the open fulfillment orders of a deactivated location.
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{shop.remote['Main Warehouse']}"
                              "/deactivate", {"destination_location_id": popup["id"]})

    def moved():
        db.session.expire_all()
        fos = db.session.scalars(select(FulfillmentOrder).where(
            FulfillmentOrder.order_id == order_id, FulfillmentOrder.status == "OPEN")).all()
        return [fo.assigned_location_remote_id for fo in fos] == [popup["gid"]]

    stockroom.run_worker(until=moved)
    page = Admin(stockroom).get(f"/orders/{order_id}").text
    panel = re.search(r'<section class="Polaris-ShadowBevel"[^>]*id="fulfillment-orders"'
                      r'.*?</section>', page, re.S)
    assert panel and "Pop-up Store" in panel.group(0) and "Unmapped location" in panel.group(0)


def test_reconcile_repairs_missed_location_webhooks(stockroom, pushed):
    from tests.integration.shopify.test_reconcile import (reconcile, stop_webhook_delivery,
                                                          wait_given_up)

    downtown, main = pushed.remote["Downtown Store"], pushed.remote["Main Warehouse"]
    release_session()
    stop_webhook_delivery(stockroom)  # Shopify gives up on every delivery
    popup = stockroom.sandbox.control("POST", f"shops/{SHOP}/locations", {"name": "Pop-up Store"})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{main}/rename",
                              {"name": "Main Warehouse East"})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{downtown}/deactivate",
                              {"destination_location_id": main})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{downtown}/delete", {})
    wait_given_up(stockroom, 4)
    stockroom.run_worker()
    assert location(popup["gid"]) is None and location(gid(downtown)).remote_status == "active"
    release_session()
    reconcile(stockroom)
    assert (location(popup["gid"]).name, location(popup["gid"]).stock_location_id) == (
        "Pop-up Store", None)
    assert location(gid(main)).name == "Main Warehouse East"
    assert location(gid(downtown)).remote_status == RemoteStatus.DELETED
    notes = db.session.scalars(select(OutboxEvent.last_error).where(
        OutboxEvent.topic == "shopify.reconcile")).all()
    assert len(notes) == 1 and notes[0].endswith("; 3 locations changed")
    # Looking again changes nothing.
    from app.platforms.shopify.lifecycle import reconcile_locations
    from app.platforms.shopify.sync import ShopifyCall

    channel = db.session.scalar(select(Channel))
    assert reconcile_locations(ShopifyCall(channel.id), pushed.merchant_id, channel.id) == 0


def test_fulfillment_at_a_location_mapped_only_to_a_deactivated_one_fails_visibly(stockroom, shop):  # noqa: F811
    from app.fulfillment import create_fulfillment
    from app.models import Fulfillment, SyncState

    stockroom.run_worker()
    order, _ = place_order(stockroom, [("MUG-WHT", 1)], location_id=shop.remote["Main Warehouse"])
    order_id, line_id = order.id, order.lines[0].id
    downtown = shop.remote["Downtown Store"]
    release_session()
    stockroom.sandbox.control("POST", f"shops/{SHOP}/locations/{downtown}/deactivate",
                              {"destination_location_id": shop.remote["Main Warehouse"]})
    stockroom.run_worker(
        until=lambda: location(gid(downtown)).remote_status == RemoteStatus.INACTIVE)
    f = create_fulfillment(order_id, {line_id: 1}, shop.downtown_id, merchant_id=shop.merchant_id)
    fulfillment_id = f.id
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.get(Fulfillment, fulfillment_id).sync_state
                         == SyncState.FAILED)
    assert db.session.get(Fulfillment, fulfillment_id).sync_error == (
        "Downtown is mapped to Downtown Store, which was deactivated on Shopify: map it to an "
        "active Shopify location on the Locations page, then retry.")
    assert stockroom.sandbox.shop()["fulfillments"] == []  # nothing sent to Shopify
