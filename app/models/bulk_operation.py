"""A Shopify bulk query operation a channel's import started, and how far its file was read."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk


class BulkOperation(db.Model):
    """One bulkOperationRunQuery of one channel (Shopify runs one at a time per shop).

    ``lines_done`` is the checkpoint in the JSONL result: every line before it is stored,
    so a worker killed mid-file resumes there without storing anything twice.
    """

    __tablename__ = "bulk_operations"
    __table_args__ = (UniqueConstraint("channel_id", "remote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    remote_id: Mapped[str] = mapped_column(String(255))  # gid://shopify/BulkOperation/…
    purpose: Mapped[str] = mapped_column(String(32))  # the run kind: import, catalog_refresh
    run_id: Mapped[int | None] = mapped_column(Integer)  # the import run (its first job id)
    # Shopify's BulkOperationStatus: CREATED RUNNING COMPLETED FAILED CANCELING CANCELED EXPIRED
    status: Mapped[str] = mapped_column(String(16), default="CREATED")
    error_code: Mapped[str | None] = mapped_column(String(32))
    object_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    lines_done: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = created_at_column()
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        """Shopify is done with it (the file, if any, is ready to read)."""
        return self.status in ("COMPLETED", "FAILED", "CANCELED", "EXPIRED")
