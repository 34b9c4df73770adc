"""Standalone accounts: sign-up (user + merchant) and rate-limited sign-in. No Flask imports."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.models import LoginAttempt, Merchant, User
from app.models._common import utcnow

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Checked when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_HASH = generate_password_hash("stockroom-timing-equalizer", method="scrypt")


class TooManyAttempts(DomainError):
    """Sign-in is throttled for this email or address; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(f"Too many failed sign-in attempts. Try again in {minutes} "
                         f"minute{'s' if minutes != 1 else ''}.")
        self.retry_after = retry_after


class BadCredentials(DomainError):
    """Email and password don't match an account (never says which one is wrong)."""


def normalize_email(email: str) -> str:
    """Stripped and lower-cased: how emails are stored and compared."""
    return (email or "").strip().lower()


#: The "email" sign-up attempts are recorded under: they count toward the per-address limit.
SIGN_UP_MARKER = "<sign-up>"


def check_sign_up_allowed(ip: str, *, max_per_ip: int, window_seconds: int) -> None:
    """Refuse (TooManyAttempts) when this address made too many sign-ups and failed
    sign-ins within the window; otherwise record this sign-up attempt. Flushes."""
    ip = (ip or "unknown")[:64]
    now = utcnow()
    _check_throttle(SIGN_UP_MARKER, ip, now, max_failures=max_per_ip,
                    max_failures_per_ip=max_per_ip, window_seconds=window_seconds)
    db.session.add(LoginAttempt(email=SIGN_UP_MARKER, ip=ip, succeeded=False, attempted_at=now))
    db.session.flush()


def create_account(email: str, password: str, business_name: str) -> User:
    """Sign-up: a new Merchant and its first User, the password hashed with scrypt. Flushes."""
    email = normalize_email(email)
    business_name = (business_name or "").strip()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidInput("Enter a valid email address.", field="email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("That password is too long.", field="password")
    if not business_name:
        raise InvalidInput("Enter your business name.", field="business_name")
    if len(business_name) > 255:
        raise InvalidInput("The business name is too long.", field="business_name")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise InvalidInput("An account with this email already exists: sign in instead.",
                           field="email")
    email_taken = db.session.scalar(select(Merchant.id).where(Merchant.email == email))
    merchant = Merchant(name=business_name, email=None if email_taken else email)
    db.session.add(merchant)
    db.session.flush()
    user = User(merchant_id=merchant.id, email=email,
                password_hash=generate_password_hash(password, method="scrypt"))
    db.session.add(user)
    db.session.flush()
    return user


def verify_sign_in(email: str, password: str, *, ip: str, max_failures: int,
                   max_failures_per_ip: int, window_seconds: int) -> User:
    """The user these credentials belong to, or BadCredentials / TooManyAttempts.

    Failed attempts are counted in the database (every web process sees them): more
    than ``max_failures`` for one email since its last success within the window, or
    ``max_failures_per_ip`` from one address, refuse further attempts until the oldest
    counted one leaves the window. Every attempt is recorded. Flushes.
    """
    email = normalize_email(email)[:320]
    ip = (ip or "unknown")[:64]
    now = utcnow()
    _check_throttle(email, ip, now, max_failures, max_failures_per_ip, window_seconds)
    user = db.session.scalar(select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    ok = ok and user is not None
    db.session.add(LoginAttempt(email=email, ip=ip, succeeded=ok, attempted_at=now))
    if not ok:
        db.session.flush()
        raise BadCredentials("That email and password don't match an account.")
    user.last_sign_in_at = now
    db.session.flush()
    return user


def _check_throttle(email: str, ip: str, now: dt.datetime, max_failures: int,
                    max_failures_per_ip: int, window_seconds: int) -> None:
    since = now - dt.timedelta(seconds=window_seconds)
    last_success = db.session.scalar(select(func.max(LoginAttempt.attempted_at)).where(
        LoginAttempt.email == email, LoginAttempt.succeeded.is_(True),
        LoginAttempt.attempted_at >= since))
    for column, value, limit, floor in ((LoginAttempt.email, email, max_failures, last_success),
                                        (LoginAttempt.ip, ip, max_failures_per_ip, None)):
        start = max(since, floor) if floor else since
        count, oldest = db.session.execute(
            select(func.count(), func.min(LoginAttempt.attempted_at)).where(
                column == value, LoginAttempt.succeeded.is_(False),
                LoginAttempt.attempted_at > start if floor else LoginAttempt.attempted_at >= start)
        ).one()
        if count >= limit:
            retry_after = int((oldest + dt.timedelta(seconds=window_seconds) - now)
                              .total_seconds()) + 1
            raise TooManyAttempts(max(retry_after, 1))
