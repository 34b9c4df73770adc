"""Webhook intake: store a verified delivery before acknowledging it, deduplicated."""
from __future__ import annotations

from sqlalchemy import select

from app.database import dialect_insert
from app.extensions import db
from app.models import WebhookInbox


def store_webhook(*, merchant_id: int, channel_id: int, topic: str, dedupe_key: str,
                  headers: dict[str, str], body: bytes, order_remote_id: str | None = None
                  ) -> tuple[int, bool]:
    """Insert the delivery unless one with the same dedupe key exists; commit.

    Returns (inbox id, created). ``dedupe_key`` must be what the platform says identifies
    the *event* (Shopify: X-Shopify-Event-Id), never something two different events can
    share. Raises SQLAlchemyError when the database can't take it: the caller answers
    503 so the platform delivers again — never 200 for something not stored.
    """
    insert = dialect_insert(db.session)
    stmt = (insert(WebhookInbox).values(
        merchant_id=merchant_id, channel_id=channel_id, topic=topic, dedupe_key=dedupe_key,
        headers=headers, body=body, status="pending", attempts=0,
        order_remote_id=order_remote_id)
        .on_conflict_do_nothing(index_elements=["channel_id", "dedupe_key"])
        .returning(WebhookInbox.id))
    try:
        inserted_id = db.session.execute(stmt).scalar()
        row_id = inserted_id if inserted_id is not None else db.session.scalar(
            select(WebhookInbox.id).where(WebhookInbox.channel_id == channel_id,
                                          WebhookInbox.dedupe_key == dedupe_key))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return row_id, inserted_id is not None

