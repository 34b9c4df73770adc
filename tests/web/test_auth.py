"""Standalone sign-up / sign-in / sign-out, CSRF, rate limiting and tenant isolation."""
import re

import pytest
from flask import g
from sqlalchemy import func, select

from app.auth import authenticate
from app.extensions import db
from app.models import LoginAttempt, Merchant, User
from tests.fixtures.factories import make_channel, make_merchant, make_order
from tests.web.conftest import PASSWORD, header_credential


def test_sign_up_creates_merchant_and_signs_in(app, browser):
    response = browser.sign_up(email="Owner@Example.test", business="Acme Goods")
    assert response.status_code == 303 and response.headers["Location"] == "/connections"
    user = db.session.scalar(select(User))
    assert user.email == "owner@example.test"
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash
    assert db.session.get(Merchant, user.merchant_id).name == "Acme Goods"
    assert browser.get("/orders").status_code == 200


def test_sign_up_errors_show_inline(app, browser):
    browser.get("/sign-up")
    response = browser.post("/sign-up", {"email": "nope", "password": "short",
                                         "business_name": "X"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert "Enter a valid email address." in response.get_data(as_text=True)


def test_sign_up_duplicate_email_refused(app, browser):
    browser.sign_up()
    browser.post("/sign-out")
    response = browser.sign_up()
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def test_session_cookie_flags(app, browser):
    response = browser.sign_up()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is False  # tests run on plain http


def test_secure_cookies_by_default_outside_tests(database_url):
    from tests.conftest import make_test_app

    app = make_test_app(database_url, TESTING=False)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app_demo = make_test_app(database_url, STOCKROOM_SECURE_COOKIES=True)
    assert app_demo.config["SESSION_COOKIE_SECURE"] is True


def test_post_without_csrf_token_is_refused(app, browser):
    browser.get("/sign-up")
    response = browser.post("/sign-up", {"email": "a@b.test", "password": PASSWORD,
                                         "business_name": "A"}, csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_post_with_wrong_csrf_token_is_refused(app, browser):
    browser.sign_up()
    response = browser.client.post("/sign-out", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert browser.get("/orders").status_code == 200  # still signed in


def test_csrf_token_accepted_as_htmx_header(app, browser):
    browser.sign_up()
    response = browser.client.post("/sign-out", headers={"HX-Request": "true",
                                                         "X-CSRF-Token": browser.csrf})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/sign-in"


def test_sign_in_and_sign_out(app, browser):
    browser.sign_up()
    browser.post("/sign-out")
    assert browser.get("/orders").status_code == 302
    response = browser.sign_in()
    assert response.status_code == 303 and response.headers["Location"] == "/orders"
    assert browser.get("/orders").status_code == 200
    assert browser.post("/sign-out").status_code == 303
    response = browser.get("/orders")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_sign_in_wrong_password_says_nothing_specific(app, browser):
    browser.sign_up()
    browser.post("/sign-out")
    response = browser.sign_in(password="wrong password!")
    assert response.status_code == 401
    assert "don&#39;t match an account" in response.get_data(as_text=True)
    assert browser.sign_in(email="nobody@example.test").status_code == 401


def test_sign_in_redirects_only_to_local_next(app, browser):
    browser.sign_up()
    browser.post("/sign-out")
    browser.get("/sign-in")
    response = browser.post("/sign-in?next=/inventory", {"email": "owner@example.test",
                                                         "password": PASSWORD})
    assert response.headers["Location"] == "/inventory"
    browser.get("/connections")  # the new session's CSRF token
    assert browser.post("/sign-out").status_code == 303
    browser.get("/sign-in")
    response = browser.post("/sign-in?next=//evil.example/x", {"email": "owner@example.test",
                                                               "password": PASSWORD})
    assert response.headers["Location"] == "/orders"


def test_sign_in_rate_limited_after_failures(app, browser):
    browser.sign_up()
    browser.post("/sign-out")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert browser.sign_in(password="wrong password!").status_code == 401
    # Even the right password is refused now: the limit is on attempts, not on guesses.
    response = browser.sign_in()
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.email == "owner@example.test")) == 5


def test_rate_limit_is_shared_across_processes(app, browser, database_url):
    """A second app (another process's view of the same database) sees the failures."""
    from tests.conftest import make_test_app

    browser.sign_up()
    browser.post("/sign-out")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        browser.sign_in(password="wrong password!")
    other = make_test_app(database_url)
    from tests.web.conftest import Browser

    with other.app_context():
        second = Browser(other.test_client())
        assert second.sign_in().status_code == 429
        db.session.remove()
        db.engine.dispose()


def test_other_merchants_order_is_not_found(app, browser):
    browser.sign_up()
    stranger = make_merchant()
    order = make_order(make_channel(stranger), [(None, 1)])
    db.session.commit()
    assert browser.get(f"/orders/{order.id}").status_code == 404
    assert browser.get(f"/orders/{order.id}/fulfill").status_code == 404
    response = browser.post(f"/orders/{order.id}/fulfillments", {"qty-1": "1"})
    assert response.status_code == 404
    assert order.name not in browser.get("/orders").get_data(as_text=True)


def test_pages_need_sign_in(app, browser):
    for url in ["/orders", "/inventory", "/locations", "/sync", "/connections"]:
        response = browser.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
    response = browser.client.get("/orders", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/sign-in")


def test_registered_authenticator_sets_merchant(app):
    """The seam the Shopify session-token check uses: a header credential, no CSRF."""
    merchant = make_merchant()
    db.session.commit()
    bearer = header_credential(app, merchant.id)
    client = app.test_client()
    assert client.get("/orders", headers=bearer).status_code == 200
    assert client.get("/orders").status_code == 302
    # No CSRF token needed with a header credential (it can't be forged cross-site); the
    # form's single-use token works the same without cookies.
    page = client.get("/locations", headers=bearer)
    token = re.search(r'name="form_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/locations", data={"name": "Back room", "form_token": token},
                           headers=bearer)
    assert response.status_code == 303
    with app.test_request_context("/orders", headers=bearer):
        assert authenticate().merchant_id == merchant.id and g.merchant_id == merchant.id


def test_merchant_id_set_by_earlier_hook_is_accepted(app):
    merchant = make_merchant()
    db.session.commit()
    with app.test_request_context("/orders"):
        g.merchant_id = merchant.id
        identity = authenticate()
        assert identity.merchant_id == merchant.id and identity.cookie_based


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil", ""])
def test_safe_next_rejects_offsite(target):
    from app.auth import safe_next

    assert safe_next(target, "/orders") == "/orders"


def test_sign_up_rate_limited_per_address(app, browser):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for n in range(3):
        browser.get("/sign-up")
        browser.post("/sign-up", {"email": f"a{n}@example.test", "password": "x",
                                  "business_name": "A"})
    response = browser.sign_up(email="late@example.test")
    assert response.status_code == 429
    assert "Too many" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_sign_in_page_when_signed_in_goes_to_orders(app, browser):
    browser.sign_up()
    assert browser.get("/sign-in").headers["Location"] == "/orders"
    assert browser.get("/sign-up").headers["Location"] == "/orders"
