"""Standalone sign-in: users (email + password hash) of a merchant, and sign-in attempts."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models._common import UTCDateTime, created_at_column, merchant_fk


class User(db.Model):
    """A person who signs in to the standalone dashboard (WooCommerce owners).

    Embedded Shopify admin users never have a row here: Shopify's session token
    authenticates them (see app/auth/__init__.py).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = merchant_fk()
    # Stored lower-cased and stripped: sign-in is case-insensitive on the email.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # werkzeug.security scrypt hash ("scrypt:32768:8:1$salt$hash"); never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = created_at_column()
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(db.Model):
    """One sign-in attempt; recent failures per email and per IP throttle sign-in.

    Kept in the database (not process memory) so the limit holds across every web
    process and host.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_attempted", "email", "attempted_at"),
        Index("ix_login_attempts_ip_attempted", "ip", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    attempted_at: Mapped[dt.datetime] = created_at_column()
