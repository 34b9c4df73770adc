"""Outbox topics, one Enum; str-valued, so stored rows and payloads keep their strings."""
from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    """What an outbox event says happened (past tense) or asks for (a job)."""

    # A fulfillment changed in Stockroom (or was recorded from a platform): pushed when
    # the event's source is the app (app.sync.origin.made_in_app).
    FULFILLMENT_CREATED = "fulfillment.created"
    FULFILLMENT_CANCELED = "fulfillment.canceled"
    FULFILLMENT_TRACKING_UPDATED = "fulfillment.tracking_updated"
    FULFILLMENT_SHIPPED = "fulfillment.shipped"
    FULFILLMENT_DELIVERED = "fulfillment.delivered"
    # A channel's life: installed / connected (the first import), reconciliation.
    CHANNEL_INSTALLED = "channel.installed"
    CHANNEL_CONNECTED = "channel.connected"
    CHANNEL_RECONCILE_REQUESTED = "channel.reconcile_requested"
    CATALOG_REFRESH_REQUESTED = "catalog.refresh_requested"
    # Stock: a level changed (fanned out per channel), a channel's push is due.
    INVENTORY_LEVELS_CHANGED = "inventory.levels_changed"
    INVENTORY_PUSH_REQUESTED = "inventory.push_requested"
    # Refunds: recorded (timeline, status counts), a store's refunds to read.
    ORDER_REFUND_RECORDED = "order.refund_recorded"
    ORDER_REFUNDS_CHANGED = "order.refunds_changed"
    # A return recorded in Stockroom (timeline; pushed to its platform).
    ORDER_RETURN_RECORDED = "order.return_recorded"
    # Warehouse: a merchant's daily low-stock digest to send.
    WAREHOUSE_LOW_STOCK_DIGEST = "warehouse.low_stock_digest"
    # Platform-specific jobs (continuations of long runs, periodic work).
    SHOPIFY_IMPORT = "shopify.import"
    SHOPIFY_CATALOG_REFRESH = "shopify.catalog_refresh"
    SHOPIFY_RECONCILE = "shopify.reconcile"
    SHOPIFY_TOKEN_REFRESH = "shopify.token_refresh"
    WOOCOMMERCE_IMPORT = "woocommerce.import"


#: The topics of a fulfillment's pushes start so: an unfinished one holds the sync lock.
FULFILLMENT_PREFIX = "fulfillment."
FULFILLMENT_TOPICS = tuple(t for t in Topic if t.startswith(FULFILLMENT_PREFIX))
