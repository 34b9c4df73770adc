"""The dashboard embedded in the sandbox admin: App Bridge, session tokens on every request,
no cookies, the bounce page for framed page loads, frame-ancestors on every page."""
import re

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import StockLocation
from tests.integration.shopify.conftest import CLIENT_ID, SHOP, release_session
from tests.integration.shopify.test_install import install_via_admin


def _token(stockroom) -> str:
    return stockroom.sandbox.control(
        "GET", f"session-token?shop={SHOP}&client_id={CLIENT_ID}")["id_token"]


def _csp(stockroom) -> str:
    return f"frame-ancestors https://{SHOP} {stockroom.sandbox.http_url}"


def test_embedded_page_loads_app_bridge_and_sets_no_cookie(stockroom):
    landing = install_via_admin(stockroom).headers["Location"]
    page = requests.get(stockroom.url + landing, timeout=10)
    html = page.text
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert f'<meta name="shopify-api-key" content="{CLIENT_ID}">' in html
    assert f'<script src="{stockroom.sandbox.http_url}/_sandbox/app-bridge.js"></script>' in html
    assert html.index("app-bridge.js") < html.index("htmx.min.js")  # App Bridge first
    assert "js/embedded.js" in html and 'data-embedded hx-boost="true"' in html
    assert "X-CSRF-Token" not in html and 'name="csrf_token" value=""' not in html.split(
        "</head>")[0]
    assert page.headers["Content-Security-Policy"] == _csp(stockroom)


def _form_token(page) -> str:
    """The single-use token of the (one) creating form on ``page``: it works without cookies."""
    return re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)


def test_bearer_requests_need_no_csrf_get_frame_policy_and_no_cookie(stockroom):
    install_via_admin(stockroom)
    headers = {"Authorization": f"Bearer {_token(stockroom)}", "HX-Request": "true"}
    for path in ("/orders", "/inventory", "/listings", "/locations", "/sync", "/connections"):
        page = requests.get(f"{stockroom.url}{path}", headers=headers, timeout=10)
        assert page.status_code == 200, path
        assert page.headers["Content-Security-Policy"] == _csp(stockroom), path
        assert "Set-Cookie" not in page.headers, path
    page = requests.get(f"{stockroom.url}/locations", headers=headers, timeout=10)
    added = requests.post(f"{stockroom.url}/locations",
                          data={"name": "Pop-up store", "form_token": _form_token(page)},
                          headers={**headers, "HX-Target": "locations"}, timeout=10)
    assert added.status_code == 200 and "Pop-up store" in added.text
    assert "Set-Cookie" not in added.headers and "showToast" in added.headers["HX-Trigger"]
    release_session()
    assert db.session.scalar(select(StockLocation.name).where(
        StockLocation.name == "Pop-up store")) == "Pop-up store"
    # A plain form post in the frame (no htmx) would carry no token: it is not trusted.
    forged = requests.post(f"{stockroom.url}/locations", data={"name": "Forged"},
                           allow_redirects=False, timeout=10)
    assert forged.status_code == 400  # no token, no session: the CSRF check refuses it


def test_boosted_form_post_answers_the_whole_page_with_a_toast(stockroom):
    install_via_admin(stockroom)
    headers = {"Authorization": f"Bearer {_token(stockroom)}", "HX-Request": "true",
               "HX-Boosted": "true"}
    page = requests.get(f"{stockroom.url}/locations", headers=headers, timeout=10)
    done = requests.post(f"{stockroom.url}/locations",
                         data={"name": "Annex", "form_token": _form_token(page)},
                         headers=headers, timeout=10)  # no HX-Target: hx-boost on <body>
    assert done.status_code == 200 and "Set-Cookie" not in done.headers
    assert "<html" in done.text and "Annex" in done.text and "app-bridge.js" in done.text
    assert "Annex added." in done.headers["HX-Trigger"]


def test_framed_page_load_without_token_bounces_once(stockroom):
    install_via_admin(stockroom)
    framed = {"Sec-Fetch-Dest": "iframe"}
    bounce = requests.get(f"{stockroom.url}/orders", headers=framed, allow_redirects=False,
                          timeout=10)
    assert bounce.status_code == 200 and "shopify.idToken()" in bounce.text
    assert bounce.headers["Content-Security-Policy"].startswith("frame-ancestors ")
    assert stockroom.sandbox.http_url in bounce.headers["Content-Security-Policy"]
    back = requests.get(f"{stockroom.url}/orders", params={"id_token": _token(stockroom),
                                                           "bounced": "1"},
                        headers=framed, timeout=10)
    assert back.status_code == 200 and "Orders" in back.text and "app-bridge.js" in back.text
    again = requests.get(f"{stockroom.url}/orders", params={"id_token": "bad", "bounced": "1"},
                         headers=framed, allow_redirects=False, timeout=10)
    assert again.status_code in (302, 303) and "/sign-in" in again.headers["Location"]
    unframed = requests.get(f"{stockroom.url}/orders", allow_redirects=False, timeout=10)
    assert "/sign-in" in unframed.headers["Location"]


def test_webhooks_are_filed_under_their_order_for_the_timeline(stockroom):
    from app.models import WebhookInbox

    install_via_admin(stockroom)
    placed = stockroom.sandbox.control("POST", f"shops/{SHOP}/orders",
                                       {"lines": [{"sku": "MUG-WHT", "quantity": 1}]})

    def filed():
        release_session()
        return db.session.scalars(select(WebhookInbox.order_remote_id).where(
            WebhookInbox.topic == "orders/create")).all()

    stockroom.run_worker(until=lambda: filed() == [placed["gid"]])
