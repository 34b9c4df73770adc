"""Fulfillment-order actions from the order page, against the Shopify sandbox over HTTP.

The merchant is in the embedded admin: every request carries a fresh session token from
the sandbox (as App Bridge adds it), the app calls the sandbox's Admin API for real, and
the mirror is checked right after the response, before any webhook is applied.
"""
import re
from html import unescape

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelLocation, Fulfillment, FulfillmentOrder, SyncState
from app.platforms.shopify.tokens import read_credentials
from tests.integration.shopify.conftest import CLIENT_ID, SHOP, release_session
from tests.integration.shopify.test_fulfillment_sync import place_order, shop  # noqa: F401


class Admin:
    """The merchant's browser inside the sandbox admin (session token on every request)."""

    def __init__(self, stockroom):
        self.stockroom = stockroom
        self.http = requests.Session()
        self.http.trust_env = False

    def _headers(self, htmx: bool) -> dict:
        token = self.stockroom.sandbox.control(
            "GET", f"session-token?shop={SHOP}&client_id={CLIENT_ID}")["id_token"]
        headers = {"Authorization": f"Bearer {token}"}
        if htmx:
            headers.update({"HX-Request": "true", "HX-Target": "fulfillment-orders"})
        return headers

    def get(self, path: str) -> requests.Response:
        release_session()
        return self.http.get(self.stockroom.url + path, headers=self._headers(False), timeout=20)

    def post(self, path: str, data: dict, *, htmx: bool = False) -> requests.Response:
        release_session()
        return self.http.post(self.stockroom.url + path, data=data, headers=self._headers(htmx),
                              allow_redirects=False, timeout=30)

    def act(self, fo_id: int, slug: str, data: dict | None = None, **kw) -> requests.Response:
        """Open the order page and send that action's form, with its single-use token."""
        action = f"/fulfillment-orders/{fo_id}/{slug}"
        order_id = db.session.get(FulfillmentOrder, fo_id).order_id
        form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>',
                         self.get(f"/orders/{order_id}").text, re.S)
        token = form and re.search(r'name="form_token" value="([^"]+)"', form.group(0))
        fields = {"form_token": token.group(1)} if token else {}
        return self.post(action, fields | (data or {}), **kw)


@pytest.fixture
def admin(stockroom, shop):  # noqa: F811
    return Admin(stockroom)


def placed(stockroom, lines, location: str):
    """An order placed on the sandbox at ``location``: (our order id, its gid, sku -> line id)."""
    order, summary = place_order(stockroom, lines, location_id=location)
    return order.id, summary["gid"], {line.sku: line.id for line in order.lines}


def mirror(order_id: int, *, include_closed: bool = False) -> list[FulfillmentOrder]:
    release_session()
    fos = db.session.scalars(select(FulfillmentOrder).where(FulfillmentOrder.order_id == order_id)
                             .order_by(FulfillmentOrder.id)).all()
    return [fo for fo in fos if include_closed or fo.status != "CLOSED"]


def remote_fos(stockroom, order_gid: str) -> list[dict]:
    order_id = int(order_gid.rsplit("/", 1)[1])
    return [fo for fo in stockroom.sandbox.shop()["fulfillment_orders"]
            if fo["order_id"] == order_id]


def location_ids() -> dict[str, int]:
    release_session()
    return {cl.name: cl.id for cl in db.session.scalars(select(ChannelLocation))}


def quantities(fo: FulfillmentOrder) -> dict[int | None, int]:
    return {line.order_line_id: line.remaining_quantity for line in fo.lines}


def admin_gql(stockroom, query: str, variables: dict) -> dict:
    """Read the sandbox as the app would (to check what Shopify recorded)."""
    release_session()
    token = read_credentials(db.session.scalars(select(Channel)).one()).access_token
    release_session()
    return stockroom.sandbox.gql(token, query, variables)["data"]


def test_move_whole_fulfillment_order_moves_it_in_place(stockroom, shop, admin):  # noqa: F811
    order_id, order_gid, line = placed(stockroom, [("TOTE-NAT", 2), ("MUG-WHT", 1)], shop.remote["Main Warehouse"])
    (fo,) = mirror(order_id)
    response = admin.act(fo.id, "move", {"location_id": location_ids()["Downtown Store"]})
    assert response.status_code == 303  # no JavaScript: POST/redirect/GET
    (moved,) = mirror(order_id)
    assert (moved.id, moved.assigned_location_name) == (fo.id, "Downtown Store")
    assert [f["location_id"] for f in remote_fos(stockroom, order_gid)] == [
        shop.remote["Downtown Store"]]
    page = admin.get(response.headers["Location"]).text
    assert "Moved 3 items to Downtown Store." in page


