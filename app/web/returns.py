"""Record a return of an order's fulfilled units: per line, quantity, restock, location."""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.errors import DomainError
from app.extensions import db
from app.orders.returns import ReturnLineRequest, ReturnNotAllowed, record_return, returnable_lines
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import checkbox, optional_int
from app.web.read_models import common, order_detail
from app.web.rendering import redirect_after_post, render

FRAGMENTS = {"return-form": "web/returns/_form.html"}


def _requests(order, form) -> tuple[list[ReturnLineRequest], dict[str, str]]:
    """Per order line: ``qty-<id>`` (whole, not negative), ``restock-<id>``, ``location-<id>``."""
    out, errors = [], {}
    for line in order.lines:
        raw = (form.get(f"qty-{line.id}") or "").strip() or "0"
        try:
            quantity = int(raw)
        except ValueError:
            errors[f"qty-{line.id}"] = "Enter a whole number."
            continue
        if quantity < 0:
            errors[f"qty-{line.id}"] = "Can't be negative."
            continue
        raw_location = form.get(f"location-{line.id}")
        location_id = optional_int(raw_location)
        if raw_location and location_id is None:
            errors[f"location-{line.id}"] = "That stock location does not exist."
        out.append(ReturnLineRequest(line.id, quantity, checkbox(form, f"restock-{line.id}"),
                                     location_id))
    return out, errors


def _page(order_id: int, form, errors: dict, message: str | None = None, status: int = 200):
    order = order_detail.order(g.merchant_id, order_id)
    return render("web/returns/new.html", FRAGMENTS, status=status, order=order, form=form,
                  errors=errors, message=message,
                  returnable=returnable_lines(g.merchant_id, order.id),
                  locations=common.stock_locations(g.merchant_id, active_only=True))


@bp.get("/orders/<int:order_id>/return")
@login_required
def new_return(order_id: int):
    """The return form: nothing chosen, restock ticked, each line's fulfilled-from location."""
    return _page(order_id, None, {})


@bp.post("/orders/<int:order_id>/returns")
@login_required
def create_order_return(order_id: int):
    """Record the return once (the form's token); every error comes back inline."""
    form = request.form
    order = order_detail.order(g.merchant_id, order_id)
    requests, errors = _requests(order, form)
    if errors:
        return _page(order.id, form, errors, "Fix the highlighted fields.", 422)
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        submission.outcome = record_return(g.merchant_id, order.id, requests).summary
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.show_order", order_id=order.id), repeat.message)
    except DomainError as error:
        db.session.rollback()
        fields = error.fields if isinstance(error, ReturnNotAllowed) else {
            getattr(error, "field", None) or "form": error.message}
        return _page(order.id, form, fields, error.message, http_status(error))
    return redirect_after_post(url_for("web.show_order", order_id=order.id), submission.outcome)
