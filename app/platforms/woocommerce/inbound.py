"""WooCommerce inbound: inbox applies (order and product webhooks -> domain commands), run by
the worker. The connect import and the catalog refresh are in imports.py."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.models import ChannelListing, WebhookInbox
from app.platforms.woocommerce.connect import client_for
from app.platforms.woocommerce.catalog import refresh_product
from app.platforms.woocommerce.sync import RemoteOrder, apply_order, fetch_order, find_order
from app.stock.push import mark_dirty
from app.sync.lock import defer_while_pushing
from app.sync.queue import Job
from app.sync.transactions import end_read


# --- inbox: WooCommerce -> Stockroom --------------------------------------------------

def _delivered_id(job: Job) -> str:
    body = db.session.scalar(select(WebhookInbox.body).where(WebhookInbox.id == job.id))
    return str(json.loads(body)["id"])  # checked first (payload_checks)


def apply_product_webhook(job: Job) -> str:
    """Re-read the product (or variation) and, for a variable product, its variations: new
    listings are matched or queued for matching, a changed SKU is matched again, levels are
    recorded, variations gone from the store are removed."""
    post_id = _delivered_id(job)
    client = client_for(job.channel_id)  # ends the read transaction
    note = refresh_product(client, job.merchant_id, job.channel_id, post_id)
    if job.topic == "product.restored":
        # Back from the trash: what Stockroom holds now is pushed there again (changes made
        # while it was trashed were not pushed to it).
        items = set(db.session.scalars(select(ChannelListing.inventory_item_id).where(
            ChannelListing.merchant_id == job.merchant_id,
            ChannelListing.channel_id == job.channel_id,
            ChannelListing.remote_product_id == post_id, ChannelListing.deleted_at.is_(None),
            ChannelListing.inventory_item_id.is_not(None))))
        if items:
            mark_dirty(job.merchant_id, channel_id=job.channel_id, item_ids=items)
    return note


def apply_product_deleted(job: Job) -> str:
    """A product moved to the trash: its listings are marked deleted, never pushed to again.

    Re-read first: a product restored since (its ``product.restored`` may come later, or
    was missed) is kept.
    """
    post_id = _delivered_id(job)
    client = client_for(job.channel_id)
    return refresh_product(client, job.merchant_id, job.channel_id, post_id)

def apply_order_webhook(job: Job) -> str:
    """Re-read the order from the store (payloads may arrive in any order) and apply it."""
    body = db.session.scalar(select(WebhookInbox.body).where(WebhookInbox.id == job.id))
    order_id = json.loads(body)["id"]  # checked first (payload_checks.check_order)
    existing = find_order(job.channel_id, str(order_id))
    defer_while_pushing(existing)
    end_read()
    client = client_for(job.channel_id)
    remote: RemoteOrder | None = fetch_order(client, str(order_id))
    if remote is None:
        return f"order {order_id} no longer exists on the store"
    return apply_order(job.merchant_id, job.channel_id, remote)
