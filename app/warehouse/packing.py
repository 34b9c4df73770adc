"""Scan to verify when packing: each scan of a SKU or barcode checks off one unit of a fulfillment.

Counts live in ``pack_counts`` (one row per fulfillment line), so a reload keeps them. Every
scan locks the order, then the fulfillment (the fixed lock order of app/locking.py), then
reads and bumps the count: two packers scanning one fulfillment are serialized, and the
unit one of them scanned last is refused to the other as an extra unit, never counted twice.

A fulfillment still to pack (Pending or Shipped, not packed: ``Fulfillment.to_pack``; a
label bought first ships it before it is packed) is completed from the pack screen only
when every line's scanned count equals its quantity, or with an override and its reason,
which the order's timeline keeps (a timeline-only outbox event: no platform hears of it).
Completing sets ``packed_at``, and ships a Pending one.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.errors import IllegalTransition, InvalidInput, NotFound
from app.extensions import db
from app.fulfillment import mark_shipped
from app.locking import fulfillments_for_update, orders_for_update
from app.models import (Fulfillment, FulfillmentLine, FulfillmentStatus, InventoryItem, Order,
                        OutboxEvent, PackCount)
from app.models._common import utcnow
from app.models.stock import sku_key

MAX_CODE, MAX_REASON = 255, 500
#: The timeline-only outbox topic of a completed pack (no handler: nothing is pushed).
PACKED_TOPIC = "fulfillment.packed"


@dataclass(frozen=True)
class PackLine:
    """One line of the pack screen: what to scan, how many, how many were scanned."""

    line: FulfillmentLine
    sku: str
    barcode: str
    title: str
    scanned: int

    @property
    def quantity(self) -> int:
        """Units to pack."""
        return self.line.quantity

    @property
    def remaining(self) -> int:
        """Units still to scan."""
        return self.quantity - self.scanned


class ScanRefused(InvalidInput):
    """A scan that checks off nothing: unknown code, wrong item, another order's, an extra unit.

    ``kind`` is "unknown", "not_in_fulfillment", "other_order" or "extra"; ``code`` is what
    was scanned.
    """

    def __init__(self, kind: str, code: str, message: str):
        super().__init__(message, field="code")
        self.kind = kind
        self.code = code


class NotToPack(IllegalTransition):
    """The pack screen asked for a fulfillment that is packed already, delivered or canceled."""

    def __init__(self, fulfillment: Fulfillment, action: str):
        super().__init__(fulfillment.id, fulfillment.status, action, fulfillment.name)
        if fulfillment.status in (FulfillmentStatus.DELIVERED, FulfillmentStatus.CANCELED):
            self.message = (f"Fulfillment {fulfillment.name} is {fulfillment.status}: "
                            "there is nothing to pack.")
        else:
            self.message = (f"Fulfillment {fulfillment.name} is packed already: there is "
                            "nothing left to pack.")
        self.args = (self.message,)


class PackIncomplete(IllegalTransition):
    """Completion asked while scanned counts differ from the quantities (and no override)."""

    def __init__(self, fulfillment_id: int, status: str, lines: list[PackLine]):
        super().__init__(fulfillment_id, status, "completed")
        self.lines = [pl for pl in lines if pl.remaining]
        parts = ", ".join(f"{pl.sku or pl.title} ({pl.scanned} of {pl.quantity} scanned)"
                          for pl in self.lines)
        self.message = f"Not every unit is scanned: {parts}. Scan them, or override with a reason."
        self.args = (self.message,)


def pack_lines(merchant_id: int, fulfillment_id: int) -> list[PackLine]:
    """The fulfillment's lines with their scanned counts (NotFound for another merchant's)."""
    fulfillment = db.session.scalar(select(Fulfillment).where(
        Fulfillment.merchant_id == merchant_id, Fulfillment.id == fulfillment_id))
    if fulfillment is None:
        raise NotFound("That fulfillment does not exist.")
    return _lines(fulfillment)


def _lines(fulfillment: Fulfillment) -> list[PackLine]:
    counts = dict(db.session.execute(
        select(PackCount.fulfillment_line_id, PackCount.scanned)
        .where(PackCount.merchant_id == fulfillment.merchant_id,
               PackCount.fulfillment_id == fulfillment.id)
        .execution_options(populate_existing=True)).all())
    flines = db.session.scalars(
        select(FulfillmentLine).where(FulfillmentLine.fulfillment_id == fulfillment.id)
        .order_by(FulfillmentLine.id)
        .options(selectinload(FulfillmentLine.inventory_item),
                 selectinload(FulfillmentLine.order_line)))
    result = []
    for fline in flines:
        item, oline = fline.inventory_item, fline.order_line
        result.append(PackLine(fline, (item.sku if item else oline.sku) or "",
                               item.barcode if item else "", oline.title or "",
                               counts.get(fline.id, 0)))
    return result


def record_scan(merchant_id: int, fulfillment_id: int, code: str) -> PackLine:
    """Check off one unit of the line whose SKU (any case and spacing) or barcode is ``code``.

    Refused with ScanRefused, counting nothing: an empty or unknown code, an item that is
    not in this fulfillment (the message names the order it belongs to, if another one to
    pack), and a unit more than the line's quantity. A fulfillment packed already,
    delivered or canceled can't be packed (NotToPack). Flushes, never commits.
    """
    code = " ".join((code or "").split())
    if not code:
        raise InvalidInput("Scan or type a SKU or barcode.", field="code")
    if len(code) > MAX_CODE:
        raise ScanRefused("unknown", code[:40], "That is not a SKU or barcode (too long).")
    fulfillment = _to_pack(merchant_id, fulfillment_id, "packed")
    lines = _lines(fulfillment)
    match = [pl for pl in lines if _matches(pl.sku, pl.barcode, code)]
    if not match:
        raise _not_here(fulfillment, code)
    open_lines = [pl for pl in match if pl.remaining > 0]
    if not open_lines:
        pl = match[0]
        total = sum(p.quantity for p in match)
        raise ScanRefused("extra", code, f"Extra unit: all {total} of {pl.sku or pl.title} are "
                                         "already scanned. Put this one back.")
    target = open_lines[0]
    count = db.session.scalar(select(PackCount).where(
        PackCount.fulfillment_line_id == target.line.id))
    if count is None:
        count = PackCount(merchant_id=merchant_id, fulfillment_id=fulfillment.id,
                          fulfillment_line_id=target.line.id, scanned=0)
        db.session.add(count)
    count.scanned = target.scanned + 1
    db.session.flush()
    return PackLine(target.line, target.sku, target.barcode, target.title, count.scanned)


def complete_packing(merchant_id: int, fulfillment_id: int, *, override: bool = False,
                     reason: str = "") -> Fulfillment:
    """Mark a fulfillment packed once every unit is scanned, or with an override; a Pending
    one is marked shipped too (a Shipped one, tracked before packing, is not shipped again).

    Without ``override`` the counts must equal the quantities (PackIncomplete names the
    lines that differ); an override needs a ``reason``. Either way the order's timeline
    gets a ``fulfillment.packed`` entry saying which. Flushes, never commits.
    """
    reason = reason.strip()
    if override and not reason:
        raise InvalidInput("Say why you ship without scanning every unit.", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"The reason is too long ({MAX_REASON} characters at most).",
                           field="reason")
    fulfillment = _to_pack(merchant_id, fulfillment_id, "completed")
    lines = _lines(fulfillment)
    verified = all(pl.remaining == 0 for pl in lines)
    if not verified and not override:
        raise PackIncomplete(fulfillment.id, fulfillment.status, lines)
    units = sum(pl.quantity for pl in lines)
    scanned = sum(pl.scanned for pl in lines)
    if verified:
        message = f"Packed: all {units} unit{'s' * (units != 1)} verified by scan."
    else:
        message = (f"Packed with an override: {scanned} of {units} units scanned. "
                   f"Reason: {reason}")
    db.session.add(OutboxEvent(
        merchant_id=merchant_id, channel_id=fulfillment.channel_id,
        order_id=fulfillment.order_id, topic=PACKED_TOPIC,
        payload={"fulfillment_id": fulfillment.id, "source": "stockroom", "message": message,
                 "override": not verified, "scanned": scanned, "units": units}))
    if fulfillment.status == FulfillmentStatus.PENDING:
        return mark_shipped(fulfillment.id, merchant_id=merchant_id)  # packed as it ships
    fulfillment.packed_at = utcnow()  # Shipped already (tracking): no second shipped event
    db.session.flush()
    return fulfillment


def ship_fulfillment(fulfillment_id: int, *, merchant_id: int) -> Fulfillment:
    """The order page's "Mark as shipped" of a Pending fulfillment: refused while a scan is
    half done (finish it on the pack screen, or override there); a fulfillment nobody
    scanned ships (and counts as packed: it left the building) as before."""
    fulfillment = _locked(merchant_id, fulfillment_id)
    if fulfillment.status != FulfillmentStatus.PENDING:
        raise IllegalTransition(fulfillment.id, fulfillment.status, "shipped",
                                fulfillment.name)
    lines = _lines(fulfillment)
    if any(pl.scanned for pl in lines) and any(pl.remaining for pl in lines):
        raise PackIncomplete(fulfillment.id, fulfillment.status, lines)
    return mark_shipped(fulfillment.id, merchant_id=merchant_id)


def _locked(merchant_id: int, fulfillment_id: int) -> Fulfillment:
    """Lock the order, then the fulfillment (NotFound for another merchant's)."""
    probe = db.session.scalar(select(Fulfillment.order_id).where(
        Fulfillment.merchant_id == merchant_id, Fulfillment.id == fulfillment_id))
    if probe is None:
        raise NotFound("That fulfillment does not exist.")
    orders_for_update(merchant_id, [probe])
    return fulfillments_for_update(merchant_id, [fulfillment_id])[fulfillment_id]


def _to_pack(merchant_id: int, fulfillment_id: int, action: str) -> Fulfillment:
    """Locked (:func:`_locked`); it must be still to pack (live and not packed)."""
    fulfillment = _locked(merchant_id, fulfillment_id)
    if not fulfillment.to_pack:
        raise NotToPack(fulfillment, action)
    return fulfillment


def _matches(sku: str, barcode: str, code: str) -> bool:
    return bool(sku and sku_key(sku) == sku_key(code)) or bool(barcode and barcode == code)


def _not_here(fulfillment: Fulfillment, code: str) -> ScanRefused:
    """Why a code matches no line: no such item, or an item of another order or fulfillment."""
    item = db.session.scalar(select(InventoryItem).where(
        InventoryItem.merchant_id == fulfillment.merchant_id,
        (InventoryItem.sku_key == sku_key(code)) | (InventoryItem.barcode == code))
        .order_by(InventoryItem.id).limit(1))
    if item is None:
        return ScanRefused("unknown", code, f"No item has the SKU or barcode {code}.")
    other = db.session.scalar(
        select(Order.name).join(Fulfillment, Fulfillment.order_id == Order.id)
        .join(FulfillmentLine, FulfillmentLine.fulfillment_id == Fulfillment.id)
        .where(Fulfillment.merchant_id == fulfillment.merchant_id,
               Fulfillment.to_pack, Fulfillment.id != fulfillment.id,
               FulfillmentLine.inventory_item_id == item.id)
        .order_by(Fulfillment.id).limit(1))
    if other is not None:
        return ScanRefused("other_order", code, f"{item.sku} belongs to order {other}, not to "
                                                "this fulfillment. Put it back.")
    return ScanRefused("not_in_fulfillment", code,
                       f"Wrong item: {item.sku} ({item.title}) is not in this fulfillment.")
