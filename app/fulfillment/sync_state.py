"""A fulfillment's sync state as its pushes to the platform succeed or fail (any platform)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update

from app.extensions import db
from app.models import Fulfillment, SyncState

if TYPE_CHECKING:
    from app.sync.queue import Job


def mark_synced(fulfillment_id: int, merchant_id: int, *, remote_id: str | None = None) -> None:
    """The platform has the fulfillment as it is now; ``remote_id`` records what it made."""
    values = {"sync_state": SyncState.SYNCED, "sync_error": ""}
    if remote_id is not None:
        values["remote_id"] = remote_id
    db.session.execute(update(Fulfillment).where(
        Fulfillment.id == fulfillment_id, Fulfillment.merchant_id == merchant_id)
        .values(**values))


def mark_sync_failed(job: Job, error: str, dead: bool) -> None:
    """Failure hook of a fulfillment push: the platform's message shown on the fulfillment,
    failed once the job is dead, pending while it retries (the Sync page has the job)."""
    fulfillment_id = (job.payload or {}).get("fulfillment_id")
    if fulfillment_id is None:
        return
    db.session.execute(update(Fulfillment).where(
        Fulfillment.id == fulfillment_id, Fulfillment.merchant_id == job.merchant_id)
        .values(sync_state=SyncState.FAILED if dead else SyncState.PENDING, sync_error=error))
