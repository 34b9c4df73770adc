"""Which side made a change: only what was made in Stockroom is pushed to a platform."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.models import Origin

if TYPE_CHECKING:
    from app.sync.queue import Job


def made_in_app(job: Job) -> bool:
    """True when the outbox event records a change made in Stockroom (so it is pushed).

    A change the platform told us about (``source`` = platform) is already there: pushing
    it back would echo it.
    """
    return (job.payload or {}).get("source") == Origin.APP
