"""What a job handler raises to tell the worker how its attempt ended."""
from __future__ import annotations


class RetryableError(Exception):
    """A transient failure (platform 5xx, throttled, network): retry with backoff.

    ``retry_after`` (seconds), when the platform said how long to wait, is honored as a
    minimum delay.
    """

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Throttled(RetryableError):
    """The platform asked us to slow down (HTTP 429, Shopify THROTTLED): not a failure.

    The job waits at least ``retry_after`` (plus jitter) without counting an attempt, so
    a throttling storm never dead-letters work that would succeed once paced.
    """


class PermanentError(Exception):
    """A failure no retry can fix (e.g. the platform refused the input): dead-letter now."""


class Deferred(Exception):
    """Not now, and not a failure: the order is locked by a push in flight (sync lock).

    The job goes back to the queue after ``seconds`` without counting an attempt.
    """

    def __init__(self, reason: str, *, seconds: float = 2.0):
        super().__init__(reason)
        self.seconds = seconds


class Rejected(Exception):
    """The delivery is not to be believed (its body disagrees with its headers, or Shopify
    says otherwise): record it as rejected with the reason, apply nothing, never retry.

    The reason is shown to the merchant on the Sync page; it names what disagreed.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
