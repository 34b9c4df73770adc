"""Transfers pages: list, new draft, one transfer with its timeline and its actions."""
from __future__ import annotations

from flask import g, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth import login_required
from app.errors import DomainError, InsufficientStock, InvalidInput, NotFound
from app.extensions import db, htmx
from app.models import Transfer, TransferLine
from app.warehouse.transfers import (MAX_LINES, ReceiveExceedsShipped, TransferLinesInvalid,
                                     add_transfer_lines, cancel_transfer, create_transfer,
                                     receive_transfer, remove_transfer_line, ship_transfer)
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import optional_int
from app.web.read_models import common
from app.web.rendering import redirect_after_post, render, with_toast

DETAIL = {"transfer-detail": "web/transfers/_detail.html"}
#: Badge tone of each status.
TONES = {"draft": "neutral", "in_transit": "info", "partially_received": "warning",
         "received": "success", "canceled": "neutral"}
DEFAULT_ROWS, MAX_FORM_ROWS = 5, 50


def _transfer(transfer_id: int) -> Transfer:
    transfer = db.session.scalar(
        select(Transfer).where(Transfer.merchant_id == g.merchant_id, Transfer.id == transfer_id)
        .options(selectinload(Transfer.lines).selectinload(TransferLine.item),
                 selectinload(Transfer.events)))
    if transfer is None:
        raise NotFound("That transfer does not exist.")
    return transfer


@bp.get("/transfers")
@login_required
def list_transfers():
    """The merchant's transfers, newest first; filter by status."""
    status = request.args.get("status", "")
    units = (select(TransferLine.transfer_id, func.sum(TransferLine.quantity).label("units"),
                    func.sum(TransferLine.received_quantity).label("received"))
             .where(TransferLine.merchant_id == g.merchant_id)
             .group_by(TransferLine.transfer_id).subquery())
    stmt = (select(Transfer, units.c.units, units.c.received)
            .outerjoin(units, units.c.transfer_id == Transfer.id)
            .where(Transfer.merchant_id == g.merchant_id)
            .options(selectinload(Transfer.origin), selectinload(Transfer.destination))
            .order_by(Transfer.id.desc()).limit(200))
    if status in TONES:
        stmt = stmt.where(Transfer.status == status)
    rows = db.session.execute(stmt).all()
    return render("web/transfers/index.html", {"transfer-list": "web/transfers/_list.html"},
                  rows=rows, status_filter=status, tones=TONES)


def _form_page(status: int = 200, *, form=None, errors=None, message=None, rows=None):
    form = form if form is not None else request.args
    rows = rows or min(max(optional_int(form.get("rows")) or DEFAULT_ROWS, 1), MAX_FORM_ROWS)
    return render("web/transfers/new.html", {"transfer-form": "web/transfers/_form.html"},
                  status=status, form=form, errors=errors or {}, message=message, rows=rows,
                  locations=common.stock_locations(g.merchant_id))


def line_rows(form) -> list[tuple[str, str]]:
    """(sku, qty) of the form's numbered rows, in order (``sku-0``/``qty-0`` …)."""
    count = 0
    while count < MAX_LINES and (f"sku-{count}" in form or f"qty-{count}" in form):
        count += 1
    return [(form.get(f"sku-{i}", ""), form.get(f"qty-{i}", "")) for i in range(count)]


@bp.get("/transfers/new")
@login_required
def new_transfer():
    """The draft form: origin, destination and (SKU, quantity) rows (``rows`` adds more)."""
    return _form_page()


@bp.post("/transfers")
@login_required
def create_stock_transfer():
    """Create a draft; every bad field comes back inline, nothing is created half."""
    form = request.form
    lines = line_rows(form)
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        transfer = create_transfer(g.merchant_id, optional_int(form.get("origin_id")),
                                   optional_int(form.get("destination_id")), lines,
                                   note=form.get("note", "").strip())
        submission.outcome = f"Transfer {transfer.reference} created as a draft."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.list_transfers"), repeat.message)
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _form_page(http_status(error), form=form, errors=_error_fields(error),
                          message=error.message, rows=max(len(lines), 1))
    return redirect_after_post(url_for("web.show_transfer", transfer_id=transfer.id),
                               submission.outcome)


