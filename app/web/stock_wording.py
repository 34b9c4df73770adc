"""What a fulfillment really did to stock, in words (fulfill, cancel, bulk messages)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from app.models import Fulfillment


def units(n: int) -> str:
    """ "1 unit", "3 units"."""
    return f"{n} unit{'s' if n != 1 else ''}"


def lines(n: int) -> str:
    """ "1 line", "2 lines"."""
    return f"{n} line{'s' if n != 1 else ''}"


def _moved(fulfillments: Iterable[Fulfillment]) -> tuple[dict[str, int], int]:
    """Units that moved per location name, and how many lines moved none."""
    per_location: dict[str, int] = defaultdict(int)
    still = 0
    for fulfillment in fulfillments:
        name = fulfillment.location.name if fulfillment.location else "no location"
        for fline in fulfillment.lines:
            if fline.stock_moved:
                per_location[name] += fline.quantity
            else:
                still += 1
    return dict(per_location), still


def _untracked(n: int, *, past: bool) -> str:
    verb = ("was" if n == 1 else "were") if past else ("is" if n == 1 else "are")
    return (f"{lines(n)} {verb} not tracked in Stockroom: no stock moved for "
            f"{'it' if n == 1 else 'them'}")


def taken(fulfillments: Iterable[Fulfillment]) -> str:
    """After fulfilling: "3 units taken from Main; 1 line is not tracked in Stockroom: no
    stock moved for it." (a platform fulfillment that moved nothing says its own note)."""
    fulfillments = list(fulfillments)
    per_location, still = _moved(fulfillments)
    parts = [f"{units(n)} taken from {name}" for name, n in per_location.items()]
    notes = [f.stock_note for f in fulfillments if f.stock_note]
    if still and notes and not per_location:
        return f"No stock moved: {' '.join(notes)}"
    if still:
        parts.append(_untracked(still, past=False))
    return "; ".join(parts) + "." if parts else "No stock moved."


def restored(fulfillment: Fulfillment) -> str:
    """After canceling: "3 units back in stock at Main; 1 line was not tracked: no stock
    moved for it." Only what the fulfillment had taken comes back."""
    per_location, still = _moved([fulfillment])
    parts = [f"{units(n)} back in stock at {name}" for name, n in per_location.items()]
    if not per_location:
        why = f" ({fulfillment.stock_note})" if fulfillment.stock_note else ""
        return f"No stock moved: it had taken none{why}."
    if still:
        parts.append(_untracked(still, past=True))
    return "; ".join(parts) + "."


def cancel_warning(fulfillment: Fulfillment) -> str:
    """The cancel button's confirmation: what will come back, and what won't."""
    per_location, still = _moved([fulfillment])
    if not per_location:
        return "No stock moves: it took none."
    where = ", ".join(per_location)
    moved = sum(per_location.values())
    text = (f"Its items go back into stock at {where}" if not still else
            f"{units(moved)} {'goes' if moved == 1 else 'go'} back into stock at {where}; "
            f"{_untracked(still, past=True)}")
    return text + "."
