"""Stock levels as CSV: a streamed export, and an import previewed in full before it is applied.

The columns follow Shopify's inventory CSV where Stockroom has the data (Handle, Title, SKU,
Location, Committed (not editable), Available (not editable), On hand (current), On hand
(new)), so a file exported from either can be edited and imported here. An import sets
absolute counts: a row says "there are N of this SKU at this location", so applying the
same file twice changes nothing the second time.

Import flow: the upload is stored (StockImport, with its SHA-256), :func:`plan_import` lists
every change (SKU, location, current -> new) and every bad row with its reason, and
:func:`apply_import` applies the plan in the caller's unit of work, all or nothing, only if
the file has no bad rows and the plan still equals the one previewed (its digest): if stock
moved since the preview, the merchant sees the new preview instead of a surprise.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import and_, select

from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.locking import inventory_levels_for_update, stock_imports_for_update
from app.models import InventoryItem, InventoryLevel, StockImport, StockLocation
from app.models._common import utcnow
from app.models.stock import sku_key
from app.stock.levels import Reference, apply_movements

EXPORT_HEADER = ("Handle", "Title", "SKU", "Location", "Committed (not editable)",
                 "Available (not editable)", "On hand (current)", "On hand (new)")
#: Header names the import reads (compared case-insensitively, spacing collapsed).
SKU, LOCATION, ON_HAND_NEW, ON_HAND = "sku", "location", "on hand (new)", "on hand"
#: Values of the count column that mean "leave as is" (Shopify writes "not stocked").
UNCHANGED_VALUES = ("", "not stocked")
REASON = "csv_import"
_EXPORT_BATCH = 1000


def _norm(text: str) -> str:
    return " ".join((text or "").split()).casefold()


# --- Export ---------------------------------------------------------------------------------

def export_csv(merchant_id: int, *, location_id: int | None = None) -> Iterator[str]:
    """The merchant's levels as CSV text, yielded in chunks (rows are never all in memory).

    One row per item and location (0 where the item has no level yet), ordered by SKU then
    location. "On hand (new)" is left empty: fill it in where a count changed.
    """
    stmt = (select(InventoryItem.sku, InventoryItem.title, StockLocation.name,
                   InventoryLevel.on_hand, InventoryLevel.committed)
            .select_from(InventoryItem)
            .join(StockLocation, StockLocation.merchant_id == InventoryItem.merchant_id)
            .outerjoin(InventoryLevel, and_(InventoryLevel.location_id == StockLocation.id,
                                            InventoryLevel.item_id == InventoryItem.id))
            .where(InventoryItem.merchant_id == merchant_id)
            .order_by(InventoryItem.sku, StockLocation.name))
    if location_id is not None:
        stmt = stmt.where(StockLocation.id == location_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    # yield_per streams (a server-side cursor on PostgreSQL): memory stays flat at any size.
    result = db.session.execute(stmt.execution_options(yield_per=_EXPORT_BATCH))
    for n, (sku, title, location, on_hand, committed) in enumerate(result, start=1):
        on_hand, committed = on_hand or 0, committed or 0
        writer.writerow(("", title, sku, location, committed, on_hand - committed, on_hand, ""))
        if n % _EXPORT_BATCH == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# --- Import ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CountChange:
    """One count the import sets: the item at the location goes from ``current`` to ``new``."""

    row: int
    sku: str
    item_id: int
    location: str
    location_id: int
    current: int
    new: int


@dataclass(frozen=True)
class BadRow:
    """A row that can't be applied, and why."""

    row: int
    reason: str
    sku: str = ""
    location: str = ""


@dataclass
class ImportPlan:
    """What applying a file would do; nothing is applied while ``bad_rows`` or ``file_error``."""

    sha256: str
    changes: list[CountChange] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    file_error: str = ""

    @property
    def can_apply(self) -> bool:
        """The whole file is good and changes something."""
        return not self.file_error and not self.bad_rows and bool(self.changes)

    @property
    def digest(self) -> str:
        """Binds a preview to what it showed: the file and every change with its current count."""
        h = hashlib.sha256(self.sha256.encode())
        for c in self.changes:
            h.update(f"|{c.item_id}:{c.location_id}:{c.current}:{c.new}".encode())
        return h.hexdigest()


class ImportNotApplicable(DomainError):
    """The file has bad rows (or changes nothing): nothing was applied."""


class StalePreview(DomainError):
    """Stock or the file changed since the preview: the merchant must look again."""


class ImportAlreadyApplied(Exception):
    """This upload was applied before; nothing was done again (``outcome`` says what it did)."""

    def __init__(self, outcome: str):
        super().__init__(outcome)
        self.outcome = outcome


def store_import(merchant_id: int, filename: str, data: bytes) -> StockImport:
    """Keep an uploaded file for its preview and apply. Flushes.

    Refuses an empty file or one that is not UTF-8 text (spreadsheets export UTF-8 CSV;
    a BOM is fine).
    """
    if not data.strip():
        raise InvalidInput("The file is empty.", field="file")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text: export it as “CSV UTF-8”.",
                           field="file") from None
    if "\x00" in content:
        raise InvalidInput("The file is not a CSV file.", field="file")
    stock_import = StockImport(merchant_id=merchant_id, filename=(filename or "")[:255],
                               sha256=hashlib.sha256(data).hexdigest(), content=content)
    db.session.add(stock_import)
    db.session.flush()
    return stock_import


def require_import(merchant_id: int, import_id: int) -> StockImport:
    """The merchant's upload with this id, or NotFound."""
    row = db.session.scalar(select(StockImport).where(
        StockImport.merchant_id == merchant_id, StockImport.id == import_id))
    if row is None:
        raise NotFound("That import does not exist.")
    return row