def test_move_some_lines_shows_moved_and_remaining(stockroom, shop, admin):  # noqa: F811
    order_id, order_gid, line = placed(stockroom, [("TOTE-NAT", 2), ("MUG-WHT", 1)], shop.remote["Main Warehouse"])
    (fo,) = mirror(order_id)
    tote = next(line for line in fo.lines if line.remaining_quantity == 2)
    mug = next(line for line in fo.lines if line.remaining_quantity == 1)
    response = admin.act(fo.id, "move", {"location_id": location_ids()["Downtown Store"],
                                         f"qty-{tote.id}": "1", f"qty-{mug.id}": "0"}, htmx=True)
    assert response.status_code == 200
    assert re.match(r'\s*<section class="Polaris-ShadowBevel"[^>]*\bid="fulfillment-orders"',
                    response.text)
    assert "Moved 1 item to Downtown Store. 2 items stay at Main Warehouse." in unescape(
        response.headers["HX-Trigger"])
    # The mirror changed at once (no webhook applied yet): original closed, two new ones.
    shown = {f.assigned_location_name: quantities(f) for f in mirror(order_id)}
    assert shown == {"Downtown Store": {line["TOTE-NAT"]: 1},
                     "Main Warehouse": {line["TOTE-NAT"]: 1, line["MUG-WHT"]: 1}}
    assert [f.status for f in mirror(order_id, include_closed=True) if f.id == fo.id] == ["CLOSED"]
    assert f'id="fulfillment-order-{fo.id}"' not in response.text  # closed: not shown
    remote = {(f["location_id"], f["status"]): [li["remaining"] for li in f["line_items"]]
              for f in remote_fos(stockroom, order_gid)}
    assert remote[(shop.remote["Downtown Store"], "OPEN")] == [1]
    assert sorted(remote[(shop.remote["Main Warehouse"], "OPEN")]) == [1, 1]
    # The webhook of our own move, applied later, agrees with what we mirrored.
    stockroom.run_worker()
    assert {f.assigned_location_name: quantities(f) for f in mirror(order_id)} == shown


def test_create_fulfillment_opens_fulfill_form_for_that_fulfillment_order(stockroom, shop,  # noqa: F811
                                                                          admin):
    order_id, order_gid, line = placed(stockroom, [("BEANIE-GRY", 2), ("MUG-WHT", 1)], shop.remote["Main Warehouse"])
    (fo,) = mirror(order_id)
    beanie = next(line for line in fo.lines if line.remaining_quantity == 2)
    admin.act(fo.id, "move", {"location_id": location_ids()["Downtown Store"],
                              f"qty-{beanie.id}": "2"} | {
        f"qty-{line.id}": "0" for line in fo.lines if line.id != beanie.id})
    downtown = next(f for f in mirror(order_id) if f.assigned_location_name == "Downtown Store")
    page = admin.get(f"/orders/{order_id}").text
    block = page[page.index(f'id="fulfillment-order-{downtown.id}"'):]
    href = unescape(re.search(r'href="([^"]+)"[^>]*>(?:<span[^>]*>)?Fulfill<',
                              block).group(1))
    assert f"location_id={shop.downtown_id}" in href
    assert f"qty-{line['BEANIE-GRY']}=2" in href and f"qty-{line['MUG-WHT']}=0" in href
    form = admin.get(href).text
    assert re.search(rf'value="{shop.downtown_id}"[^>]*checked', form)
    # Submitting the prefilled form fulfills exactly that fulfillment order on Shopify.
    response = admin.post(f"/orders/{order_id}/fulfillments", {
        "location_id": shop.downtown_id, f"qty-{line['BEANIE-GRY']}": "2",
        f"qty-{line['MUG-WHT']}": "0",
        "form_token": re.search(r'name="form_token" value="([^"]+)"', form).group(1)})
    assert response.status_code == 303
    stockroom.run_worker(until=lambda: db.session.scalars(select(Fulfillment.sync_state)).one()
                         == SyncState.SYNCED)
    (remote,) = stockroom.sandbox.shop()["fulfillments"]
    assert remote["location_id"] == shop.remote["Downtown Store"]
    assert remote["lines"][0]["fulfillment_order_id"] == int(downtown.remote_id.rsplit("/", 1)[1])


