"""Receiving pages: purchase orders from suppliers, received in parts, each with its timeline."""
from __future__ import annotations

from flask import g, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth import login_required
from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db, htmx
from app.models import PurchaseOrder, PurchaseOrderLine
from app.warehouse.receiving import (ReceiveExceedsExpected, close_purchase_order,
                                     create_purchase_order, receive_purchase_order)
from app.warehouse.transfers import TransferLinesInvalid
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.read_models import common
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import checkbox, optional_int
from app.web.rendering import redirect_after_post, render, with_toast
from app.web.transfers import DEFAULT_ROWS, MAX_FORM_ROWS, line_rows

DETAIL = {"purchase-order-detail": "web/receiving/_detail.html"}
TONES = {"open": "info", "partially_received": "warning", "received": "success",
         "closed": "neutral"}


def _purchase_order(purchase_order_id: int) -> PurchaseOrder:
    po = db.session.scalar(
        select(PurchaseOrder).where(PurchaseOrder.merchant_id == g.merchant_id,
                                    PurchaseOrder.id == purchase_order_id)
        .options(selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.item),
                 selectinload(PurchaseOrder.events)))
    if po is None:
        raise NotFound("That purchase order does not exist.")
    return po


@bp.get("/receiving")
@login_required
def list_purchase_orders():
    """The merchant's purchase orders, newest first; filter by status."""
    status = request.args.get("status", "")
    units = (select(PurchaseOrderLine.purchase_order_id,
                    func.sum(PurchaseOrderLine.expected_quantity).label("expected"),
                    func.sum(PurchaseOrderLine.received_quantity).label("received"))
             .where(PurchaseOrderLine.merchant_id == g.merchant_id)
             .group_by(PurchaseOrderLine.purchase_order_id).subquery())
    stmt = (select(PurchaseOrder, units.c.expected, units.c.received)
            .outerjoin(units, units.c.purchase_order_id == PurchaseOrder.id)
            .where(PurchaseOrder.merchant_id == g.merchant_id)
            .options(selectinload(PurchaseOrder.location))
            .order_by(PurchaseOrder.id.desc()).limit(200))
    if status in TONES:
        stmt = stmt.where(PurchaseOrder.status == status)
    return render("web/receiving/index.html", {"purchase-order-list": "web/receiving/_list.html"},
                  rows=db.session.execute(stmt).all(), status_filter=status, tones=TONES)


def _form_page(status: int = 200, *, form=None, errors=None, message=None, rows=None):
    form = form if form is not None else request.args
    rows = rows or min(max(optional_int(form.get("rows")) or DEFAULT_ROWS, 1), MAX_FORM_ROWS)
    return render("web/receiving/new.html", {"purchase-order-form": "web/receiving/_form.html"},
                  status=status, form=form, errors=errors or {}, message=message, rows=rows,
                  locations=common.stock_locations(g.merchant_id))


@bp.get("/receiving/new")
@login_required
def new_purchase_order():
    """The purchase order form: supplier, location and (SKU, expected quantity) rows."""
    return _form_page()


@bp.post("/receiving")
@login_required
def create_supplier_purchase_order():
    """Create an open purchase order; every bad field comes back inline."""
    form = request.form
    lines = line_rows(form)
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        po = create_purchase_order(g.merchant_id, form.get("supplier", ""),
                                   optional_int(form.get("location_id")), lines,
                                   note=form.get("note", "").strip())
        submission.outcome = f"Purchase order {po.reference} created."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.list_purchase_orders"), repeat.message)
    except DomainError as error:
        db.session.rollback()
        return _form_page(http_status(error), form=form, errors=_error_fields(error),
                          message=error.message, rows=max(len(lines), 1))
    return redirect_after_post(url_for("web.show_purchase_order", purchase_order_id=po.id),
                               submission.outcome)


def _detail_page(purchase_order_id: int, status: int = 200, **extra):
    context = {"po": _purchase_order(purchase_order_id), "tones": TONES, "errors": {},
               "form": {}, "message": None, **extra}
    return render("web/receiving/show.html", DETAIL, status=status, **context)


@bp.get("/receiving/<int:purchase_order_id>")
@login_required
def show_purchase_order(purchase_order_id: int):
    """One purchase order: expected vs received per line, the receive form and the timeline."""
    return _detail_page(purchase_order_id)


def _act(purchase_order_id: int, action):
    """Run one action once per rendered form; errors inline, then the page."""
    form = request.form
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        submission.outcome = action(form)
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        message = repeat.message
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _detail_page(purchase_order_id, http_status(error), form=form,
                            errors=_error_fields(error), message=error.message)
    else:
        message = submission.outcome
    if not htmx:
        return redirect_after_post(url_for("web.show_purchase_order",
                                           purchase_order_id=purchase_order_id), message)
    return with_toast(_detail_page(purchase_order_id), message)


@bp.post("/receiving/<int:purchase_order_id>/receive")
@login_required
def receive_supplier_purchase_order(purchase_order_id: int):
    """Receive the units typed per line (``receive-<line id>``) at the location."""
    def receive(form):
        quantities = {int(key.removeprefix("receive-")): value for key, value in form.items()
                      if key.startswith("receive-") and key.removeprefix("receive-").isdigit()}
        po = receive_purchase_order(g.merchant_id, purchase_order_id, quantities,
                                    allow_excess=checkbox(form, "allow_excess"))
        return (f"Received at {po.location.name}." if po.status == "received"
                else f"Received at {po.location.name}; the rest is still expected.")
    return _act(purchase_order_id, receive)


@bp.post("/receiving/<int:purchase_order_id>/close")
@login_required
def close_supplier_purchase_order(purchase_order_id: int):
    """Close it: what has not arrived will not (the button asks first)."""
    def close(_form):
        return close_purchase_order(g.merchant_id, purchase_order_id).events[-1].message
    return _act(purchase_order_id, close)


def _error_fields(error: DomainError) -> dict[str, str]:
    """Map a domain error's data to the fields it concerns."""
    if isinstance(error, TransferLinesInvalid):
        return dict(error.errors)
    if isinstance(error, ReceiveExceedsExpected):
        return {f"receive-{e.line_id}": f"Only {e.outstanding} still expected."
                for e in error.excesses} | {"lines": error.message}
    if isinstance(error, InvalidInput):
        return {error.field or "form": error.message}
    return {"form": error.message}
