"""Onboarding a WooCommerce store's catalog over real HTTP: listings with barcodes, images
and the store's own stock (negative, unmanaged, malformed), product webhooks through the
worker, the reconciliation and refresh that cover missed webhooks, and an interrupted
import that resumes without creating anything twice."""
from dataclasses import replace

from sqlalchemy import func, select

from app.extensions import db
from app.models import (ChannelListing, ChannelListingLevel, InventoryItem, InventoryLevel,
                        JobStatus, MatchStatus, OutboxEvent, StockLocation, WebhookInbox)
from app.platforms.woocommerce.sync import request_reconcile
from app.stock import adjust_stock
from tests.integration.woocommerce.conftest import (confirm_store_stock, connected,
                                                    release_session, woo_channel)

SLUG = "/stores/demo-store"


def listings() -> dict[str, ChannelListing]:
    return {row.sku: row for row in db.session.scalars(select(ChannelListing))}


def level_of(sku: str) -> tuple:
    row = db.session.execute(select(ChannelListingLevel.available, ChannelListingLevel.committed,
                                    ChannelListingLevel.on_hand)
                             .join(ChannelListing,
                                   ChannelListing.id == ChannelListingLevel.listing_id)
                             .where(ChannelListing.sku == sku)).one_or_none()
    return tuple(row) if row is not None else None


def import_state() -> dict:
    release_session()
    state = dict((woo_channel().sync_cursors or {}).get("import") or {})
    release_session()
    return state