def test_request_fulfillment_from_3pl_then_cancellation(stockroom, shop, admin):  # noqa: F811
    order_id, order_gid, line = placed(stockroom, [("TOTE-BLK", 1), ("BEANIE-GRY", 3)], shop.remote["ShipFast 3PL"])
    (fo,) = mirror(order_id)
    assert "REQUEST_FULFILLMENT" in fo.supported_actions
    beanie = next(line for line in fo.lines if line.remaining_quantity == 3)
    others = {f"qty-{line.id}": "0" for line in fo.lines if line.id != beanie.id}
    page = admin.get(f"/orders/{order_id}").text
    assert "Request fulfillment from ShipFast 3PL" in page and ">Fulfill<" not in page
    response = admin.act(fo.id, "request-fulfillment", {
        f"qty-{beanie.id}": "2", **others, "message": "Gift wrap, please",
        "notify_customer": "on"}, htmx=True)
    assert response.status_code == 200, response.text
    assert "Fulfillment request for 2 items sent to ShipFast 3PL. 2 items not requested." in \
        unescape(response.headers["HX-Trigger"])
    by_status = {f.request_status: f for f in mirror(order_id)}
    assert set(by_status) == {"SUBMITTED", "UNSUBMITTED"}
    submitted = by_status["SUBMITTED"]
    assert sum(quantities(submitted).values()) == 2
    assert sorted(submitted.supported_actions) == ["CANCEL_FULFILLMENT_ORDER",
                                                   "REQUEST_CANCELLATION"]
    assert "REQUEST_FULFILLMENT" in by_status["UNSUBMITTED"].supported_actions
    sent = admin_gql(stockroom, "query Q($id: ID!) { fulfillmentOrder(id: $id) { "
                     "merchantRequests(first: 5) { nodes { kind message } } } }",
                     {"id": submitted.remote_id})
    assert sent["fulfillmentOrder"]["merchantRequests"]["nodes"] == [
        {"kind": "FULFILLMENT_REQUEST", "message": "Gift wrap, please"}]

    # The 3PL accepts (webhook -> worker -> mirror); only a cancellation request is left.
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/"
                              f"{submitted.remote_id.rsplit('/', 1)[1]}/accept", {})
    stockroom.run_worker(until=lambda: db.session.get(FulfillmentOrder, submitted.id)
                         .request_status == "ACCEPTED")
    block = admin.get(f"/orders/{order_id}").text
    block = block[block.index(f'id="fulfillment-order-{submitted.id}"'):]
    block = block[:block.find('<div class="fo" id=', 10)]
    assert "Request cancellation" in block and "Cancel fulfillment order" not in block
    response = admin.act(submitted.id, "request-cancellation",
                         {"message": "Customer changed their mind"})
    assert response.status_code == 303
    assert db.session.get(FulfillmentOrder, submitted.id).request_status == \
        "CANCELLATION_REQUESTED"
    # The 3PL accepts the cancellation: the items come back in a replacement order.
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/"
                              f"{submitted.remote_id.rsplit('/', 1)[1]}/accept_cancellation", {})
    stockroom.run_worker(until=lambda: db.session.get(FulfillmentOrder, submitted.id).status
                         == "CLOSED")
    shown = mirror(order_id)
    assert submitted.id not in {f.id for f in shown}
    assert sorted(sum(quantities(f).values()) for f in shown) == [2, 2]
    assert all("REQUEST_FULFILLMENT" in f.supported_actions for f in shown)


