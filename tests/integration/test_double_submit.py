"""Double submits over real HTTP: the same form sent twice, or racing, acts once; tokens of
another form, another merchant or an expired page are refused and change nothing."""
from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import (Channel, ChannelLocation, Fulfillment, FormSubmission, InventoryItem,
                        InventoryLevel, InventoryMovement, Merchant, OutboxEvent, StockLocation,
                        User)
from app.web.form_tokens import DEFAULT_MAX_AGE_SECONDS
from sandbox.server import start_in_thread
from tests.conftest import make_test_app, truncate_all
from tests.fixtures.factories import make_channel, make_item, make_location, make_order, stock

PASSWORD = "correct horse battery"
RACERS = 8


@dataclass
class Live:
    """The app on a real socket over the test database."""

    app: object
    url: str


@pytest.fixture
def live(database_url):
    app = make_test_app(database_url)
    server = start_in_thread(app)
    with app.app_context():
        yield Live(app, server.url)
        server.stop()
        truncate_all()
        db.engine.dispose()


def form_fields(page: str, action: str) -> dict[str, str]:
    """The hidden fields a browser would send with the form posting to ``action``."""
    for attrs, inner in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.S):
        if f'action="{action}"' in attrs:
            return {html.unescape(name): html.unescape(value) for name, value in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', inner)}
    raise AssertionError(f"no form posting to {action}")


class Owner:
    """A merchant's browser: signed up through the real pages, one cookie jar."""

    def __init__(self, live: Live, email: str):
        self.live, self.http = live, requests.Session()
        self.http.trust_env = False
        page = self.get("/sign-up")
        fields = form_fields(page, "/sign-up")
        response = self.http.post(f"{live.url}/sign-up", allow_redirects=False, timeout=10, data={
            **fields, "email": email, "password": PASSWORD, "business_name": email})
        assert response.status_code == 303, response.text
        self.merchant_id = db.session.scalar(select(User.merchant_id).where(User.email == email))
        db.session.remove()

    def get(self, path: str) -> str:
        response = self.http.get(f"{self.live.url}{path}", timeout=10)
        assert response.status_code == 200, (path, response.status_code)
        return response.text

    def form(self, page_path: str, action: str) -> dict[str, str]:
        """Open the page and take the form's hidden fields (CSRF and form token)."""
        return form_fields(self.get(page_path), action)

    def post(self, path: str, data: dict, *, htmx_target: str | None = None,
             racing: bool = False) -> requests.Response:
        """POST as this browser; ``racing``: from another thread, with a copy of the cookies
        (a double click sends the same cookies twice)."""
        headers = {"HX-Request": "true", "HX-Target": htmx_target} if htmx_target else {}
        send = (lambda url, **kw: requests.post(url, cookies=self.http.cookies.get_dict(), **kw)
                ) if racing else self.http.post
        return send(f"{self.live.url}{path}", data=data, headers=headers, timeout=30,
                    allow_redirects=False)

    def follow(self, response: requests.Response) -> str:
        return self.get(response.headers["Location"])


@dataclass
class Shop:
    merchant: Owner
    main_id: int
    mug_id: int
    tote_id: int
    order_id: int
    line_ids: tuple[int, int]


def _seed(merchant: Owner) -> Shop:
    owner = db.session.get(Merchant, merchant.merchant_id)
    main = make_location(owner, "Main warehouse")
    mug, tote = make_item(owner, "MUG-1"), make_item(owner, "TOTE-1")
    stock(main, mug, 5)
    stock(main, tote, 5)
    order = make_order(make_channel(owner), [(mug, 3), (tote, 2)])
    db.session.commit()
    shop = Shop(merchant, main.id, mug.id, tote.id, order.id,
                      tuple(line.id for line in order.lines))
    db.session.remove()  # SQLite: an open transaction would hold the write lock
    return shop


@pytest.fixture
def shop(live) -> Shop:
    return _seed(Owner(live, "owner@example.test"))


def _count(model, *where) -> int:
    value = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.remove()
    return value


def _on_hand(location_id: int, item_id: int) -> int:
    value = db.session.scalar(select(InventoryLevel.on_hand).where(
        InventoryLevel.location_id == location_id, InventoryLevel.item_id == item_id))
    db.session.remove()
    return value


def _fulfill_body(shop: Shop) -> dict[str, str]:
    """The fulfill form as rendered, set to 1 mug of 3 from Main (a partial fulfillment:
    without a guard a repeat is a valid second fulfillment)."""
    action = f"/orders/{shop.order_id}/fulfillments"
    mug_line, tote_line = shop.line_ids
    return {**shop.merchant.form(f"/orders/{shop.order_id}/fulfill", action),
            f"qty-{mug_line}": "1", f"qty-{tote_line}": "0", "location_id": str(shop.main_id)}


def _race(n: int, send) -> list[requests.Response]:
    """``send()`` from n threads released together; their responses."""
    barrier, responses, lock = threading.Barrier(n), [], threading.Lock()

    def runner():
        barrier.wait()
        response = send()
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=runner) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return responses


