"""Settings: the time zone the dashboard shows dates in."""
import datetime as dt
import re

from app.extensions import db
from app.models import Merchant, Order


def _zone(shop):
    db.session.expire_all()
    return db.session.get(Merchant, shop.merchant_id).timezone


def test_dates_read_in_utc_until_a_zone_is_chosen_then_in_it(shop, browser):
    order = db.session.get(Order, shop.order.id)
    order.placed_at = dt.datetime(2026, 11, 23, 12, 45, tzinfo=dt.UTC)
    db.session.commit()
    page = browser.get("/settings").get_data(as_text=True)
    assert "Dates and times are shown in UTC: no time zone was chosen" in page
    assert '<option value="America/Toronto">America/Toronto</option>' in page
    assert "Nov 23, 2026, 12:45 UTC" in browser.get(f"/orders/{order.id}").get_data(as_text=True)

    response = browser.post("/settings/timezone", {"timezone": "America/Toronto"})
    assert response.status_code == 303 and response.headers["Location"] == "/settings"
    assert _zone(shop) == "America/Toronto"
    page = browser.get("/settings").get_data(as_text=True)
    assert "Dates are now shown in America/Toronto time." in page
    assert '<option value="America/Toronto" selected>' in page
    assert "Nov 23, 2026, 07:45 EST" in browser.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Nov 23, 2026, 07:45 EST" in browser.get("/orders").get_data(as_text=True)


def test_a_zone_that_is_not_in_the_list_is_refused_inline(shop, browser):
    browser.post("/settings/timezone", {"timezone": "Europe/Berlin"})
    browser.get("/settings")
    for bad in ("Mars/Olympus_Mons", "", "<script>alert(1)</script>"):
        response = browser.post("/settings/timezone", {"timezone": bad},
                                target="timezone-settings")
        body = response.get_data(as_text=True)
        assert response.status_code == 422, bad
        assert re.match(r'\s*<section class="Polaris-ShadowBevel"[^>]*\bid="timezone-settings"',
                        body)
        assert "Choose a time zone from the list" in body and 'aria-invalid="true"' in body
        assert "<script>alert(1)</script>" not in body
    assert _zone(shop) == "Europe/Berlin"  # nothing saved


def test_settings_need_a_signed_in_merchant_and_the_csrf_token(app, browser):
    assert browser.get("/settings").status_code in (302, 303, 401)
    assert browser.post("/settings/timezone", {"timezone": "UTC"}).status_code in (302, 303, 401)


def test_settings_post_without_csrf_is_refused(shop, browser):
    response = browser.post("/settings/timezone", {"timezone": "Asia/Tokyo"}, csrf=False)
    assert response.status_code in (400, 403)
    assert _zone(shop) is None
