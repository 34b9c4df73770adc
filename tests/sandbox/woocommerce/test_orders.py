"""Orders and order notes: listing, paging headers, filters, field shapes, updates, errors."""
from __future__ import annotations

import datetime as dt
import re

import requests

DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def test_list_orders_pages_with_total_headers_and_links(wc):
    api = wc.api()
    seen, page, links = [], 1, []
    while True:
        response = api.get("orders", params={"per_page": 2, "page": page})
        assert response.status_code == 200
        assert (response.headers["X-WP-Total"], response.headers["X-WP-TotalPages"]) == ("6", "3")
        links.append(response.headers.get("Link", ""))
        seen += [o["id"] for o in response.json()]
        if page >= int(response.headers["X-WP-TotalPages"]):
            break
        page += 1
    assert len(seen) == len(set(seen)) == 6
    assert 'rel="next"' in links[0] and 'rel="prev"' not in links[0]
    assert 'rel="prev"' in links[1] and 'rel="next"' in links[1]
    assert 'rel="prev"' in links[2] and 'rel="next"' not in links[2]
    assert "page=3" in links[1]


def test_list_orders_status_filter_takes_csv(wc):
    orders = wc.api().get("orders", params={"status": "processing,on-hold"}).json()
    assert sorted(o["status"] for o in orders) == ["on-hold", "processing", "processing",
                                                   "processing"]


def test_list_orders_per_page_over_100_is_invalid_param(wc):
    response = wc.api().get("orders", params={"per_page": 101})
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"]) == ("rest_invalid_param",
                                               "Invalid parameter(s): per_page")
    assert body["data"]["params"]["per_page"] == \
        "per_page must be between 1 (inclusive) and 100 (inclusive)"


def test_list_orders_modified_after_uses_site_time_unless_dates_are_gmt(wc):
    api = wc.api()
    # demo-store is UTC+2; the pending seed order was created 2026-10-31 09:00 UTC (11:00 local).
    local = api.get("orders", params={"modified_after": "2026-10-31T10:30:00"}).json()
    gmt = api.get("orders", params={"modified_after": "2026-10-31T10:30:00",
                                    "dates_are_gmt": "true"}).json()
    assert [o["status"] for o in local] == ["pending"]
    assert gmt == []
    order_id = api.get("orders", params={"status": "on-hold"}).json()[0]["id"]
    api.put(f"orders/{order_id}", {"customer_note": "touched"})
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S")
    changed = api.get("orders", params={"modified_after": since, "dates_are_gmt": "true"}).json()
    assert [o["id"] for o in changed] == [order_id]


def test_read_order_has_woocommerce_field_shapes(wc):
    api = wc.api()
    order = api.get("orders", params={"status": "processing", "orderby": "id",
                                      "order": "asc"}).json()[0]
    assert isinstance(order["id"], int) and isinstance(order["customer_id"], int)
    for money in ("total", "shipping_total", "discount_total", "total_tax"):
        assert re.fullmatch(r"-?\d+\.\d\d", order[money])
    assert DATE.fullmatch(order["date_created"]) and DATE.fullmatch(order["date_created_gmt"])
    local = dt.datetime.fromisoformat(order["date_created"])
    gmt = dt.datetime.fromisoformat(order["date_created_gmt"])
    assert local - gmt == dt.timedelta(hours=2)
    assert order["date_completed"] is None and order["date_paid"] is not None
    assert {"email", "phone", "first_name", "address_1", "country"} <= set(order["billing"])
    assert "email" not in order["shipping"]
    line = order["line_items"][0]
    assert {"id", "product_id", "variation_id", "sku", "quantity", "price", "total",
            "meta_data"} <= set(line)
    assert isinstance(line["quantity"], int) and isinstance(line["price"], float)
    assert order["meta_data"] == [] and order["number"] == str(order["id"])


def test_update_order_completed_sets_date_and_adds_status_note(wc):
    api = wc.api()
    order_id = api.get("orders", params={"status": "processing"}).json()[0]["id"]
    updated = api.put(f"orders/{order_id}", {"status": "completed",
                                             "meta_data": [{"key": "stockroom_ref",
                                                            "value": "F-1"}]}).json()
    assert updated["status"] == "completed" and DATE.fullmatch(updated["date_completed"])
    assert [(m["key"], m["value"]) for m in updated["meta_data"]] == [("stockroom_ref", "F-1")]
    notes = api.get(f"orders/{order_id}/notes").json()
    assert notes[0]["note"] == "Order status changed from Processing to Completed."
    assert (notes[0]["customer_note"], notes[0]["author"]) == (False, "system")