def test_fulfill_form_sent_twice_makes_one_fulfillment(shop):
    body, action = _fulfill_body(shop), f"/orders/{shop.order_id}/fulfillments"
    first = shop.merchant.post(action, body)
    assert first.status_code == 303 and first.headers["Location"] == f"/orders/{shop.order_id}"
    assert "-F1 created." in shop.merchant.follow(first)
    second = shop.merchant.post(action, body)
    # The repeat lands where the first did and says so; it is not an error.
    assert second.status_code == 303 and second.headers["Location"] == f"/orders/{shop.order_id}"
    (fulfillment,) = db.session.scalars(select(Fulfillment)).all()
    name = fulfillment.name
    db.session.remove()
    assert (f"This form was already submitted: Fulfillment {name} created."
            in html.unescape(shop.merchant.follow(second)))
    assert _count(Fulfillment) == 1
    assert _on_hand(shop.main_id, shop.mug_id) == 4  # decremented once
    assert _count(InventoryMovement, InventoryMovement.reason == "fulfillment") == 1


def test_fulfill_form_racing_submissions_make_one_fulfillment(shop):
    body, action = _fulfill_body(shop), f"/orders/{shop.order_id}/fulfillments"
    responses = _race(RACERS, lambda: shop.merchant.post(action, body, htmx_target="fulfill-form",
                                                      racing=True))
    # Every racer gets the order page (HTMX: 204 + HX-Redirect); none an error.
    assert sorted(r.status_code for r in responses) == [204] * RACERS
    assert {r.headers["HX-Redirect"] for r in responses} == {f"/orders/{shop.order_id}"}
    assert _count(Fulfillment) == 1
    assert _on_hand(shop.main_id, shop.mug_id) == 4
    assert _count(FormSubmission) == 1


def test_fulfill_and_split_buttons_share_one_submission(shop):
    body = _fulfill_body(shop)
    first = shop.merchant.post(f"/orders/{shop.order_id}/fulfillments/split", body)
    assert first.status_code == 303
    second = shop.merchant.post(f"/orders/{shop.order_id}/fulfillments", body)
    assert second.status_code == 303
    assert "already submitted" in shop.merchant.follow(second)
    assert _count(Fulfillment) == 1


def test_fulfill_validation_error_keeps_the_token_for_the_corrected_form(shop):
    body, action = _fulfill_body(shop), f"/orders/{shop.order_id}/fulfillments"
    mug_line, _ = shop.line_ids
    wrong = shop.merchant.post(action, {**body, f"qty-{mug_line}": "9"})
    assert wrong.status_code == 422 and "Only 3 left to fulfill." in wrong.text
    assert _count(Fulfillment) == 0 and _count(FormSubmission) == 0
    # The re-rendered form carries a usable token, and so does the one sent first.
    fresh = form_fields(wrong.text, action)["form_token"]
    assert fresh and fresh != body["form_token"]
    fixed = shop.merchant.post(action, body)
    assert fixed.status_code == 303 and _count(Fulfillment) == 1


