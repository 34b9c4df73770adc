"""Domain errors: typed, carrying data, with a message a merchant can read."""
from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the domain raises on purpose; ``str()`` is merchant-readable."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """A referenced record does not exist for this merchant."""


class InvalidInput(DomainError):
    """An input value is malformed; ``field`` names it so the UI can show it inline."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Shortfall:
    """Stock missing for one item at one location."""

    item_id: int
    sku: str
    location_id: int
    requested: int
    available: int

    @property
    def missing(self) -> int:
        """How many units are missing."""
        return self.requested - self.available


class InsufficientStock(DomainError):
    """One or more items don't have enough available stock at the location."""

    def __init__(self, shortfalls: list[Shortfall], location_name: str):
        self.shortfalls = shortfalls
        parts = ", ".join(f"{s.sku or 'item ' + str(s.item_id)} (needs {s.requested}, "
                          f"{s.available} available)" for s in shortfalls)
        super().__init__(f"Not enough stock at {location_name}: {parts}.")


@dataclass(frozen=True)
class LineExcess:
    """An order line asked for more than is left to fulfill."""

    line_id: int
    title: str
    requested: int
    unfulfilled: int


class QuantityExceedsUnfulfilled(DomainError):
    """A requested quantity is larger than the line's unfulfilled quantity."""

    def __init__(self, excesses: list[LineExcess]):
        self.excesses = excesses
        parts = ", ".join(f"{e.title or 'line ' + str(e.line_id)} ({e.requested} requested, "
                          f"{e.unfulfilled} left to fulfill)" for e in excesses)
        super().__init__(f"More than is left to fulfill: {parts}.")


class IllegalTransition(DomainError):
    """The fulfillment's status does not allow the requested change."""

    def __init__(self, fulfillment_id: int, current: str, action: str, name: str = ""):
        self.fulfillment_id = fulfillment_id
        self.current = current
        self.action = action
        self.name = name or f"#{fulfillment_id}"
        super().__init__(f"Fulfillment {self.name} is {current}: it can't be {action}.")


class AlreadyCanceled(IllegalTransition):
    """Cancel asked for a fulfillment that is already canceled (stock was restored once)."""

    def __init__(self, fulfillment_id: int, name: str = ""):
        super().__init__(fulfillment_id, "canceled", "canceled again", name)
        self.message = (f"Fulfillment {self.name} is already canceled; what stock it "
                        "took was restored when it was canceled.")
        self.args = (self.message,)


class OrderCanceled(DomainError):
    """The order is canceled: nothing more can be fulfilled."""
