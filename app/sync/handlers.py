"""Registry of job handlers: outbox topics and (platform, webhook topic) pairs."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.sync.queue import Job

#: A handler does the job's work. It may read, call a platform, and write; it must not
#: keep a transaction open across a network call (app/sync/transactions.py: end_read() or
#: commit_step() first), and it must not commit its final writes: the worker commits them
#: together with the job's completion, so the effect and "done" land in one transaction.
#: Return a short note (or None); raise RetryableError / PermanentError / Deferred to steer
#: the worker.
Handler = Callable[[Job], str | None]

#: Called when a failed attempt is recorded, in the same transaction (a savepoint: if it
#: raises, only its own writes are undone; fail_job commits): (job, error message, dead)
#: -> None. For showing the failure where the merchant looks (e.g. the fulfillment's sync
#: state), since the handler's writes were rolled back.
FailureHook = Callable[[Job, str, bool], None]


@dataclass(frozen=True)
class Delivery:
    """What a payload check looks at: the stored delivery and the channel it was stored for."""

    topic: str
    headers: dict[str, str]
    payload: dict
    channel_domain: str  # Shopify: the shop (found by X-Shopify-Shop-Domain); Woo: store URL


#: Checks that a delivery's body agrees with its headers and names well-formed ids; raises
#: Rejected (app.sync.errors) if not. The worker runs it before the topic's handler, so no
#: handler acts on a body that disagrees with where it was delivered.
PayloadCheck = Callable[[Delivery], None]

_outbox: dict[tuple[str, str | None], Handler] = {}
_inbox: dict[tuple[str, str], Handler] = {}
_checks: dict[tuple[str, str], PayloadCheck] = {}
_failure_hooks: dict[tuple[str, str | None], FailureHook] = {}


def outbox_handler(topic: str, *, platform: str | None = None,
                   on_failure: FailureHook | None = None) -> Callable[[Handler], Handler]:
    """Decorator: register the handler of an outbox topic ("fulfillment.created").

    With ``platform``, it handles only events of that platform's channels; a handler
    without one handles events of any (or no) channel.
    """
    def register(fn: Handler) -> Handler:
        register_outbox(topic, fn, platform=platform, on_failure=on_failure)
        return fn
    return register


def register_outbox(topic: str, handler: Handler, *, platform: str | None = None,
                    on_failure: FailureHook | None = None) -> None:
    """Route an outbox topic (of one platform's channels, or of any) to its handler."""
    _outbox[(topic, platform)] = handler
    if on_failure is not None:
        _failure_hooks[(topic, platform)] = on_failure


def find_failure_hook(topic: str, platform: str | None = None) -> FailureHook | None:
    """The failure hook of an outbox topic, if one was registered."""
    return _failure_hooks.get((topic, platform)) or _failure_hooks.get((topic, None))


def register_inbox(platform: str, topic: str, handler: Handler) -> None:
    """Route a platform's webhook topic to its handler."""
    _inbox[(platform, topic)] = handler


def find_outbox_handler(topic: str, platform: str | None = None) -> Handler | None:
    """The handler for an outbox topic (platform-specific first), or None (timeline only)."""
    return _outbox.get((topic, platform)) or _outbox.get((topic, None))


def find_inbox_handler(platform: str, topic: str) -> Handler | None:
    """The handler for a webhook topic of a platform, or None (stored, nothing to apply)."""
    return _inbox.get((platform, topic))


def register_payload_check(platform: str, topic: str, check: PayloadCheck) -> None:
    """The one payload check of a platform's webhook topic, run before its handler."""
    _checks[(platform, topic)] = check


def find_payload_check(platform: str, topic: str) -> PayloadCheck | None:
    """The payload check of a webhook topic (None: the body only has to be a JSON object)."""
    return _checks.get((platform, topic))


def outbox_topics(platform: str | None) -> list[str]:
    """Every outbox topic with a handler of this platform (None: of any channel)."""
    return sorted(topic for topic, p in _outbox if p == platform)


def inbox_topics(platform: str) -> list[str]:
    """Every webhook topic of a platform that has a handler (for tests and docs)."""
    return sorted(topic for p, topic in _inbox if p == platform)
