"""Connecting sandbox stores without a browser (the demo seed): a REST key instead of wc-auth."""
from __future__ import annotations

import secrets

from sqlalchemy import select, update

from app.extensions import db
from app.models import (Channel, InventoryItem, JobStatus, OutboxEvent, Platform,
                        StockLocation)
from app.models._common import utcnow
from app.platforms.woocommerce.client import Keys
from app.platforms.woocommerce.connect import (ConnectState, default_location_id,
                                               save_connection)
from app.platforms.woocommerce.imports import initial_import
from app.platforms.woocommerce.urls import normalize_store_url
from app.stock.levels import apply_movements
from sandbox.woocommerce.seed import seeded_key_pair

#: The sandbox catalog's SKUs (sandbox/woocommerce/seed.py), stocked for the demo.
SANDBOX_SKUS = {"TEE-CLASSIC": "Classic Tee", "TOTE-CANVAS": "Canvas Tote",
                "MUG-ENAMEL": "Enamel Mug", "HOODIE-S": "Hoodie — S", "HOODIE-M": "Hoodie — M",
                "HOODIE-L": "Hoodie — L", "BEANIE-BLK": "Beanie — Black",
                "BEANIE-GRY": "Beanie — Grey"}


def connect_store_with_key(merchant_id: int, store_url: str, key: dict, *, app_url: str,
                           name: str = "", location_id: int | None = None) -> Channel:
    """Connect a store with a REST key made on the store (no wc-auth, no browser). Flushes.

    What wc-auth's approve does: the key saved encrypted with a new webhook secret, the
    store's one ChannelLocation mapped to ``location_id`` (default: the merchant's first
    active location), and ``channel.connected`` queued — the worker (or
    :func:`import_store_now`) registers webhooks delivered to ``app_url`` and imports
    listings and open orders. ``key``: ``consumer_key``, ``consumer_secret`` (as the
    sandbox's ``POST /stores/<slug>/keys`` answers). The store URL's origin must be in
    WOOCOMMERCE_SANDBOX_ORIGINS unless it is a public https store.
    """
    state = ConnectState(merchant_id=merchant_id, user_id=None,
                         store_url=normalize_store_url(store_url),
                         location_id=location_id or default_location_id(merchant_id),
                         nonce=secrets.token_urlsafe(18))
    keys = Keys(key["consumer_key"], key["consumer_secret"], key.get("key_id"),
                key.get("permissions") or key.get("key_permissions") or "read_write")
    return save_connection(state, keys, app_url=app_url, name=name)


def import_store_now(channel_id: int) -> str:
    """Run the connect import inline instead of in the worker (demo seeding); commits.

    The queued ``channel.connected`` job is marked done with the same note.
    """
    channel = db.session.get(Channel, channel_id)
    merchant_id = channel.merchant_id
    db.session.commit()
    note = initial_import(merchant_id, channel_id)
    db.session.execute(update(OutboxEvent).where(
        OutboxEvent.channel_id == channel_id, OutboxEvent.topic == "channel.connected",
        OutboxEvent.status == JobStatus.PENDING, OutboxEvent.locked_by.is_(None))
        .values(status=JobStatus.DONE, done_at=utcnow(), last_error=f"inline: {note}"))
    db.session.commit()
    return note


def connect_demo_store(merchant_id: int, store_url: str, *, app_url: str,
                       slug: str = "demo-store", location_id: int | None = None,
                       opening_stock: int = 20) -> tuple[Channel, bool]:
    """Connect a seeded sandbox store (its seeded read_write key). Flushes.

    The sandbox catalog's SKUs are created as items with ``opening_stock`` at the mapped
    location, so listings match. Idempotent: (channel, False) when already connected.
    """
    existing = db.session.scalar(select(Channel).where(
        Channel.platform == Platform.WOOCOMMERCE,
        Channel.domain == normalize_store_url(store_url)))
    if existing is not None:
        return existing, False
    location_id = location_id or default_location_id(merchant_id)
    _stock_sandbox_skus(merchant_id, location_id, opening_stock)
    consumer_key, consumer_secret = seeded_key_pair(slug, "read_write")
    channel = connect_store_with_key(
        merchant_id, store_url, {"consumer_key": consumer_key,
                                 "consumer_secret": consumer_secret},
        app_url=app_url, name="Demo Store (WooCommerce sandbox)", location_id=location_id)
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
