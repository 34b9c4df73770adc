"""Bulk fulfill of orders selected in the list, a few per request so the page shows progress."""
from __future__ import annotations

import json

from flask import g, request, url_for

from app.auth import login_required
from app.errors import DomainError
from app.extensions import db
from app.fulfillment import fulfill_whole_order
from app.web import stock_wording
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, InvalidFormToken, consume_form_token
from app.web.forms import optional_int
from app.web.read_models import orders
from app.web.rendering import is_htmx, render, with_toast

MAX_ORDERS = 250
STEP = 5  # orders per request: each request stays short, the bar moves


def _result(raw: str) -> dict | None:
    """A result carried back by the progress fragment (display only; ids re-checked)."""
    try:
        value = json.loads(raw)
        return {"id": int(value["id"]), "ok": bool(value["ok"]), "message": str(value["message"])[:500]}
    except (ValueError, TypeError, KeyError):
        return None


def _fulfill_once(order_id: int, location_id: int | None, token: str | None) -> str:
    """Fulfill one order of the selection, using the bulk form's token once for this order.

    A repeat of the same bulk form (double click, resend) raises AlreadySubmitted for the
    orders it already did, so no order is fulfilled twice by one submission.
    """
    submission = consume_form_token(g.merchant_id, url_for("web.bulk_fulfill_orders"), token,
                                    part=f"order-{order_id}")
    fulfillment = fulfill_whole_order(g.merchant_id, order_id, location_id)
    name = fulfillment.location.name if fulfillment.location else ""
    # What stock moved: lines not tracked in Stockroom move none.
    submission.outcome = f"Fulfilled from {name}. {stock_wording.taken([fulfillment])}"
    return submission.outcome


@bp.post("/orders/bulk-fulfill")
@login_required
def bulk_fulfill_orders():
    """Fulfill the next few selected orders, each in its own transaction; report progress.

    HTMX: answers with the progress fragment, which posts again by itself until no order
    is left. Without JavaScript every selected order is done in this one request.
    """
    form = request.form
    pending = [i for i in (optional_int(v) for v in form.getlist("order_id")) if i][:MAX_ORDERS]
    results = [r for r in map(_result, form.getlist("result")) if r][:MAX_ORDERS]
    location_id = optional_int(form.get("location_id"))
    total = len(pending) + len(results)
    token, status = form.get(FIELD), 200
    for order_id in pending[:STEP] if is_htmx() else pending:
        try:
            message = _fulfill_once(order_id, location_id, token)
            db.session.commit()
            results.append({"id": order_id, "ok": True, "message": message})
        except AlreadySubmitted as repeat:
            db.session.rollback()
            results.append({"id": order_id, "ok": True, "message": repeat.message})
        except DomainError as error:
            db.session.rollback()
            results.append({"id": order_id, "ok": False, "message": error.message})
            status = http_status(error) if isinstance(error, InvalidFormToken) else status
    remaining = pending[STEP:] if is_htmx() and status == 200 else []
    names = orders.order_names(g.merchant_id, [r["id"] for r in results])
    response = render("web/orders/bulk.html", {"bulk-progress": "web/orders/_bulk.html"},
                      status=status, results=results, remaining=remaining, total=total,
                      names=names, location_id=location_id, empty=total == 0, bulk_token=token)
    if is_htmx() and not remaining and total:
        # The list refreshes itself (and drops the selection) once everything is done, and
        # a toast says how it went wherever the merchant has scrolled to.
        response.headers["HX-Trigger"] = json.dumps({"ordersChanged": None})
        fulfilled = sum(1 for r in results if r["ok"])
        with_toast(response, _finished(fulfilled, total - fulfilled),
                   level="success" if fulfilled else "error")
    return response


def _finished(fulfilled: int, skipped: int) -> str:
    """The toast at the end of a bulk fulfill, in words and plurals."""
    def orders_(n: int) -> str:
        return f"{n} order" if n == 1 else f"{n} orders"
    return (f"Bulk fulfill finished: {orders_(fulfilled)} fulfilled"
            + (f", {orders_(skipped)} skipped." if skipped else "."))
