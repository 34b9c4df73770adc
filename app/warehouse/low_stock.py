"""Low stock: reorder points per item and location, what is at or below them, the daily digest email.

The digest is off by default (per merchant, with a recipient) and needs SMTP settings
(``SMTP_HOST`` …). The worker's schedule queues at most one ``warehouse.low_stock_digest``
outbox job per merchant and UTC day (the unique (merchant, day) row of ``low_stock_digests``
decides, so any number of workers may tick), and the job's handler sends the email: a
failed send is retried like any job and shows on the Sync page.
"""
from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import and_, func, select

from app.database import dialect_insert
from app.errors import InvalidInput
from app.extensions import db
from app.models import (InventoryItem, InventoryLevel, LowStockDigest, LowStockDigestSetting,
                        Order, OrderLine, OutboxEvent, ReorderPoint, StockLocation)
from app.models.stock import sku_key
from app.sync.errors import RetryableError
from app.sync.queue import Job
from app.sync.topics import Topic
from app.warehouse.transfers import parse_quantity

DIGEST_TOPIC = Topic.WAREHOUSE_LOW_STOCK_DIGEST
MAX_DIGEST_ROWS = 500


@dataclass(frozen=True)
class LowStockRow:
    """An item at a location at or below its reorder point."""

    item: InventoryItem
    location: StockLocation
    reorder_point: int
    on_hand: int
    available: int
    reserved: int  # units of open orders' lines not shipped yet (every location)

    @property
    def short_by(self) -> int:
        """Units below the reorder point counting what open orders still take."""
        return max(self.reorder_point - (self.available - self.reserved), 0)


