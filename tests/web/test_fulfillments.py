"""The fulfill form: defaults, availability, auto split, inline errors, success; card actions."""
import re

from sqlalchemy import func, select

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.fulfillment import auto_split, location_options
from app.models import Fulfillment, InventoryLevel, OrderLine
from tests.fixtures.factories import make_location, stock


def _form(shop, **overrides):
    lines = shop.order.lines
    data = {f"qty-{lines[0].id}": "3", f"qty-{lines[1].id}": "2",
            "location_id": str(shop.main.id), "tracking_company": "UPS",
            "tracking_number": "1Z999", "tracking_url": "https://www.ups.com/track?tracknum=1Z999"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _on_hand(location, item):
    return db.session.scalar(select(InventoryLevel.on_hand).where(
        InventoryLevel.location_id == location.id, InventoryLevel.item_id == item.id))


def _count_fulfillments():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Fulfillment))


def test_new_fulfillment_defaults_to_all_and_shows_availability(shop, browser):
    body = browser.get(f"/orders/{shop.order.id}/fulfill").get_data(as_text=True)
    lines = shop.order.lines
    assert f'name="qty-{lines[0].id}"' in body and 'value="3"' in body and 'value="2"' in body
    # Main has 5 mugs but 1 tote; Downtown has 4 totes and no mugs.
    assert "MUG-1: 5 available" in body and "TOTE-1: 4 available" in body
    assert "Can't cover: Item TOTE-1 (1 short)" in body
    assert "Fewest locations that cover the chosen items: 2." in body
    assert 'data-url-pattern="https://www.ups.com/track?tracknum={number}"' in body


def test_new_fulfillment_locations_fragment_follows_quantities(shop, browser):
    tote_line = shop.order.lines[1]
    mug_line = shop.order.lines[0]
    response = browser.hx_get(f"/orders/{shop.order.id}/fulfill?qty-{mug_line.id}=3&qty-{tote_line.id}=1",
                              "fulfill-locations")
    body = response.get_data(as_text=True)
    assert re.match(r'\s*<section class="Polaris-ShadowBevel"[^>]*\bid="fulfill-locations"', body)
    assert "Main warehouse can fulfill everything chosen." in body


def test_auto_split_uses_fewest_locations(shop):
    third = make_location(_merchant(shop), "Depot")
    stock(third, shop.mug, 3)
    stock(third, shop.tote, 2)
    db.session.commit()
    lines = list(db.session.scalars(select(OrderLine).where(OrderLine.order_id == shop.order.id)
                                    .order_by(OrderLine.id)))
    wanted = {lines[0].id: 3, lines[1].id: 2}
    options = location_options(shop.merchant_id, lines, wanted)
    split = auto_split(options, lines, wanted)
    assert [p.location.name for p in split] == ["Depot"]
    assert split[0].quantities == wanted
    wanted = {lines[0].id: 8, lines[1].id: 2}  # 5 at Main + 3 at Depot
    split = auto_split(location_options(shop.merchant_id, lines, wanted), lines, wanted)
    assert len(split) == 2
    assert sum(p.quantities.get(lines[0].id, 0) for p in split) == 8


def _merchant(shop):
    from app.models import Merchant

    return db.session.get(Merchant, shop.merchant_id)


