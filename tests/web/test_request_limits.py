"""MAX_CONTENT_LENGTH: the largest form the dashboard sends fits; a larger body gets 413."""
from urllib.parse import urlencode

from flask import json

from app.web.bulk import MAX_ORDERS


def test_max_content_length_fits_the_largest_bulk_fulfill_form(app, shop, browser):
    """Bulk fulfill's progress form carries every result back: at most 250, each message at
    most 500 characters, JSON-escaped (non-ASCII as \\uXXXX) and then URL-encoded."""
    results = [json.dumps({"id": n, "ok": False, "message": "\u00e9" * 500})
               for n in range(MAX_ORDERS)]
    body = urlencode([("csrf_token", browser.csrf)] + [("result", r) for r in results])
    assert len(body) > 1_000_000  # the worst case really is this large,
    assert len(body) < app.config["MAX_CONTENT_LENGTH"]  # and still under the limit
    response = browser.client.post("/orders/bulk-fulfill", data=body,
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert f"{MAX_ORDERS} of {MAX_ORDERS} orders processed" in response.get_data(as_text=True)


def test_max_content_length_refuses_a_larger_body_with_413(app, shop, browser):
    body = "csrf_token=" + browser.csrf + "&note=" + "x" * app.config["MAX_CONTENT_LENGTH"]
    response = browser.client.post("/orders/bulk-fulfill", data=body,
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
