"""The catalog as Stockroom onboards it: barcodes, images, per-location quantities, paged levels,
product webhooks from the admin controls, and seeds (a sized shop, a streamed 50,000)."""
from __future__ import annotations

import json
import tracemalloc

from sandbox.shopify.reference import webhook_payload_schema
from sandbox.shopify.seed import catalog_specs

from .conftest import SHOP
from .test_webhooks import SUBSCRIBE

VARIANTS = """query($first: Int!, $after: String, $levels: Int!) {
  productVariants(first: $first, after: $after) {
    nodes { id sku barcode media(first: 1) { nodes { preview { image { url } } } }
      product { id featuredMedia { preview { image { url } } } }
      inventoryItem { id inventoryLevels(first: $levels) {
        nodes { location { id } quantities(names: ["available", "on_hand", "committed"]) {
          name quantity } }
        pageInfo { hasNextPage endCursor } } } }
    pageInfo { hasNextPage endCursor } } }"""

PRODUCT = """query($id: ID!) { product(id: $id) { id title
  variants(first: 10) { nodes { id sku barcode } } } }"""


def _fresh_shop(sandbox, domain="catalog-shop.myshopify.com", locations=2, **catalog):
    sandbox.control("POST", "shops", {"domain": domain, "locations": locations})
    seeded = sandbox.control("POST", f"shops/{domain}/catalog",
                             {"locations": locations, **catalog})
    token = sandbox.install(domain)
    return token, seeded


def _quantities(level: dict) -> dict:
    return {q["name"]: q["quantity"] for q in level["quantities"]}


def test_seeded_shop_has_variants_barcodes_images_and_levels(sandbox):
    token, seeded = _fresh_shop(sandbox, variants=7, products=3, stock=[1, 9])
    domain = "catalog-shop.myshopify.com"
    assert seeded["variants"] == 7 and len(seeded["locations"]) == 2
    page = sandbox.gql(token, VARIANTS, {"first": 20, "levels": 5}, shop=domain)
    assert "data" in page, page
    nodes = page["data"]["productVariants"]["nodes"]
    assert [n["sku"] for n in nodes] == [f"SKU-{i:06d}" for i in range(1, 8)]
    assert all(n["barcode"] and n["barcode"].isdigit() for n in nodes)
    assert nodes[0]["media"]["nodes"][0]["preview"]["image"]["url"].endswith("/1.jpg")
    assert nodes[1]["media"]["nodes"] == []  # every other variant has its own image
    assert nodes[1]["product"]["featuredMedia"]["preview"]["image"]["url"].endswith("/p1.jpg")
    assert len({n["product"]["id"] for n in nodes}) == 3
    state = sandbox.state(domain)
    for node in nodes:
        levels = node["inventoryItem"]["inventoryLevels"]["nodes"]
        assert [lv["location"]["id"] for lv in levels] == [loc["gid"]
                                                           for loc in seeded["locations"]]
        for lv in levels:
            q = _quantities(lv)
            assert 1 <= q["on_hand"] <= 9 and q["committed"] == 0
            assert q["available"] == q["on_hand"]
    assert len(state["levels"]) == 14


def test_inventory_levels_page_to_the_end(sandbox):
    token, _ = _fresh_shop(sandbox, locations=3, variants=1, products=1)
    domain = "catalog-shop.myshopify.com"
    first = sandbox.gql(token, VARIANTS, {"first": 1, "levels": 2}, shop=domain)
    levels = first["data"]["productVariants"]["nodes"][0]["inventoryItem"]["inventoryLevels"]
    assert len(levels["nodes"]) == 2 and levels["pageInfo"]["hasNextPage"] is True
    item = first["data"]["productVariants"]["nodes"][0]["inventoryItem"]["id"]
    rest = sandbox.gql(token, """query($id: ID!, $after: String) { inventoryItem(id: $id) {
      inventoryLevels(first: 2, after: $after) { nodes { location { id } }
      pageInfo { hasNextPage } } } }""", {"id": item, "after": levels["pageInfo"]["endCursor"]},
                       shop=domain)["data"]["inventoryItem"]["inventoryLevels"]
    assert len(rest["nodes"]) == 1 and rest["pageInfo"]["hasNextPage"] is False


def test_committed_follows_open_orders(sandbox, token):
    sku = "MUG-WHT"
    before = next(lv for lv in sandbox.state()["levels"] if lv["sku"] == sku)
    sandbox.control("POST", f"shops/{SHOP}/orders", {"lines": [{"sku": sku, "quantity": 2}],
                                                     "location_id": before["location_id"]})
    after = next(lv for lv in sandbox.state()["levels"] if lv["sku"] == sku
                 and lv["location_id"] == before["location_id"])
    assert after["committed"] == before["committed"] + 2
    assert after["on_hand"] == before["on_hand"]
    assert after["available"] == after["on_hand"] - after["committed"]


