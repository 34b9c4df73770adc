"""Column helpers shared by the models: timestamps, tenant key, enum-like strings."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> dt.datetime:
    """Timezone-aware now in UTC (stored as UTC on every backend)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes, stored as UTC; SQLite drops tzinfo, so it is put back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Stockroom stores only timezone-aware UTC times")
        value = value.astimezone(dt.UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def created_at_column() -> Mapped[dt.datetime]:
    """A non-null creation timestamp defaulting to now (UTC)."""
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def merchant_fk() -> Mapped[int]:
    """The tenant key every tenant row carries; indexed, never null."""
    return mapped_column(Integer, ForeignKey("merchants.id", ondelete="CASCADE"),
                         nullable=False, index=True)
