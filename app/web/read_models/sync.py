"""Read models of the Sync page: the latest outbox and inbox jobs and the tab badges' counts."""
from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from app.extensions import db
from app.models import Channel, Fulfillment, Order, OutboxEvent, WebhookInbox
from app.models.fulfillment import fulfillment_name
from app.web.job_wording import JobContext


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


def job_context(merchant_id: int, jobs: list) -> JobContext:
    """The names a page of jobs refers to (stores, orders, fulfillments), the merchant's
    only, in four queries whatever the number of jobs."""
    channel_ids = {j.channel_id for j in jobs if j.channel_id}
    stores = {cid: (name, platform) for cid, name, platform in db.session.execute(
        select(Channel.id, Channel.name, Channel.platform).where(
            Channel.merchant_id == merchant_id, Channel.id.in_(channel_ids)))} \
        if channel_ids else {}
    order_ids = {j.order_id for j in jobs if getattr(j, "order_id", None)}
    orders = dict(db.session.execute(select(Order.id, Order.name).where(
        Order.merchant_id == merchant_id, Order.id.in_(order_ids))).all()) if order_ids else {}
    remote = {(j.channel_id, j.order_remote_id) for j in jobs
              if getattr(j, "order_remote_id", None)}
    by_remote = {}
    if remote:
        for oid, name, cid, rid in db.session.execute(
                select(Order.id, Order.name, Order.channel_id, Order.remote_id).where(
                    Order.merchant_id == merchant_id,
                    or_(*(and_(Order.channel_id == c, Order.remote_id == r)
                          for c, r in remote)))):
            by_remote[(cid, rid)] = (oid, name)
    fulfillment_ids = {(j.payload or {}).get("fulfillment_id") for j in jobs
                       if isinstance(getattr(j, "payload", None), dict)} - {None}
    fulfillments = {fid: fulfillment_name(order_name, number) for fid, number, order_name in
                    db.session.execute(
                        select(Fulfillment.id, Fulfillment.number, Order.name)
                        .join(Order, Order.id == Fulfillment.order_id)
                        .where(Fulfillment.merchant_id == merchant_id,
                               Fulfillment.id.in_({f for f in fulfillment_ids
                                                   if isinstance(f, int)})))} \
        if fulfillment_ids else {}
    return JobContext(stores, orders, by_remote, fulfillments)
