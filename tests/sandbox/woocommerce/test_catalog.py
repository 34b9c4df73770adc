"""The catalog as an onboarding app reads it: GTINs, images, paging, modified_after, product
webhooks of creates, edits, trashes, restores and deletes, malformed output, large catalogs."""
from __future__ import annotations

import json
import time

from tests.sandbox.woocommerce.test_webhooks import create_webhook, deliveries_to

PRODUCT_TOPICS = ("product.created", "product.updated", "product.deleted", "product.restored")


def subscribe(wc, receiver, api):
    for topic in PRODUCT_TOPICS:
        create_webhook(wc, receiver, topic, f"/{topic}", api=api)


def bodies(receiver, topic):
    return [json.loads(r["body"]) for r in deliveries_to(receiver, f"/{topic}")]


def test_products_and_variations_carry_gtin_and_images(wc):
    api = wc.api()
    tee = api.get("products", params={"sku": "TEE-CLASSIC"}).json()[0]
    assert tee["global_unique_id"] == "4006381333931"
    [image] = tee["images"]
    assert image["src"].endswith("/tee-classic.jpg") and isinstance(image["id"], int)
    assert {"date_created_gmt", "name", "alt"} <= set(image)
    gift = api.get("products", params={"sku": "GIFT-CARD"}).json()[0]
    assert gift["global_unique_id"] == "" and gift["manage_stock"] is False
    assert gift["stock_quantity"] is None
    hoodie = api.get("products", params={"sku": "HOODIE"}).json()[0]
    by_sku = {v["sku"]: v for v in api.get(f"products/{hoodie['id']}/variations").json()}
    assert by_sku["HOODIE-M"]["global_unique_id"] == "4006381333962"
    assert by_sku["HOODIE-M"]["image"]["src"].endswith("/hoodie-m.jpg")
    assert by_sku["HOODIE-L"]["global_unique_id"] == "" and by_sku["HOODIE-L"]["image"]
    beanie = api.get("products", params={"sku": "BEANIE"}).json()[0]
    grey = next(v for v in api.get(f"products/{beanie['id']}/variations").json()
                if v["sku"] == "BEANIE-GRY")
    assert grey["image"] is None


def test_gtin_must_be_unique_and_numeric(wc):
    api = wc.api()
    tote = api.get("products", params={"sku": "TOTE-CANVAS"}).json()[0]
    taken = api.put(f"products/{tote['id']}", {"global_unique_id": "4006381333931"})
    assert taken.status_code == 400 and taken.json()["code"] == "product_invalid_global_unique_id"
    bad = api.put(f"products/{tote['id']}", {"global_unique_id": "not-a-gtin"})
    assert bad.status_code == 400
    ok = api.put(f"products/{tote['id']}", {"global_unique_id": "0012345678905"})
    assert ok.json()["global_unique_id"] == "0012345678905"


def test_stock_can_be_negative(wc):
    api = wc.api()
    mug = api.get("products", params={"sku": "MUG-ENAMEL"}).json()[0]
    wc.control("POST", f"/stores/demo-store/products/{mug['id']}/stock",
               json={"stock_quantity": -3})
    again = api.get(f"products/{mug['id']}").json()
    assert (again["stock_quantity"], again["stock_status"]) == (-3, "outofstock")


def test_generated_catalog_pages_with_totals_and_per_page_limit(wc):
    made = wc.control("POST", "/stores/second-store/catalog",
                      json={"products": 250, "variations": 0, "prefix": "BIG"})
    assert made == {"products": 250, "variations": 0}
    api = wc.api("second-store")
    first = api.get("products", params={"per_page": 100, "orderby": "id", "order": "asc"})
    assert first.headers["X-WP-Total"] == "256"  # 6 seeded + 250
    assert first.headers["X-WP-TotalPages"] == "3"
    assert len(first.json()) == 100
    last = api.get("products", params={"per_page": 100, "page": 3, "orderby": "id",
                                       "order": "asc"}).json()
    assert len(last) == 56 and last[-1]["sku"] == "BIG-000249"
    assert last[-1]["stock_quantity"] == 249 % 17
    too_many = api.get("products", params={"per_page": 101})
    assert too_many.status_code == 400 and too_many.json()["code"] == "rest_invalid_param"
    variable = wc.control("POST", "/stores/second-store/catalog",
                          json={"products": 3, "variations": 4, "prefix": "VAR"})
    assert variable == {"products": 3, "variations": 12}