class ReorderPointInvalid(InvalidInput):
    """Some fields of a reorder point are wrong; ``errors`` maps each field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()), field=next(iter(errors)))
        self.errors = errors


def set_reorder_point(merchant_id: int, location_id: int | None, sku: str, value: object
                      ) -> ReorderPoint | None:
    """Set (or, with a blank value, remove) the reorder point of a SKU at a location.

    The location must be the merchant's and the SKU known (by its comparison key); the
    point is a whole number >= 0. Returns the row, or None once removed. Flushes.
    """
    errors = {}
    location = None
    if location_id is None:
        errors["location"] = "Choose a location."
    else:
        location = db.session.scalar(select(StockLocation).where(
            StockLocation.merchant_id == merchant_id, StockLocation.id == location_id))
        if location is None:
            errors["location"] = "Choose one of your stock locations."
    key = sku_key(sku)
    item = db.session.scalar(select(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id, InventoryItem.sku_key == key)) if key else None
    if not key:
        errors["sku"] = "Enter a SKU."
    elif item is None:
        errors["sku"] = f"No item has the SKU {' '.join(sku.split())}."
    blank = str(value if value is not None else "").strip() == ""
    point = None if blank else parse_quantity(value)
    if isinstance(point, str):
        errors["reorder_point"] = point
    if errors:
        raise ReorderPointInvalid(errors)
    row = db.session.scalar(select(ReorderPoint).where(
        ReorderPoint.merchant_id == merchant_id, ReorderPoint.location_id == location.id,
        ReorderPoint.item_id == item.id))
    if point is None:
        if row is not None:
            db.session.delete(row)
            db.session.flush()
        return None
    if row is None:
        row = ReorderPoint(merchant_id=merchant_id, location_id=location.id, item_id=item.id,
                           reorder_point=point)
        db.session.add(row)
    row.reorder_point = point
    db.session.flush()
    return row


def reserved_by_open_orders(merchant_id: int, item_ids: list[int]) -> dict[int, int]:
    """Item id -> units of open (not canceled) orders' lines not shipped yet."""
    if not item_ids:
        return {}
    rows = db.session.execute(
        select(OrderLine.inventory_item_id,
               func.sum(OrderLine.quantity - OrderLine.fulfilled_quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.merchant_id == merchant_id, Order.merchant_id == merchant_id,
               Order.cancelled_at.is_(None), OrderLine.inventory_item_id.in_(item_ids),
               OrderLine.quantity > OrderLine.fulfilled_quantity)
        .group_by(OrderLine.inventory_item_id))
    return {item_id: int(units or 0) for item_id, units in rows}


def low_stock(merchant_id: int, *, location_id: int | None = None,
              limit: int = MAX_DIGEST_ROWS) -> list[LowStockRow]:
    """Every (item, location) whose available units are at or below its reorder point,
    most short first; inactive locations are left out."""
    on_hand = func.coalesce(InventoryLevel.on_hand, 0)
    available = on_hand - func.coalesce(InventoryLevel.committed, 0)
    stmt = (select(ReorderPoint, InventoryItem, StockLocation, on_hand, available)
            .join(InventoryItem, InventoryItem.id == ReorderPoint.item_id)
            .join(StockLocation, StockLocation.id == ReorderPoint.location_id)
            .outerjoin(InventoryLevel, and_(InventoryLevel.location_id == ReorderPoint.location_id,
                                            InventoryLevel.item_id == ReorderPoint.item_id))
            .where(ReorderPoint.merchant_id == merchant_id, StockLocation.active.is_(True),
                   available <= ReorderPoint.reorder_point)
            .order_by((available - ReorderPoint.reorder_point), InventoryItem.sku,
                      StockLocation.name)
            .limit(limit))
    if location_id is not None:
        stmt = stmt.where(ReorderPoint.location_id == location_id)
    rows = db.session.execute(stmt).all()
    reserved = reserved_by_open_orders(merchant_id, sorted({r[1].id for r in rows}))
    return [LowStockRow(item, location, point.reorder_point, int(hand), int(avail),
                        reserved.get(item.id, 0))
            for point, item, location, hand, avail in rows]


def reorder_points(merchant_id: int) -> list[ReorderPoint]:
    """Every reorder point of the merchant, by SKU then location."""
    return list(db.session.scalars(
        select(ReorderPoint).join(InventoryItem, InventoryItem.id == ReorderPoint.item_id)
        .join(StockLocation, StockLocation.id == ReorderPoint.location_id)
        .where(ReorderPoint.merchant_id == merchant_id)
        .order_by(InventoryItem.sku, StockLocation.name).limit(2000)))


# --- The daily digest -----------------------------------------------------------------------

def digest_setting(merchant_id: int) -> LowStockDigestSetting:
    """The merchant's digest setting (off, no recipient, until saved)."""
    return (db.session.get(LowStockDigestSetting, merchant_id)
            or LowStockDigestSetting(merchant_id=merchant_id, enabled=False, recipient=""))


def smtp_configured() -> bool:
    """SMTP_HOST is set: the digest can be sent."""
    return bool(current_app.config.get("SMTP_HOST"))


def save_digest_setting(merchant_id: int, *, enabled: bool, recipient: str
                        ) -> LowStockDigestSetting:
    """Turn the daily digest on (to a recipient) or off. Flushes."""
    recipient = (recipient or "").strip()
    if len(recipient) > 320 or (recipient and ("@" not in recipient or any(
            c.isspace() or c in ",;<>" for c in recipient))):
        raise InvalidInput("Enter one email address.", field="recipient")
    if enabled and not recipient:
        raise InvalidInput("Enter who gets the digest.", field="recipient")
    if enabled and not smtp_configured():
        raise InvalidInput("Email is not set up on this server (SMTP_HOST): the digest can't "
                           "be sent.", field="enabled")
    setting = db.session.get(LowStockDigestSetting, merchant_id)
    if setting is None:
        setting = LowStockDigestSetting(merchant_id=merchant_id)
        db.session.add(setting)
    setting.enabled, setting.recipient = enabled, recipient
    db.session.flush()
    return setting


def queue_digests(today: dt.date) -> int:
    """Queue today's digest of every merchant who turned it on and has none for today.

    The (merchant, day) row is inserted with ON CONFLICT DO NOTHING: whichever worker
    inserts it queues the job, the others see no row inserted. Flushes; returns the count.
    """
    merchant_ids = list(db.session.scalars(select(LowStockDigestSetting.merchant_id).where(
        LowStockDigestSetting.enabled.is_(True), LowStockDigestSetting.recipient != "")))
    queued = 0
    for merchant_id in merchant_ids:
        inserted = db.session.execute(
            dialect_insert(db.session)(LowStockDigest)
            .values(merchant_id=merchant_id, day=today, created_at=dt.datetime.now(dt.UTC))
            .on_conflict_do_nothing(index_elements=["merchant_id", "day"])
            .returning(LowStockDigest.id)).scalar()
        if inserted is not None:
            db.session.add(OutboxEvent(merchant_id=merchant_id, topic=DIGEST_TOPIC,
                                       payload={"day": today.isoformat()}))
            queued += 1
    db.session.flush()
    return queued


def schedule_low_stock_digests() -> int:
    """From the configured hour (UTC) on, queue the day's digests (none without SMTP)."""
    now = dt.datetime.now(dt.UTC)
    if not smtp_configured() or now.hour < current_app.config["LOW_STOCK_DIGEST_HOUR"]:
        return 0
    return queue_digests(now.date())


def digest_message(merchant_id: int, day: str, recipient: str) -> EmailMessage | None:
    """The digest email, or None when nothing is at or below its reorder point."""
    rows = low_stock(merchant_id)
    if not rows:
        return None
    message = EmailMessage()
    message["Subject"] = f"Low stock: {len(rows)} item{'s' * (len(rows) != 1)} at or below " \
                         f"the reorder point ({day})"
    message["From"] = current_app.config["SMTP_FROM"]
    message["To"] = recipient
    lines = [f"At or below the reorder point on {day}:", ""]
    for row in rows:
        lines.append(f"- {row.item.sku} {row.item.title} at {row.location.name}: "
                     f"{row.available} available, reorder point {row.reorder_point}, "
                     f"{row.reserved} reserved by open orders")
    message.set_content("\n".join(lines) + "\n")
    return message


def send_low_stock_digest(job: Job) -> str:
    """Send one merchant's digest over SMTP (nothing held open while it talks to the server)."""
    payload = job.payload or {}
    setting = db.session.get(LowStockDigestSetting, job.merchant_id)
    if setting is None or not setting.enabled or not setting.recipient:
        db.session.rollback()
        return "digest turned off since it was queued"
    message = digest_message(job.merchant_id, payload.get("day", ""), setting.recipient)
    db.session.rollback()  # end the read before the network call
    if message is None:
        return "nothing at or below its reorder point"
    _send(message)
    return f"sent to {message['To']}"


def _send(message: EmailMessage) -> None:
    config = current_app.config
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"],
                          timeout=config["SMTP_TIMEOUT_SECONDS"]) as smtp:
            if config["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise RetryableError(f"SMTP: {exc}") from exc

