"""Sandbox controls, the HTML admin and the CLI defaults."""
from __future__ import annotations

import requests

from sandbox.woocommerce.__main__ import parse_args


def test_create_store_is_reachable_with_its_own_keys(wc):
    created = wc.control("POST", "/stores", json={"slug": "third-store", "name": "Third",
                                                  "shipment_tracking": False})
    assert created["store_url"] == wc.store_url("third-store")
    api = wc.api("third-store")
    assert api.get("orders").json() == []
    assert len(api.get("products").json()) == 6
    demo_key = wc.key("demo-store")
    other = requests.get(f"{wc.store_url('third-store')}/wp-json/wc/v3/orders",
                         params={"consumer_key": demo_key["consumer_key"]}, timeout=5)
    assert other.status_code == 401


def test_reset_restores_seed_and_forgets_keys(wc):
    key = wc.key()
    wc.control("POST", "/stores/demo-store/orders", json={"line_items": [{"sku": "TEE-CLASSIC"}]})
    wc.control("POST", "/reset")
    summary = wc.control("GET", "/stores/demo-store")
    assert summary["counts"]["orders"] == 6
    assert key["consumer_key"] not in [k["consumer_key"] for k in summary["keys"]]


def test_place_order_control_reduces_stock_and_rejects_unknown_sku(wc):
    api = wc.api()
    order = wc.control("POST", "/stores/demo-store/orders",
                       json={"line_items": [{"sku": "TOTE-CANVAS", "quantity": 3}],
                             "status": "on-hold"})
    assert order["status"] == "on-hold" and order["total"] == "50.00"
    [tote] = api.get("products", params={"sku": "TOTE-CANVAS"}).json()
    assert tote["stock_quantity"] == 36
    bad = requests.post(f"{wc.http_url}/_sandbox/api/stores/demo-store/orders",
                        json={"line_items": [{"sku": "NOPE"}]}, timeout=5)
    assert bad.status_code == 400


def test_create_products_control_adds_simple_products_and_refuses_taken_skus(wc):
    created = wc.control("POST", "/stores/demo-store/products", json={"products": [
        {"name": "Brass pen", "sku": "JC-06-01", "price": "9.00", "stock": 12}]})
    assert [p["sku"] for p in created] == ["JC-06-01"]
    [pen] = wc.api().get("products", params={"sku": "JC-06-01"}).json()
    assert pen["stock_quantity"] == 12 and pen["price"] == "9.00" and pen["type"] == "simple"
    order = wc.control("POST", "/stores/demo-store/orders",
                       json={"line_items": [{"sku": "JC-06-01", "quantity": 2}]})
    assert order["line_items"][0]["sku"] == "JC-06-01"
    again = requests.post(f"{wc.http_url}/_sandbox/api/stores/demo-store/products",
                          json={"products": [{"name": "Tee", "sku": "TEE-CLASSIC"}]}, timeout=5)
    assert again.status_code == 400


def test_cancel_control_restores_stock_and_refund_in_full_sets_refunded(wc):
    api = wc.api()
    order = wc.control("POST", "/stores/demo-store/orders",
                       json={"line_items": [{"sku": "BEANIE-GRY", "quantity": 2}]})
    wc.control("POST", f"/stores/demo-store/orders/{order['id']}/cancel")
    beanie_id = api.get("products", params={"sku": "BEANIE"}).json()[0]["id"]
    by_sku = {v["sku"]: v for v in api.get(f"products/{beanie_id}/variations").json()}
    assert by_sku["BEANIE-GRY"]["stock_quantity"] == 11  # 12 - 1 (seed) - 2 + 2
    other = wc.control("POST", "/stores/demo-store/orders",
                       json={"line_items": [{"sku": "TEE-CLASSIC"}]})
    refunded = wc.control("POST", f"/stores/demo-store/orders/{other['id']}/refund", json={})
    assert refunded["status"] == "refunded" and refunded["refunds"][0]["total"] == "-25.00"


def test_admin_pages_place_and_complete_orders(wc):
    index = requests.get(f"{wc.http_url}/_sandbox/", timeout=5)
    assert index.status_code == 200 and "Demo Store" in index.text
    placed = requests.post(f"{wc.http_url}/_sandbox/stores/demo-store/orders",
                           data={"sku": "MUG-ENAMEL", "quantity": "1", "status": "processing"},
                           timeout=5)
    assert placed.status_code == 200 and "placed" in placed.text
    order_id = max(o["id"] for o in wc.api().get("orders").json())
    done = requests.post(f"{wc.http_url}/_sandbox/stores/demo-store/orders/{order_id}/complete",
                         data={"tracking_number": "RM123", "tracking_provider": "Royal Mail"},
                         timeout=5)
    assert done.status_code == 200 and "RM123" in done.text
    assert wc.api().get(f"orders/{order_id}").json()["status"] == "completed"


def test_cli_defaults_match_documented_ports():
    args = parse_args([])
    assert (args.http_port, args.https_port, args.tls_dir) == (5200, 5243,
                                                             "instance/sandbox-tls")
    assert parse_args(["--http-port", "0", "--allow-insecure-http"]).allow_insecure_http


def test_rest_index_is_public_and_lists_shipment_tracking_only_when_installed(wc):
    index = requests.get(f"{wc.store_url()}/wp-json/", timeout=10)
    assert index.status_code == 200
    body = index.json()
    assert body["name"] == "Demo Store" and body["home"] == wc.store_url()
    assert "wc/v3" in body["namespaces"] and "wc-shipment-tracking/v3" in body["namespaces"]
    second = requests.get(f"{wc.store_url('second-store')}/wp-json/", timeout=10).json()
    assert "wc/v3" in second["namespaces"]
    assert "wc-shipment-tracking/v3" not in second["namespaces"]
