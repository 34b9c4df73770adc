"""Webhook intake: store a verified delivery before acknowledging it, deduplicated."""
from __future__ import annotations

import datetime as dt
import json
from contextlib import nullcontext

from flask import Flask
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_content_length, get_input_stream

from app.database import write_queue

_INTAKE_KEY = "stockroom.intake"

#: Every column a delivery fills; the rest (id, lease, applied_at) start NULL. One
#: statement finds the channel, inserts and skips a redelivery, so a delivery is a single
#: round trip that commits by itself (autocommit): no ORM session, no BEGIN/COMMIT pair.
INSERTED_COLUMNS = ("merchant_id", "channel_id", "topic", "dedupe_key", "headers", "body",
                    "order_remote_id", "status", "attempts", "next_attempt_at", "last_error",
                    "received_at")
_SQL = """INSERT INTO webhook_inbox ({columns})
SELECT merchant_id, id, {p}, {p}, {json}, {p}, {p}, 'pending', 0, {p}, '', {p}
FROM channels WHERE platform = {p} AND {channel} = {p}{active}
ON CONFLICT (channel_id, dedupe_key) DO NOTHING
RETURNING id"""


def _statement(dialect: str, channel: str, *, active_only: bool) -> str:
    p = "%s" if dialect == "postgresql" else "?"
    return _SQL.format(columns=", ".join(INSERTED_COLUMNS), p=p, channel=channel,
                       json=f"CAST({p} AS JSON)" if dialect == "postgresql" else p,
                       active=" AND status = 'active'" if active_only else "")


def read_webhook_body(environ: dict, limit: int) -> bytes:
    """The raw request body, never more than ``limit`` bytes read; RequestEntityTooLarge beyond.

    A Content-Length above ``limit`` is refused before a byte is read. A body without one
    (chunked, passed on by a server that sets ``wsgi.input_terminated``, as gunicorn and
    Werkzeug do) is read in 64 KiB chunks up to ``limit`` + 1 bytes: one byte more than
    allowed is refused. Without either, the body reads as empty (Werkzeug's safe fallback),
    which no signature matches.
    """
    length = get_content_length(environ)
    if length is not None and length > limit:
        raise RequestEntityTooLarge()
    body = get_input_stream(environ, max_content_length=limit + 1).read()
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


def payload_object(body: bytes) -> dict | None:
    """The body parsed as JSON when it is a JSON object (every real delivery is), else None."""
    try:
        payload = json.loads(body)
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return None
    return payload if isinstance(payload, dict) else None


class InboxUnavailable(Exception):
    """The database could not take the delivery: answer 503 so the platform sends it again."""


def init_intake(app: Flask, engine: Engine) -> None:
    """Give ``app`` the engine intake writes through.

    SQLite: the app's engine (its connections are in autocommit mode already, see
    app/database.py), writers queued on the file's WriteQueue. PostgreSQL: a sibling
    engine on the same URL in autocommit mode and without the pool's pre-ping, which would
    cost a BEGIN and a SELECT 1 per delivery; a connection found dead is replaced and the
    statement sent once more instead (safe: a delivery already stored is skipped as a
    duplicate). It is disposed with the app's.
    """
    if engine.dialect.name != "postgresql":
        app.extensions[_INTAKE_KEY] = (engine, write_queue(engine))
        return
    options = {k: v for k, v in app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).items()
               if k not in ("pool_pre_ping", "isolation_level", "pool_reset_on_return")}
    # In autocommit no transaction is ever left open: nothing to roll back on check-in.
    intake = create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False,
                           pool_reset_on_return=None, **options)
    event.listen(engine, "engine_disposed", lambda _engine: intake.dispose())
    app.extensions[_INTAKE_KEY] = (intake, None)


def store_webhook(app: Flask, *, platform: str, topic: str, dedupe_key: str,
                  headers: dict[str, str], body: bytes, order_remote_id: str | None = None,
                  domain: str | None = None, channel_id: int | None = None) -> int | None:
    """Store the delivery for the channel named by ``domain`` or ``channel_id``; committed.

    Returns the new inbox id, or None when nothing was stored: the delivery is a duplicate
    (same channel and ``dedupe_key``), or no channel of ``platform`` has that domain (a
    ``channel_id`` must also be an active channel). ``dedupe_key`` must be what the
    platform says identifies the *event* (Shopify: X-Shopify-Event-Id), never something
    two different events can share. Raises InboxUnavailable when the database can't take
    it: the caller answers 503, never 200 for something not stored.

    It writes on a connection of its own, outside the caller's ORM session: on SQLite a
    transaction that session holds open holds the write lock, so end it first.
    """
    if (domain is None) == (channel_id is None):
        raise ValueError("name the channel by domain or by id, not both")
    engine, queue = app.extensions[_INTAKE_KEY]
    dialect = engine.dialect
    now = dt.datetime.now(dt.UTC)
    if dialect.name == "postgresql":
        by_domain, by_id = _POSTGRESQL
    else:
        by_domain, by_id = _SQLITE
        now = _sqlite_time(now)
    sql = by_domain if domain is not None else by_id
    params = (topic, dedupe_key, json.dumps(headers), body, order_remote_id, now, now,
              platform, domain if domain is not None else channel_id)
    for attempt in (1, 2):
        connection = cursor = None
        try:
            connection = engine.raw_connection()
            cursor = connection.cursor()
            with queue.turn() if queue is not None else nullcontext():
                cursor.execute(sql, params)
                # All rows fetched: SQLite finishes (and commits) the statement only then.
                rows = cursor.fetchall()
            cursor.close()
            connection.close()  # back to the pool
            return rows[0][0] if rows else None
        except (dialect.loaded_dbapi.Error, SQLAlchemyError, OSError) as exc:
            error = getattr(exc, "orig", None) or exc
            disconnected = isinstance(error, dialect.loaded_dbapi.Error) and \
                dialect.is_disconnect(error, connection, cursor)
            if connection is not None:
                connection.invalidate(error)  # never hand a connection in doubt to the pool
            if not (disconnected and attempt == 1):
                raise InboxUnavailable(str(exc)) from exc
    raise AssertionError("unreachable")


def _sqlite_time(value: dt.datetime) -> str:
    # How SQLAlchemy stores UTCDateTime on SQLite: naive UTC, microseconds.
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


_POSTGRESQL = (_statement("postgresql", "domain", active_only=False),
               _statement("postgresql", "id", active_only=True))
_SQLITE = (_statement("sqlite", "domain", active_only=False),
           _statement("sqlite", "id", active_only=True))