def test_connect_reads_listings_barcodes_images_and_the_stores_stock(stockroom):
    sandbox = stockroom.sandbox
    mug = sandbox.product_by_sku("MUG-ENAMEL")
    sandbox.control("POST", f"{SLUG}/products/{mug['id']}/stock", json={"stock_quantity": -2})
    tote = sandbox.product_by_sku("TOTE-CANVAS")
    sandbox.control("PUT", f"{SLUG}/products/{tote['id']}/rest-overrides",
                    json={"stock_quantity": "lots"})
    [scarf] = sandbox.control("POST", f"{SLUG}/products", json={"products": [
        {"name": "Scarf", "sku": "SCARF", "attribute": "Color", "variations": [
            {"option": "Red", "sku": "SCARF-RED", "stock": 3, "gtin": "5000000000017"},
            {"option": "Blue", "sku": "SCARF-BLU", "stock": 1}]}]})
    blue = next(v for v in scarf["variations"] if v["sku"] == "SCARF-BLU")
    sandbox.control("PUT", f"{SLUG}/products/{blue['id']}/rest-overrides",
                    json={"id": "__remove__"})
    owner, merchant_id, location_id = connected(stockroom, skus=("TEE-CLASSIC", "HOODIE-M"),
                                                truth=None)
    # An item known by its barcode only (another SKU): matched by the variation's GTIN.
    db.session.add(InventoryItem(merchant_id=merchant_id, sku="BEANIE-BLACK-OLD",
                                 title="Beanie", barcode="4006381333979"))
    db.session.commit()
    release_session()
    db.session.add(OutboxEvent(merchant_id=merchant_id, channel_id=woo_channel().id,
                               topic="catalog.refresh_requested", payload={}))
    db.session.commit()
    stockroom.settle()

    rows = listings()
    assert {"HOODIE", "BEANIE", "SCARF"}.isdisjoint(rows)  # variable parents are not listings
    assert {"TEE-CLASSIC", "HOODIE-S", "HOODIE-M", "HOODIE-L", "BEANIE-BLK", "BEANIE-GRY",
            "SCARF-RED", "GIFT-CARD", "MUG-ENAMEL"} <= set(rows)
    hoodie_m = rows["HOODIE-M"]
    assert hoodie_m.barcode == "4006381333962" and hoodie_m.image_url.endswith("/hoodie-m.jpg")
    assert hoodie_m.remote_product_id != hoodie_m.remote_variant_id
    assert hoodie_m.match_status == MatchStatus.MATCHED and hoodie_m.title == "Hoodie — M"
    assert rows["BEANIE-GRY"].image_url.endswith("/beanie.jpg")  # no own image: the parent's
    assert rows["SCARF-RED"].barcode == "5000000000017"
    beanie = rows["BEANIE-BLK"]
    assert (beanie.match_status, beanie.match_note) == (MatchStatus.MATCHED, "barcode")
    # The store's quantities: available = stock_quantity, committed = open orders' units
    # WooCommerce already took off it, on_hand = both.
    assert level_of("HOODIE-M") == (7, 1, 8)  # 8 seeded, 1 in a processing order
    assert level_of("TEE-CLASSIC") == (22, 2, 24)  # the completed order's unit is gone
    assert level_of("BEANIE-BLK") == (7, 3, 10)  # an on-hold order holds 3
    assert level_of("MUG-ENAMEL") == (-2, 0, -2)  # oversold: negative, reported as is
    assert level_of("GIFT-CARD") == (None, None, None)  # stock not managed on the store
    assert level_of("SCARF-RED") == (3, 0, 3)
    # Malformed products are listed with the reason, never matched, and stop nothing.
    assert "stock_quantity is 'lots'" in rows["TOTE-CANVAS"].problem
    assert rows["TOTE-CANVAS"].match_status == MatchStatus.UNMATCHED
    assert level_of("TOTE-CANVAS") is None
    assert "no valid id" in rows["SCARF-BLU"].problem
    assert rows["SCARF-BLU"].remote_variant_id.startswith("invalid:")
    refresh = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "catalog.refresh_requested"))
    assert refresh.status == JobStatus.DONE and "catalog_refresh done" in refresh.last_error
    # Nothing was pushed: the owner has not said where the truth is.
    assert not [k for k in sandbox.requests_made() if "batch" in k]
    assert sandbox.product_by_sku("TEE-CLASSIC")["stock_quantity"] == 22
    release_session()

    confirm_store_stock(merchant_id, "platform")
    levels = {sku: on_hand for sku, on_hand in db.session.execute(
        select(InventoryItem.sku, InventoryLevel.on_hand)
        .join(InventoryLevel, InventoryLevel.item_id == InventoryItem.id))}
    assert levels["TEE-CLASSIC"] == 24 and levels["HOODIE-M"] == 8
    release_session()
    stockroom.settle()
    # The store's own truth pushed back: the same numbers it showed.
    assert sandbox.product_by_sku("TEE-CLASSIC")["stock_quantity"] == 22
    assert sandbox.product_by_sku("HOODIE-M")["stock_quantity"] == 7


