"""Webhook intake: store a verified delivery before acknowledging it, deduplicated."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import WebhookInbox


#: A plain INSERT … RETURNING compiles once per process (SQLAlchemy caches it); the
#: dialects' ON CONFLICT constructs are not cacheable and cost a compile per delivery.
_INSERT = WebhookInbox.__table__.insert().returning(WebhookInbox.__table__.c.id)


def store_webhook(*, merchant_id: int, channel_id: int, topic: str, dedupe_key: str,
                  headers: dict[str, str], body: bytes, order_remote_id: str | None = None
                  ) -> tuple[int, bool]:
    """Insert the delivery unless one with the same dedupe key exists; commit.

    Returns (inbox id, created). ``dedupe_key`` must be what the platform says identifies
    the *event* (Shopify: X-Shopify-Event-Id), never something two different events can
    share. Raises SQLAlchemyError when the database can't take it: the caller answers
    503 so the platform delivers again — never 200 for something not stored.
    """
    params = {"merchant_id": merchant_id, "channel_id": channel_id, "topic": topic,
              "dedupe_key": dedupe_key, "headers": headers, "body": body,
              "order_remote_id": order_remote_id, "status": "pending", "attempts": 0,
              "last_error": ""}
    try:
        inserted_id = db.session.connection().execute(_INSERT, params).scalar_one()
        db.session.commit()
        return inserted_id, True
    except IntegrityError:
        # Usually a redelivery (the unique dedupe key); anything else is raised below.
        db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    try:
        existing = db.session.scalar(select(WebhookInbox.id).where(
            WebhookInbox.channel_id == channel_id, WebhookInbox.dedupe_key == dedupe_key))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if existing is None:
        raise IntegrityError("webhook_inbox insert", None, Exception(
            "refused for another reason than a duplicate"))
    return existing, False
