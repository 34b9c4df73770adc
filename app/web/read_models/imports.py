"""What the Connections page shows of imports still running: step, counts, bulk operation."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import BulkOperation, Channel, ChannelStatus


@dataclass(frozen=True)
class ImportProgress:
    """One channel's running import, as the page words it."""

    channel_id: int
    store: str
    step: str
    read: int                  # variants stored so far
    total: int | None          # the shop's variant count (None before the products step)
    orders: int
    bulk_status: str | None    # Shopify's BulkOperationStatus of the run's bulk operation
    bulk_objects: int          # its objectCount when Stockroom last read it
    waiting: bool              # the run waits for Shopify to finish the bulk operation


def running_imports(merchant_id: int) -> list[ImportProgress]:
    """The merchant's connected channels whose import has not finished, by channel id."""
    channels = db.session.scalars(select(Channel).where(
        Channel.merchant_id == merchant_id, Channel.status == ChannelStatus.ACTIVE)
        .order_by(Channel.id))
    out = []
    for channel in channels:
        state = (channel.sync_cursors or {}).get("import") or {}
        if not state or state.get("finished_at"):
            continue
        op = db.session.scalar(select(BulkOperation).where(
            BulkOperation.merchant_id == merchant_id, BulkOperation.channel_id == channel.id,
            BulkOperation.run_id == state.get("run")).order_by(BulkOperation.id.desc())
            .limit(1))
        counts = state.get("counts") or {}
        out.append(ImportProgress(
            channel_id=channel.id, store=channel.name or channel.domain,
            step=state.get("step") or "", read=int(counts.get("variants", 0)),
            total=state.get("variants_total"), orders=int(counts.get("orders", 0)),
            bulk_status=op.status if op else None, bulk_objects=op.object_count if op else 0,
            waiting=bool(state.get("waiting"))))
    return out