def test_product_webhooks_create_rematch_and_delete_listings(stockroom):
    sandbox = stockroom.sandbox
    _, merchant_id, location_id = connected(
        stockroom, skus=("TEE-CLASSIC", "TOTE-CANVAS", "LAMP-1", "TEE-NEW"), stock=5)
    stockroom.settle()
    inbox_before = db.session.query(WebhookInbox).count()
    release_session()
    sandbox.control("POST", f"{SLUG}/products", json={"products": [
        {"name": "Desk Lamp", "sku": "LAMP-1", "price": "30.00", "stock": 4,
         "gtin": "5012345678900", "image": "https://cdn.example.test/lamp.jpg"}]})
    hoodie = sandbox.product_by_sku("HOODIE")
    sandbox.control("POST", f"{SLUG}/products/{hoodie['id']}/variations",
                    json={"option": "XL", "sku": "HOODIE-XL", "stock": 2})
    tee = sandbox.product_by_sku("TEE-CLASSIC")
    sandbox.control("PUT", f"{SLUG}/products/{tee['id']}", json={"sku": "TEE-NEW"})
    stockroom.settle()
    assert db.session.query(WebhookInbox).count() > inbox_before  # they came by webhook
    rows = listings()
    assert rows["LAMP-1"].match_status == MatchStatus.MATCHED
    assert rows["LAMP-1"].image_url.endswith("/lamp.jpg")
    assert rows["LAMP-1"].barcode == "5012345678900"
    # Matched to an item of a confirmed location: Stockroom's 5 are pushed over the store's
    # 4, and the echo (product.updated) is read back as the store's level.
    assert sandbox.product_by_sku("LAMP-1")["stock_quantity"] == 5
    assert level_of("LAMP-1") == (5, 0, 5)
    assert rows["HOODIE-XL"].match_status == MatchStatus.UNMATCHED  # queued for matching
    assert rows["HOODIE-XL"].remote_product_id == str(hoodie["id"])
    assert "TEE-CLASSIC" not in rows  # the same listing, renamed on the store ...
    new_item = db.session.scalar(select(InventoryItem.id).where(InventoryItem.sku == "TEE-NEW"))
    assert rows["TEE-NEW"].remote_variant_id == str(tee["id"])
    assert rows["TEE-NEW"].inventory_item_id == new_item  # ... matched again by its new SKU
    release_session()

    # A barcode plugin's meta entry (stores older than WooCommerce 9.2's own field), set
    # through the REST API: product.updated brings it as the listing's barcode.
    sandbox.rest("demo-store", "PUT", f"products/{hoodie['id']}/variations/"
                 f"{sandbox.product_by_sku('HOODIE-XL')['id']}",
                 json={"meta_data": [{"key": "hwp_var_gtin", "value": "5901234123457"}]})
    stockroom.settle()
    assert listings()["HOODIE-XL"].barcode == "5901234123457"
    release_session()

    # Trashed on the store: product.deleted; Stockroom's later changes are not pushed there.
    tote = sandbox.product_by_sku("TOTE-CANVAS")
    sandbox.control("DELETE", f"{SLUG}/products/{tote['id']}")
    stockroom.settle()
    assert listings()["TOTE-CANVAS"].match_status == MatchStatus.DELETED
    tote_item = db.session.scalar(select(InventoryItem.id).where(
        InventoryItem.sku == "TOTE-CANVAS"))
    before = sandbox.rest("demo-store", "GET", f"products/{tote['id']}")["stock_quantity"]
    adjust_stock(merchant_id, location_id, tote_item, delta=30, reason="received")
    db.session.commit()
    release_session()
    stockroom.settle()
    assert sandbox.rest("demo-store", "GET", f"products/{tote['id']}")["stock_quantity"] == before
    # Restored from the trash (product.restored): matched again, and Stockroom's count
    # (35, less the unit of the store's open order for it) pushed there again.
    sandbox.control("POST", f"{SLUG}/products/{tote['id']}/restore")
    stockroom.settle()
    restored = listings()["TOTE-CANVAS"]
    assert (restored.match_status, restored.inventory_item_id) == (MatchStatus.MATCHED,
                                                                   tote_item)
    assert sandbox.rest("demo-store", "GET", f"products/{tote['id']}")["stock_quantity"] == 34

    # A variation deleted on the store fires nothing; the parent's next save (here: another
    # variation's stock edited in wp-admin) re-reads its variations, and it is removed.
    large = next(v for v in sandbox.rest("demo-store", "GET",
                                         f"products/{hoodie['id']}/variations")
                 if v["sku"] == "HOODIE-L")
    sandbox.control("DELETE", f"{SLUG}/products/{large['id']}")
    small = sandbox.product_by_sku("HOODIE-S")
    sandbox.control("POST", f"{SLUG}/products/{small['id']}/stock", json={"stock_quantity": 9})
    stockroom.settle()
    rows = listings()
    assert rows["HOODIE-L"].match_status == MatchStatus.DELETED
    assert level_of("HOODIE-S") == (9, 1, 10)
    assert rows["HOODIE-M"].match_status != MatchStatus.DELETED