def test_cancel_submitted_fulfillment_order_mirrors_replacement(stockroom, shop,  # noqa: F811
                                                               admin):
    order_id, order_gid, line = placed(stockroom, [("MUG-WHT", 2)], shop.remote["ShipFast 3PL"])
    (fo,) = mirror(order_id)
    assert admin.act(fo.id, "request-fulfillment", {}).status_code == 303
    assert mirror(order_id)[0].request_status == "SUBMITTED"
    response = admin.act(fo.id, "cancel", htmx=True)
    assert response.status_code == 200
    assert "Fulfillment order canceled. Its 2 items are open again at ShipFast 3PL." in unescape(
        response.headers["HX-Trigger"])
    (replacement,) = mirror(order_id)
    assert replacement.id != fo.id and replacement.request_status == "UNSUBMITTED"
    assert "REQUEST_FULFILLMENT" in replacement.supported_actions
    assert sum(quantities(replacement).values()) == 2
    assert db.session.get(FulfillmentOrder, fo.id).status == "CLOSED"
    assert {(f["status"], f["request_status"]) for f in remote_fos(stockroom, order_gid)} == {
        ("CLOSED", "CLOSED"), ("OPEN", "UNSUBMITTED")}


def test_hold_some_items_then_release(stockroom, shop, admin):  # noqa: F811
    order_id, order_gid, line = placed(stockroom, [("TOTE-NAT", 1), ("BEANIE-NVY", 2)], shop.remote["Main Warehouse"])
    (fo,) = mirror(order_id)
    beanie = next(line for line in fo.lines if line.remaining_quantity == 2)
    tote = next(line for line in fo.lines if line.remaining_quantity == 1)
    response = admin.act(fo.id, "hold", {"reason": "AWAITING_PAYMENT",
                                         "notes": "Bank transfer pending",
                                         f"qty-{beanie.id}": "2", f"qty-{tote.id}": "0"},
                         htmx=True)
    assert response.status_code == 200
    assert "On hold: awaiting payment. 1 item not held." in unescape(
        response.headers["HX-Trigger"])
    held, rest = mirror(order_id)
    assert (held.id, held.status, sum(quantities(held).values())) == (fo.id, "ON_HOLD", 2)
    assert [(h["reason"], h["reasonNotes"]) for h in held.holds] == [
        ("AWAITING_PAYMENT", "Bank transfer pending")]
    assert (rest.status, sum(quantities(rest).values())) == ("OPEN", 1)
    assert "Awaiting payment — Bank transfer pending" in response.text
    assert "Release hold" in response.text
    response = admin.act(fo.id, "release-hold", htmx=True)
    assert response.status_code == 200 and "Hold released." in response.headers["HX-Trigger"]
    released = db.session.get(FulfillmentOrder, fo.id)
    assert (released.status, released.holds) == ("OPEN", [])
    assert {f["status"] for f in remote_fos(stockroom, order_gid)} == {"OPEN"}


def test_external_fulfillment_order_links_to_service(stockroom, shop, admin):  # noqa: F811
    order_id, order_gid, line = placed(stockroom, [("BEANIE-NVY", 1)], shop.remote["Marketplace Fulfillment"])
    (fo,) = mirror(order_id)
    assert fo.external_url.startswith("https://fulfillment.example.com/orders/")
    page = admin.get(f"/orders/{order_id}").text
    assert re.search(rf'href="{re.escape(fo.external_url)}" target="_blank" rel="noopener '
                     r'noreferrer">(?:<span[^>]*>)?Open in Marketplace Fulfillment', page)
    assert ">Fulfill<" not in page


def test_action_not_in_supported_actions_refused(stockroom, shop, admin):  # noqa: F811
    order_id, order_gid, line = placed(stockroom, [("MUG-WHT", 1)], shop.remote["Main Warehouse"])
    (fo,) = mirror(order_id)
    before = remote_fos(stockroom, order_gid)
    for slug in ("request-fulfillment", "cancel", "request-cancellation", "release-hold"):
        # The page offers no form for them, so a crafted post has no form token either:
        # refused before anything else (an offered form gone stale answers 409, "doesn't
        # allow": tests/web/test_fulfillment_orders.py).
        response = admin.act(fo.id, slug, {"message": "x"}, htmx=True)
        assert response.status_code == 422, slug
        assert "not made for this page" in unescape(response.text)
    assert remote_fos(stockroom, order_gid) == before  # Shopify was never asked
    assert "Request fulfillment" not in admin.get(f"/orders/{order_id}").text