def test_tracking_form_sent_twice_pushes_and_notifies_once(shop):
    assert shop.merchant.post(f"/orders/{shop.order_id}/fulfillments",
                              _fulfill_body(shop)).status_code == 303
    fulfillment_id = db.session.scalar(select(Fulfillment.id))
    db.session.remove()
    action = f"/fulfillments/{fulfillment_id}/tracking"
    body = {**shop.merchant.form(action, action), "tracking_number": "1Z999",
            "tracking_company": "UPS", "tracking_url": "https://www.ups.com/track?tracknum=1Z999",
            "notify_customer": "on"}
    first, second = shop.merchant.post(action, body), shop.merchant.post(action, body)
    assert first.status_code == second.status_code == 303
    assert "This form was already submitted: Tracking saved." in html.unescape(
        shop.merchant.follow(second))
    # One update for the worker to push, so the customer is told once.
    assert _count(OutboxEvent, OutboxEvent.topic == "fulfillment.tracking_updated") == 1


def test_adjust_stock_sent_twice_adjusts_once(shop):
    action = f"/inventory/{shop.mug_id}/adjust"
    body = {**shop.merchant.form(f"/inventory/{shop.mug_id}", action),
            "location_id": str(shop.main_id), "mode": "delta", "quantity": "5",
            "reason": "received", "note": "delivery 7"}
    first = shop.merchant.post(action, body, htmx_target="item-stock")
    second = shop.merchant.post(action, body, htmx_target="item-stock")
    assert first.status_code == second.status_code == 200
    assert "already submitted" in second.headers["HX-Trigger"]
    # The answer carries a fresh form for the next adjustment.
    assert form_fields(second.text, action)["form_token"] != body["form_token"]
    assert _on_hand(shop.main_id, shop.mug_id) == 10  # 5 + 5, once
    assert _count(InventoryMovement, InventoryMovement.note == "delivery 7") == 1


def test_adjust_stock_racing_submissions_adjust_once(shop):
    action = f"/inventory/{shop.mug_id}/adjust"
    body = {**shop.merchant.form(f"/inventory/{shop.mug_id}", action),
            "location_id": str(shop.main_id), "mode": "delta", "quantity": "5",
            "reason": "received", "note": "delivery 7"}
    responses = _race(RACERS, lambda: shop.merchant.post(action, body, htmx_target="item-stock",
                                                         racing=True))
    assert [r.status_code for r in responses] == [200] * RACERS
    assert _on_hand(shop.main_id, shop.mug_id) == 10
    assert _count(InventoryMovement, InventoryMovement.note == "delivery 7") == 1


def test_add_location_sent_twice_adds_one_and_answers_like_the_first(shop):
    body = {**shop.merchant.form("/locations", "/locations"), "name": "Back room"}
    first = shop.merchant.post("/locations", body)
    second = shop.merchant.post("/locations", body)
    # Not "there is already a location named Back room": the merchant sent one form.
    assert first.status_code == second.status_code == 303
    assert "This form was already submitted: Back room added." in html.unescape(
        shop.merchant.follow(second))
    assert _count(StockLocation, StockLocation.name == "Back room") == 1


def test_bulk_fulfill_sent_twice_fulfills_each_order_once(shop):
    channel, tote = db.session.scalars(select(Channel)).one(), db.session.get(InventoryItem, shop.tote_id)
    owner_orders = [make_order(channel, [(tote, 1)]).id for _ in range(2)]
    db.session.commit()
    db.session.remove()
    body = {**shop.merchant.form("/orders", "/orders/bulk-fulfill"),
            "order_id": [str(i) for i in owner_orders], "location_id": str(shop.main_id)}
    first = shop.merchant.post("/orders/bulk-fulfill", body)
    second = shop.merchant.post("/orders/bulk-fulfill", body)
    assert first.status_code == second.status_code == 200
    assert "2 of 2 orders processed: 2 fulfilled, 0 skipped." in first.text
    # The repeat reports the first's work as done, not as orders skipped.
    assert "2 of 2 orders processed: 2 fulfilled, 0 skipped." in second.text
    assert second.text.count("This form was already submitted: Fulfilled from Main warehouse.") == 2
    assert _count(Fulfillment) == 2
    assert _on_hand(shop.main_id, shop.tote_id) == 3


