"""A return recorded in Stockroom, pushed to the store as an order refund of its items (amount 0, no restock).

WooCommerce has no return of its own: the order refund is where returned items show
(the order's "Refunded" quantities). Stockroom is the stock master and has already put
the units back (its inventory push carries them), so the refund asks the store not to
restock (``api_restock: false``) and moves no money (``amount: 0``, which
``wc_create_refund`` allows; the owner refunds money on the store as ever). Its reason
names the return, so a retry after a lost answer adopts the refund already made instead
of refunding the items twice. The refund is recorded as known (``refunds`` row), so the
order.updated it causes doesn't read it as a new store refund (app/platforms/woocommerce/refunds.py).
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Order, OrderLine, OrderReturn, Platform, Refund, RefundLine
from app.platforms.woocommerce.connect import client_for
from app.sync.queue import Job
from app.sync.transactions import end_read

WOO = Platform.WOOCOMMERCE


def _reason(return_id: int) -> str:
    return f"Stockroom return #{return_id}"


def push_return(job: Job) -> str:
    """POST orders/{id}/refunds with the returned items (or adopt the one a lost answer made)."""
    record = db.session.get(OrderReturn, (job.payload or {}).get("return_id"))
    if record is None or record.merchant_id != job.merchant_id:
        end_read()
        return "the return is no longer in Stockroom"
    if record.remote_id:
        end_read()
        return f"already on the store as refund #{record.remote_id}"
    order = db.session.get(Order, record.order_id)
    remote_lines = dict(db.session.execute(select(OrderLine.id, OrderLine.remote_id).where(
        OrderLine.order_id == order.id)).all())
    quantities: dict[str, int] = defaultdict(int)
    for line in record.lines:
        quantities[remote_lines[line.order_line_id]] += line.quantity
    return_id, order_remote, summary = record.id, order.remote_id, record.summary
    client = client_for(job.channel_id)  # ends the read
    reason = _reason(return_id)
    made = next((r for r in client.pages(f"orders/{order_remote}/refunds",
                                         what=f"reading order {order_remote}'s refunds")
                 if (r.get("reason") or "") == reason), None)
    if made is None:
        made = client.post(f"orders/{order_remote}/refunds", {
            "amount": "0", "reason": reason, "api_refund": False, "api_restock": False,
            "line_items": [{"id": int(remote), "quantity": n, "refund_total": 0}
                           for remote, n in sorted(quantities.items())]},
            what=f"refunding the returned items of order {order_remote}")
    refund_id = str(made["id"])
    _remember(job, return_id, refund_id, quantities)
    return f"{summary} Sent to the store as refund #{refund_id} (amount 0, not restocked there)."


def _remember(job: Job, return_id: int, refund_id: str, quantities: dict[str, int]) -> None:
    """The return's remote id, and its refund as one the store refund intake already knows."""
    record = db.session.get(OrderReturn, return_id)
    record.remote_id = refund_id
    if db.session.scalar(select(Refund.id).where(Refund.channel_id == job.channel_id,
                                                 Refund.remote_id == refund_id)) is not None:
        return  # its order.updated was applied first: recorded then, nothing restocked
    lines = dict(db.session.execute(select(OrderLine.remote_id, OrderLine.id).where(
        OrderLine.order_id == record.order_id)).all())
    refund = Refund(merchant_id=job.merchant_id, channel_id=job.channel_id,
                    order_id=record.order_id, remote_id=refund_id,
                    summary=f"WooCommerce refund #{refund_id}: {_reason(return_id)}, "
                            "restocked in Stockroom when it was recorded.")
    refund.lines = [RefundLine(merchant_id=job.merchant_id, order_line_id=lines[remote],
                               quantity=n, restocked=0) for remote, n in quantities.items()]
    try:
        with db.session.begin_nested():
            db.session.add(refund)
    except IntegrityError:
        pass  # recorded by the refund intake meanwhile: the same refund, once