def test_product_controls_send_rest_shaped_product_webhooks(sandbox, token, receiver):
    for topic in ("PRODUCTS_CREATE", "PRODUCTS_UPDATE", "PRODUCTS_DELETE"):
        sub = sandbox.gql(token, SUBSCRIBE, {"topic": topic,
                                             "uri": f"{receiver.url}/shopify/webhooks"})
        assert sub["data"]["webhookSubscriptionCreate"]["userErrors"] == []
    created = sandbox.control("POST", f"shops/{SHOP}/products", {
        "title": "Linen Apron", "image_url": "https://cdn.example.com/apron.jpg",
        "variants": [{"title": "Sand", "sku": "APRON-SND", "barcode": "0123456789012",
                      "on_hand": 4}]})
    hook = receiver.wait_for("products/create")[0]
    body = json.loads(hook["body"])
    schema = webhook_payload_schema("products/create")
    assert set(schema["required"]) <= set(body)
    assert set(schema["properties"]["variants"]["items"]["required"]) <= set(body["variants"][0])
    assert body["id"] == created["id"] and body["admin_graphql_api_id"] == created["gid"]
    variant = body["variants"][0]
    assert (variant["sku"], variant["barcode"]) == ("APRON-SND", "0123456789012")
    assert variant["admin_graphql_api_id"] == created["variants"][0]["gid"]
    assert variant["inventory_item_id"] == created["variants"][0]["inventory_item_id"]
    assert body["image"]["src"] == "https://cdn.example.com/apron.jpg"

    vid = created["variants"][0]["id"]
    sandbox.control("POST", f"shops/{SHOP}/products/{created['id']}", {
        "variants": [{"id": vid, "sku": "APRON-SAND"}],
        "add_variants": [{"title": "Clay", "sku": "APRON-CLY"}]})
    update = json.loads(receiver.wait_for("products/update")[0]["body"])
    assert [v["sku"] for v in update["variants"]] == ["APRON-SAND", "APRON-CLY"]
    node = sandbox.gql(token, PRODUCT, {"id": created["gid"]})["data"]["product"]
    assert [v["sku"] for v in node["variants"]["nodes"]] == ["APRON-SAND", "APRON-CLY"]

    sandbox.control("DELETE", f"shops/{SHOP}/variants/{vid}")
    update = json.loads(receiver.wait_for("products/update", 2)[1]["body"])
    assert [v["sku"] for v in update["variants"]] == ["APRON-CLY"]

    sandbox.control("DELETE", f"shops/{SHOP}/products/{created['id']}")
    deleted = json.loads(receiver.wait_for("products/delete")[0]["body"])
    assert deleted == {"id": created["id"]}
    assert sandbox.gql(token, PRODUCT, {"id": created["gid"]})["data"]["product"] is None
    assert "APRON-CLY" not in {v["sku"] for v in sandbox.state()["variants"]}


def test_duplicate_or_missing_skus_only_when_asked(sandbox, token):
    refused = sandbox.control("POST", f"shops/{SHOP}/products", {
        "title": "Copy", "variants": [{"sku": "MUG-WHT"}]}, expect=422)
    assert "already taken" in refused["error"]
    ok = sandbox.control("POST", f"shops/{SHOP}/products", {
        "title": "Copy", "unchecked": True, "variants": [{"sku": "MUG-WHT"}, {"sku": ""}]})
    assert [v["sku"] for v in ok["variants"]] == ["MUG-WHT", ""]


def test_set_quantities_keeps_committed_and_reports_levels(sandbox, token, receiver):
    state = sandbox.state()
    variant = next(v for v in state["variants"] if v["sku"] == "TOTE-NAT")
    loc = state["locations"][0]["id"]
    out = sandbox.control("POST", f"shops/{SHOP}/variants/{variant['id']}/quantities",
                          {"quantities": {str(loc): 17}})
    level = out[str(loc)]
    assert level["on_hand"] == 17 and level["available"] == 17 - level["committed"]
    assert level["committed"] == 2  # the seeded open order of 2 TOTE-NAT at this location


def test_catalog_specs_stream_in_flat_memory():
    """The generator builds one product at a time: near its end, 50,000 variants hold what
    1,000 do (measured on what seed.py allocated: the sandbox's threads allocate too)."""
    import sandbox.shopify.seed as seed_module

    def held_near_the_end(n):
        tracemalloc.start()
        count, held = 0, 0
        for _, _, specs in catalog_specs(n, n // 5, locations=[1, 2]):
            count += len(specs)
            if count == n:
                snap = tracemalloc.take_snapshot().filter_traces(
                    [tracemalloc.Filter(True, seed_module.__file__)])
                held = sum(stat.size for stat in snap.statistics("filename"))
        tracemalloc.stop()
        assert count == n
        return held
    small, large = held_near_the_end(1_000), held_near_the_end(50_000)
    assert 0 < large < 2 * small


def test_product_variants_count_is_exact_without_a_limit(sandbox):
    token, _ = _fresh_shop(sandbox, variants=12, products=2)
    domain = "catalog-shop.myshopify.com"
    query = """query($limit: Int) { productVariantsCount(limit: $limit) { count precision } }"""
    exact = sandbox.gql(token, query, {"limit": None}, shop=domain)["data"]
    assert exact["productVariantsCount"] == {"count": 12, "precision": "EXACT"}
    capped = sandbox.gql(token, query, {"limit": 5}, shop=domain)["data"]
    assert capped["productVariantsCount"] == {"count": 5, "precision": "AT_LEAST"}
