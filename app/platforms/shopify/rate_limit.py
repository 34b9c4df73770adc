"""Pacing on Shopify's per-shop GraphQL bucket: shared by every process on PostgreSQL.

Shopify keeps one leaky bucket per app and shop (shopify.dev, "GraphQL Admin API rate
limits"): a request's *requested* cost is taken before it runs, the difference to its
actual cost is refunded after, and a request that finds the bucket short is answered
THROTTLED. Each call first asks its bucket here how long to wait.

- ``SharedBucket`` (PostgreSQL, where several web nodes and workers call the same shop): the
  estimate lives in one row per shop (``shopify_rate_buckets``). A call *takes* its cost
  from the row before it is sent, in one statement that refills the row at the restore rate
  since its stamp (the database's clock, so every node agrees) and takes only when the row
  holds the whole cost, as Shopify does; a call that finds it short takes nothing and looks
  again every 50 ms, so it goes as soon as an earlier call's refund comes back (a big
  query's requested cost is mostly refunded within its round trip), for up to 30 s. Waiting
  without taking matters: callers that each took their cost on arrival would sink the row
  below zero together and each wait for the others' debts (a convoy: 3 workers sending
  743-point queries to a 1,000-point bucket waited 800 s in all, and a reconcile outlived
  its lease again and again). A call that looked for 30 s and still found the row short
  takes its cost anyway (the row goes below zero, later calls wait for it). The answer gives
  back what was taken but not charged (the refund, or all of it when THROTTLED) and lowers
  the row to Shopify's ``currentlyAvailable`` when that is lower. A process killed mid-call
  leaves its reservation taken: the row is conservative for cost / restore rate seconds, no
  more. Each statement is its own short transaction on its own pooled connection, never the
  caller's session (which may hold row locks).
- ``LocalBucket`` (SQLite, one node): the process's own estimate, set from each answer's
  ``throttleStatus``, as before; SQLite's single writer would make a shared row wait on
  the caller's own open transaction.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import text

#: Before a shop's first answer, a guess on the small side; every answer's throttleStatus
#: then gives the shop's real bucket size and restore rate.
DEFAULT_MAXIMUM, DEFAULT_RESTORE_RATE = 1000.0, 100.0


@dataclass
class LocalBucket:
    """One process's estimate of a shop's bucket."""

    available: float = DEFAULT_MAXIMUM
    restore_rate: float = DEFAULT_RESTORE_RATE
    maximum: float = DEFAULT_MAXIMUM
    at: float = 0.0

    def wait_for(self, cost: float) -> float:
        """Seconds to wait until ``cost`` points are (estimated to be) available."""
        now = time.monotonic()
        level = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        return 0.0 if level >= cost else (cost - level) / self.restore_rate

    def reserve(self, cost: float) -> float:
        """Seconds to wait before a call of ``cost`` points (nothing is taken here)."""
        return self.wait_for(cost)

    def observe(self, throttle: dict | None, *, reserved: float,
                charged: float | None) -> None:
        """An answer arrived: Shopify's ``throttleStatus`` is the new estimate."""
        if throttle:
            self.available = float(throttle["currentlyAvailable"])
            self.restore_rate = float(throttle["restoreRate"])
            self.maximum = float(throttle["maximumAvailable"])
            self.at = time.monotonic()

    def retry_after(self, cost: float) -> float:
        """After THROTTLED: how long until ``cost`` points are back."""
        return max(self.wait_for(cost), 0.05)

    def settle(self, wait: float) -> None:
        """Wait what ``reserve`` said."""
        time.sleep(wait)


_LEVEL_SQL = """LEAST(b.maximum, b.available + GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp())
                      - b.stamp) * b.restore_rate)"""

#: Take ``cost`` from the shop's row when the row holds it (or all of a bucket smaller than
#: it); a new row starts full. Returns a row only when it took.
_TRY_TAKE = text(f"""
INSERT INTO shopify_rate_buckets AS b (shop, available, maximum, restore_rate, stamp)
VALUES (:shop, :maximum - :cost, :maximum, :restore_rate, EXTRACT(EPOCH FROM clock_timestamp()))
ON CONFLICT (shop) DO UPDATE SET
    available = {_LEVEL_SQL} - :cost,
    stamp = EXTRACT(EPOCH FROM clock_timestamp())
WHERE {_LEVEL_SQL} >= LEAST(:cost, b.maximum)
RETURNING b.available
""")