def test_create_fulfillment_partial_success(shop, browser):
    mug_line, tote_line = shop.order.lines
    browser.get(f"/orders/{shop.order.id}/fulfill")  # the form, with its token
    response = browser.post(f"/orders/{shop.order.id}/fulfillments",
                            _form(shop, **{f"qty-{tote_line.id}": "0", f"qty-{mug_line.id}": "2",
                                           "notify_customer": "on"}), htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/orders/{shop.order.id}"
    f = db.session.scalar(select(Fulfillment))
    assert [(fl.order_line_id, fl.quantity) for fl in f.lines] == [(mug_line.id, 2)]
    assert f.tracking_company == "UPS" and f.notify_customer
    assert _on_hand(shop.main, shop.mug) == 3
    body = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert f"Fulfillment {shop.order.name}-F1 created." in body and "Partially fulfilled" in body
    assert f"Fulfillment {shop.order.name}-F1</h2>" in body


def test_fulfillments_are_named_by_order_and_number(shop, browser):
    """#1001-F1, #1001-F2, ... in creation order; a canceled one keeps its number, the next
    one takes a new one; the name is on the order page, the packing slip, the pack screen,
    the item's history (a link to the order) and in refusals."""
    first, second = _fulfill(shop, 1), _fulfill(shop, 1)
    browser.post(f"/fulfillments/{second}/cancel", target="order-detail")
    third = _fulfill(shop, 1)
    db.session.expire_all()
    name = shop.order.name
    assert [db.session.get(Fulfillment, fid).name for fid in (first, second, third)] == [
        f"{name}-F1", f"{name}-F2", f"{name}-F3"]
    body = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert all(f"Fulfillment {name}-F{n}</h2>" in body for n in (1, 2, 3))
    assert f"#{first}<" not in body.replace(f"{name}-F", "")
    slip = browser.get(f"/fulfillments/{third}/packing-slip").get_data(as_text=True)
    assert f"Fulfillment {name}-F3 ·" in slip
    pack = browser.get(f"/fulfillments/{third}/pack").get_data(as_text=True)
    assert f"Pack fulfillment {name}-F3</span></h1>" in pack
    ledger = browser.get(f"/inventory/{shop.mug.id}").get_data(as_text=True)
    assert (f'fulfillment <a href="/orders/{shop.order.id}#fulfillment-{third}">{name}-F3</a>'
            in ledger)
    again = browser.post(f"/fulfillments/{second}/cancel", target="order-detail")
    assert again.status_code == 409
    assert f"Fulfillment {name}-F2 is already canceled" in again.get_data(as_text=True)


def test_create_fulfillment_without_htmx_redirects(shop, browser):
    mug_line, tote_line = shop.order.lines
    browser.get(f"/orders/{shop.order.id}/fulfill")  # the form, with its token
    response = browser.post(f"/orders/{shop.order.id}/fulfillments",
                            _form(shop, **{f"qty-{tote_line.id}": "0"}))
    assert response.status_code == 303 and response.headers["Location"] == f"/orders/{shop.order.id}"


def test_create_fulfillment_collects_field_errors(shop, browser):
    mug_line, _ = shop.order.lines
    response = browser.post(f"/orders/{shop.order.id}/fulfillments", target="fulfill-form", data=
                            _form(shop, location_id=None, tracking_url="javascript:alert(1)",
                                  **{f"qty-{mug_line.id}": "9"}), htmx=True)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="fulfill-form"')
    assert "Only 3 left to fulfill." in body
    assert 'id="location-error"' in body and "Choose the stock location" in body
    assert 'id="tracking_url-error"' in body and "must be a web address" in body
    assert 'value="9"' in body  # what the merchant typed is kept
    assert _count_fulfillments() == 0


def test_create_fulfillment_non_numeric_and_nothing_chosen(shop, browser):
    mug_line, tote_line = shop.order.lines
    body = browser.post(f"/orders/{shop.order.id}/fulfillments",
                        _form(shop, **{f"qty-{mug_line.id}": "two"}), htmx=True).get_data(as_text=True)
    assert "Enter a whole number." in body
    body = browser.post(f"/orders/{shop.order.id}/fulfillments",
                        _form(shop, **{f"qty-{mug_line.id}": "0", f"qty-{tote_line.id}": "0"}),
                        htmx=True).get_data(as_text=True)
    assert "Choose at least one item to fulfill." in body
    assert _count_fulfillments() == 0


def test_create_fulfillment_insufficient_stock_is_409_and_nothing_moves(shop, browser):
    mug_line, tote_line = shop.order.lines
    browser.get(f"/orders/{shop.order.id}/fulfill")  # the form, with its token
    response = browser.post(f"/orders/{shop.order.id}/fulfillments",
                            _form(shop, location_id=str(shop.second.id)), htmx=True)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Not enough stock at Downtown shop" in body
    assert f'id="qty-{mug_line.id}-error"' in body and "0 available at this location (needs 3)" in body
    assert _count_fulfillments() == 0
    assert _on_hand(shop.second, shop.tote) == 4


def test_create_fulfillment_race_exceeding_unfulfilled_is_409(shop, browser):
    mug_line, tote_line = shop.order.lines
    create_fulfillment(shop.order.id, {mug_line.id: 2}, shop.main.id, merchant_id=shop.merchant_id)
    db.session.commit()
    # The form was opened before: it still offers 3 mugs.
    response = browser.post(f"/orders/{shop.order.id}/fulfillments",
                            _form(shop, **{f"qty-{tote_line.id}": "0"}), htmx=True)
    assert response.status_code == 422  # caught before the domain: only 1 left
    assert "Only 1 left to fulfill." in response.get_data(as_text=True)


def _fulfill(shop, qty=2):
    f = create_fulfillment(shop.order.id, {shop.order.lines[0].id: qty}, shop.main.id,
                           merchant_id=shop.merchant_id)
    db.session.commit()
    return f.id


def test_ship_deliver_and_cancel(shop, browser):
    fid = _fulfill(shop)
    response = browser.post(f"/fulfillments/{fid}/ship", target="order-detail")
    assert response.status_code == 200 and "showToast" in response.headers["HX-Trigger"]
    assert response.get_data(as_text=True).lstrip().startswith('<div id="order-detail"')
    assert db.session.get(Fulfillment, fid).status == "shipped"
    response = browser.post(f"/fulfillments/{fid}/cancel", target="order-detail")
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Fulfillment, fid).status == "canceled"
    assert _on_hand(shop.main, shop.mug) == 5
    # Canceling again is a conflict shown on the page, not a crash.
    response = browser.post(f"/fulfillments/{fid}/cancel", target="order-detail")
    assert response.status_code == 409 and "already canceled" in response.get_data(as_text=True)


