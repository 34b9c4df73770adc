"""The one place channel adapters and every job handler are registered with the sync core."""
from __future__ import annotations

from flask import Flask

from app.platforms.base import ChannelAdapter, outbox_routes
from app.sync import handlers, schedule
from app.sync.topics import Topic


def adapters() -> tuple[ChannelAdapter, ...]:
    """Every platform Stockroom connects to, one adapter object each."""
    from app.platforms.shopify.adapter import ShopifyAdapter
    from app.platforms.woocommerce.adapter import WooCommerceAdapter

    return (ShopifyAdapter(), WooCommerceAdapter())


def register_handlers(platforms: tuple[ChannelAdapter, ...]) -> None:
    """Route each outbox topic and webhook topic to its handler (idempotent: the tables are
    keyed, so a second app in one process registers the same functions again)."""
    from app.fulfillment.sync_state import mark_sync_failed
    from app.orders.counts import FOLD_EVERY_SECONDS, fold_status_counts
    from app.orders.refunds import show_refund
    from app.orders.returns import show_return
    from app.stock.push import fan_out_levels_changed
    from app.warehouse.low_stock import schedule_low_stock_digests, send_low_stock_digest

    # Domain topics, handled the same for every (or no) channel.
    handlers.register_outbox(Topic.INVENTORY_LEVELS_CHANGED, fan_out_levels_changed)
    handlers.register_outbox(Topic.ORDER_REFUND_RECORDED, show_refund)
    handlers.register_outbox(Topic.ORDER_RETURN_RECORDED, show_return)
    handlers.register_outbox(Topic.WAREHOUSE_LOW_STOCK_DIGEST, send_low_stock_digest)
    schedule.register_periodic(Topic.WAREHOUSE_LOW_STOCK_DIGEST, schedule_low_stock_digests,
                               every_seconds=600)
    # Housekeeping: no platform involved, no job queued (the dashboard's own is registered
    # by app/web init_web: platforms never import the dashboard).
    schedule.register_periodic("orders.fold_status_counts", fold_status_counts,
                               every_seconds=FOLD_EVERY_SECONDS)
    for adapter in platforms:
        for topic, route in outbox_routes(adapter, on_push_failure=mark_sync_failed).items():
            handlers.register_outbox(topic, route.handler, platform=adapter.platform,
                                     on_failure=route.on_failure)
        for topic, handler in adapter.inbound().items():
            handlers.register_inbox(adapter.platform, topic, handler)
        for topic, check in adapter.payload_checks().items():
            handlers.register_payload_check(adapter.platform, topic, check)
        for name, (every, task) in adapter.periodic_tasks().items():
            schedule.register_periodic(name, task, every_seconds=every)


def init_app(app: Flask) -> None:
    """Register every adapter's handlers, then let each set itself up on the app."""
    platforms = adapters()
    register_handlers(platforms)
    app.extensions["stockroom.adapters"] = {a.platform: a for a in platforms}
    for adapter in platforms:
        adapter.init_app(app)


def contract_gaps(adapter: ChannelAdapter) -> list[str]:
    """What an adapter leaves undone: a subscribed topic without a handler or a payload
    check, a handler or check for a topic the platform is not asked to deliver, an outbox
    topic outside the Topic enum."""
    gaps = []
    if not isinstance(adapter, ChannelAdapter):
        gaps.append(f"{type(adapter).__name__} does not implement ChannelAdapter")
        return gaps
    subscribed, handled = adapter.subscribed_topics(), set(adapter.inbound())
    gaps += [f"{adapter.platform}: {t} is subscribed but has no handler"
             for t in sorted(subscribed - handled)]
    gaps += [f"{adapter.platform}: {t} has a handler but nobody subscribes to it"
             for t in sorted(handled - subscribed)]
    checked = set(adapter.payload_checks())
    gaps += [f"{adapter.platform}: {t} is subscribed but its body is not checked"
             for t in sorted(subscribed - checked)]
    gaps += [f"{adapter.platform}: {t} has a payload check but nobody subscribes to it"
             for t in sorted(checked - subscribed)]
    gaps += [f"{adapter.platform}: outbox topic {t!r} is not a Topic"
             for t in outbox_routes(adapter, on_push_failure=lambda *a: None)
             if t not in set(Topic)]
    return gaps
