"""The return form: defaults, restock through the ledger, once per submit, inline refusals."""
from sqlalchemy import func, select

from app.extensions import db
from app.fulfillment import create_fulfillment
from app.models import InventoryLevel, InventoryMovement, OrderReturn, OrderReturnLine, OutboxEvent
from tests.fixtures.factories import make_location, make_merchant


def _on_hand(location, item):
    db.session.expire_all()
    return db.session.scalar(select(InventoryLevel.on_hand).where(
        InventoryLevel.location_id == location.id, InventoryLevel.item_id == item.id))


def _returns():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(OrderReturn))


def _fulfilled(shop):
    """3 mugs from Main, 2 totes from Downtown."""
    mug_line, tote_line = shop.order.lines
    create_fulfillment(shop.order.id, {mug_line.id: 3}, shop.main.id, merchant_id=shop.merchant_id)
    create_fulfillment(shop.order.id, {tote_line.id: 2}, shop.second.id,
                       merchant_id=shop.merchant_id)
    db.session.commit()
    return mug_line, tote_line


def test_new_return_defaults_to_the_fulfilled_from_location(shop, browser):
    mug_line, tote_line = _fulfilled(shop)
    body = browser.get(f"/orders/{shop.order.id}/return").get_data(as_text=True)
    assert "of 3" in body and "of 2" in body
    assert f'<option value="{shop.main.id}" selected>' in body.split(f'id="location-{mug_line.id}"')[1].split("</select>")[0]
    assert f'<option value="{shop.second.id}" selected>' in body.split(f'id="location-{tote_line.id}"')[1].split("</select>")[0]
    assert f'name="restock-{mug_line.id}" aria-label="Restock Item MUG-1" checked' in body


def test_create_return_restocks_through_the_ledger_once(shop, browser):
    mug_line, tote_line = _fulfilled(shop)
    assert _on_hand(shop.main, shop.mug) == 2
    browser.get(f"/orders/{shop.order.id}/return")
    form = {f"qty-{mug_line.id}": "2", f"restock-{mug_line.id}": "on",
            f"location-{mug_line.id}": str(shop.second.id),  # chosen, not the default
            f"qty-{tote_line.id}": "1", f"location-{tote_line.id}": str(shop.second.id)}
    response = browser.post(f"/orders/{shop.order.id}/returns", form)
    assert response.status_code == 303, response.get_data(as_text=True)
    again = browser.post(f"/orders/{shop.order.id}/returns", form)  # the double submit
    assert again.status_code == 303
    assert _returns() == 1
    assert _on_hand(shop.second, shop.mug) == 2 and _on_hand(shop.main, shop.mug) == 2
    assert _on_hand(shop.second, shop.tote) == 2  # 4 - 2 shipped; the tote was not restocked
    moves = db.session.scalars(select(InventoryMovement).where(
        InventoryMovement.reason == "return_restock")).all()
    assert [(m.delta, m.reference_type) for m in moves] == [(2, "return")]
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.return_recorded"))
    assert event.order_id == shop.order.id
    assert "2 × MUG-1 put back at Downtown shop; 1 × TOTE-1 not restocked" in event.payload["summary"]
    page = browser.get(f"/orders/{shop.order.id}").get_data(as_text=True)
    assert "Order return recorded" in page
    # What came back can't come back again.
    body = browser.get(f"/orders/{shop.order.id}/return").get_data(as_text=True)
    assert "of 1" in body


def test_create_return_refuses_more_than_fulfilled_minus_returned(shop, browser):
    mug_line, tote_line = _fulfilled(shop)
    browser.get(f"/orders/{shop.order.id}/return")
    response = browser.post(f"/orders/{shop.order.id}/returns",
                            {f"qty-{mug_line.id}": "4", f"restock-{mug_line.id}": "on",
                             f"qty-{tote_line.id}": "3"}, htmx=True, target="return-form")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="return-form"')
    assert "Only 3 fulfilled and not returned yet." in body
    assert "Only 2 fulfilled and not returned yet." in body
    assert _returns() == 0 and _on_hand(shop.main, shop.mug) == 2


def test_create_return_refuses_bad_numbers_and_nothing_chosen(shop, browser):
    mug_line, tote_line = _fulfilled(shop)
    browser.get(f"/orders/{shop.order.id}/return")
    response = browser.post(f"/orders/{shop.order.id}/returns",
                            {f"qty-{mug_line.id}": "two", f"qty-{tote_line.id}": "-1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a whole number." in body and "Can&#39;t be negative." in body
    response = browser.post(f"/orders/{shop.order.id}/returns", {f"qty-{mug_line.id}": "0"})
    assert response.status_code == 422
    assert "Choose at least one item to return." in response.get_data(as_text=True)
    assert _returns() == 0


def test_create_return_refuses_another_merchants_location(shop, browser):
    mug_line, _ = _fulfilled(shop)
    other = make_location(make_merchant("Other"), "Their warehouse")
    db.session.commit()
    browser.get(f"/orders/{shop.order.id}/return")
    response = browser.post(f"/orders/{shop.order.id}/returns",
                            {f"qty-{mug_line.id}": "1", f"restock-{mug_line.id}": "on",
                             f"location-{mug_line.id}": str(other.id)})
    assert response.status_code == 422
    assert "That stock location does not exist." in response.get_data(as_text=True)
    assert _returns() == 0 and _on_hand(other, shop.mug) in (None, 0)


def test_create_return_of_another_merchants_order_is_not_found(shop, browser):
    from app.models import Order
    from tests.fixtures.factories import make_channel, make_order

    merchant = make_merchant("Other")
    order = make_order(make_channel(merchant), [(None, 1)])
    db.session.commit()
    assert browser.get(f"/orders/{order.id}/return").status_code == 404
    assert db.session.get(Order, order.id) is not None


def test_return_then_cancel_restores_only_what_did_not_come_back(shop, browser):
    from app.fulfillment import cancel_fulfillment
    from app.models import Fulfillment

    mug_line, _ = _fulfilled(shop)
    browser.get(f"/orders/{shop.order.id}/return")
    assert browser.post(f"/orders/{shop.order.id}/returns",
                        {f"qty-{mug_line.id}": "2", f"restock-{mug_line.id}": "on",
                         f"location-{mug_line.id}": str(shop.main.id)}).status_code == 303
    assert _on_hand(shop.main, shop.mug) == 4
    fulfillment = db.session.scalar(select(Fulfillment).where(Fulfillment.location_id == shop.main.id))
    cancel_fulfillment(fulfillment.id, merchant_id=shop.merchant_id)
    db.session.commit()
    assert _on_hand(shop.main, shop.mug) == 5  # 2 came back by the return, 1 by the cancel
    assert db.session.scalar(select(func.sum(OrderReturnLine.restocked))) == 2
