"""Fault injection for the Admin API: 5xx answers, timeouts, slow responses, forced throttling."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .graphql_api import json_response


@dataclass(frozen=True)
class DelayAfter:
    """Answer only after this many seconds, once the request has been executed."""

    seconds: float


class ApiFaults:
    """Armed faults, consumed one request at a time (optionally only for one shop)."""

    def __init__(self, buckets) -> None:
        self._lock = threading.Lock()
        self._armed: list[dict] = []
        self.buckets = buckets

    def arm(self, fault: dict) -> dict:
        """Arm ``{kind: error|timeout|slow|throttle, count, status, seconds, shop}``."""
        fault = {"count": 1, **fault}
        if fault["kind"] not in ("error", "timeout", "slow", "slow_response", "throttle"):
            raise ValueError("kind must be one of error, timeout, slow, slow_response, throttle")
        with self._lock:
            self._armed.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._armed.clear()

    def armed(self) -> list[dict]:
        """What is still armed."""
        with self._lock:
            return [dict(f) for f in self._armed]

    def take_api_fault(self, shop: str, operation: str | None = None):
        """Apply the next fault for this shop (and operation, when the fault names one).

        Returns a Response to answer with, a :class:`DelayAfter` (execute, then wait before
        answering: the change and its webhooks happen, the app hears late), or None.
        """
        with self._lock:
            fault = next((f for f in self._armed if f.get("shop") in (None, shop)
                          and f.get("operation") in (None, operation)), None)
            if fault is None:
                return None
            fault["count"] -= 1
            if fault["count"] <= 0:
                self._armed.remove(fault)
        kind = fault["kind"]
        if kind == "slow_response":
            return DelayAfter(float(fault.get("seconds", 2)))
        if kind == "slow":
            time.sleep(float(fault.get("seconds", 2)))
            return None
        if kind == "throttle":
            self.buckets.drain(shop)
            return None
        if kind == "timeout":
            time.sleep(float(fault.get("seconds", 30)))
            return json_response({"errors": "Gateway Timeout"}, 504)
        status = int(fault.get("status", 503))
        message = {500: "Internal Server Error", 502: "Bad Gateway",
                   503: "Service Unavailable"}.get(status, "Error")
        return json_response({"errors": message}, status)
