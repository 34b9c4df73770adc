"""Single-use form tokens: a dashboard form that creates something is acted on once.

Every form that creates something (fulfill, fulfill the split, bulk fulfill, adjust
stock, add a location) carries a hidden ``form_token``: ``<issued>.<nonce>.<signature>``,
the signature an HMAC (SECRET_KEY) over the merchant, the form's *purpose* (the path it
posts to), the issue time and a random nonce. Issuing stores nothing; a token can't be
moved to another merchant, another form, or outlive ``FORM_TOKEN_MAX_AGE_SECONDS``.

The view consumes the token with :func:`consume_form_token` inside the transaction that
creates the thing: a ``form_submissions`` row under a unique key (merchant, purpose,
nonce). A second submission of the same token fails that insert -- on PostgreSQL a racing
one waits on the first's uncommitted row, then fails -- and gets :class:`AlreadySubmitted`
with the first one's outcome. A submission that fails validation rolls back, so its
token stays unused and the re-rendered form may be sent again. Works the same embedded
(session token, no cookies) and standalone (cookie session + CSRF).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time

from flask import current_app, g
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.errors import InvalidInput
from app.extensions import db
from app.models import FormSubmission
from app.models._common import utcnow

log = logging.getLogger("stockroom.web")

FIELD = "form_token"
#: How long a rendered form stays valid; consumed rows are kept as long, then pruned.
DEFAULT_MAX_AGE_SECONDS = 24 * 3600
_CLOCK_SKEW_SECONDS = 60


class InvalidFormToken(InvalidInput):
    """The form's token is missing, expired, altered, or belongs to another form or merchant."""

    def __init__(self):
        super().__init__("This form is out of date or was not made for this page. "
                         "Check the values and submit it again.", field="form")


class AlreadySubmitted(Exception):
    """The same form was submitted before: nothing was done again.

    Not a DomainError on purpose: views answer it like the first submission's success
    (``message`` says what that one did), not as an error.
    """

    def __init__(self, outcome: str):
        self.outcome = outcome
        self.message = (f"This form was already submitted: {outcome}" if outcome
                        else "This form was already submitted.")
        super().__init__(self.message)


def _max_age() -> int:
    return int(current_app.config.get("FORM_TOKEN_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS))


def _signature(merchant_id: int, purpose: str, issued: int, nonce: str) -> str:
    key = str(current_app.secret_key or "").encode()
    message = f"stockroom.form-token|{merchant_id}|{purpose}|{issued}|{nonce}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_form_token(merchant_id: int, purpose: str) -> str:
    """A fresh token for one rendering of the form that posts to ``purpose``."""
    issued, nonce = int(time.time()), secrets.token_urlsafe(16)
    return f"{issued}.{nonce}.{_signature(merchant_id, purpose, issued, nonce)}"


def verified_nonce(merchant_id: int, purpose: str, token: str | None) -> str:
    """The token's nonce if this merchant's form for ``purpose`` issued it lately.

    Raises InvalidFormToken otherwise (one message for every reason: it tells nothing
    about other merchants' forms).
    """
    issued_text, _, rest = (token or "").partition(".")
    nonce, _, signature = rest.partition(".")
    if not (issued_text.isdigit() and nonce and signature) or len(nonce) > 64:
        raise InvalidFormToken()
    issued = int(issued_text)
    expected = _signature(merchant_id, purpose, issued, nonce)
    age = time.time() - issued
    if not hmac.compare_digest(expected, signature) or not -_CLOCK_SKEW_SECONDS <= age <= _max_age():
        raise InvalidFormToken()
    return nonce


def consume_form_token(merchant_id: int, purpose: str, token: str | None, *,
                       part: str | None = None) -> FormSubmission:
    """Use the token once, in the caller's transaction; flushes, never commits.

    ``part`` splits one token into several single uses (bulk fulfill: one per order).
    Set ``outcome`` on the returned row before committing: a repeat shows it. Raises
    InvalidFormToken, or AlreadySubmitted when the token was used before (the caller
    should roll back and answer like the first time).
    """
    nonce = verified_nonce(merchant_id, purpose, token)
    key = f"{purpose}#{part}" if part else purpose
    submission = FormSubmission(merchant_id=merchant_id, purpose=key, nonce=nonce)
    try:
        with db.session.begin_nested():
            db.session.add(submission)
    except IntegrityError:
        # Read after the failed insert: by then the first submission has committed.
        outcome = db.session.scalar(select(FormSubmission.outcome).where(
            FormSubmission.merchant_id == merchant_id, FormSubmission.purpose == key,
            FormSubmission.nonce == nonce))
        raise AlreadySubmitted(outcome or "") from None
    return submission


def form_token(purpose: str) -> str:
    """Template global: a token for the signed-in merchant's form posting to ``purpose``."""
    merchant_id = g.get("merchant_id")
    return issue_form_token(merchant_id, purpose) if merchant_id is not None else ""


def prune_form_submissions() -> int:
    """Delete used tokens older than a token's lifetime: they can't be presented again.

    Housekeeping done in the scheduler's tick (no platform involved); enqueues nothing.
    """
    cutoff = utcnow() - dt.timedelta(seconds=_max_age())
    deleted = db.session.execute(delete(FormSubmission).where(
        FormSubmission.created_at < cutoff)).rowcount
    db.session.commit()
    if deleted:
        log.info('{"event": "form_submissions_pruned", "rows": %d}', deleted)
    return 0
