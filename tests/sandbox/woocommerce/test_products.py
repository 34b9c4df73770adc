"""Products and variations: SKU lookup, stock fields, updates, batch limits, request counts."""
from __future__ import annotations


def product_by_sku(api, sku: str) -> dict:
    [product] = api.get("products", params={"sku": sku}).json()
    return product


def test_list_products_by_sku_and_variations(wc):
    api = wc.api()
    hoodie = product_by_sku(api, "HOODIE")
    assert hoodie["type"] == "variable" and len(hoodie["variations"]) == 3
    variations = api.get(f"products/{hoodie['id']}/variations").json()
    by_sku = {v["sku"]: v for v in variations}
    assert set(by_sku) == {"HOODIE-S", "HOODIE-M", "HOODIE-L"}
    large = by_sku["HOODIE-L"]
    assert (large["manage_stock"], large["stock_quantity"], large["stock_status"]) == (
        True, 0, "outofstock")
    assert large["regular_price"] == "47.00" and large["parent_id"] == hoodie["id"]
    assert hoodie["stock_status"] == "instock"
    assert api.get("products", params={"sku": "HOODIE-"}).json() == []


def test_update_product_stock_changes_status(wc):
    api = wc.api()
    tee = product_by_sku(api, "TEE-CLASSIC")
    zero = api.put(f"products/{tee['id']}", {"stock_quantity": 0}).json()
    assert (zero["stock_quantity"], zero["stock_status"]) == (0, "outofstock")
    back = api.put(f"products/{tee['id']}", {"stock_quantity": "4"}).json()
    assert (back["stock_quantity"], back["stock_status"]) == (4, "instock")
    assert back["date_modified_gmt"] >= tee["date_modified_gmt"]


def test_update_product_stock_ignored_when_not_managed(wc):
    api = wc.api()
    gift = product_by_sku(api, "GIFT-CARD")
    assert gift["manage_stock"] is False
    response = api.put(f"products/{gift['id']}", {"stock_quantity": 5}).json()
    assert response["stock_quantity"] is None
    managed = api.put(f"products/{gift['id']}", {"manage_stock": True, "stock_quantity": 5})
    assert managed.json()["stock_quantity"] == 5


def test_update_variation_syncs_parent_stock_status(wc):
    api = wc.api()
    beanie = product_by_sku(api, "BEANIE")
    for variation_id in beanie["variations"]:
        api.put(f"products/{beanie['id']}/variations/{variation_id}", {"stock_quantity": 0})
    assert api.get(f"products/{beanie['id']}").json()["stock_status"] == "outofstock"
    as_product = api.get(f"products/{beanie['variations'][0]}").json()
    assert (as_product["type"], as_product["parent_id"]) == ("variation", beanie["id"])


def test_update_product_duplicate_sku_is_refused(wc):
    api = wc.api()
    tee = product_by_sku(api, "TEE-CLASSIC")
    response = api.put(f"products/{tee['id']}", {"sku": "HOODIE-M"})
    assert response.status_code == 400
    assert response.json()["code"] == "product_invalid_sku"


def test_products_batch_over_100_items_is_refused_with_413(wc):
    api = wc.api()
    tee = product_by_sku(api, "TEE-CLASSIC")
    response = api.post("products/batch",
                        {"update": [{"id": tee["id"], "stock_quantity": 1}] * 101})
    assert response.status_code == 413
    assert response.json() == {"code": "woocommerce_rest_request_entity_too_large",
                               "message": "Unable to accept more than 100 items for this request.",
                               "data": {"status": 413}}
    assert api.post("products/batch", {"update": [{"id": tee["id"],
                                                   "stock_quantity": 1}] * 100}).status_code == 200


def test_products_batch_answers_per_item_errors(wc):
    api = wc.api()
    tee = product_by_sku(api, "TEE-CLASSIC")
    body = api.post("products/batch", {"update": [
        {"id": tee["id"], "stock_quantity": 9}, {"id": 999999, "stock_quantity": 1},
        {"id": tee["id"], "stock_quantity": "lots"}]}).json()
    ok, missing, invalid = body["update"]
    assert ok["stock_quantity"] == 9
    assert missing == {"id": 999999, "error": {"code": "woocommerce_rest_product_invalid_id",
                                               "message": "Invalid ID.", "data": {"status": 400}}}
    assert invalid["error"]["code"] == "rest_invalid_param"


