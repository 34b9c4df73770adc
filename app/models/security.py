"""Security bookkeeping: nonces already used (replay protection) and forms already submitted."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import created_at_column, merchant_fk


class UsedNonce(db.Model):
    """A single-use value (OAuth state, connect token) that has been consumed."""

    __tablename__ = "used_nonces"
    __table_args__ = (UniqueConstraint("purpose", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = created_at_column()


class FormSubmission(db.Model):
    """A dashboard form token that has been used: the form it came with was submitted once.

    Written in the same transaction as what the form creates; the unique key makes a second
    submission of the same token (a double click, a resend, a racing request) fail to insert
    instead of creating the thing again. ``outcome`` is what the first submission answered,
    shown to the second. Rows older than the tokens' lifetime are pruned (app/web/form_tokens.py).
    """

    __tablename__ = "form_submissions"
    __table_args__ = (UniqueConstraint("merchant_id", "purpose", "nonce"),
                      Index("ix_form_submissions_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    #: The form's target (its action path), plus ``#order-<id>`` per order of a bulk action.
    purpose: Mapped[str] = mapped_column(String(255))
    nonce: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = created_at_column()
