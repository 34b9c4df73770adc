"""A job's transactions: where a job handler ends one, and whether it wrote.

The units of work are the blueprint views (a request: one commit, app/web, the platforms'
views.py), the CLI, and the worker's jobs. A job may not hold a transaction across a call
to a platform (rows locked, on SQLite the write lock, while the platform answers), so a
handler is a sequence of short transactions; the worker commits the last one with the
job's completion. A handler ends the others with one of these two, never with a bare
``commit()`` (tests/unit/sync/test_transactions.py checks the tree):

- ``end_read()``: the transaction only read (the plan of a push, the channel's
  credentials). Writing in it is a mistake (the write would be committed as a side effect
  of "ending a read"): raised in tests, logged and committed in production.
- ``commit_step()``: the transaction wrote one step of the job (a page of an import and
  its checkpoint, a refreshed token, a queued follow-up): committed together, now, so a
  crash resumes after it.
"""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

log = logging.getLogger(__name__)
_WROTE = "stockroom.wrote"


class WroteInRead(RuntimeError):
    """end_read() was asked to end a transaction that wrote."""


@event.listens_for(Session, "after_flush")
def _flushed(session, _context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _ended(session) -> None:
    session.info.pop(_WROTE, None)


def wrote() -> bool:
    """True when the current transaction has written (flushed, or has changes to flush)."""
    session = db.session()
    return bool(session.info.get(_WROTE) or session.new or session.deleted
                or any(session.is_modified(obj) for obj in session.dirty))


def end_read() -> None:
    """End a transaction that only read, before a call to a platform (or the job's end)."""
    if wrote():
        message = "end_read() on a transaction that wrote: use commit_step() for a step's writes"
        strict = has_app_context() and current_app.config.get(
            "STRICT_UNIT_OF_WORK", current_app.testing)
        if strict:
            raise WroteInRead(message)
        log.error(message)
    db.session.commit()


def commit_step() -> None:
    """Commit the writes of one step of a job (with its checkpoint), before the next call."""
    db.session.commit()
