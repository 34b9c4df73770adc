"""Pack screen: scan to verify a fulfillment's units, then complete it (or override, with a reason)."""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.errors import DomainError, NotFound
from app.extensions import db
from app.models import Fulfillment
from app.warehouse.packing import PackIncomplete, complete_packing, pack_lines, record_scan
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import checkbox
from app.web.rendering import redirect_after_post, render

FRAGMENTS = {"pack-screen": "web/packing/_screen.html", "pack-lines": "web/packing/_lines.html"}


def _page(fulfillment_id: int, status: int = 200, **extra):
    fulfillment = db.session.get(Fulfillment, fulfillment_id)
    if fulfillment is None or fulfillment.merchant_id != g.merchant_id:
        raise NotFound("That fulfillment does not exist.")
    lines = pack_lines(g.merchant_id, fulfillment_id)
    context = {"fulfillment": fulfillment, "order": fulfillment.order, "lines": lines,
               "complete": all(pl.remaining == 0 for pl in lines), "scan": None,
               "scan_error": None, "errors": {}, "message": None, "form": {}, **extra}
    return render("web/packing/show.html", FRAGMENTS, status=status, **context)


@bp.get("/fulfillments/<int:fulfillment_id>/pack")
@login_required
def show_pack_screen(fulfillment_id: int):
    """The fulfillment's lines with their scanned counts, the scan field and the completion."""
    return _page(fulfillment_id)


@bp.post("/fulfillments/<int:fulfillment_id>/scans")
@login_required
def scan_pack_item(fulfillment_id: int):
    """Check off one unit per scan; a refused scan is shown inline (no sound) and counts nothing."""
    code = request.form.get("code", "")
    try:
        scanned = record_scan(g.merchant_id, fulfillment_id, code)
        db.session.commit()
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _page(fulfillment_id, http_status(error), scan_error=error.message,
                     scan={"code": " ".join(code.split())[:80]})
    return _page(fulfillment_id, scan={"code": " ".join(code.split())[:80], "line": scanned})


@bp.post("/fulfillments/<int:fulfillment_id>/pack")
@login_required
def complete_pack(fulfillment_id: int):
    """Mark packed (and a Pending one shipped) once every unit is scanned, or with "override"
    and a reason."""
    form = request.form
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        fulfillment = complete_packing(g.merchant_id, fulfillment_id,
                                       override=checkbox(form, "override"),
                                       reason=form.get("reason", ""))
        # A Pending one ships as it is packed (one time for both); a tracked one shipped before.
        shipped_too = (" and marked as shipped"
                       if fulfillment.shipped_at == fulfillment.packed_at else "")
        submission.outcome = f"Fulfillment {fulfillment.name} packed{shipped_too}."
        order_id = fulfillment.order_id
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.show_pack_screen", fulfillment_id=fulfillment_id),
                                   repeat.message)
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        field = "complete" if isinstance(error, PackIncomplete) else (
            getattr(error, "field", None) or "complete")
        return _page(fulfillment_id, http_status(error), errors={field: error.message},
                     message=error.message, form=form)
    return redirect_after_post(url_for("web.show_order", order_id=order_id), submission.outcome)