def test_update_order_invalid_status_is_invalid_param(wc):
    api = wc.api()
    order_id = api.get("orders").json()[0]["id"]
    response = api.put(f"orders/{order_id}", {"status": "shipped"})
    assert response.status_code == 400 and response.json()["code"] == "rest_invalid_param"


def test_order_notes_customer_and_private(wc):
    api = wc.api()
    order_id = api.get("orders", params={"status": "processing"}).json()[0]["id"]
    customer = api.post(f"orders/{order_id}/notes",
                        {"note": "Shipped with UPS 1Z999", "customer_note": True})
    assert customer.status_code == 201
    assert customer.json()["customer_note"] is True
    assert api.post(f"orders/{order_id}/notes", {"note": "internal"}).status_code == 201
    only_customer = api.get(f"orders/{order_id}/notes", params={"type": "customer"}).json()
    assert [n["note"] for n in only_customer] == ["Shipped with UPS 1Z999"]
    internal = api.get(f"orders/{order_id}/notes", params={"type": "internal"}).json()
    assert "internal" in [n["note"] for n in internal]
    missing = api.post(f"orders/{order_id}/notes", {"customer_note": True})
    assert (missing.status_code, missing.json()["code"]) == (400, "rest_missing_callback_param")


def test_unknown_order_and_route_errors(wc):
    api = wc.api()
    assert api.get("orders/99999").json() == {
        "code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
        "data": {"status": 404}}
    missing = api.put("orders/99999", {"status": "completed"})
    assert (missing.status_code, missing.json()["code"]) == (
        400, "woocommerce_rest_shop_order_invalid_id")
    nowhere = api.get("refunds-of-doom")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "rest_no_route"


def test_unknown_store_is_not_found(wc):
    response = requests.get(f"{wc.http_url}/stores/nope/wp-json/wc/v3/orders", timeout=5)
    assert response.status_code == 404


def test_unknown_note_and_refund_of_an_order_are_invalid_ids(wc):
    api = wc.api()
    order_id = api.get("orders").json()[0]["id"]
    note = api.get(f"orders/{order_id}/notes/99999")
    assert (note.status_code, note.json()["code"], note.json()["message"]) == (
        404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
    gone = api.delete(f"orders/{order_id}/notes/99999", params={"force": True})
    assert (gone.status_code, gone.json()["message"]) == (404, "Invalid resource ID.")
    refund = api.get(f"orders/{order_id}/refunds/99999")
    assert (refund.status_code, refund.json()["code"], refund.json()["message"]) == (
        404, "woocommerce_rest_invalid_id", "Invalid ID.")


def test_create_refund_of_items_with_amount_0_and_no_restock(wc):
    """wc_create_refund refuses only a negative amount (or more than remains): a refund of
    items alone (amount 0, refund_total 0, api_restock false) is made and restocks nothing."""
    api = wc.api()
    order = next(o for o in api.get("orders", params={"status": "processing"}).json()
                 if o["line_items"])
    item = order["line_items"][0]
    product = item["variation_id"] or item["product_id"]
    response = api.post(f"orders/{order['id']}/refunds", {
        "amount": "0", "reason": "Returned", "api_refund": False, "api_restock": False,
        "line_items": [{"id": item["id"], "quantity": 1, "refund_total": 0}]})
    assert response.status_code == 201, response.text
    refund = response.json()
    assert float(refund["amount"]) == 0
    assert [(li["quantity"], float(li["total"])) for li in refund["line_items"]] == [(-1, 0.0)]
    notes = api.get(f"orders/{order['id']}/notes").json()
    assert not [n for n in notes if n["note"].startswith(f"Item #{product} stock increased")]
    negative = api.post(f"orders/{order['id']}/refunds", {
        "amount": "-1", "api_refund": False,
        "line_items": [{"id": item["id"], "quantity": 1}]})
    assert negative.status_code in (400, 500)
