"""Security bookkeeping that is not tenant data: nonces already used (replay protection)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import created_at_column


class UsedNonce(db.Model):
    """A single-use value (OAuth state, connect token) that has been consumed."""

    __tablename__ = "used_nonces"
    __table_args__ = (UniqueConstraint("purpose", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = created_at_column()