def test_variations_batch_limit_and_update(wc):
    api = wc.api()
    hoodie = product_by_sku(api, "HOODIE")
    updates = [{"id": v, "stock_quantity": 11} for v in hoodie["variations"]]
    body = api.post(f"products/{hoodie['id']}/variations/batch", {"update": updates}).json()
    assert [v["stock_quantity"] for v in body["update"]] == [11, 11, 11]
    too_many = api.post(f"products/{hoodie['id']}/variations/batch",
                        {"update": updates * 34})
    assert too_many.status_code == 413


def test_request_counts_250_updates_in_chunks_of_100_is_3_batch_requests(wc):
    api = wc.api()
    ids = [p["id"] for p in api.get("products", params={"type": "simple"}).json()]
    updates = [{"id": ids[i % len(ids)], "stock_quantity": i} for i in range(250)]
    wc.control("DELETE", "/stores/demo-store/requests")
    for start in range(0, len(updates), 100):
        assert api.post("products/batch", {"update": updates[start:start + 100]}).ok
    counts = wc.control("GET", "/stores/demo-store/requests")
    assert counts == {"POST wc/v3/products/batch": 3}


def test_create_product_and_variation_refuse_bad_fields_and_taken_skus(wc):
    """POST products and POST products/{id}/variations, one shape: fields checked and the SKU
    free before anything exists, 201 with a Location."""
    api = wc.api()
    lamp = api.post("products", {"name": "Desk Lamp", "type": "simple", "sku": " LAMP-1 ",
                                 "regular_price": "30.00", "manage_stock": True,
                                 "stock_quantity": 4})
    assert lamp.status_code == 201, lamp.text
    body = lamp.json()
    assert lamp.headers["Location"].endswith(f"/wp-json/wc/v3/products/{body['id']}")
    assert (body["sku"], body["stock_quantity"], body["name"]) == ("LAMP-1", 4, "Desk Lamp")
    again = api.post("products", {"name": "Other lamp", "sku": "LAMP-1"})
    assert (again.status_code, again.json()["code"], again.json()["data"]["unique_sku"]) == (
        400, "product_invalid_sku", "LAMP-1")
    bad = api.post("products", {"name": "Broken", "sku": "NEW-1", "stock_quantity": "lots"})
    assert (bad.status_code, bad.json()["code"]) == (400, "rest_invalid_param")
    assert api.post("products", {"name": "Set", "type": "grouped"}).status_code == 501
    assert api.get("products", params={"sku": "NEW-1"}).json() == []

    hoodie = product_by_sku(api, "HOODIE")
    xl = api.post(f"products/{hoodie['id']}/variations", {
        "sku": "HOODIE-XL", "manage_stock": True, "stock_quantity": 2,
        "attributes": [{"name": "Size", "option": "XL"}]})
    assert xl.status_code == 201, xl.text
    assert xl.headers["Location"].endswith(
        f"/wp-json/wc/v3/products/{hoodie['id']}/variations/{xl.json()['id']}")
    assert (xl.json()["sku"], xl.json()["stock_quantity"]) == ("HOODIE-XL", 2)
    taken = api.post(f"products/{hoodie['id']}/variations", {"sku": "HOODIE-S"})
    assert (taken.status_code, taken.json()["code"]) == (400, "product_invalid_sku")
    bad = api.post(f"products/{hoodie['id']}/variations", {"sku": "HOODIE-XXL",
                                                           "backorders": "maybe"})
    assert (bad.status_code, bad.json()["code"]) == (400, "rest_invalid_param")
    simple = api.post(f"products/{body['id']}/variations", {"sku": "LAMP-1-RED"})
    assert (simple.status_code, simple.json()["code"]) == (
        400, "woocommerce_rest_invalid_product_id")
