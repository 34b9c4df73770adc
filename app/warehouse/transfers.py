"""Transfers between stock locations: draft -> in transit -> received, every unit through the ledger.

Stock leaves the origin when the transfer is shipped (``transfer_out``), arrives at the
destination as it is received, line by line and in parts (``transfer_in``), and what has not
arrived when an in-transit transfer is canceled goes back to the origin
(``transfer_returned``). Each movement references ("transfer", id), so the inventory push
(app/stock/push.py) carries it to every platform location mapped onto either location.

Lock order, as for fulfillments (app/locking.py): the transfer row first, then the
inventory levels of one location in id order (apply_movements).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.locking import transfers_for_update
from app.models import (InventoryItem, Transfer, TransferEvent, TransferLine, TransferStatus)
from app.models._common import utcnow
from app.models.stock import sku_key
from app.stock.levels import Reference, apply_movements, require_location

T = TransferStatus

#: Which statuses each action may start from.
_ALLOWED_FROM = {
    "edited": {T.DRAFT},
    "shipped": {T.DRAFT},
    "received": {T.IN_TRANSIT, T.PARTIALLY_RECEIVED},
    "canceled": {T.DRAFT, T.IN_TRANSIT, T.PARTIALLY_RECEIVED},
}
#: Ledger reasons this module writes.
REASONS = ("transfer_out", "transfer_in", "transfer_returned")
MAX_LINES = 500
MAX_QUANTITY = 1_000_000_000


class TransferLinesInvalid(InvalidInput):
    """Some lines of a transfer form are wrong; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Fix the highlighted lines.", field="lines")
        self.errors = errors


@dataclass(frozen=True)
class ReceiveExcess:
    """A line asked to receive more units than are still on their way."""

    line_id: int
    sku: str
    requested: int
    outstanding: int


class ReceiveExceedsShipped(DomainError):
    """More units received than were shipped and not yet received."""

    def __init__(self, excesses: list[ReceiveExcess]):
        self.excesses = excesses
        parts = ", ".join(f"{e.sku} ({e.requested} received, {e.outstanding} on the way)"
                          for e in excesses)
        super().__init__(f"More than was shipped: {parts}.")


class TransferStateConflict(DomainError):
    """The transfer's status does not allow the requested change."""

    def __init__(self, transfer: Transfer, action: str):
        self.transfer_id = transfer.id
        self.current = str(transfer.status)
        super().__init__(f"Transfer {transfer.reference} is {self.current.replace('_', ' ')}: "
                         f"it can't be {action}.")


def parse_quantity(value: object) -> int | str:
    """A whole number from a form value or int, or the message saying why it is not one."""
    if isinstance(value, bool):
        return "Enter a whole number."
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        try:
            number = int(text)
        except ValueError:
            return "Enter a whole number."
    if number < 0:
        return "Can't be negative."
    # Beyond the database's integer column: a typo, answered inline instead of a crash.
    return f"At most {MAX_QUANTITY:,}." if number > MAX_QUANTITY else number


def _items_by_sku_key(merchant_id: int, skus: Iterable[str]) -> dict[str, InventoryItem]:
    keys = sorted({sku_key(s) for s in skus if sku_key(s)})
    if not keys:
        return {}
    rows = db.session.scalars(select(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id, InventoryItem.sku_key.in_(keys)))
    return {item.sku_key: item for item in rows}


def resolve_lines(merchant_id: int, lines: list[tuple[str, object]]) -> dict[int, int]:
    """(sku, quantity) rows -> {item id: units}; every bad row reported at once.

    Rows with neither SKU nor quantity are blank form rows and skipped. Field names are
    ``sku-<index>`` / ``qty-<index>``.
    """
    items = _items_by_sku_key(merchant_id, [sku for sku, _ in lines])
    wanted: dict[int, int] = {}
    errors: dict[str, str] = {}
    for index, (sku, raw) in enumerate(lines):
        sku = (sku or "").strip()
        if not sku and str(raw if raw is not None else "").strip() in ("", "0"):
            continue
        item = items.get(sku_key(sku))
        if not sku:
            errors[f"sku-{index}"] = "Enter a SKU."
        elif item is None:
            errors[f"sku-{index}"] = f"No item has the SKU {sku}."
        quantity = parse_quantity(raw)
        if isinstance(quantity, str):
            errors[f"qty-{index}"] = quantity
        elif quantity == 0:
            errors[f"qty-{index}"] = "Enter at least 1."
        elif item is not None and f"sku-{index}" not in errors:
            wanted[item.id] = wanted.get(item.id, 0) + quantity
    if errors:
        raise TransferLinesInvalid(errors)
    return wanted


