"""Receiving: purchase orders from a supplier to a location, received in parts through the ledger.

Each receipt adds what arrived at the purchase order's location (``purchase_order_received``,
reference ("purchase_order", id)), so the inventory push carries it to every platform
location mapped there. More than expected is refused unless the receipt says it is allowed.

Lock order: the purchase order row first, then the location's levels in id order
(apply_movements), as for transfers.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.errors import IllegalTransition, InvalidInput, NotFound
from app.extensions import db
from app.locking import purchase_orders_for_update
from app.models import PurchaseOrder, PurchaseOrderEvent, PurchaseOrderLine, PurchaseOrderStatus
from app.models._common import utcnow
from app.stock.levels import Reference, apply_movements, require_location
from app.warehouse.transfers import MAX_LINES, TransferLinesInvalid, parse_quantity, resolve_lines

P = PurchaseOrderStatus
REASON = "purchase_order_received"
_RECEIVABLE = {P.OPEN, P.PARTIALLY_RECEIVED}


@dataclass(frozen=True)
class ReceiptExcess:
    """A line asked to receive more than is still expected."""

    line_id: int
    sku: str
    requested: int
    outstanding: int


class ReceiveExceedsExpected(InvalidInput):
    """More units received than expected, without allowing it."""

    def __init__(self, excesses: list[ReceiptExcess]):
        self.excesses = excesses
        parts = ", ".join(f"{e.sku} ({e.requested} received, {e.outstanding} still expected)"
                          for e in excesses)
        super().__init__(f"More than expected: {parts}. Tick \"Allow more than expected\" if "
                         "the supplier really sent them.", field="lines")


class PurchaseOrderClosed(IllegalTransition):
    """The purchase order is received or closed: nothing more can arrive on it."""

    def __init__(self, purchase_order: PurchaseOrder, action: str):
        super().__init__(purchase_order.id, str(purchase_order.status), action)
        self.message = (f"Purchase order {purchase_order.reference} is "
                        f"{str(purchase_order.status).replace('_', ' ')}: it can't be {action}.")
        self.args = (self.message,)


def create_purchase_order(merchant_id: int, supplier: str, location_id: int | None,
                          lines: list[tuple[str, object]], *, note: str = "") -> PurchaseOrder:
    """An open purchase order of (SKU, expected quantity) lines; nothing moves yet.

    Every bad field is refused inline: no supplier, a location that is not the merchant's,
    unknown SKUs, quantities that are not positive whole numbers (all lines at once).
    Flushes, never commits.
    """
    supplier = " ".join((supplier or "").split())
    if not supplier:
        raise InvalidInput("Enter the supplier.", field="supplier")
    if len(supplier) > 255:
        raise InvalidInput("The supplier's name is too long (255 characters at most).",
                           field="supplier")
    if location_id is None:
        raise InvalidInput("Choose where the stock arrives.", field="location")
    try:
        location = require_location(merchant_id, location_id)
    except NotFound:
        raise InvalidInput("Choose one of your stock locations.", field="location") from None
    if len(note) > 500:
        raise InvalidInput("The note is too long (500 characters at most).", field="note")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"A purchase order has {MAX_LINES} lines at most.", field="lines")
    wanted = resolve_lines(merchant_id, lines)
    if not wanted:
        raise InvalidInput("Add at least one item you expect.", field="lines")
    po = PurchaseOrder(merchant_id=merchant_id, supplier=supplier, location_id=location.id,
                       status=P.OPEN, note=note.strip())
    for item_id, quantity in sorted(wanted.items()):
        po.lines.append(PurchaseOrderLine(merchant_id=merchant_id, item_id=item_id,
                                          expected_quantity=quantity, received_quantity=0))
    db.session.add(po)
    db.session.flush()
    units = sum(wanted.values())
    _event(po, "created", f"Expected from {supplier} at {location.name}: {units} unit"
                          f"{'s' * (units != 1)} of {len(wanted)} item{'s' * (len(wanted) != 1)}.")
    return po


def receive_purchase_order(merchant_id: int, purchase_order_id: int,
                           quantities: Mapping[int, object], *, allow_excess: bool = False
                           ) -> PurchaseOrder:
    """Receive some units of some lines at the location; the rest stays expected.

    ``quantities`` maps line id -> units (whole numbers >= 0, blank = none this time, at
    least one > 0). Above what is still expected: ReceiveExceedsExpected naming each line,
    unless ``allow_excess``. When every line has all it expected, the purchase order is
    received. Flushes, never commits.
    """
    po = purchase_orders_for_update(merchant_id, [purchase_order_id]).get(purchase_order_id)
    if po is None:
        raise NotFound("That purchase order does not exist.")
    if po.status not in _RECEIVABLE:
        raise PurchaseOrderClosed(po, "received")
    lines = {ln.id: ln for ln in po.lines}
    errors: dict[str, str] = {}
    wanted: dict[int, int] = {}
    for line_id, raw in quantities.items():
        if line_id not in lines:
            raise NotFound("That line is not on this purchase order.")
        quantity = parse_quantity(0 if str(raw).strip() == "" else raw)
        if isinstance(quantity, str):
            errors[f"receive-{line_id}"] = quantity
        elif quantity:
            wanted[line_id] = quantity
    if errors:
        raise TransferLinesInvalid(errors)
    if not wanted:
        raise InvalidInput("Enter how many units arrived.", field="lines")
    excesses = [ReceiptExcess(lid, lines[lid].item.sku, qty, lines[lid].outstanding)
                for lid, qty in sorted(wanted.items()) if qty > lines[lid].outstanding]
    if excesses and not allow_excess:
        raise ReceiveExceedsExpected(excesses)
    location = require_location(merchant_id, po.location_id)
    apply_movements(merchant_id, location, {lines[lid].item_id: q for lid, q in wanted.items()},
                    reason=REASON, reference=Reference("purchase_order", po.id),
                    note=f"Purchase order {po.reference} from {po.supplier}", check_stock=False)
    for lid, qty in wanted.items():
        lines[lid].received_quantity += qty
    done = all(ln.outstanding == 0 for ln in po.lines)
    po.status = P.RECEIVED if done else P.PARTIALLY_RECEIVED
    if done:
        po.received_at = utcnow()
    received = ", ".join(f"{lines[lid].item.sku} ×{qty}" for lid, qty in sorted(wanted.items()))
    extra = (f" More than expected (allowed): "
             f"{', '.join(f'{e.sku} +{e.requested - e.outstanding}' for e in excesses)}."
             if excesses else "")
    still = sum(ln.outstanding for ln in po.lines)
    _event(po, "received", f"Received at {location.name}: {received}.{extra}"
                           + ("" if done else f" Still expected: {still} unit"
                                              f"{'s' * (still != 1)}."))
    return po


def close_purchase_order(merchant_id: int, purchase_order_id: int) -> PurchaseOrder:
    """Nothing more will arrive: close an open or partly received purchase order (no stock
    moves; what arrived stays). Flushes, never commits."""
    po = purchase_orders_for_update(merchant_id, [purchase_order_id]).get(purchase_order_id)
    if po is None:
        raise NotFound("That purchase order does not exist.")
    if po.status not in _RECEIVABLE:
        raise PurchaseOrderClosed(po, "closed")
    missing = sum(ln.outstanding for ln in po.lines)
    po.status = P.CLOSED
    po.closed_at = utcnow()
    _event(po, "closed", f"Closed: {missing} expected unit{'s' * (missing != 1)} will not "
                         "arrive." if missing else "Closed.")
    return po


def _event(po: PurchaseOrder, kind: str, message: str) -> None:
    po.events.append(PurchaseOrderEvent(merchant_id=po.merchant_id, kind=kind, message=message))
    db.session.flush()
