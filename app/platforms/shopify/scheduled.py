"""Shopify's periodic jobs: token refresh before expiry and the reconciliation, per channel."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelStatus, Platform
from app.models._common import utcnow
from app.platforms.shopify.imports import UNINSTALLED_NOTE
from app.platforms.shopify.mapping import parse_time
from app.platforms.shopify.sync import settings
from app.platforms.shopify.tokens import TokenRequestError, read_credentials, refresh_if_due
from app.sync.errors import RetryableError
from app.sync.queue import Job
from app.sync.schedule import enqueue_once
from app.sync.topics import Topic
from app.sync.transactions import commit_step, end_read

#: How often each worker looks for due work (the intervals themselves are in the settings).
TICK_SECONDS = 60


def _active_channel_ids() -> list[int]:
    ids = list(db.session.scalars(select(Channel.id).where(
        Channel.platform == Platform.SHOPIFY, Channel.status == ChannelStatus.ACTIVE)
        .order_by(Channel.id)))
    end_read()
    return ids


def enqueue_token_refreshes() -> int:
    """Queue a refresh for every shop whose token expires within the margin."""
    if current_app.extensions.get("stockroom.shopify") is None:
        return 0
    margin = settings().refresh_margin_seconds
    queued = 0
    for channel_id in _active_channel_ids():
        credentials = read_credentials(db.session.get(Channel, channel_id))
        if credentials is not None and credentials.needs_refresh(margin=margin + TICK_SECONDS):
            queued += enqueue_once(channel_id, Topic.SHOPIFY_TOKEN_REFRESH)
        commit_step()
    return queued


def refresh_token(job: Job) -> str:
    """Rotate the shop's access token if it is (still) due; another worker may have."""
    active = db.session.scalar(select(Channel.status).where(Channel.id == job.channel_id))
    end_read()
    if active != ChannelStatus.ACTIVE:
        return UNINSTALLED_NOTE
    try:
        cfg = settings()
        refreshed = refresh_if_due(cfg, job.channel_id,
                                   margin=cfg.refresh_margin_seconds + TICK_SECONDS)
    except TokenRequestError as exc:
        raise RetryableError(f"Shopify token refresh: {exc}") from None
    return "access token refreshed" if refreshed else "not due (already fresh)"


def reconcile_due(channel: Channel, interval: float, now: dt.datetime) -> bool:
    """True when the channel's import is done and its last reconciliation is ``interval`` old."""
    cursors = channel.sync_cursors or {}
    if not (cursors.get("import") or {}).get("finished_at"):
        return False  # the import is still bringing everything in
    ran = (cursors.get("reconcile") or {}).get("ran_at")
    return ran is None or (now - parse_time(ran)).total_seconds() >= interval


def enqueue_reconciliations() -> int:
    """Queue a reconciliation for every shop whose last one is older than the interval."""
    if current_app.extensions.get("stockroom.shopify") is None:
        return 0
    interval, now, queued = settings().reconcile_interval_seconds, utcnow(), 0
    for channel_id in _active_channel_ids():
        if reconcile_due(db.session.get(Channel, channel_id), interval, now):
            queued += enqueue_once(channel_id, Topic.SHOPIFY_RECONCILE)
        commit_step()
    return queued
