"""WooCommerce order refunds: units the store restocked go back at the store's mapped location, once.

An order's JSON lists its refunds by id only (``refunds: [{id, reason, total}]``). When it
names one Stockroom hasn't recorded, applying the order queues ``order.refunds_changed``;
that job reads ``GET orders/{id}/refunds`` (every page: line items with negative quantities,
each naming the order item in ``_refunded_item_id``) and the order's private notes.

How a restock is recognized: WooCommerce's REST refund does not say whether its items were
restocked (``api_restock`` is write-only). What it leaves is what ``wc_restock_refunded_items``
does when the owner ticks "Restock refunded items" (or a REST client sends ``api_restock``):
the product's stock goes up and the order gets the private note "Item #<product or
variation id> stock increased from <old> to <new>." So a refund line counts as restocked
for the units of such notes on that product written at or after the refund's creation and
before the next refund's. Stockroom then puts back at most what left its own stock
(app/orders/refunds.py, docs/decisions/0006-refunds-restock-what-left-stockroom.md).
"""
from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy import select

from app.extensions import db
from app.models import JobStatus, Order, OutboxEvent, Platform, Refund
from app.orders.refunds import (RefundData, RefundLineData, UnmappedRestockLocation,
                                record_refund)
from app.platforms.woocommerce.connect import client_for
from app.platforms.woocommerce.mapping import STORE_LOCATION_ID
from app.platforms.woocommerce.mapping import parse_gmt
from app.sync.errors import PermanentError
from app.sync.queue import Job
from app.sync.topics import Topic
from app.sync.transactions import end_read

WOO = Platform.WOOCOMMERCE
TOPIC = Topic.ORDER_REFUNDS_CHANGED
RESTOCK_NOTE = re.compile(r"^Item #(\d+) stock increased from (-?\d+) to (-?\d+)\.?$")


def queue_new_refunds(order: Order, data: dict) -> str:
    """After an order is applied: queue reading its refunds when it names one not recorded
    yet (the job reads them over HTTP, outside this transaction). Flushes."""
    ids = [str(r["id"]) for r in data.get("refunds") or [] if isinstance(r, dict) and r.get("id")]
    if not ids:
        return ""
    known = set(db.session.scalars(select(Refund.remote_id).where(
        Refund.channel_id == order.channel_id, Refund.remote_id.in_(ids))))
    new = [i for i in ids if i not in known]
    if not new:
        return ""
    waiting = db.session.scalar(select(OutboxEvent.id).where(
        OutboxEvent.order_id == order.id, OutboxEvent.topic == TOPIC,
        OutboxEvent.status.in_((JobStatus.PENDING, JobStatus.FAILED, JobStatus.DEAD))).limit(1))
    if waiting is not None:  # it reads every refund of the order when it runs (or is retried)
        return f"; {len(new)} new refund(s), already queued to be read"
    db.session.add(OutboxEvent(merchant_id=order.merchant_id, channel_id=order.channel_id,
                               order_id=order.id, topic=TOPIC,
                               payload={"order_remote_id": order.remote_id, "refunds": new,
                                        "source": "platform"}))
    db.session.flush()
    return f"; {len(new)} new refund(s) to read"


def _line_item_id(line: dict) -> str | None:
    for meta in line.get("meta_data") or []:
        if meta.get("key") == "_refunded_item_id" and str(meta.get("value") or "").isdigit():
            return str(meta["value"])
    return None


def refunds_data(refunds: list[dict], notes: list[dict]) -> list[RefundData]:
    """GET orders/{id}/refunds + the order's notes -> RefundData, oldest refund first."""
    refunds = sorted(refunds, key=lambda r: (parse_gmt(r.get("date_created_gmt")), r["id"]))
    starts = [parse_gmt(r.get("date_created_gmt")) for r in refunds]
    restocked: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for note in notes:
        match = RESTOCK_NOTE.match((note.get("note") or "").strip())
        when = parse_gmt(note.get("date_created_gmt"))
        if not match or note.get("customer_note") or when is None:
            continue
        owner = max((n for n, start in enumerate(starts) if start and start <= when),
                    default=None)
        if owner is not None:
            restocked[owner][match[1]] += max(0, int(match[3]) - int(match[2]))
    out = []
    for n, refund in enumerate(refunds):
        lines = []
        for line in refund.get("line_items") or []:
            item_id, quantity = _line_item_id(line), abs(int(line.get("quantity") or 0))
            if item_id is None or not quantity:
                continue
            product = str(line.get("variation_id") or line.get("product_id") or "")
            units = min(quantity, restocked[n].get(product, 0))
            restocked[n][product] = restocked[n].get(product, 0) - units
            if units:
                lines.append(RefundLineData(item_id, units, True, STORE_LOCATION_ID))
            if quantity - units:
                lines.append(RefundLineData(item_id, quantity - units, False))
        out.append(RefundData(remote_id=str(refund["id"]), lines=lines,
                              label=f"WooCommerce refund #{refund['id']}"))
    return out


def apply_refunds(job: Job) -> str:
    """Read the order's refunds and record each new one (restocked units put back once)."""
    order = db.session.scalar(select(Order).where(
        Order.merchant_id == job.merchant_id, Order.channel_id == job.channel_id,
        Order.remote_id == job.payload["order_remote_id"]))
    if order is None:
        end_read()
        return "the order is no longer in Stockroom"
    order_id, remote = order.id, order.remote_id
    client = client_for(job.channel_id)  # ends the read
    refunds = list(client.pages(f"orders/{remote}/refunds", what=f"reading order {remote}'s "
                                "refunds"))
    notes = client.get(f"orders/{remote}/notes", params={"type": "internal"},
                       what=f"reading order {remote}'s notes")
    known = set(db.session.scalars(select(Refund.remote_id).where(
        Refund.channel_id == job.channel_id)))
    summaries = []
    try:
        for data in refunds_data(refunds, notes):
            if data.remote_id not in known:
                summaries.append(record_refund(job.merchant_id, order_id, data).summary)
    except UnmappedRestockLocation as exc:
        raise PermanentError(exc.message.replace("The platform", "WooCommerce")) from None
    return " ".join(summaries) or "no new refund"
