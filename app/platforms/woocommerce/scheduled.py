"""WooCommerce's periodic job: the reconciliation of every connected store, when due."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelStatus, Platform
from app.models._common import utcnow
from app.platforms.woocommerce.connect import settings
from app.platforms.woocommerce.sync import RECONCILE_TOPIC, reconcile_due
from app.sync.schedule import enqueue_once
from app.sync.transactions import commit_step, end_read

#: How often each worker looks for due stores (the interval itself is a setting).
TICK_SECONDS = 60


def enqueue_reconciliations() -> int:
    """Queue a reconciliation for every store whose last sync is older than the interval."""
    ids = list(db.session.scalars(select(Channel.id).where(
        Channel.platform == Platform.WOOCOMMERCE, Channel.status == ChannelStatus.ACTIVE)
        .order_by(Channel.id)))
    end_read()
    interval, now, queued = settings().reconcile_seconds, utcnow(), 0
    for channel_id in ids:
        if reconcile_due(db.session.get(Channel, channel_id), interval, now):
            queued += enqueue_once(channel_id, RECONCILE_TOPIC, {"scheduled": True})
        commit_step()
    return queued