def test_reconciliation_rereads_products_whose_webhooks_were_missed(stockroom):
    sandbox = stockroom.sandbox
    _, merchant_id, _ = connected(stockroom, skus=("HOODIE-M", "HOODIE-MED"))
    stockroom.settle()
    sandbox.control("PUT", f"{SLUG}/faults", json={"fail": 50})  # deliveries never arrive
    medium = sandbox.product_by_sku("HOODIE-M")
    sandbox.control("PUT", f"{SLUG}/products/{medium['id']}", json={"sku": "HOODIE-MED"})
    sandbox.drain()
    stockroom.run_worker()
    assert "HOODIE-M" in listings()  # the webhook was lost
    sandbox.control("DELETE", f"{SLUG}/faults")
    release_session()
    request_reconcile(woo_channel())
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.scalar(select(OutboxEvent.status).where(
        OutboxEvent.topic == "channel.reconcile_requested")) == JobStatus.DONE)
    rows = listings()
    assert "HOODIE-M" not in rows
    matched = db.session.scalar(select(InventoryItem.id).where(InventoryItem.sku == "HOODIE-MED"))
    assert rows["HOODIE-MED"].inventory_item_id == matched
    job = db.session.scalar(select(OutboxEvent).where(
        OutboxEvent.topic == "channel.reconcile_requested"))
    assert "products re-read" in job.last_error
    # Deleted for good on the store (no webhook at all): the next full read notices.
    mug = sandbox.product_by_sku("MUG-ENAMEL")
    sandbox.control("DELETE", f"{SLUG}/products/{mug['id']}", params={"force": "true"})
    release_session()
    db.session.add(OutboxEvent(merchant_id=merchant_id, channel_id=woo_channel().id,
                               topic="catalog.refresh_requested", payload={}))
    db.session.commit()
    stockroom.run_worker(until=lambda: db.session.scalar(select(OutboxEvent.status).where(
        OutboxEvent.topic == "catalog.refresh_requested")) == JobStatus.DONE)
    rows = listings()
    assert rows["MUG-ENAMEL"].match_status == MatchStatus.DELETED
    assert [sku for sku, r in rows.items() if r.match_status == MatchStatus.DELETED] == [
        "MUG-ENAMEL"]


def test_interrupted_import_resumes_without_creating_anything_twice(stockroom):
    sandbox = stockroom.sandbox
    made = sandbox.control("POST", f"{SLUG}/catalog",
                           json={"products": 350, "variations": 0, "prefix": "BIG"})
    assert made["products"] == 350
    app = stockroom.app
    app.extensions["stockroom.woocommerce"] = replace(app.extensions["stockroom.woocommerce"],
                                                      import_pages_per_job=1)
    # The store goes down after two pages of products: the job in hand fails.
    sandbox.control("PUT", f"{SLUG}/faults", json={"rest_error": {
        "route": "GET wc/v3/products", "after": 2, "count": 1000, "status": 503}})
    connected(stockroom, skus=("TEE-CLASSIC", "BIG-000123"))
    stockroom.run_worker(until=lambda: db.session.scalar(select(func.count()).where(
        OutboxEvent.topic == "woocommerce.import", OutboxEvent.status == JobStatus.FAILED)) == 1,
        timeout=60)
    state = import_state()
    assert (state["step"], state["page"]) == ("products", 3)  # the checkpoint stayed put
    assert state["counts"]["products"] == 200
    assert db.session.query(ChannelListing).count() == 203  # 4 simple + 5 variations + 194
    release_session()
    sandbox.control("DELETE", f"{SLUG}/faults")
    stockroom.run_worker(until=lambda: import_state().get("step") == "done", timeout=90)
    state = import_state()
    assert state["counts"]["products"] == 356  # each page counted once
    rows = db.session.scalars(select(ChannelListing)).all()
    assert len(rows) == 359 == len({r.remote_variant_id for r in rows})
    assert db.session.query(ChannelListingLevel).count() == 359
    assert level_of("BIG-000349") == (349 % 17, 0, 349 % 17)
    assert listings()["BIG-000123"].match_status == MatchStatus.MATCHED
    assert db.session.scalar(select(func.count()).select_from(StockLocation)) == 1
