"""Per-backend connection setup: SQLite gets WAL, foreign keys and serialized writers."""
from __future__ import annotations

from sqlalchemy import Engine, event


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


#: Search indexes that live in their migrations alone, outside the models: PostgreSQL's
#: trigram GIN indexes (e4f2a8c6b913) and SQLite's FTS5 tables (a7e3c9d1f5b8).
SEARCH_TABLES = ("orders_search", "order_lines_search")


def in_models(_obj, name, type_, _reflected, _compare_to) -> bool:
    """Alembic ``include_object``: False for the search indexes the models don't describe."""
    if type_ == "index" and name and name.endswith("_trgm"):
        return False
    return not (type_ == "table" and name and name.startswith(SEARCH_TABLES))