def create_transfer(merchant_id: int, origin_id: int | None, destination_id: int | None,
                    lines: list[tuple[str, object]], *, note: str = "") -> Transfer:
    """A draft transfer of (SKU, quantity) lines; nothing moves until it is shipped.

    Locations must be the merchant's (NotFound otherwise) and differ; SKUs are found by
    their comparison key (case and spacing don't matter); quantities are positive whole
    numbers; the same SKU twice is one line. Flushes, never commits.
    """
    if origin_id is None:
        raise InvalidInput("Choose where the stock leaves from.", field="origin")
    if destination_id is None:
        raise InvalidInput("Choose where the stock goes.", field="destination")
    origin = require_location(merchant_id, origin_id)
    destination = require_location(merchant_id, destination_id)
    if origin.id == destination.id:
        raise InvalidInput("The destination must be another location than the origin.",
                           field="destination")
    if len(note) > 500:
        raise InvalidInput("The note is too long (500 characters at most).", field="note")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"A transfer has {MAX_LINES} lines at most.", field="lines")
    wanted = resolve_lines(merchant_id, lines)
    if not wanted:
        raise InvalidInput("Add at least one item to transfer.", field="lines")
    transfer = Transfer(merchant_id=merchant_id, origin_id=origin.id,
                        destination_id=destination.id, status=T.DRAFT, note=note.strip())
    for item_id, quantity in sorted(wanted.items()):
        transfer.lines.append(TransferLine(merchant_id=merchant_id, item_id=item_id,
                                           quantity=quantity, received_quantity=0))
    db.session.add(transfer)
    db.session.flush()
    _event(transfer, "created", f"Draft created: {_units(transfer.lines)} from {origin.name} "
                                f"to {destination.name}.")
    return transfer


def add_transfer_lines(merchant_id: int, transfer_id: int, lines: list[tuple[str, object]]
                       ) -> Transfer:
    """Add (SKU, quantity) lines to a draft; a SKU already on it gets the units added."""
    transfer = _transition(merchant_id, transfer_id, "edited")
    wanted = resolve_lines(merchant_id, lines)
    if not wanted:
        raise InvalidInput("Add at least one item to transfer.", field="lines")
    by_item = {line.item_id: line for line in transfer.lines}
    for item_id, quantity in sorted(wanted.items()):
        if item_id in by_item:
            by_item[item_id].quantity += quantity
        else:
            transfer.lines.append(TransferLine(merchant_id=merchant_id, item_id=item_id,
                                               quantity=quantity, received_quantity=0))
    db.session.flush()
    _event(transfer, "edited", f"Lines added: now {_units(transfer.lines)}.")
    return transfer


def remove_transfer_line(merchant_id: int, transfer_id: int, line_id: int) -> Transfer:
    """Take a line off a draft."""
    transfer = _transition(merchant_id, transfer_id, "edited")
    line = next((ln for ln in transfer.lines if ln.id == line_id), None)
    if line is None:
        raise NotFound("That line is not on this transfer.")
    transfer.lines.remove(line)
    db.session.flush()
    _event(transfer, "edited", f"{line.item.sku} removed.")
    return transfer


def ship_transfer(merchant_id: int, transfer_id: int) -> Transfer:
    """Draft -> in transit: every line's units leave the origin, all or nothing.

    Refused with InsufficientStock naming every short item at once, unless the origin
    allows negative stock; a deactivated origin can't ship. Flushes, never commits.
    """
    transfer = _transition(merchant_id, transfer_id, "shipped")
    if not transfer.lines:
        raise InvalidInput("Add at least one item before shipping.", field="lines")
    origin = require_location(merchant_id, transfer.origin_id, for_stock_out=True)
    apply_movements(merchant_id, origin, {ln.item_id: -ln.quantity for ln in transfer.lines},
                    reason="transfer_out", reference=Reference("transfer", transfer.id),
                    note=f"Transfer {transfer.reference} to {transfer.destination.name}")
    transfer.status = T.IN_TRANSIT
    transfer.shipped_at = utcnow()
    _event(transfer, "shipped", f"Shipped: {_units(transfer.lines)} left {origin.name}.")
    return transfer


