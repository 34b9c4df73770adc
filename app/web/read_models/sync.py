"""Read models of the Sync page: the latest outbox and inbox jobs and the tab badges' counts."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxEvent, WebhookInbox


FAILED_STATUSES = ("failed", "dead")
#: The Sync page's filters: status values each one shows.
SYNC_FILTERS = {"failed": FAILED_STATUSES, "rejected": ("rejected",)}


def sync_jobs(merchant_id: int, model, *, only: str | None = None, limit: int = 100) -> list:
    """Latest outbox events or inbox deliveries, optionally only the failed / dead ones
    (``only="failed"``) or the rejected ones (``only="rejected"``)."""
    stmt = select(model).where(model.merchant_id == merchant_id)
    if only is not None:
        stmt = stmt.where(model.status.in_(SYNC_FILTERS[only]))
    return list(db.session.scalars(stmt.order_by(model.id.desc()).limit(limit)))


def sync_counts(merchant_id: int) -> dict[str, dict[str, int]]:
    """Failed-or-dead and rejected counts of the outbox and the inbox (the tab badges)."""
    counts = {}
    for name, model in (("outbox", OutboxEvent), ("inbox", WebhookInbox)):
        found = dict(db.session.execute(
            select(model.status, func.count()).where(
                model.merchant_id == merchant_id,
                model.status.in_(FAILED_STATUSES + SYNC_FILTERS["rejected"]))
            .group_by(model.status)).all())
        counts[name] = {key: sum(found.get(s, 0) for s in statuses)
                        for key, statuses in SYNC_FILTERS.items()}
    return counts
