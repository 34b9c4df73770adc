"""Webhook intake: store a verified delivery before acknowledging it, deduplicated."""
from __future__ import annotations

import functools

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import WebhookInbox
from app.models._common import utcnow


@functools.cache
def _insert_statement(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = WebhookInbox.__table__
    return (insert(table).values(
        merchant_id=bindparam("merchant_id"), channel_id=bindparam("channel_id"),
        topic=bindparam("topic"), dedupe_key=bindparam("dedupe_key"),
        headers=bindparam("headers", type_=table.c.headers.type),
        body=bindparam("body", type_=table.c.body.type), status="pending", attempts=0,
        order_remote_id=bindparam("order_remote_id"),
        received_at=bindparam("received_at", type_=table.c.received_at.type),
        next_attempt_at=bindparam("next_attempt_at", type_=table.c.next_attempt_at.type),
        last_error="")
        .on_conflict_do_nothing(index_elements=["channel_id", "dedupe_key"])
        .returning(table.c.id))


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
              "order_remote_id": order_remote_id, "received_at": utcnow(),
              "next_attempt_at": utcnow()}
    try:
        # Core on the session's connection with bound parameters: the statement compiles
        # once per process (this is the hot path of every delivery), not once per call.
        connection = db.session.connection()
        inserted_id = connection.execute(_insert_statement(connection.dialect.name),
                                         params).scalar()
        row_id = inserted_id if inserted_id is not None else db.session.scalar(
            select(WebhookInbox.id).where(WebhookInbox.channel_id == channel_id,
                                          WebhookInbox.dedupe_key == dedupe_key))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return row_id, inserted_id is not None

