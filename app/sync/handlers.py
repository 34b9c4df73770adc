"""Registry of job handlers: outbox topics and (platform, webhook topic) pairs."""
from __future__ import annotations

from collections.abc import Callable

from app.sync.queue import Job

#: A handler does the job's work. It may read, call a platform, and write; it must not
#: keep a transaction open across a network call (end reads with commit/rollback first),
#: and it must not commit its final writes: the worker commits them together with the
#: job's completion, so the effect and "done" land in one transaction. Return a short
#: note (or None); raise RetryableError / PermanentError / Deferred to steer the worker.
Handler = Callable[[Job], str | None]

_outbox: dict[str, Handler] = {}
_inbox: dict[tuple[str, str], Handler] = {}


def outbox_handler(topic: str) -> Callable[[Handler], Handler]:
    """Decorator: register the handler of an outbox topic ("fulfillment.created")."""
    def register(fn: Handler) -> Handler:
        _outbox[topic] = fn
        return fn
    return register


def inbox_handler(platform: str, topic: str) -> Callable[[Handler], Handler]:
    """Decorator: register the handler of a platform's webhook topic."""
    def register(fn: Handler) -> Handler:
        _inbox[(platform, topic)] = fn
        return fn
    return register


def find_outbox_handler(topic: str) -> Handler | None:
    """The handler for an outbox topic, or None (the event is then only a timeline entry)."""
    return _outbox.get(topic)


def find_inbox_handler(platform: str, topic: str) -> Handler | None:
    """The handler for a webhook topic of a platform, or None (stored, nothing to apply)."""
    return _inbox.get((platform, topic))
