"""Low-stock page: what is at or below its reorder point, the reorder points, the daily digest."""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.warehouse.low_stock import (ReorderPointInvalid, digest_setting, low_stock,
                                     reorder_points, save_digest_setting, set_reorder_point,
                                     smtp_configured)
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.read_models import common
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import checkbox, optional_int
from app.web.rendering import redirect_after_post, render

FRAGMENTS = {"low-stock": "web/low_stock/_page.html"}


def _page(status: int = 200, **extra):
    location_id = optional_int(request.args.get("location_id"))
    context = {"rows": low_stock(g.merchant_id, location_id=location_id),
               "points": reorder_points(g.merchant_id),
               "locations": common.stock_locations(g.merchant_id),
               "location_filter": location_id, "setting": digest_setting(g.merchant_id),
               "smtp": smtp_configured(), "errors": {}, "form": {}, "digest_errors": {},
               "digest_form": None, **extra}
    return render("web/low_stock/index.html", FRAGMENTS, status=status, **context)


@bp.get("/stock/low")
@login_required
def show_low_stock():
    """Items at or below their reorder point (one location or all), with what open orders reserve."""
    return _page()


def _submit(change, errors_key: str, form_key: str, message: str):
    """Apply one form once; errors inline in the page, then back to it."""
    form = request.form
    try:
        consume_form_token(g.merchant_id, request.path, form.get(FIELD)).outcome = message
        change(form)
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.show_low_stock"), repeat.message)
    except DomainError as error:
        db.session.rollback()
        fields = (dict(error.errors) if isinstance(error, ReorderPointInvalid)
                  else {(error.field if isinstance(error, InvalidInput) else None) or "form":
                        error.message})
        return _page(http_status(error), **{errors_key: fields, form_key: form})
    return redirect_after_post(url_for("web.show_low_stock"), message)


@bp.post("/stock/reorder-points")
@login_required
def set_item_reorder_point():
    """Set a SKU's reorder point at a location (blank removes it)."""
    return _submit(lambda form: set_reorder_point(
        g.merchant_id, optional_int(form.get("location_id")), form.get("sku", ""),
        form.get("reorder_point", "")), "errors", "form", "Reorder point saved.")


@bp.post("/stock/low/digest")
@login_required
def save_low_stock_digest():
    """Turn the daily low-stock email on (with its recipient) or off."""
    return _submit(lambda form: save_digest_setting(
        g.merchant_id, enabled=checkbox(form, "enabled"), recipient=form.get("recipient", "")),
        "digest_errors", "digest_form", "Daily digest setting saved.")