def plan_import(merchant_id: int, stock_import: StockImport) -> ImportPlan:
    """Every change and every bad row of the file, against the stock as it is now."""
    plan = ImportPlan(sha256=stock_import.sha256)
    reader = csv.reader(io.StringIO(stock_import.content, newline=""))
    try:
        header = [_norm(h) for h in next(reader, [])]
        count_col = ON_HAND_NEW if ON_HAND_NEW in header else ON_HAND
        missing = [name for name in (SKU, LOCATION, count_col) if name not in header]
        if missing:
            plan.file_error = ("The first row must name the columns SKU, Location and "
                               "On hand (new) (or On hand); missing: "
                               + ", ".join(m.capitalize() for m in missing) + ".")
            return plan
        col = {name: header.index(name) for name in (SKU, LOCATION, count_col)}
        raw_rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        plan.file_error = f"The file is not readable as CSV (line {reader.line_num}): {error}."
        return plan

    items = {key: (item_id, sku) for item_id, key, sku in db.session.execute(
        select(InventoryItem.id, InventoryItem.sku_key, InventoryItem.sku)
        .where(InventoryItem.merchant_id == merchant_id))}
    locations = db.session.execute(select(StockLocation.id, StockLocation.name).where(
        StockLocation.merchant_id == merchant_id)).all()
    by_name = {name: lid for lid, name in locations}
    by_norm = {_norm(name): (lid, name) for lid, name in locations}
    levels = {(loc, item): on_hand for loc, item, on_hand in db.session.execute(
        select(InventoryLevel.location_id, InventoryLevel.item_id, InventoryLevel.on_hand)
        .where(InventoryLevel.merchant_id == merchant_id))}

    seen: dict[tuple[int, int], int] = {}
    label = "On hand (new)" if count_col == ON_HAND_NEW else "On hand"
    for line, row in raw_rows:
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        get = (lambda name: cells[col[name]] if col[name] < len(cells) else "")
        sku, location, count = get(SKU), get(LOCATION), get(count_col)
        if count.casefold() in UNCHANGED_VALUES:
            plan.skipped += 1
            continue
        reasons = []
        item = items.get(sku_key(sku))
        if not sku:
            reasons.append("no SKU")
        elif item is None:
            reasons.append(f"unknown SKU {sku}")
        location_id = by_name.get(location)
        if location_id is None and _norm(location) in by_norm:
            location_id, location = by_norm[_norm(location)]
        if not location:
            reasons.append("no location")
        elif location_id is None:
            reasons.append(f"unknown location {location}")
        try:
            new = int(count)
        except ValueError:
            new = None
            reasons.append(f"{label} must be a whole number (got {count[:40]})")
        if new is not None and new < 0:
            reasons.append(f"{label} can't be negative")
        if not reasons:
            key = (location_id, item[0])
            if key in seen:
                reasons.append(f"duplicate of row {seen[key]} (same SKU and location)")
            else:
                seen[key] = line
        if reasons:
            plan.bad_rows.append(BadRow(line, "; ".join(reasons), sku, location))
            continue
        current = levels.get((location_id, item[0]), 0)
        if current == new:
            plan.unchanged += 1
        else:
            plan.changes.append(CountChange(line, item[1], item[0], location, location_id,
                                            current, new))
    return plan


def apply_import(merchant_id: int, import_id: int, *, sha256: str, digest: str) -> str:
    """Apply a previewed upload, all or nothing, in the caller's unit of work; flushes.

    ``sha256`` and ``digest`` come from the preview: the file must be the one previewed and
    the plan unchanged (else StalePreview). Counts are set through the ledger (reason
    ``csv_import``, reference ("stock_import", id)); the inventory push carries them to the
    platforms. Returns the outcome; a second apply raises ImportAlreadyApplied.
    """
    stock_import = stock_imports_for_update(merchant_id, [import_id]).get(import_id)
    if stock_import is None:
        raise NotFound("That import does not exist.")
    if stock_import.applied_at is not None:
        raise ImportAlreadyApplied(stock_import.outcome)
    if sha256 != stock_import.sha256:
        raise StalePreview("This preview was made for another file: upload it again.")
    plan = plan_import(merchant_id, stock_import)
    if plan.file_error or plan.bad_rows:
        raise ImportNotApplicable("Nothing was applied: fix the bad rows and upload the "
                                  "file again.")
    if plan.digest != digest:
        raise StalePreview("Stock changed since the preview: check the changes below and "
                           "apply again.")
    by_location: dict[int, list[CountChange]] = defaultdict(list)
    for change in plan.changes:
        by_location[change.location_id].append(change)
    locations = {loc.id: loc for loc in db.session.scalars(select(StockLocation).where(
        StockLocation.merchant_id == merchant_id, StockLocation.id.in_(list(by_location))))}
    for location_id in sorted(by_location):
        changes = by_location[location_id]
        levels = inventory_levels_for_update(merchant_id, location_id,
                                             [c.item_id for c in changes])
        # Read before the locks: a fulfillment may have landed in between.
        if any(levels[c.item_id].on_hand != c.current for c in changes):
            raise StalePreview("Stock changed since the preview: check the changes below "
                               "and apply again.")
        apply_movements(merchant_id, locations[location_id],
                        {c.item_id: c.new - c.current for c in changes}, reason=REASON,
                        reference=Reference("stock_import", stock_import.id),
                        note=f"CSV import {stock_import.filename}"[:500])
    stock_import.applied_at = utcnow()
    stock_import.outcome = (f"{len(plan.changes)} count{'s' * (len(plan.changes) != 1)} set "
                            f"from {stock_import.filename or 'the file'}.")
    db.session.flush()
    return stock_import.outcome