#: Take ``cost`` whatever the row holds (after waiting the refill time).
_TAKE = text(f"""
UPDATE shopify_rate_buckets AS b SET
    available = {_LEVEL_SQL} - :cost,
    stamp = EXTRACT(EPOCH FROM clock_timestamp())
WHERE b.shop = :shop
""")

_LEVEL = text(f"""
SELECT {_LEVEL_SQL}, b.maximum, b.restore_rate FROM shopify_rate_buckets AS b WHERE b.shop = :shop
""")

_ANSWERED = text("""
UPDATE shopify_rate_buckets AS b SET
    available = LEAST(COALESCE(:reported, 'Infinity'::float8),
                      LEAST(COALESCE(:maximum, b.maximum),
                            b.available + GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp())
                                                   - b.stamp) * b.restore_rate) + :give_back),
    maximum = COALESCE(:maximum, b.maximum),
    restore_rate = COALESCE(:restore_rate, b.restore_rate),
    stamp = EXTRACT(EPOCH FROM clock_timestamp())
WHERE b.shop = :shop
""")


class SharedBucket:
    """A shop's bucket as one row every process paces on (see the module docstring)."""

    #: How often a waiting call looks at the row again.
    POLL_SECONDS = 0.05
    #: A call that found the row short this long takes its cost anyway (and may be
    #: answered THROTTLED, which the caller paces on): no call starves behind the others.
    MAX_WAIT_SECONDS = 30.0

    def __init__(self, engine, shop: str) -> None:
        self.engine = engine
        self.shop = shop
        self.cost = 0.0
        self.taken = False
        #: True when the last settle waited the whole refill time and took the cost anyway.
        self.waited_out = False

    def _try_take(self, cost: float) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(_TRY_TAKE, {
                "shop": self.shop, "cost": cost, "maximum": DEFAULT_MAXIMUM,
                "restore_rate": DEFAULT_RESTORE_RATE}).first() is not None

    def reserve(self, cost: float) -> float:
        """Take ``cost`` points now if the row holds them (0 s to wait); else take nothing
        and return the seconds the refill alone needs to bring them (``settle`` waits)."""
        self.cost, self.waited_out = cost, False
        self.taken = self._try_take(cost)
        if self.taken:
            return 0.0
        with self.engine.connect() as conn:
            row = conn.execute(_LEVEL, {"shop": self.shop}).first()
        if row is None:  # the row was deleted meanwhile: the next look creates it full
            return self.POLL_SECONDS
        level, maximum, restore_rate = row
        return max((min(cost, maximum) - level) / restore_rate, self.POLL_SECONDS)

    def observe(self, throttle: dict | None, *, reserved: float,
                charged: float | None) -> None:
        """An answer (or a failure) for a call that reserved ``reserved`` points.

        ``charged`` is what Shopify kept (the actual cost; 0 when THROTTLED or never sent;
        None when unknown, e.g. a timeout: the reservation stays taken).
        """
        give_back = 0.0 if charged is None else reserved - charged
        if not throttle and give_back == 0:
            return
        with self.engine.begin() as conn:
            conn.execute(_ANSWERED, {
                "shop": self.shop, "give_back": give_back,
                "reported": float(throttle["currentlyAvailable"]) if throttle else None,
                "maximum": float(throttle["maximumAvailable"]) if throttle else None,
                "restore_rate": float(throttle["restoreRate"]) if throttle else None})

    def retry_after(self, cost: float) -> float:
        """After THROTTLED: the next reservation does the waiting."""
        return 0.05

    def settle(self, wait: float) -> None:
        """Wait until the row holds this call's cost and take it (looked at every 50 ms, so
        an earlier call's refund lets it go at once). ``wait`` (the refill alone) is only an
        estimate: other callers may take first, so the looking goes on for up to
        ``MAX_WAIT_SECONDS``; after that the cost is taken anyway."""
        if self.taken:
            return
        deadline = time.monotonic() + max(wait, self.MAX_WAIT_SECONDS)
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, self.POLL_SECONDS))
            if self._try_take(self.cost):
                self.taken = True
                return
        with self.engine.begin() as conn:
            conn.execute(_TAKE, {"shop": self.shop, "cost": self.cost})
        self.taken = self.waited_out = True


_local: dict[str, LocalBucket] = {}
_local_lock = threading.Lock()


def bucket_for(shop: str):
    """The shop's bucket: shared through PostgreSQL inside an app on PostgreSQL, else this
    process's own."""
    from flask import has_app_context

    if has_app_context():
        from app.extensions import db

        if db.engine.dialect.name == "postgresql":
            return SharedBucket(db.engine, shop)
    with _local_lock:
        return _local.setdefault(shop, LocalBucket())
