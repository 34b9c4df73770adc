"""Dashboard test fixtures: a CSRF- and form-token-aware client, a merchant, header credentials."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest

from app.extensions import db
from app.models import User
from app.auth import Identity, register_authenticator
from tests.fixtures.factories import (make_channel, make_item, make_location, make_order,
                                      stock)

PASSWORD = "correct horse battery"


class Browser:
    """Test client that reads the CSRF token from the last page, like a browser form, and
    each form's single-use ``form_token`` from the last page or fragment that showed it."""

    def __init__(self, client):
        self.client = client
        self.csrf = None
        self.form_tokens: dict[str, str] = {}  # form action (or button formaction) -> token

    def get(self, url, **kwargs):
        response = self.client.get(url, **kwargs)
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
        if match:
            self.csrf = match.group(1)
        self.remember_forms(response)
        return response

    def remember_forms(self, response):
        """Note the form token of every form in ``response`` (a page or a swapped fragment)."""
        body = response.get_data(as_text=True)
        for action, inner in re.findall(r'<form\b[^>]*\baction="([^"]+)"[^>]*>(.*?)</form>', body,
                                        re.S):
            token = re.search(r'name="form_token" value="([^"]*)"', inner)
            if token:
                for target in [action, *re.findall(r'formaction="([^"]+)"', inner)]:
                    self.form_tokens[html.unescape(target)] = token.group(1)

    def post(self, url, data=None, *, htmx=False, target=None, csrf=True, headers=None,
             **kwargs):
        data = dict(data or {})
        if self.csrf is None and csrf:
            self.get("/sign-in")
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        if url in self.form_tokens:
            data.setdefault("form_token", self.form_tokens[url])
        headers = dict(headers or {})
        if htmx or target:
            headers["HX-Request"] = "true"
        if target:
            headers["HX-Target"] = target
        response = self.client.post(url, data=data, headers=headers, **kwargs)
        self.remember_forms(response)
        return response

    def hx_get(self, url, target, **kwargs):
        response = self.client.get(url, headers={"HX-Request": "true", "HX-Target": target},
                                   **kwargs)
        self.remember_forms(response)  # swapped in, its forms are the page's now
        return response

    def sign_up(self, email="owner@example.test", password=PASSWORD, business="Acme Goods"):
        self.get("/sign-up")
        return self._refresh(self.post("/sign-up", {"email": email, "password": password,
                                                    "business_name": business}))

    def sign_in(self, email="owner@example.test", password=PASSWORD):
        self.get("/sign-in")
        return self._refresh(self.post("/sign-in", {"email": email, "password": password}))

    def _refresh(self, response):
        # Signing in starts a new session, with a new CSRF token: read it like a browser would.
        if response.status_code == 303:
            self.get("/connections")
        return response


#: The headers a request carries to use header_credential's credential.
BEARER = {"Authorization": "Bearer good"}


def header_credential(app, merchant_id: int, *, first: bool = False) -> dict[str, str]:
    """Register an authenticator that signs in ``merchant_id`` from an Authorization header
    (the seam the Shopify session-token check uses: no cookie, no CSRF token; ``first``:
    ahead of the cookie session, as embedded). Returns the headers that carry it."""

    def bearer():
        from flask import request

        if request.headers.get("Authorization") == BEARER["Authorization"]:
            return Identity(merchant_id, method="test_token", cookie_based=False)
        return None

    register_authenticator(app, bearer, first=first)
    return dict(BEARER)


@pytest.fixture
def browser(app):
    """A browser-like test client (no one signed in)."""
    return Browser(app.test_client())


@dataclass
class Shop:
    """A signed-up merchant with two locations, two items and one order."""

    merchant_id: int
    main: object
    second: object
    mug: object
    tote: object
    order: object


@pytest.fixture
def shop(app, browser) -> Shop:
    """Sign up through the page, then give the new merchant stock and an order."""
    assert browser.sign_up().status_code == 303
    user = db.session.query(User).one()
    from app.models import Merchant

    merchant = db.session.get(Merchant, user.merchant_id)
    main = make_location(merchant, "Main warehouse")
    second = make_location(merchant, "Downtown shop")
    mug, tote = make_item(merchant, "MUG-1"), make_item(merchant, "TOTE-1")
    stock(main, mug, 5)
    stock(main, tote, 1)
    stock(second, tote, 4)
    order = make_order(make_channel(merchant), [(mug, 3), (tote, 2)])
    db.session.commit()
    return Shop(merchant.id, main, second, mug, tote, order)