def test_modified_after_finds_a_variable_product_whose_variation_changed(wc):
    api = wc.api()
    hoodie = api.get("products", params={"sku": "HOODIE"}).json()[0]
    time.sleep(1.1)  # WordPress dates have one-second resolution
    since = api.get("products/" + str(hoodie["id"])).json()["date_modified_gmt"]
    time.sleep(1.1)
    api.put(f"products/{hoodie['id']}/variations/{hoodie['variations'][0]}",
            {"sku": "HOODIE-SMALL"})
    changed = api.get("products", params={"modified_after": since, "dates_are_gmt": "true"})
    assert [p["sku"] for p in changed.json()] == ["HOODIE"]


def test_creating_products_and_variations_fires_product_created(wc, receiver):
    api = wc.api()
    subscribe(wc, receiver, api)
    [lamp] = wc.control("POST", "/stores/demo-store/products", json={"products": [
        {"name": "Desk Lamp", "sku": "LAMP-1", "price": "30.00", "stock": 4,
         "gtin": "5012345678900", "image": "https://cdn.example.test/lamp.jpg"}]})
    wc.drain()
    [created] = bodies(receiver, "product.created")
    assert (created["id"], created["sku"], created["global_unique_id"]) == (
        lamp["id"], "LAMP-1", "5012345678900")
    assert created["stock_quantity"] == 4 and created["images"][0]["src"].endswith("lamp.jpg")
    hoodie = api.get("products", params={"sku": "HOODIE"}).json()[0]
    response = api.post(f"products/{hoodie['id']}/variations", {
        "sku": "HOODIE-XL", "regular_price": "49.00", "manage_stock": True,
        "stock_quantity": 2, "attributes": [{"name": "Size", "option": "XL"}],
        "image": {"src": "https://cdn.example.test/hoodie-xl.jpg"}})
    assert response.status_code == 201, response.text
    wc.drain()
    created = bodies(receiver, "product.created")
    # The variation's own hook, in product shape (type "variation", its parent named).
    variation = next(p for p in created if p["sku"] == "HOODIE-XL")
    assert (variation["type"], variation["parent_id"]) == ("variation", hoodie["id"])
    assert variation["images"][0]["src"].endswith("hoodie-xl.jpg")
    # ... and the parent's save by the deferred sync.
    assert hoodie["id"] in {p["id"] for p in bodies(receiver, "product.updated")}
    assert not [p for p in bodies(receiver, "product.updated") if p["sku"] == "HOODIE-XL"]


def test_variation_edit_fires_product_updated_of_the_variation_and_its_parent(wc, receiver):
    api = wc.api()
    subscribe(wc, receiver, api)
    hoodie = api.get("products", params={"sku": "HOODIE"}).json()[0]
    medium = next(v for v in api.get(f"products/{hoodie['id']}/variations").json()
                  if v["sku"] == "HOODIE-M")
    wc.control("PUT", f"/stores/demo-store/products/{medium['id']}",
               json={"sku": "HOODIE-MED"})
    wc.drain()
    updated = {p["id"]: p for p in bodies(receiver, "product.updated")}
    assert updated[medium["id"]]["sku"] == "HOODIE-MED"
    assert updated[medium["id"]]["type"] == "variation"
    assert updated[hoodie["id"]]["type"] == "variable"


