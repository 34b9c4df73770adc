"""WooCommerce's channel adapter: the contract (app/platforms/base.py) mapped onto this package."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from app.models import Platform
from app.platforms.base import Route
from app.platforms.woocommerce import (imports, inbound, inventory, outbound, payload_checks,
                                       reconcile, refunds, returns, scheduled)
from app.platforms.woocommerce.settings import WEBHOOK_TOPICS
from app.sync.handlers import Handler, PayloadCheck
from app.sync.queue import Job
from app.sync.schedule import Task
from app.sync.topics import Topic


class WooCommerceAdapter:
    """WooCommerce: wc-auth connect, REST v3 (the `woocommerce` library), signed webhooks."""

    platform = Platform.WOOCOMMERCE
    import_topic = Topic.CHANNEL_CONNECTED
    reconcile_topic = Topic.CHANNEL_RECONCILE_REQUESTED

    def init_app(self, app: Flask) -> None:
        """Settings (environment), the blueprint (connect, webhook intake), the CLI."""
        from app.platforms.woocommerce import init_app

        init_app(app)

    def subscribed_topics(self) -> frozenset[str]:
        """The webhooks created on every connected store (ensure_webhooks)."""
        return frozenset(WEBHOOK_TOPICS)

    def start_import(self, job: Job) -> str:
        """Webhooks, listings with their stock, open orders: all pages, resumable."""
        return imports.import_after_connect(job)

    def push_fulfillment(self, job: Job) -> str:
        """Tracking entry, customer note, `completed` once every line is fulfilled."""
        return outbound.push_fulfillment(job)

    def push_cancel(self, job: Job) -> str:
        """Our tracking entry removed, a note, the order reopened if we completed it."""
        return outbound.push_cancel(job)

    def push_tracking(self, job: Job) -> str:
        """Our tracking entry replaced, a note."""
        return outbound.push_tracking(job)

    def push_shipped(self, job: Job) -> str:
        """WooCommerce orders have no shipment states."""
        return outbound.push_shipment_state(job)

    def push_delivered(self, job: Job) -> str:
        """WooCommerce orders have no shipment states."""
        return outbound.push_shipment_state(job)

    def push_inventory(self, job: Job) -> str:
        """Batch endpoints, 100 per request."""
        return inventory.push_inventory(job)

    def reconcile(self, job: Job) -> str:
        """Orders and products modified since the last sync, webhooks re-enabled."""
        return reconcile.reconcile(job)

    def inbound(self) -> Mapping[str, Handler]:
        """Every subscribed webhook topic and its handler (each re-reads from the store)."""
        return {"order.created": inbound.apply_order_webhook,
                "order.updated": inbound.apply_order_webhook,
                "order.deleted": inbound.apply_order_webhook,
                "product.created": inbound.apply_product_webhook,
                "product.updated": inbound.apply_product_webhook,
                "product.restored": inbound.apply_product_webhook,
                "product.deleted": inbound.apply_product_deleted}

    def payload_checks(self) -> Mapping[str, PayloadCheck]:
        """Every subscribed webhook topic and the check its body must pass (a well-formed
        id of the topic's resource) before its handler runs."""
        return {**dict.fromkeys(("order.created", "order.updated", "order.deleted"),
                                payload_checks.check_order),
                **dict.fromkeys(("product.created", "product.updated", "product.deleted",
                                 "product.restored"), payload_checks.check_product)}

    def jobs(self) -> Mapping[Topic, Route]:
        """The catalog re-read, run continuations, the refunds of an order to read, a return
        recorded in Stockroom to send."""
        return {Topic.CATALOG_REFRESH_REQUESTED: Route(imports.refresh_catalog),
                Topic.WOOCOMMERCE_IMPORT: Route(imports.continue_run),
                Topic.ORDER_REFUNDS_CHANGED: Route(refunds.apply_refunds),
                Topic.ORDER_RETURN_RECORDED: Route(returns.push_return)}

    def periodic_tasks(self) -> Mapping[str, tuple[float, Task]]:
        """The reconciliation of every store when due."""
        return {"woocommerce.reconcile": (scheduled.TICK_SECONDS,
                                          scheduled.enqueue_reconciliations)}
