"""The catalog read's pieces without a network: page sizes within Shopify's cost cap, variant
nodes into RemoteVariant/RemoteLevel, and the products/* payload checks."""
import pytest
from graphql import parse

from app.catalog import RemoteLevel
from app.models import Platform
from app.platforms.shopify.catalog import MAX_QUERY_COST, variant_page_size
from app.platforms.shopify.client import load_document
from app.platforms.shopify.mapping import remote_levels, remote_variant
from app.sync.errors import Rejected
from app.sync.handlers import Delivery, find_payload_check
from sandbox.shopify import payloads
from sandbox.shopify.reference import admin_schema
from sandbox.shopify.state import Store
from sandbox.shopify.throttle import CostCalculator


def requested_cost(name: str, variables: dict) -> int:
    """What Shopify's cost rules (as the sandbox computes them) charge before running."""
    document = parse(load_document(name))
    operation = next(d for d in document.definitions if d.kind == "operation_definition")
    return CostCalculator(admin_schema().schema, document, operation, variables).requested()


@pytest.mark.parametrize("levels", [1, 2, 4, 8, 20, 50])
@pytest.mark.parametrize("name", ["ProductVariantPage", "ProductVariantsOfProduct"])
def test_variant_page_size_stays_within_the_cost_cap(name, levels):
    first = variant_page_size(levels)
    cost = requested_cost(name, {"first": first, "levels": levels, "id": "gid://x/1"})
    assert cost <= MAX_QUERY_COST
    assert cost >= 0.9 * MAX_QUERY_COST  # and no smaller than it has to be (fewer calls)


def test_variant_page_size_follows_the_cap_and_the_page_size():
    assert variant_page_size(2) == 49
    assert variant_page_size(2, cap=10) == 10
    assert variant_page_size(300) == 1


def test_inventory_item_levels_page_within_the_cap():
    assert requested_cost("InventoryItemLevels", {"id": "gid://x/1", "first": 100}) \
        <= MAX_QUERY_COST


NODE = {"id": "gid://shopify/ProductVariant/7", "sku": " MUG-WHT ", "barcode": "012",
        "displayName": "Enamel Mug - White",
        "media": {"nodes": []},
        "product": {"id": "gid://shopify/Product/3",
                    "featuredMedia": {"preview": {"image": {"url": "https://cdn/p.jpg"}}}},
        "inventoryItem": {"id": "gid://shopify/InventoryItem/9", "inventoryLevels": {
            "nodes": [{"location": {"id": "gid://shopify/Location/1"},
                       "quantities": [{"name": "available", "quantity": -2},
                                      {"name": "on_hand", "quantity": 3},
                                      {"name": "committed", "quantity": 5}]}]}}}


def test_remote_variant_reads_sku_barcode_and_the_products_image(app):
    v = remote_variant(NODE)
    assert (v.remote_variant_id, v.remote_product_id, v.remote_inventory_item_id) == (
        "gid://shopify/ProductVariant/7", "gid://shopify/Product/3",
        "gid://shopify/InventoryItem/9")
    assert (v.sku, v.barcode, v.title, v.image_url, v.problem) == (
        "MUG-WHT", "012", "Enamel Mug - White", "https://cdn/p.jpg", "")
    own = {**NODE, "media": {"nodes": [{"preview": {"image": {"url": "https://cdn/v.jpg"}}}]}}
    assert remote_variant(own).image_url == "https://cdn/v.jpg"


def test_remote_variant_lists_what_is_malformed(app):
    v = remote_variant({**NODE, "sku": None, "barcode": None, "inventoryItem": None,
                        "product": None})
    assert (v.sku, v.barcode, v.remote_inventory_item_id) == ("", "", None)
    assert "without an inventory item" in v.problem and "without its product" in v.problem
    assert "not text" in remote_variant({**NODE, "sku": 12}).problem


def test_remote_levels_keep_negative_quantities_as_shopify_shows_them(app):
    levels = remote_levels(NODE["id"], NODE["inventoryItem"]["inventoryLevels"]["nodes"])
    assert levels == [RemoteLevel("gid://shopify/ProductVariant/7", "gid://shopify/Location/1",
                                  on_hand=3, available=-2, committed=5)]
    partial = [{"location": {"id": "gid://shopify/Location/2"},
                "quantities": [{"name": "available", "quantity": 4}]}, {"location": None}]
    assert remote_levels("v", partial) == [RemoteLevel("v", "gid://shopify/Location/2",
                                                       on_hand=None, available=4,
                                                       committed=None)]


def product_payload() -> dict:
    """A products/create body as the sandbox sends it (no Shopify example is vendored)."""
    store = Store(seed=1)
    shop = store.shops["demo-shop.myshopify.com"]
    return payloads.product_payload(shop, next(iter(shop.products.values())))


def run_check(topic: str, payload: dict) -> None:
    domain = "demo-shop.myshopify.com"
    find_payload_check(Platform.SHOPIFY, topic)(Delivery(
        topic=topic, headers={"X-Shopify-Shop-Domain": domain}, payload=payload,
        channel_domain=domain))


@pytest.mark.parametrize("topic", ["products/create", "products/update"])
def test_check_product_accepts_the_rest_product(app, topic):
    payload = product_payload()
    assert len(payload["variants"]) == 2
    run_check(topic, payload)


def test_check_product_refuses_a_variant_of_another_product(app):
    payload = product_payload()
    other = {**payload["variants"][0], "product_id": payload["id"] + 1}
    with pytest.raises(Rejected, match="names product"):
        run_check("products/update", {**payload, "variants": [other]})
    with pytest.raises(Rejected, match="not gid://shopify/ProductVariant"):
        run_check("products/update", {**payload, "variants": [
            {**payload["variants"][0], "admin_graphql_api_id": "gid://shopify/Order/1"}]})
    with pytest.raises(Rejected, match="name different Products"):
        run_check("products/create", {**payload, "id": payload["id"] + 7})


def test_check_product_deleted_wants_an_id(app):
    run_check("products/delete", {"id": 632910392})
    for bad in ({}, {"id": "632910392"}, {"id": -1}, {"id": True}):
        with pytest.raises(Rejected, match="not a Shopify id"):
            run_check("products/delete", bad)