def test_mapping_sent_twice_maps_once(shop):
    """Mapping sets a value, so it carries no token: a repeat finds it set and marks no push."""
    channel_id = db.session.scalar(select(Channel.id))
    cl = ChannelLocation(merchant_id=shop.merchant.merchant_id, channel_id=channel_id,
                         remote_id="gid://shopify/Location/1", name="Shopify warehouse")
    db.session.add(cl)
    db.session.commit()
    action = f"/channel-locations/{cl.id}"
    db.session.remove()
    body = {**shop.merchant.form("/locations", action), "stock_location_id": str(shop.main_id)}
    first = shop.merchant.post(action, body, htmx_target="location-mappings")
    second = shop.merchant.post(action, body, htmx_target="location-mappings")
    assert first.status_code == second.status_code == 200
    mapped = db.session.scalar(select(ChannelLocation.stock_location_id))
    db.session.remove()
    assert mapped == shop.main_id and _count(ChannelLocation) == 1


def test_another_merchants_token_is_refused_and_creates_nothing(live, shop):
    stranger = Owner(live, "stranger@example.test")
    # The add-location form posts to the same path for every merchant: its token must not.
    theirs = stranger.form("/locations", "/locations").get("form_token", "")
    body = {**shop.merchant.form("/locations", "/locations"), "name": "Smuggled",
            "form_token": theirs}
    response = shop.merchant.post("/locations", body, htmx_target="locations")
    assert response.status_code == 422
    assert "This form is out of date or was not made for this page." in response.text
    assert _count(StockLocation, StockLocation.name == "Smuggled") == 0
    assert _count(FormSubmission) == 0


def test_token_of_another_form_missing_or_altered_is_refused(shop):
    other_item = f"/inventory/{shop.tote_id}/adjust"
    theirs = shop.merchant.form(f"/inventory/{shop.tote_id}", other_item)["form_token"]
    action = f"/inventory/{shop.mug_id}/adjust"
    body = {**shop.merchant.form(f"/inventory/{shop.mug_id}", action),
            "location_id": str(shop.main_id), "quantity": "5", "reason": "received",
            "note": "delivery 7"}
    issued, nonce, signature = body["form_token"].split(".")
    for token in (theirs, "", f"{issued}.{nonce}x.{signature}", f"{int(issued) + 1}.{nonce}.{signature}"):
        response = shop.merchant.post(action, {**body, "form_token": token},
                                      htmx_target="item-stock")
        assert response.status_code == 422, token
        assert "This form is out of date" in response.text
    assert _on_hand(shop.main_id, shop.mug_id) == 5
    assert _count(InventoryMovement, InventoryMovement.note == "delivery 7") == 0


def test_expired_token_is_refused(live, shop):
    body = _fulfill_body(shop)
    live.app.config["FORM_TOKEN_MAX_AGE_SECONDS"] = 1
    time.sleep(2.1)
    response = shop.merchant.post(f"/orders/{shop.order_id}/fulfillments", body)
    assert response.status_code == 422 and "This form is out of date" in response.text
    assert _count(Fulfillment) == 0
    # The answer is the form again, with a token that works (given the usual lifetime
    # again: at 1 s, a loaded machine can take that long between the two requests).
    live.app.config["FORM_TOKEN_MAX_AGE_SECONDS"] = DEFAULT_MAX_AGE_SECONDS
    retry = {**body, "form_token": form_fields(response.text, f"/orders/{shop.order_id}/fulfillments")["form_token"]}
    assert shop.merchant.post(f"/orders/{shop.order_id}/fulfillments", retry).status_code == 303
    assert _count(Fulfillment) == 1
