"""Parsing request arguments into typed values (bad input -> None or InvalidInput)."""
from __future__ import annotations

from collections.abc import Mapping

from app.errors import InvalidInput


def optional_int(value: str | None) -> int | None:
    """A positive id from a query/form value, or None when empty or not a number."""
    try:
        number = int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
    return number if number is None or number > 0 else None


def whole_number(value: str | None, *, field: str, label: str = "The quantity") -> int:
    """A whole number (may be negative) or InvalidInput naming ``field``."""
    text = (value or "").strip()
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{label} must be a whole number.", field=field) from None


def checkbox(form: Mapping[str, str], name: str) -> bool:
    """Whether a checkbox was ticked."""
    return form.get(name) in ("on", "true", "1", "yes")