RULE = "Shipped when tracking is added or it is marked shipped"


def test_the_pending_to_shipped_rule_is_on_the_card(shop, browser):
    fid = _fulfill(shop, 1)
    body = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert f"Not shipped yet. {RULE}" in body and "Not packed yet" in body
    assert f'/fulfillments/{fid}/ship"' in body and f'/fulfillments/{fid}/pack"' in body
    # Tracking added ships it; it is still to pack (the Pack link), no more "Mark shipped".
    browser.hx_get(f"/fulfillments/{fid}/tracking", "order-detail")
    browser.post(f"/fulfillments/{fid}/tracking", {"tracking_number": "1Z5"},
                 target="order-detail")
    db.session.expire_all()
    assert db.session.get(Fulfillment, fid).status == "shipped"
    body = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert "Not shipped yet" not in body and RULE in body and "<dt>Shipped</dt>" in body
    assert "Not packed yet" in body and f'/fulfillments/{fid}/pack"' in body
    assert f'/fulfillments/{fid}/ship"' not in body
    # Marked shipped: it left the building, packed then.
    other = _fulfill(shop, 1)
    browser.post(f"/fulfillments/{other}/ship", target="order-detail")
    db.session.expire_all()
    packed = db.session.get(Fulfillment, other).packed_at
    body = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert body.count("<dt>Packed</dt>") == 2 and body.count("Not packed yet") == 1
    assert f'/fulfillments/{other}/pack"' not in body
    assert packed.strftime("%b %-d, %Y") in body


def test_deliver_without_htmx_redirects(shop, browser):
    fid = _fulfill(shop)
    response = browser.post(f"/fulfillments/{fid}/deliver")
    assert response.status_code == 303
    assert db.session.get(Fulfillment, fid).status == "delivered"


def test_edit_tracking(shop, browser):
    fid = _fulfill(shop)
    form = browser.hx_get(f"/fulfillments/{fid}/tracking", "order-detail").get_data(as_text=True)
    assert 'name="tracking_number"' in form
    response = browser.post(f"/fulfillments/{fid}/tracking",
                            {"tracking_number": "X1", "tracking_url": "ftp://x"}, target="order-detail")
    assert response.status_code == 422 and "must be a web address" in response.get_data(as_text=True)
    response = browser.post(f"/fulfillments/{fid}/tracking",
                            {"tracking_number": "X1", "tracking_company": "DPD",
                             "tracking_url": "https://tracking.dpd.de/status/en_US/parcel/X1"},
                            target="order-detail")
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Fulfillment, fid).tracking_number == "X1"


def test_actions_on_other_merchants_fulfillment_are_404(shop, browser, app):
    fid = _fulfill(shop)
    browser.post("/sign-out")
    browser.sign_up(email="other@example.test")
    assert browser.post(f"/fulfillments/{fid}/cancel").status_code == 404
    assert browser.get(f"/fulfillments/{fid}/tracking").status_code == 404
    assert db.session.get(Fulfillment, fid).status == "pending"


def test_create_split_fulfillments_all_parts_or_none(shop, browser):
    mug_line, tote_line = shop.order.lines
    body = browser.get(f"/orders/{shop.order.id}/fulfill").get_data(as_text=True)
    assert "Fulfill all 2 parts" in body
    response = browser.post(f"/orders/{shop.order.id}/fulfillments/split",
                            {f"qty-{mug_line.id}": "3", f"qty-{tote_line.id}": "2"}, htmx=True)
    assert response.status_code == 204
    parts = db.session.scalars(select(Fulfillment).order_by(Fulfillment.id)).all()
    assert sorted((p.location_id, [(fl.order_line_id, fl.quantity) for fl in p.lines]) for p in parts) \
        == sorted([(shop.main.id, [(mug_line.id, 3)]), (shop.second.id, [(tote_line.id, 2)])])
    # Nothing left to cover: an error, and nothing half-done.
    response = browser.post(f"/orders/{shop.order.id}/fulfillments/split",
                            {f"qty-{mug_line.id}": "0", f"qty-{tote_line.id}": "0"},
                            target="fulfill-form")
    assert response.status_code == 422 and "Choose at least one item" in response.get_data(as_text=True)
    assert _count_fulfillments() == 2


def test_create_split_fulfillments_uncoverable_is_refused(shop, browser):
    from app.stock import adjust_stock

    adjust_stock(shop.merchant_id, shop.main.id, shop.mug.id, absolute=1, reason="recount")
    db.session.commit()
    mug_line, tote_line = shop.order.lines
    response = browser.post(f"/orders/{shop.order.id}/fulfillments/split",
                            {f"qty-{mug_line.id}": "3", f"qty-{tote_line.id}": "2"},
                            target="fulfill-form")
    assert response.status_code == 422
    assert "No combination of locations has enough stock" in response.get_data(as_text=True)
    assert _count_fulfillments() == 0