def _detail_page(transfer_id: int, status: int = 200, **extra):
    context = {"transfer": _transfer(transfer_id), "tones": TONES, "errors": {}, "form": {},
               "message": None, "add_rows": 3, **extra}
    return render("web/transfers/show.html", DETAIL, status=status, **context)


@bp.get("/transfers/<int:transfer_id>")
@login_required
def show_transfer(transfer_id: int):
    """One transfer: its lines (shipped, received, on the way), actions and timeline."""
    return _detail_page(transfer_id)


def _act(transfer_id: int, action):
    """Run one action on a transfer once per rendered form; errors inline, then the page."""
    form = request.form
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        submission.outcome = action(form)
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return _done(transfer_id, repeat.message)
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _detail_page(transfer_id, http_status(error), form=form,
                            errors=_error_fields(error), message=error.message)
    return _done(transfer_id, submission.outcome)


def _done(transfer_id: int, message: str):
    if not htmx:
        return redirect_after_post(url_for("web.show_transfer", transfer_id=transfer_id),
                                   message)
    return with_toast(_detail_page(transfer_id), message)


@bp.post("/transfers/<int:transfer_id>/lines")
@login_required
def add_stock_transfer_lines(transfer_id: int):
    """Add (SKU, quantity) rows to a draft."""
    def add(form):
        add_transfer_lines(g.merchant_id, transfer_id, line_rows(form))
        return "Lines added."
    return _act(transfer_id, add)


@bp.post("/transfers/<int:transfer_id>/lines/<int:line_id>/remove")
@login_required
def remove_stock_transfer_line(transfer_id: int, line_id: int):
    """Take one line off a draft."""
    def remove(_form):
        remove_transfer_line(g.merchant_id, transfer_id, line_id)
        return "Line removed."
    return _act(transfer_id, remove)


@bp.post("/transfers/<int:transfer_id>/ship")
@login_required
def ship_stock_transfer(transfer_id: int):
    """Mark in transit: the units leave the origin (all shortfalls shown at once)."""
    def ship(_form):
        transfer = ship_transfer(g.merchant_id, transfer_id)
        return f"Transfer {transfer.reference} is in transit: the stock left {transfer.origin.name}."
    return _act(transfer_id, ship)


@bp.post("/transfers/<int:transfer_id>/receive")
@login_required
def receive_stock_transfer(transfer_id: int):
    """Receive the units typed per line (``receive-<line id>``) at the destination."""
    def receive(form):
        quantities = {int(key.removeprefix("receive-")): value for key, value in form.items()
                      if key.startswith("receive-") and key.removeprefix("receive-").isdigit()}
        transfer = receive_transfer(g.merchant_id, transfer_id, quantities)
        return (f"Received at {transfer.destination.name}." if transfer.status == "received"
                else f"Received at {transfer.destination.name}; the rest is still on the way.")
    return _act(transfer_id, receive)


@bp.post("/transfers/<int:transfer_id>/cancel")
@login_required
def cancel_stock_transfer(transfer_id: int):
    """Cancel (the button asks first): a draft moved nothing; in transit, the rest returns."""
    def cancel(_form):
        transfer = cancel_transfer(g.merchant_id, transfer_id)
        return transfer.events[-1].message if transfer.events else "Transfer canceled."
    return _act(transfer_id, cancel)


def _error_fields(error: DomainError) -> dict[str, str]:
    """Map a domain error's data to the fields it concerns."""
    if isinstance(error, TransferLinesInvalid):
        return dict(error.errors)
    if isinstance(error, ReceiveExceedsShipped):
        return {f"receive-{e.line_id}": f"Only {e.outstanding} on the way."
                for e in error.excesses}
    if isinstance(error, InsufficientStock):
        return {f"item-{s.item_id}": f"{s.available} available at the origin "
                                     f"(needs {s.requested})." for s in error.shortfalls}
    if isinstance(error, InvalidInput):
        return {error.field or "form": error.message}
    return {"form": error.message}

