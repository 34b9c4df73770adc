"""Shopify's channel adapter: the contract (app/platforms/base.py) mapped onto this package."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, current_app

from app.models import Platform
from app.platforms.base import Route
from app.platforms.shopify import (bulk, compliance, imports, inbound, inventory, lifecycle,
                                   lifecycle_checks, outbound, payload_checks, reconcile, refunds,
                                   returns, scheduled)
from app.platforms.shopify.settings import load_settings
from app.sync.handlers import Handler, PayloadCheck
from app.sync.queue import Job
from app.sync.schedule import Task
from app.sync.topics import Topic


class ShopifyAdapter:
    """Shopify: OAuth / managed install, GraphQL Admin API, HMAC webhooks from the toml."""

    platform = Platform.SHOPIFY
    import_topic = Topic.CHANNEL_INSTALLED
    reconcile_topic = Topic.SHOPIFY_RECONCILE

    def init_app(self, app: Flask) -> None:
        """Settings (toml + environment), the blueprint, webhook intake, session tokens."""
        from app.platforms.shopify import init_app

        init_app(app)

    def subscribed_topics(self) -> frozenset[str]:
        """The toml's webhook subscriptions (compliance topics included)."""
        settings = current_app.extensions.get("stockroom.shopify") or load_settings(
            {"SHOPIFY_API_SECRET": "-"})
        return frozenset(settings.webhook_topics)

    def start_import(self, job: Job) -> str:
        """First sync after (re)install: webhooks, locations, products, open orders."""
        return imports.start_import(job)

    def push_fulfillment(self, job: Job) -> str:
        """fulfillmentCreate at the mapped location, moving items there first."""
        return outbound.push_fulfillment(job)

    def push_cancel(self, job: Job) -> str:
        """fulfillmentCancel."""
        return outbound.push_cancel(job)

    def push_tracking(self, job: Job) -> str:
        """fulfillmentTrackingInfoUpdate."""
        return outbound.push_tracking(job)

    def push_shipped(self, job: Job) -> str:
        """An IN_TRANSIT fulfillment event."""
        return outbound.push_shipped(job)

    def push_delivered(self, job: Job) -> str:
        """A DELIVERED fulfillment event."""
        return outbound.push_delivered(job)

    def push_inventory(self, job: Job) -> str:
        """inventorySetQuantities, 250 per call."""
        return inventory.push_inventory(job)

    def reconcile(self, job: Job) -> str:
        """Orders and fulfillments changed since the last run, locations, refunds."""
        return reconcile.reconcile_channel(job)

    def inbound(self) -> Mapping[str, Handler]:
        """Every subscribed webhook topic and its handler (each re-reads from Shopify)."""
        table: dict[str, Handler] = {
            "app/uninstalled": inbound.apply_uninstalled,
            "app/scopes_update": lifecycle.apply_scopes_update,
            "bulk_operations/finish": bulk.apply_bulk_finish,
            "products/delete": inbound.apply_product_deleted,
            "refunds/create": refunds.apply_refund,
            "customers/redact": compliance.apply_customer_redact,
            "customers/data_request": compliance.apply_data_request,
            "shop/redact": compliance.apply_shop_redact}
        for topics, handler in (
                (inbound.ORDER_TOPICS, inbound.apply_order),
                (inbound.FULFILLMENT_WEBHOOK_TOPICS, inbound.apply_fulfillment),
                (inbound.FULFILLMENT_ORDER_STATUS_TOPICS, inbound.refresh_order_from_fo),
                (inbound.PRODUCT_TOPICS, inbound.apply_product),
                (lifecycle.LOCATION_TOPICS, lifecycle.apply_location),
                (lifecycle.FULFILLMENT_ORDER_TOPICS, lifecycle.refresh_fulfillment_orders),
                ((*returns.STATE_TOPICS, *returns.RESTOCK_TOPICS), returns.apply_return)):
            table.update(dict.fromkeys(topics, handler))
        return table

    def payload_checks(self) -> Mapping[str, PayloadCheck]:
        """Every subscribed webhook topic and the check its body must pass (it names this
        shop, and ids of the topic's resource) before its handler runs."""
        checks = payload_checks
        table: dict[str, PayloadCheck] = {
            "app/uninstalled": checks.check_shop,
            "app/scopes_update": lifecycle_checks.check_scopes_update,
            "bulk_operations/finish": bulk.check_bulk_finish,
            "products/delete": checks.check_product_deleted,
            "refunds/create": refunds.check_refund,
            "fulfillment_orders/merged": lifecycle_checks.check_fulfillment_orders_merged}
        for topics, check in (
                (("shop/redact", "customers/redact", "customers/data_request"),
                 checks.check_compliance),
                (inbound.ORDER_TOPICS, checks.check_order),
                (inbound.FULFILLMENT_WEBHOOK_TOPICS, checks.check_fulfillment),
                (inbound.FULFILLMENT_ORDER_STATUS_TOPICS, checks.check_fulfillment_orders),
                (inbound.PRODUCT_TOPICS, checks.check_product),
                (lifecycle.LOCATION_TOPICS, lifecycle_checks.check_location),
                ((*returns.STATE_TOPICS, *returns.RESTOCK_TOPICS), returns.check_return)):
            table.update(dict.fromkeys(topics, check))
        for topic in lifecycle.FULFILLMENT_ORDER_TOPICS:
            table.setdefault(topic, lifecycle_checks.check_fulfillment_order_change)
        return table

    def jobs(self) -> Mapping[Topic, Route]:
        """Import and catalog-refresh continuations, the catalog re-read, token refresh, a
        return recorded in Stockroom to send."""
        return {Topic.SHOPIFY_IMPORT: Route(imports.continue_import),
                Topic.CATALOG_REFRESH_REQUESTED: Route(imports.start_catalog_refresh),
                Topic.SHOPIFY_CATALOG_REFRESH: Route(imports.continue_catalog_refresh),
                Topic.SHOPIFY_TOKEN_REFRESH: Route(scheduled.refresh_token),
                Topic.ORDER_RETURN_RECORDED: Route(returns.push_return)}

    def periodic_tasks(self) -> Mapping[str, tuple[float, Task]]:
        """Token refreshes before expiry and reconciliations, per shop when due; waiting bulk
        operations looked at (their finish webhook may never come)."""
        return {Topic.SHOPIFY_TOKEN_REFRESH: (scheduled.TICK_SECONDS,
                                              scheduled.enqueue_token_refreshes),
                Topic.SHOPIFY_RECONCILE: (scheduled.TICK_SECONDS,
                                          scheduled.enqueue_reconciliations),
                # A periodic task's name, not a job topic: it queues the runs' own jobs.
                "shopify.bulk_poll": (scheduled.TICK_SECONDS, bulk.enqueue_bulk_polls)}
