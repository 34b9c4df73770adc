"""`make demo`: connect the WooCommerce sandbox's demo store to the demo merchant, no browser."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, InventoryItem, Platform, StockLocation
from app.platforms.woocommerce.client import Keys
from app.platforms.woocommerce.connect import (ConnectState, default_location_id,
                                               save_connection)
from app.stock.levels import apply_movements

#: The sandbox catalog's SKUs (sandbox/woocommerce/seed.py), stocked for the demo.
SANDBOX_SKUS = {"TEE-CLASSIC": "Classic Tee", "TOTE-CANVAS": "Canvas Tote",
                "MUG-ENAMEL": "Enamel Mug", "HOODIE-S": "Hoodie — S", "HOODIE-M": "Hoodie — M",
                "HOODIE-L": "Hoodie — L", "BEANIE-BLK": "Beanie — Black",
                "BEANIE-GRY": "Beanie — Grey"}


def connect_demo_store(merchant_id: int, store_url: str, *, app_url: str,
                       slug: str = "demo-store", location_id: int | None = None,
                       opening_stock: int = 20) -> tuple[Channel, bool]:
    """Connect the sandbox store at ``store_url`` with its seeded read_write key. Flushes.

    What wc-auth's approve would do, minus the browser: keys saved encrypted, the store
    mapped to ``location_id`` (default: the merchant's first active location), and the
    ``channel.connected`` job queued — the worker then registers webhooks (delivered to
    ``app_url``) and imports products and open orders. The sandbox catalog's SKUs are
    created as items with ``opening_stock`` there, so listings match. Idempotent: returns
    (channel, False) when the store is already connected. ``store_url``'s origin must be
    in WOOCOMMERCE_SANDBOX_ORIGINS.
    """
    from sandbox.woocommerce.seed import seeded_key_pair

    existing = db.session.scalar(select(Channel).where(
        Channel.platform == Platform.WOOCOMMERCE, Channel.domain == store_url.rstrip("/")))
    if existing is not None:
        return existing, False
    location_id = location_id or default_location_id(merchant_id)
    _stock_sandbox_skus(merchant_id, location_id, opening_stock)
    consumer_key, consumer_secret = seeded_key_pair(slug, "read_write")
    state = ConnectState(merchant_id=merchant_id, user_id=None,
                         store_url=store_url.rstrip("/"), location_id=location_id,
                         nonce=secrets.token_urlsafe(18))
    channel = save_connection(state, Keys(consumer_key, consumer_secret), app_url=app_url,
                              name="Demo Store (WooCommerce sandbox)")
    return channel, True


def _stock_sandbox_skus(merchant_id: int, location_id: int | None, quantity: int) -> None:
    have = set(db.session.scalars(select(InventoryItem.sku).where(
        InventoryItem.merchant_id == merchant_id, InventoryItem.sku.in_(SANDBOX_SKUS))))
    new = [InventoryItem(merchant_id=merchant_id, sku=sku, title=title)
           for sku, title in SANDBOX_SKUS.items() if sku not in have]
    db.session.add_all(new)
    db.session.flush()
    location = db.session.get(StockLocation, location_id) if location_id else None
    if location is not None and new and quantity:
        apply_movements(merchant_id, location, {item.id: quantity for item in new},
                        reason="received", note="Opening stock (demo)")