def receive_transfer(merchant_id: int, transfer_id: int, quantities: Mapping[int, object]
                     ) -> Transfer:
    """Receive some units of some lines at the destination (the rest stays in transit).

    ``quantities`` maps line id -> units (whole numbers >= 0, at least one > 0, none above
    what is still on its way: ReceiveExceedsShipped names each). When every unit has
    arrived the transfer is received. Flushes, never commits.
    """
    transfer = _transition(merchant_id, transfer_id, "received")
    lines = {ln.id: ln for ln in transfer.lines}
    errors: dict[str, str] = {}
    wanted: dict[int, int] = {}
    for line_id, raw in quantities.items():
        if line_id not in lines:
            raise NotFound("That line is not on this transfer.")
        # A blank field is a line of which nothing arrived this time.
        quantity = parse_quantity(0 if str(raw).strip() == "" else raw)
        if isinstance(quantity, str):
            errors[f"receive-{line_id}"] = quantity
        elif quantity:
            wanted[line_id] = quantity
    if errors:
        raise TransferLinesInvalid(errors)
    if not wanted:
        raise InvalidInput("Enter how many units arrived.", field="lines")
    excesses = [ReceiveExcess(lid, lines[lid].item.sku, qty, lines[lid].outstanding)
                for lid, qty in sorted(wanted.items()) if qty > lines[lid].outstanding]
    if excesses:
        raise ReceiveExceedsShipped(excesses)
    destination = require_location(merchant_id, transfer.destination_id)
    apply_movements(merchant_id, destination,
                    {lines[lid].item_id: qty for lid, qty in wanted.items()},
                    reason="transfer_in", reference=Reference("transfer", transfer.id),
                    note=f"Transfer {transfer.reference} from {transfer.origin.name}",
                    check_stock=False)
    for lid, qty in wanted.items():
        lines[lid].received_quantity += qty
    done = all(ln.outstanding == 0 for ln in transfer.lines)
    transfer.status = T.RECEIVED if done else T.PARTIALLY_RECEIVED
    if done:
        transfer.received_at = utcnow()
    received = ", ".join(f"{lines[lid].item.sku} ×{qty}" for lid, qty in sorted(wanted.items()))
    _event(transfer, "received", f"Received at {destination.name}: {received}."
                                 + ("" if done else f" Still on the way: "
                                    f"{_units(transfer.lines, outstanding=True)}."))
    return transfer


def cancel_transfer(merchant_id: int, transfer_id: int) -> Transfer:
    """Cancel a draft (nothing moved) or an in-transit transfer: what has not arrived goes
    back to the origin, exactly once. Flushes, never commits."""
    transfer = _transition(merchant_id, transfer_id, "canceled")
    message = "Canceled: nothing had moved."
    if transfer.status != T.DRAFT:
        back = {ln.item_id: ln.outstanding for ln in transfer.lines if ln.outstanding}
        origin = require_location(merchant_id, transfer.origin_id)
        if back:
            apply_movements(merchant_id, origin, back, reason="transfer_returned",
                            reference=Reference("transfer", transfer.id),
                            note=f"Transfer {transfer.reference} canceled", check_stock=False)
        message = (f"Canceled: {_units(transfer.lines, outstanding=True)} not received "
                   f"returned to {origin.name}." if back else "Canceled.")
    transfer.status = T.CANCELED
    transfer.canceled_at = utcnow()
    _event(transfer, "canceled", message)
    return transfer


def _transition(merchant_id: int, transfer_id: int, action: str) -> Transfer:
    transfer = transfers_for_update(merchant_id, [transfer_id]).get(transfer_id)
    if transfer is None:
        raise NotFound("That transfer does not exist.")
    if transfer.status not in _ALLOWED_FROM[action]:
        raise TransferStateConflict(transfer, action)
    return transfer


def _units(lines: Iterable[TransferLine], *, outstanding: bool = False) -> str:
    lines = list(lines)
    units = sum(ln.outstanding if outstanding else ln.quantity for ln in lines)
    skus = sum(1 for ln in lines if (ln.outstanding if outstanding else ln.quantity))
    return f"{units} unit{'s' * (units != 1)} of {skus} item{'s' * (skus != 1)}"


def _event(transfer: Transfer, kind: str, message: str) -> None:
    transfer.events.append(TransferEvent(merchant_id=transfer.merchant_id, kind=kind,
                                         message=message))
    db.session.flush()
