"""The tenant: a merchant owns locations, items, channels and everything below them."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import created_at_column


class Merchant(db.Model):
    """A merchant (tenant). Every other tenant row carries its id."""

    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    # IANA name ("America/Toronto") the dashboard shows dates in; None until chosen or taken
    # from the first store connected (app/merchants/timezones.py): dates then read in UTC.
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"<Merchant {self.id} {self.name!r}>"
