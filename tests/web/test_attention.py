"""What needs the merchant (app/web/attention.py): each merchant sees only its own locations,
held pushes and shops to re-authorize."""
from app.extensions import db
from app.models import ChannelListing, ChannelLocation, InventoryPushState, RemoteStatus
from app.web.attention import held_pushes, location_attention, reauthorizations
from tests.fixtures.factories import make_channel, make_item, make_location, make_merchant


def _world(name: str):
    merchant = make_merchant(name)
    channel = make_channel(merchant)
    stock_location, item = make_location(merchant), make_item(merchant)
    listing = ChannelListing(merchant_id=merchant.id, channel_id=channel.id,
                             remote_variant_id=f"gid://shopify/ProductVariant/{merchant.id}",
                             sku=item.sku, inventory_item_id=item.id)
    new = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id, name=f"{name} new",
                          remote_id=f"gid://shopify/Location/{merchant.id}1")
    retired = ChannelLocation(merchant_id=merchant.id, channel_id=channel.id,
                              name=f"{name} retired", remote_id=f"gid://shopify/Location/{merchant.id}2",
                              stock_location_id=stock_location.id,
                              remote_status=RemoteStatus.INACTIVE)
    db.session.add_all([listing, new, retired])
    db.session.flush()
    db.session.add(InventoryPushState(merchant_id=merchant.id, channel_id=channel.id,
                                      channel_location_id=retired.id, listing_id=listing.id,
                                      generation=2, pushed_generation=1))
    db.session.flush()
    return merchant


def test_attention_lists_only_the_merchants_own_locations_and_pushes(app):
    ours, theirs = _world("Ours"), _world("Theirs")
    found = location_attention(ours.id)
    assert [cl.name for cl in found["unmapped"]] == ["Ours new"]
    assert [cl.name for cl in found["retired"]] == ["Ours retired"]
    [held] = held_pushes(ours.id)
    assert (held.location.name, held.waiting) == ("Ours retired", 1)
    assert "deactivated on the platform" in held.reason
    assert [h.location.name for h in held_pushes(theirs.id)] == ["Theirs retired"]


def test_attention_held_pushes_leave_out_pushed_rows_and_active_locations(app):
    ours = _world("Ours")
    db.session.execute(InventoryPushState.__table__.update().values(pushed_generation=2))
    assert held_pushes(ours.id) == []
    db.session.execute(InventoryPushState.__table__.update().values(pushed_generation=1))
    db.session.execute(ChannelLocation.__table__.update().values(remote_status="active"))
    assert held_pushes(ours.id) == []



def test_reauthorizations_lists_installed_shops_missing_a_required_scope(app):
    from app.platforms.shopify.settings import load_settings

    settings = load_settings({"SHOPIFY_API_SECRET": "x"})
    saved = app.extensions.get("stockroom.shopify")
    app.extensions["stockroom.shopify"] = settings
    try:
        ours, theirs = _world("Ours"), _world("Theirs")
        for merchant in (ours, theirs):
            channel = merchant_channel(merchant)
            channel.credentials_encrypted = b"token"
            channel.scopes = ",".join(s for s in settings.scopes if s != "write_inventory")
        merchant_channel(theirs).scopes = ",".join(settings.scopes)
        db.session.flush()
        [r] = reauthorizations(ours.id)
        channel = merchant_channel(ours)
        # write_inventory is missing; read_inventory is still granted.
        assert r.channel.id == channel.id and r.missing == ["write_inventory"]
        assert r.url == (f"https://{channel.domain}/admin/oauth/install"
                         f"?client_id={settings.client_id}")
        assert reauthorizations(theirs.id) == []
        channel.credentials_encrypted = None  # uninstalled: nothing to re-authorize
        assert reauthorizations(ours.id) == []
    finally:
        app.extensions["stockroom.shopify"] = saved


def merchant_channel(merchant):
    from sqlalchemy import select

    from app.models import Channel

    return db.session.scalar(select(Channel).where(Channel.merchant_id == merchant.id))
