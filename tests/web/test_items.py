"""Items by hand: the inventory page from an empty database, New item, Edit, the item page."""
from sqlalchemy import select

from app.catalog import RemoteVariant, create_items_from_listings, upsert_remote_listings
from app.extensions import db
from app.models import Channel, ChannelListing, InventoryItem, Merchant, User
from tests.fixtures.factories import make_channel


def _v(vid, sku, *, image_url="", title=None):
    return RemoteVariant(remote_variant_id=vid, remote_product_id=f"P{vid}",
                         remote_inventory_item_id=None, sku=sku, title=title or f"Title {vid}",
                         image_url=image_url)


def _item(sku):
    db.session.expire_all()
    return db.session.scalar(select(InventoryItem).where(InventoryItem.sku == sku))


def test_inventory_from_an_empty_database_says_how_to_get_items(app, browser):
    assert browser.sign_up().status_code == 303
    response = browser.get("/inventory")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "No items yet" in body
    assert 'href="/listings"' in body and 'href="/connections"' in body
    assert 'action="/inventory/items"' in body and "<details open>" in body


def test_new_item_by_hand_matches_waiting_listings(shop, browser):
    channel = db.session.get(Channel, shop.order.channel_id)
    upsert_remote_listings(shop.merchant_id, channel.id, [_v("1", "BAG-9")])
    db.session.commit()
    browser.get("/inventory")
    response = browser.post("/inventory/items", {"sku": " BAG-9 ", "title": "Bag",
                                                 "barcode": "999", "image_url": ""})
    item = _item("BAG-9")
    assert response.status_code == 303 and response.headers["Location"] == f"/inventory/{item.id}"
    assert (item.title, item.barcode, item.source_channel_id) == ("Bag", "999", None)
    listing = db.session.scalar(select(ChannelListing).where(ChannelListing.sku == "BAG-9"))
    assert listing.inventory_item_id == item.id
    body = browser.get(f"/inventory/{item.id}").get_data(as_text=True)
    assert "Item BAG-9 created." in body and "Made by hand" in body and "999" in body
    assert channel.name in body  # "Sold on": the store whose listing matched


def test_new_item_errors_inline(shop, browser):
    browser.get("/inventory")
    response = browser.post("/inventory/items", {"sku": "mug-1"}, target="new-item")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and body.lstrip().startswith('<section id="new-item"')
    assert 'id="new-sku-error"' in body and "case or spacing" in body
    response = browser.post("/inventory/items", {"sku": "OK-1", "image_url": "javascript:alert(1)"},
                            target="new-item")
    assert response.status_code == 422 and 'id="new-image_url-error"' in response.get_data(as_text=True)
    assert browser.post("/inventory/items", {"sku": "  "}, target="new-item").status_code == 422
    assert _item("OK-1") is None and _item("mug-1") is None


def test_new_item_form_acted_on_once(shop, browser):
    browser.get("/inventory")
    token = browser.form_tokens["/inventory/items"]
    data = {"sku": "ONCE-1", "form_token": token}
    assert browser.post("/inventory/items", data).status_code == 303
    again = browser.post("/inventory/items", data, follow_redirects=True)
    assert "This form was already submitted: Item ONCE-1 created." in again.get_data(as_text=True)


def test_edit_item_rematches_and_refuses_a_taken_sku(shop, browser):
    channel = db.session.get(Channel, shop.order.channel_id)
    upsert_remote_listings(shop.merchant_id, channel.id, [_v("1", "MUG-1"), _v("2", "MUG-2")])
    db.session.commit()
    url = f"/inventory/{shop.mug.id}/edit"
    browser.get(f"/inventory/{shop.mug.id}")
    response = browser.post(url, {"sku": "TOTE-1", "title": "Mug"}, target="item-details")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and body.lstrip().startswith('<div id="item-details"')
    assert 'id="edit-sku-error"' in body and "already exists" in body
    response = browser.post(url, {"sku": "MUG-2", "title": "Mug, large", "barcode": "123",
                                  "image_url": "https://cdn.example.test/mug.png"})
    assert response.status_code == 303
    item = _item("MUG-2")
    assert (item.id, item.title, item.barcode) == (shop.mug.id, "Mug, large", "123")
    by_vid = {row.remote_variant_id: row.inventory_item_id for row in db.session.scalars(
        select(ChannelListing).where(ChannelListing.channel_id == channel.id))}
    assert by_vid == {"1": None, "2": shop.mug.id}
    body = browser.get(f"/inventory/{shop.mug.id}").get_data(as_text=True)
    assert 'src="https://cdn.example.test/mug.png"' in body and "Item MUG-2 saved." in body


def test_edit_other_merchants_item_is_404(shop, browser):
    mug_id = shop.mug.id
    browser.post("/sign-out")
    browser.sign_up(email="other@example.test")
    assert browser.get(f"/inventory/{mug_id}").status_code == 404
    assert browser.post(f"/inventory/{mug_id}/edit", {"sku": "MINE"}).status_code == 404
    assert _item("MUG-1") is not None


def test_item_page_shows_its_source_listing_and_never_a_script_image(shop, browser):
    user = db.session.query(User).one()
    channel = make_channel(db.session.get(Merchant, user.merchant_id))
    upsert_remote_listings(shop.merchant_id, channel.id, [
        _v("9", "<b>SKU</b>", image_url="javascript:alert(1)", title="<script>x</script>")])
    listing = db.session.scalar(select(ChannelListing).where(ChannelListing.remote_variant_id == "9"))
    create_items_from_listings(shop.merchant_id, [listing.id])
    db.session.commit()
    item = _item("<b>SKU</b>")
    body = browser.get(f"/inventory/{item.id}").get_data(as_text=True)
    assert "javascript:alert" not in body.split('id="item-details"')[1].split("<form")[0]
    assert "<b>SKU</b>" not in body and "&lt;b&gt;SKU&lt;/b&gt;" in body
    assert "<script>x</script>" not in body
    assert f"{channel.name} (Shopify)" in body  # created from that store's listing
    assert "Item created from this listing." in body
