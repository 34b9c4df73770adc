"""Woo product/variation JSON -> RemoteVariant and the store's stock -> RemoteLevel."""
import pytest

from app.platforms.woocommerce.mapping import (StoreStock, open_units, remote_level,
                                               remote_variant, store_stock)

HOODIE = {"id": 20, "name": "Hoodie", "type": "variable", "sku": "HOODIE",
          "images": [{"id": 7, "src": "https://cdn.example/hoodie.jpg"}]}
MEDIUM = {"id": 22, "type": "variation", "sku": "HOODIE-M", "global_unique_id": "4006381333962",
          "manage_stock": True, "stock_quantity": 7, "image": None,
          "attributes": [{"name": "Size", "option": "M"}], "name": "Hoodie - M", "parent_id": 20}


def test_remote_variant_of_a_variation_names_parent_barcode_and_falls_back_to_its_image():
    variant, stock = remote_variant(MEDIUM, HOODIE)
    assert (variant.remote_variant_id, variant.remote_product_id) == ("22", "20")
    assert variant.remote_inventory_item_id == "22"
    assert (variant.sku, variant.title, variant.barcode) == ("HOODIE-M", "Hoodie — M",
                                                             "4006381333962")
    assert variant.image_url == "https://cdn.example/hoodie.jpg" and variant.problem == ""
    assert stock == StoreStock(7)


def test_a_variation_read_on_its_own_keeps_its_parent_as_product():
    variant, _ = remote_variant(dict(MEDIUM, image={"src": "https://cdn.example/m.jpg"}))
    assert variant.remote_product_id == "20" and variant.title == "Hoodie - M"
    assert variant.image_url == "https://cdn.example/m.jpg"


def test_a_simple_product_is_its_own_product():
    variant, stock = remote_variant({"id": 5, "type": "simple", "name": "Mug", "sku": " MUG ",
                                     "manage_stock": True, "stock_quantity": -3})
    assert (variant.remote_variant_id, variant.remote_product_id) == ("5", "5")
    assert variant.sku == " MUG "  # as the store has it: the core tells spacing apart
    assert stock.quantity == -3


@pytest.mark.parametrize("data, problem", [
    ({"id": None, "sku": "X"}, "no valid id"),
    ({"id": True, "sku": "X"}, "no valid id"),
    ({"id": "12", "sku": "X"}, "no valid id"),
    ({"id": 9, "sku": 123}, "not text"),
    ({"id": 9, "sku": "X", "manage_stock": True, "stock_quantity": "lots"}, "not a whole number"),
    ({"id": 9, "sku": "X", "manage_stock": True, "stock_quantity": 2.5}, "not a whole number"),
    ({"id": 9, "sku": "X", "manage_stock": True, "stock_quantity": None}, "no stock_quantity"),
])
def test_malformed_products_become_problem_listings(data, problem):
    variant, _ = remote_variant(data)
    assert problem in variant.problem
    assert remote_level(variant, store_stock(data), 0, "store") is None


def test_invalid_ids_still_give_a_stable_key():
    one, _ = remote_variant({"id": None, "sku": "X"}, HOODIE)
    two, _ = remote_variant({"id": None, "sku": "X"}, HOODIE)
    assert one.remote_variant_id == two.remote_variant_id == "invalid:20:X"
    assert one.remote_inventory_item_id is None


def test_levels_available_committed_on_hand_and_unmanaged():
    variant, stock = remote_variant(MEDIUM, HOODIE)
    level = remote_level(variant, stock, 2, "store")
    assert (level.available, level.committed, level.on_hand) == (7, 2, 9)
    assert level.location_remote_id == "store"
    unmanaged = dict(MEDIUM, manage_stock=False, stock_quantity=None)
    variant, stock = remote_variant(unmanaged, HOODIE)
    level = remote_level(variant, stock, 2, "store")
    assert (level.available, level.committed, level.on_hand) == (None, None, None)
    # A variation whose stock is the parent's ("parent") has none of its own here.
    assert store_stock(dict(MEDIUM, manage_stock="parent")).quantity is None


def test_open_units_by_listing_minus_what_stockroom_fulfilled():
    order = {"id": 300, "status": "processing", "line_items": [
        {"id": 1, "product_id": 20, "variation_id": 22, "quantity": 3},
        {"id": 2, "product_id": 5, "variation_id": 0, "quantity": 1},
        {"id": 3, "product_id": 5, "variation_id": 0, "quantity": 2},
        {"id": 4, "product_id": 0, "variation_id": 0, "quantity": 1}]}
    assert open_units(order, {("300", "1"): 1, ("300", "3"): 2}) == {"22": 2, "5": 1}


@pytest.mark.parametrize("meta, barcode", [
    ([{"id": 1, "key": "_alg_ean", "value": " 5901234123457 "}], "5901234123457"),
    ([{"id": 1, "key": "hwp_var_gtin", "value": 4006381333931}], "4006381333931"),
    ([{"id": 1, "key": "Barcode", "value": "ABC-1"}], "ABC-1"),
    # The plugin's key wins over a hand-added one; empty values and non-text are passed over.
    ([{"id": 1, "key": "barcode", "value": "HAND"}, {"id": 2, "key": "_wpm_gtin_code",
                                                     "value": "0012345678905"}], "0012345678905"),
    ([{"id": 1, "key": "_alg_ean", "value": ""}, {"id": 2, "key": "_ean", "value": "42"}], "42"),
    ([{"id": 1, "key": "_alg_ean", "value": ["x"]}, {"id": 2, "key": "_ean", "value": True}], ""),
    ([{"id": 1, "key": "_color", "value": "red"}], ""),
    ("not a list", ""),
])
def test_remote_variant_barcode_from_a_barcode_plugin_meta_entry(meta, barcode):
    variant, _ = remote_variant({"id": 9, "type": "simple", "sku": "B", "meta_data": meta})
    assert variant.barcode == barcode


def test_remote_variant_global_unique_id_wins_over_meta():
    variant, _ = remote_variant({"id": 9, "type": "simple", "sku": "B",
                                 "global_unique_id": "4006381333962",
                                 "meta_data": [{"id": 1, "key": "_alg_ean", "value": "1"}]})
    assert variant.barcode == "4006381333962"
