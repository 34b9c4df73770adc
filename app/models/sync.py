"""Sync aggregate: the transactional outbox (effects to push) and the webhook inbox."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk, utcnow


class JobStatus(enum.StrEnum):
    """State of an outbox event or an inbox delivery."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # will be retried at next_attempt_at
    DEAD = "dead"  # gave up after the configured attempts; retry from the Sync page
    IGNORED = "ignored"  # recognized as nothing to do (echo of our own push, ping)
    DISCARDED = "discarded"  # a merchant chose to drop it from the Sync page
    REJECTED = "rejected"  # an inbox delivery found not to be believed: never applied


class OutboxEvent(db.Model):
    """An external effect to perform, written in the same commit as the change causing it."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_claim", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                                   index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                                 index=True)
    topic: Mapped[str] = mapped_column(String(64))  # past tense: "fulfillment.created"
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = created_at_column()
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class WebhookInbox(db.Model):
    """A received webhook, stored (signature already verified) before it is acknowledged."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        # Dedupe on what the platform says identifies the event (Shopify: X-Shopify-Event-Id).
        UniqueConstraint("channel_id", "dedupe_key"),
        Index("ix_webhook_inbox_claim", "status", "next_attempt_at"),
        Index("ix_webhook_inbox_order", "channel_id", "order_remote_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"),
                                            index=True)
    topic: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the raw body, exactly as signed
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[dt.datetime] = created_at_column()
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The platform's id of the order the event is about (when it names one), taken from
    # the payload on receipt: the order page's timeline shows its webhooks.
    order_remote_id: Mapped[str | None] = mapped_column(String(255))