def test_user_errors_shown_and_mirror_refreshed(stockroom, shop, admin):  # noqa: F811
    """The 3PL rejected the request meanwhile (webhook not applied yet): the mirror still
    offers cancel, Shopify refuses it, the merchant reads why and sees the current state."""
    order_id, order_gid, line = placed(stockroom, [("TOTE-BLK", 1)], shop.remote["ShipFast 3PL"])
    (fo,) = mirror(order_id)
    admin.act(fo.id, "request-fulfillment", {})
    stockroom.sandbox.control("POST", f"shops/{SHOP}/fulfillment_orders/"
                              f"{fo.remote_id.rsplit('/', 1)[1]}/reject", {"message": "No stock"})
    assert "CANCEL_FULFILLMENT_ORDER" in mirror(order_id)[0].supported_actions
    response = admin.act(fo.id, "cancel", htmx=True)
    assert response.status_code == 409
    text = unescape(response.text)
    assert ("Shopify refused: Fulfillment order must have a SUBMITTED or CANCELLATION_REQUESTED "
            "request status to be cancelled.") in text
    assert "Shopify did not change this fulfillment order" in text
    (current,) = mirror(order_id)
    assert current.request_status == "REJECTED"
    assert "REQUEST_FULFILLMENT" in current.supported_actions
    assert "Request fulfillment from ShipFast 3PL" in text  # the fragment shows what is possible
    # Moving to where the items already are is caught before Shopify is asked.
    response = admin.act(fo.id, "move", {"location_id": location_ids()["ShipFast 3PL"]})
    assert response.status_code == 422
    assert "already assigned to this location" in unescape(response.text)


def test_unknown_outcome_not_retried_throttled_retried(stockroom, shop, admin):  # noqa: F811
    """A 503 may come after Shopify ran the mutation: no blind retry, the merchant is told
    and sees Shopify's state. THROTTLED means it did not run: retried, it succeeds."""
    order_id, order_gid, line = placed(stockroom, [("MUG-WHT", 1)], shop.remote["Main Warehouse"])
    (fo,) = mirror(order_id)
    stockroom.sandbox.control("POST", "faults/api", {"kind": "error", "status": 503,
                                                     "operation": "FulfillmentOrderHold"})
    response = admin.act(fo.id, "hold", {"reason": "OTHER"}, htmx=True)
    assert response.status_code == 502
    assert "Shopify could not be reached" in unescape(response.text)
    # One request only: a retry would have met no fault and put the order on hold.
    assert [f["status"] for f in remote_fos(stockroom, order_gid)] == ["OPEN"]
    assert mirror(order_id)[0].status == "OPEN"
    stockroom.sandbox.control("POST", "faults/api", {"kind": "throttle",
                                                     "operation": "FulfillmentOrderHold"})
    response = admin.act(fo.id, "hold", {"reason": "OTHER"}, htmx=True)
    assert response.status_code == 200, response.text
    assert [f["status"] for f in remote_fos(stockroom, order_gid)] == ["ON_HOLD"]
    assert mirror(order_id)[0].status == "ON_HOLD"


def test_same_hold_form_sent_twice_holds_once(stockroom, shop, admin):  # noqa: F811
    """A fulfillment order on hold can take another hold, so only the form's single-use
    token keeps a double submit from asking Shopify twice."""
    order_id, order_gid, line = placed(stockroom, [("MUG-WHT", 1)], shop.remote["Main Warehouse"])
    (fo,) = mirror(order_id)
    action = f"/fulfillment-orders/{fo.id}/hold"
    page = admin.get(f"/orders/{order_id}").text
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', page, re.S).group(0)
    body = {"reason": "OTHER", "notes": "Check the address",
            **dict(re.findall(r'name="(form_token)" value="([^"]+)"', form))}
    first = admin.post(action, body, htmx=True)
    assert first.status_code == 200 and "On hold" in unescape(first.headers["HX-Trigger"])
    second = admin.post(action, body, htmx=True)
    assert second.status_code == 200
    assert "This form was already submitted: On hold" in unescape(second.headers["HX-Trigger"])
    recorded = admin_gql(stockroom, "query Q($id: ID!) { fulfillmentOrder(id: $id) { "
                         "status fulfillmentHolds { reason reasonNotes } } }", {"id": fo.remote_id})
    assert recorded["fulfillmentOrder"] == {"status": "ON_HOLD", "fulfillmentHolds": [
        {"reason": "OTHER", "reasonNotes": "Check the address"}]}
    assert len(mirror(order_id)[0].holds) == 1
