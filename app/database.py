"""Per-backend connection setup (SQLite gets WAL, foreign keys and serialized writers) and planner upkeep."""
from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from contextlib import contextmanager

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db

log = logging.getLogger("stockroom.catalog")


def configure_engine(engine: Engine, *, busy_timeout_ms: int) -> None:
    """Attach the SQLite pragmas and BEGIN IMMEDIATE; PostgreSQL needs nothing here.

    SQLite allows one writer. A deferred transaction that reads and then writes fails
    with SQLITE_BUSY when another writer got in between, instead of waiting; starting
    every transaction with BEGIN IMMEDIATE makes writers queue on the busy timeout, so
    the check-then-decrement of a fulfillment is serialized (see docs/decisions/0001).
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not _is_memory(engine):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _is_memory(engine: Engine) -> bool:
    database = engine.url.database
    return not database or database == ":memory:"


def dialect_insert(session):
    """The INSERT construct of the session's backend (both support ON CONFLICT DO NOTHING)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def in_models(_obj, name, type_, _reflected, _compare_to) -> bool:
    """Alembic ``include_object``: False for the search indexes that live in their
    migrations alone, outside the models: PostgreSQL's trigram GIN indexes (e4f2a8c6b913)
    and SQLite's FTS5 tables with their shadow tables (a7e3c9d1f5b8)."""
    from app.orders.search import SEARCHED

    if type_ == "index" and name and name.endswith("_trgm"):
        return False
    return not (type_ == "table" and name
                and name.startswith(tuple(search.name for search in SEARCHED)))


class WriteQueue:
    """Writers of short statements on one SQLite file queue on a lock file, not on SQLite's
    busy handler.

    SQLite's busy handler retries a locked database after sleeping 1, 2, 5, 10 … 100 ms, so
    a writer that lost the race to one holding the lock for 0.1 ms sleeps far longer than
    that, and one that keeps losing can sleep for most of a second. ``flock`` wakes the next
    waiter the moment the lock is released. It only orders the writers that use it (webhook
    intake): SQLite's own locking still decides who writes, so any other writer is as safe
    as before, and a holder never waits longer than the busy timeout.
    """

    def __init__(self, database: str):
        self.path = f"{database}-intake.lock"
        self._fd: int | None = None
        self._pid: int | None = None
        # flock belongs to an open file, which the threads of a process share: they queue here.
        self._threads = threading.Lock()

    @contextmanager
    def turn(self):
        """Wait for the queue (threads of this process, then other processes), then yield."""
        with self._threads:
            if self._pid != os.getpid():  # a forked child opens its own (flock is per open file)
                if self._fd is not None:
                    os.close(self._fd)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


def write_queue(engine: Engine) -> WriteQueue | None:
    """The write queue of a SQLite file database (None for PostgreSQL or in-memory SQLite)."""
    if engine.dialect.name != "sqlite" or _is_memory(engine):
        return None
    return WriteQueue(engine.url.database)


def refresh_listing_statistics() -> None:
    """ANALYZE the listing tables on PostgreSQL (after pages 1, 2, 4, 8, …: a log scale).

    A bulk load outgrows the planner's statistics long before autovacuum's analyze comes
    round: with a new channel's rows estimated at a handful, PostgreSQL reads every row of
    the channel through its channel_id index for each page's lookups by remote id, and the
    import slows as the catalog grows (bench/onboard_catalog_woo.py, 50,000 variants: 152 s,
    each page of 10,000 slower than the one before; with this 45 s, ~6 s a page after the
    first). ANALYZE samples a fixed number of rows and blocks no reader or writer. Every
    platform's catalog import calls it (``page & (page - 1) == 0``: pages 1, 2, 4, 8, …).
    """
    if db.engine.dialect.name != "postgresql":
        return
    # Its own transaction, committed here: the import job calls it between pages, after
    # committing the page (app/catalog only flushes).
    try:  # a role that does not own the tables gets a WARNING, not an error; be safe anyway
        db.session.execute(text("ANALYZE channel_listings"))
        db.session.execute(text("ANALYZE channel_listing_levels"))
        db.session.commit()
    except DBAPIError as exc:
        db.session.rollback()
        log.warning(json.dumps({"event": "catalog_analyze_failed", "error": str(exc)[:200]}))
