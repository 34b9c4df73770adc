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

#: Called after a failed attempt is recorded, in its own transaction (the worker
#: commits): (job, error message, dead) -> None. For showing the failure where the
#: merchant looks (e.g. the fulfillment's sync state), since the handler's writes were
#: rolled back.
FailureHook = Callable[[Job, str, bool], None]

_outbox: dict[tuple[str, str | None], Handler] = {}
_inbox: dict[tuple[str, str], Handler] = {}
_failure_hooks: dict[tuple[str, str | None], FailureHook] = {}


def outbox_handler(topic: str, *, platform: str | None = None,
                   on_failure: FailureHook | None = None) -> Callable[[Handler], Handler]:
    """Decorator: register the handler of an outbox topic ("fulfillment.created").

    With ``platform``, it handles only events of that platform's channels; a handler
    without one handles events of any (or no) channel.
    """
    def register(fn: Handler) -> Handler:
        _outbox[(topic, platform)] = fn
        if on_failure is not None:
            _failure_hooks[(topic, platform)] = on_failure
        return fn
    return register


def find_failure_hook(topic: str, platform: str | None = None) -> FailureHook | None:
    """The failure hook of an outbox topic, if one was registered."""
    return _failure_hooks.get((topic, platform)) or _failure_hooks.get((topic, None))


def inbox_handler(platform: str, topic: str) -> Callable[[Handler], Handler]:
    """Decorator: register the handler of a platform's webhook topic."""
    def register(fn: Handler) -> Handler:
        _inbox[(platform, topic)] = fn
        return fn
    return register


def find_outbox_handler(topic: str, platform: str | None = None) -> Handler | None:
    """The handler for an outbox topic (platform-specific first), or None (timeline only)."""
    return _outbox.get((topic, platform)) or _outbox.get((topic, None))


def find_inbox_handler(platform: str, topic: str) -> Handler | None:
    """The handler for a webhook topic of a platform, or None (stored, nothing to apply)."""
    return _inbox.get((platform, topic))
