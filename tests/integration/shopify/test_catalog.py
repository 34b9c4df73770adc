"""The shop's catalog into Stockroom over real HTTP: variants with barcodes, images and every
location's quantities; products/* webhooks through the worker; the catalog re-read; resuming."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import (Channel, ChannelListing, ChannelListingLevel, ChannelLocation,
                        InventoryPushState, Merchant, MatchStatus, OutboxEvent, WebhookInbox)
from app.platforms.shopify.imports import catalog_progress
from app.stock import adjust_stock
from tests.fixtures.factories import make_item
from tests.integration.shopify.conftest import SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import shop  # noqa: F401
from tests.integration.shopify.test_imports import import_state, override
from tests.integration.shopify.test_install import install_via_admin

APRON = {"title": "Linen Apron", "image_url": "https://cdn.example.com/apron.jpg",
         "variants": [{"title": "Sand", "sku": "APRON-SND", "barcode": "0123456789012",
                       "on_hand": 6},
                      {"title": "Clay", "sku": "APRON-CLY", "barcode": "0123456789029",
                       "image_url": "https://cdn.example.com/apron-clay.jpg", "on_hand": 2}]}


def channel() -> Channel:
    return db.session.scalars(select(Channel)).one()


def listings() -> dict[str, ChannelListing]:
    db.session.expire_all()
    return {row.sku: row for row in db.session.scalars(select(ChannelListing))}


def import_done() -> bool:
    return import_state().get("step") == "done"


def levels_by_location(listing: ChannelListing) -> dict[str, tuple]:
    rows = db.session.execute(
        select(ChannelLocation.remote_id, ChannelListingLevel.on_hand,
               ChannelListingLevel.available, ChannelListingLevel.committed)
        .join(ChannelLocation, ChannelLocation.id == ChannelListingLevel.channel_location_id)
        .where(ChannelListingLevel.listing_id == listing.id)).all()
    return {remote: (on_hand, available, committed)
            for remote, on_hand, available, committed in rows}


def sandbox_levels(stockroom, sku: str) -> dict[str, tuple]:
    snapshot = stockroom.sandbox.shop()
    return {f"gid://shopify/Location/{lvl['location_id']}":
            (lvl["on_hand"], lvl["available"], lvl["committed"])
            for lvl in snapshot["levels"] if lvl["sku"] == sku}


def applied(topic: str, count: int = 1):
    """Until ``count`` deliveries of ``topic`` were applied by the worker."""
    def check() -> bool:
        return db.session.scalar(select(func.count()).select_from(WebhookInbox).where(
            WebhookInbox.topic == topic, WebhookInbox.status == "done")) >= count
    return check


def test_import_reads_barcodes_images_and_every_locations_quantities(stockroom):
    product = stockroom.sandbox.control("POST", f"shops/{SHOP}/products", APRON)
    install_via_admin(stockroom)
    merchant = db.session.get(Merchant, channel().merchant_id)
    make_item(merchant, "TOTE-NAT")
    by_barcode = make_item(merchant, "LINEN-APRON-SAND")
    by_barcode.barcode = "0123456789012"  # same thing, another SKU: matched by barcode
    db.session.commit()
    by_barcode_id = by_barcode.id
    stockroom.run_worker(until=import_done)
    rows = listings()
    assert len(rows) == 5 + 2
    sand, clay = rows["APRON-SND"], rows["APRON-CLY"]
    assert (sand.barcode, sand.remote_product_id) == ("0123456789012", product["gid"])
    assert sand.image_url == "https://cdn.example.com/apron.jpg"  # the product's image
    assert clay.image_url == "https://cdn.example.com/apron-clay.jpg"  # its own
    assert (sand.match_status, sand.inventory_item_id) == (MatchStatus.MATCHED, by_barcode_id)
    assert rows["TOTE-NAT"].match_status == MatchStatus.MATCHED
    assert clay.match_status == MatchStatus.UNMATCHED
    # Shopify's on_hand / available / committed at each of the 4 locations, as the shop has
    # them (the seeded open orders commit TOTE-NAT, MUG-WHT... at their locations).
    for sku in ("APRON-SND", "TOTE-NAT", "TOTE-BLK", "MUG-WHT"):
        expected = sandbox_levels(stockroom, sku)
        assert len(expected) == 4
        assert levels_by_location(rows[sku]) == expected, sku
    assert any(committed for _, _, committed in sandbox_levels(stockroom, "TOTE-NAT").values())
    state = import_state()
    counts = state["counts"]
    assert (counts["variants"], counts["matched"], counts["levels"]) == (7, 2, 28)
    assert state["variants_total"] == 7  # "read 7 of 7"
    assert catalog_progress(channel()) == {"kind": "import", "step": "done", "read": 7,
                                           "total": 7, "matched": 2, "levels": 28,
                                           "done": True}


def test_levels_beyond_a_page_are_read_to_the_end(stockroom):
    # One level per variant in the page query: every variant's other three locations
    # come from follow-up InventoryItemLevels queries, none dropped.
    override(stockroom, catalog_levels_per_variant=1, import_page_size=3)
    install_via_admin(stockroom)
    stockroom.run_worker(until=import_done)
    rows = listings()
    assert len(rows) == 5
    for sku, row in rows.items():
        assert levels_by_location(row) == sandbox_levels(stockroom, sku), sku
    assert import_state()["counts"]["levels"] == 20


def test_product_webhooks_add_rematch_and_remove_listings(stockroom):
    install_via_admin(stockroom)
    merchant_id = channel().merchant_id
    merchant = db.session.get(Merchant, merchant_id)
    sand_id, renamed_id = make_item(merchant, "APRON-SND").id, make_item(merchant, "APRON-S").id
    db.session.commit()
    stockroom.run_worker(until=import_done)

    product = stockroom.sandbox.control("POST", f"shops/{SHOP}/products", APRON)
    stockroom.run_worker(until=applied("products/create"))
    rows = listings()
    assert rows["APRON-SND"].inventory_item_id == sand_id  # auto-matched
    assert rows["APRON-CLY"].match_status == MatchStatus.UNMATCHED  # queued for matching
    assert levels_by_location(rows["APRON-SND"]) == sandbox_levels(stockroom, "APRON-SND")

    sand, clay = product["variants"]
    stockroom.sandbox.control("POST", f"shops/{SHOP}/products/{product['id']}",
                              {"variants": [{"id": sand["id"], "sku": "APRON-S"}]})
    stockroom.run_worker(until=applied("products/update"))
    rows = listings()
    assert "APRON-SND" not in rows
    assert rows["APRON-S"].remote_variant_id == sand["gid"]
    assert rows["APRON-S"].inventory_item_id == renamed_id  # re-matched to the new SKU

    stockroom.sandbox.control("DELETE", f"shops/{SHOP}/variants/{clay['id']}")
    stockroom.run_worker(until=applied("products/update", 2))
    rows = listings()
    assert rows["APRON-CLY"].match_status == MatchStatus.DELETED
    assert rows["APRON-CLY"].deleted_at is not None
    assert rows["APRON-S"].deleted_at is None

    stockroom.sandbox.control("DELETE", f"shops/{SHOP}/products/{product['id']}")
    stockroom.run_worker(until=applied("products/delete"))
    rows = listings()
    assert rows["APRON-S"].match_status == MatchStatus.DELETED
    assert db.session.scalar(select(func.count()).select_from(ChannelListing).where(
        ChannelListing.deleted_at.is_(None))) == 5  # the seeded catalog, untouched


def test_products_delete_of_a_product_shopify_still_has_removes_nothing(stockroom):
    """A products/delete body is only a pointer: Shopify is asked, and still has it."""
    install_via_admin(stockroom)
    stockroom.run_worker(until=import_done)
    listing = listings()["MUG-WHT"]
    product_id = int(listing.remote_product_id.rsplit("/", 1)[1])
    release_session()
    # A signed delivery naming a product the shop still has (an app holding the client
    # secret could send one): the sandbox's dispatcher signs and delivers it like any other.
    sandbox = stockroom.sandbox.app.extensions["shopify_sandbox"]
    with sandbox.store.lock:
        sandbox.store.emit(SHOP, "products/delete", {"id": product_id})
    stockroom.run_worker(until=applied("products/delete"))
    assert listings()["MUG-WHT"].deleted_at is None


def test_deleted_product_stops_pushes(stockroom, shop):  # noqa: F811
    stockroom.run_worker(until=import_done)
    merchant_id = shop.merchant_id
    from app.catalog import rematch_channel
    rematch_channel(merchant_id, channel().id)
    db.session.commit()
    stockroom.run_worker()
    mug = listings()["MUG-WHT"]
    assert mug.match_status == MatchStatus.MATCHED
    product_id, mug_item = int(mug.remote_product_id.rsplit("/", 1)[1]), mug.inventory_item_id
    main = shop.remote["Main Warehouse"]

    def on_shopify(sku):
        return next(lvl for lvl in stockroom.sandbox.shop()["levels"]
                    if lvl["sku"] == sku and lvl["location_id"] == main)
    pushed_before = on_shopify("MUG-WHT")["on_hand"]
    assert pushed_before == 10  # Stockroom's count, pushed once confirmed
    release_session()
    stockroom.sandbox.control("DELETE", f"shops/{SHOP}/products/{product_id}")
    stockroom.run_worker(until=applied("products/delete"))
    assert listings()["MUG-WHT"].deleted_at is not None
    tote_item = listings()["TOTE-NAT"].inventory_item_id
    adjust_stock(merchant_id, shop.warehouse_id, mug_item, absolute=3, reason="correction")
    adjust_stock(merchant_id, shop.warehouse_id, tote_item, absolute=4, reason="correction")
    db.session.commit()
    stockroom.run_worker()
    assert on_shopify("TOTE-NAT")["on_hand"] == 4  # the push ran...
    assert on_shopify("MUG-WHT")["on_hand"] == pushed_before  # ...not to the deleted product
    assert db.session.scalar(select(func.count()).select_from(InventoryPushState).where(
        InventoryPushState.generation > InventoryPushState.pushed_generation)) == 0


def test_catalog_refresh_rereads_quantities(stockroom):
    install_via_admin(stockroom)
    stockroom.run_worker(until=import_done)
    state = stockroom.sandbox.shop()
    variant = next(v for v in state["variants"] if v["sku"] == "BEANIE-GRY")
    location = state["locations"][1]
    stockroom.sandbox.control("POST", f"shops/{SHOP}/variants/{variant['id']}/quantities",
                              {"quantities": {str(location["id"]): 33}})
    assert levels_by_location(listings()["BEANIE-GRY"])[location["gid"]][0] != 33
    release_session()
    override(stockroom, import_page_size=2, import_pages_per_job=1)
    db.session.add(OutboxEvent(merchant_id=channel().merchant_id, channel_id=channel().id,
                               topic="catalog.refresh_requested"))
    db.session.commit()

    def refreshed():
        db.session.expire_all()
        return (channel().sync_cursors.get("catalog_refresh") or {}).get("step") == "done"
    stockroom.run_worker(until=refreshed)
    assert levels_by_location(listings()["BEANIE-GRY"])[location["gid"]][0] == 33
    progress = catalog_progress(channel())
    assert (progress["kind"], progress["read"], progress["total"], progress["done"]) == (
        "catalog_refresh", 5, 5, True)
    refresh = channel().sync_cursors["catalog_refresh"]
    assert refresh["counts"]["variants"] == 5  # 3 pages over 3 jobs, each counted once
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.topic == "shopify.catalog_refresh")) == 2
    assert import_state()["step"] == "done"  # the import's own checkpoint untouched


def test_products_step_resumes_after_the_worker_fails_midway(stockroom):
    override(stockroom, import_page_size=2, import_pages_per_job=1)
    install_via_admin(stockroom)
    stockroom.run_worker(until=lambda: (import_state().get("step") == "products"
                                        and import_state().get("after") is not None))
    before = import_state()
    assert before["counts"]["variants"] == 2
    # The next page's read fails for good (Shopify down for this query): the job dies at
    # its next page; what the checkpoint says is what is stored, nothing more.
    stockroom.sandbox.control("POST", "faults/api", {"kind": "error", "status": 503,
                                                     "count": 1000, "shop": SHOP,
                                                     "operation": "ProductVariantPage"})
    stockroom.run_worker(until=lambda: db.session.scalar(select(func.count()).where(
        OutboxEvent.topic == "shopify.import", OutboxEvent.status == "failed")) >= 1,
        timeout=30)
    assert import_state()["after"] == before["after"]
    assert db.session.query(ChannelListing).count() == 2
    stockroom.sandbox.control("DELETE", "faults")
    stockroom.run_worker(until=import_done, timeout=30)
    state = import_state()
    assert state["counts"]["variants"] == 5 and state["counts"]["levels"] == 20
    assert db.session.query(ChannelListing).count() == 5
    assert db.session.query(ChannelListingLevel).count() == 20
