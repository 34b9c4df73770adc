"""The Shipment Tracking extension's endpoints, and the switch that installs or removes it."""
from __future__ import annotations

import re

import requests


def processing_order(api) -> int:
    return api.get("orders", params={"status": "processing"}).json()[0]["id"]


def test_shipment_tracking_create_list_delete(wc):
    api = wc.api()
    order_id = processing_order(api)
    path = f"orders/{order_id}/shipment-trackings"
    tracking_api = wc.api()
    tracking_api.version = "wc-shipment-tracking/v3"
    created = tracking_api.post(path, {"tracking_provider": "UPS",
                                       "tracking_number": "1Z999AA10123456784",
                                       "date_shipped": "2026-11-20"})
    assert created.status_code == 201, created.text
    item = created.json()
    assert re.fullmatch(r"[0-9a-f]{32}", item["tracking_id"])
    assert (item["tracking_provider"], item["date_shipped"]) == ("UPS", "2026-11-20")
    assert item["tracking_link"].endswith("1Z999AA10123456784")
    custom = tracking_api.post(path, {"custom_tracking_provider": "Courier Co",
                                      "custom_tracking_link": "https://courier.example/t/%1$s",
                                      "tracking_number": "CC1"}).json()
    assert custom["tracking_link"] == "https://courier.example/t/CC1"
    assert len(tracking_api.get(path).json()) == 2
    deleted = tracking_api.delete(f"{path}/{item['tracking_id']}")
    assert deleted.json()["tracking_number"] == "1Z999AA10123456784"
    assert [t["tracking_number"] for t in tracking_api.get(path).json()] == ["CC1"]


def test_shipment_tracking_absent_when_extension_not_installed(wc):
    api = wc.api()
    order_id = processing_order(api)
    wc.control("PUT", "/stores/demo-store/shipment-tracking", json={"installed": False})
    tracking_api = wc.api()
    tracking_api.version = "wc-shipment-tracking/v3"
    response = tracking_api.post(f"orders/{order_id}/shipment-trackings",
                                 {"tracking_provider": "UPS", "tracking_number": "1"})
    assert response.status_code == 404 and response.json()["code"] == "rest_no_route"
    owner = requests.post(f"{wc.http_url}/_sandbox/api/stores/demo-store/orders/"
                          f"{order_id}/complete",
                          json={"tracking": {"tracking_number": "1", "tracking_provider": "UPS"}},
                          timeout=5)
    assert owner.status_code == 409
    second = wc.api("second-store")
    second.version = "wc-shipment-tracking/v3"
    assert second.get("orders/1/shipment-trackings").status_code == 404


def test_owner_complete_with_tracking_is_visible_through_the_api(wc):
    api = wc.api()
    order_id = processing_order(api)
    wc.control("POST", f"/stores/demo-store/orders/{order_id}/complete",
               json={"tracking": {"tracking_number": "9400111", "tracking_provider": "USPS"}})
    tracking_api = wc.api()
    tracking_api.version = "wc-shipment-tracking/v3"
    [item] = tracking_api.get(f"orders/{order_id}/shipment-trackings").json()
    assert (item["tracking_provider"], item["tracking_number"]) == ("USPS", "9400111")
    assert api.get(f"orders/{order_id}").json()["status"] == "completed"