def test_trash_fires_product_deleted_restore_fires_restored_force_delete_fires_nothing(
        wc, receiver):
    api = wc.api()
    subscribe(wc, receiver, api)
    tote = api.get("products", params={"sku": "TOTE-CANVAS"}).json()[0]
    trashed = api.delete(f"products/{tote['id']}").json()
    assert trashed["status"] == "trash"
    wc.drain()
    assert bodies(receiver, "product.deleted") == [{"id": tote["id"]}]
    assert not api.get("products", params={"sku": "TOTE-CANVAS"}).json()  # "any": no trash
    assert api.get("products", params={"sku": "TOTE-CANVAS", "status": "trash"}).json()
    wc.control("POST", f"/stores/demo-store/products/{tote['id']}/restore")
    wc.drain()
    [restored] = bodies(receiver, "product.restored")
    assert restored["id"] == tote["id"] and restored["status"] == "publish"
    mug = api.get("products", params={"sku": "MUG-ENAMEL"}).json()[0]
    assert api.delete(f"products/{mug['id']}", params={"force": "true"}).status_code == 200
    hoodie = api.get("products", params={"sku": "HOODIE"}).json()[0]
    refused = api.delete(f"products/{hoodie['id']}/variations/{hoodie['variations'][0]}")
    assert refused.status_code == 501
    assert api.delete(f"products/{hoodie['id']}/variations/{hoodie['variations'][0]}",
                      params={"force": "true"}).status_code == 200
    wc.drain()
    assert len(bodies(receiver, "product.deleted")) == 1  # neither made a delivery
    assert api.get(f"products/{mug['id']}").status_code == 404
    assert len(api.get(f"products/{hoodie['id']}").json()["variations"]) == 2


def test_rest_overrides_make_malformed_output(wc):
    api = wc.api()
    tee = api.get("products", params={"sku": "TEE-CLASSIC"}).json()[0]
    wc.control("PUT", f"/stores/demo-store/products/{tee['id']}/rest-overrides",
               json={"stock_quantity": "lots", "sku": "__remove__"})
    listed = api.get("products", params={"include": tee["id"]}).json()[0]
    assert listed["stock_quantity"] == "lots" and "sku" not in listed
    wc.control("DELETE", f"/stores/demo-store/products/{tee['id']}/rest-overrides")
    assert api.get(f"products/{tee['id']}").json()["stock_quantity"] == tee["stock_quantity"]


def test_admin_products_screen_edits_trashes_restores_and_adds(wc, receiver):
    import requests

    api = wc.api()
    subscribe(wc, receiver, api)
    admin = f"{wc.http_url}/_sandbox/stores/demo-store"
    page = requests.get(admin, timeout=5).text
    assert "HOODIE-M" in page and "4006381333962" in page and "not managed" in page
    tee = api.get("products", params={"sku": "TEE-CLASSIC"}).json()[0]
    assert "done" in requests.post(f"{admin}/products/{tee['id']}/sku",
                                   data={"sku": "TEE-RENAMED"}, timeout=5).text
    requests.post(f"{admin}/products/{tee['id']}/stock", data={"stock_quantity": "-4"},
                  timeout=5)
    requests.post(f"{admin}/products/{tee['id']}/trash", timeout=5)
    requests.post(f"{admin}/products/{tee['id']}/restore", timeout=5)
    added = requests.post(f"{admin}/products", data={"name": "Cap", "sku": "CAP-1",
                                                     "gtin": "5099999999994", "stock": "3"},
                          timeout=5)
    assert "added" in added.text
    wc.drain()
    again = api.get(f"products/{tee['id']}").json()
    assert (again["sku"], again["stock_quantity"], again["status"]) == ("TEE-RENAMED", -4,
                                                                        "publish")
    assert {p["sku"] for p in bodies(receiver, "product.updated")} >= {"TEE-RENAMED"}
    assert bodies(receiver, "product.deleted") == [{"id": tee["id"]}]
    assert [p["id"] for p in bodies(receiver, "product.restored")] == [tee["id"]]
    [cap] = bodies(receiver, "product.created")
    assert (cap["sku"], cap["global_unique_id"], cap["stock_quantity"]) == ("CAP-1",
                                                                            "5099999999994", 3)
