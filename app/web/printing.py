"""Printed pages: pick lists for selected orders and packing slips, as print views and PDFs."""
from __future__ import annotations

from flask import abort, g, render_template, request, url_for

from app.auth import login_required
from app.errors import DomainError
from app.extensions import db
from app.printing.pdf import pdf_response
from app.printing.settings import SlipSettingsRefused, save_slip_settings, slip_look
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import checkbox, optional_int
from app.web.read_models.printing import NothingSelected, packing_slip, pick_list
from app.web.rendering import redirect_after_post, render
from app.web.signed_links import download_merchant, signed_url

#: Purpose of the signed PDF links (embedded: a download can't carry the session token).
PDF_PURPOSE = "print-pdf"


def _order_ids() -> list[int]:
    return [i for i in (optional_int(v) for v in request.args.getlist("order_id")) if i]


def _pdf_merchant() -> int:
    merchant_id = download_merchant(PDF_PURPOSE)
    if merchant_id is None:
        abort(401)
    return merchant_id


def _nothing_selected(error: NothingSelected):
    return render("web/printing/pick_list.html", status=422, error=error.message, picks=None)


@bp.get("/orders/pick-list")
@login_required
def print_pick_list():
    """The selected orders' units to pick, by location then SKU (``?order_id=`` repeated)."""
    try:
        picks = pick_list(g.merchant_id, _order_ids())
    except NothingSelected as error:
        return _nothing_selected(error)
    pdf_url = signed_url("web.download_pick_list", PDF_PURPOSE,
                         order_id=[o.id for o in picks.orders])
    return render("web/printing/pick_list.html", picks=picks, error=None, pdf_url=pdf_url)


@bp.get("/orders/pick-list.pdf")
def download_pick_list():
    """The pick list as a PDF (signed in, or a signed link)."""
    try:
        picks = pick_list(_pdf_merchant(), _order_ids())
    except NothingSelected as error:
        return _nothing_selected(error)
    return pdf_response(render_template("web/printing/pdf.html", document="pick_list",
                                        picks=picks), "pick-list.pdf")


@bp.get("/fulfillments/<int:fulfillment_id>/packing-slip")
@login_required
def print_packing_slip(fulfillment_id: int):
    """One fulfillment's packing slip: shop, order number and barcode, items, tracking."""
    slip = packing_slip(g.merchant_id, fulfillment_id)
    pdf_url = signed_url("web.download_packing_slip", PDF_PURPOSE, fulfillment_id=fulfillment_id)
    return render("web/printing/slip.html", slip=slip, pdf_url=pdf_url)


@bp.get("/fulfillments/<int:fulfillment_id>/packing-slip.pdf")
def download_packing_slip(fulfillment_id: int):
    """The packing slip as a PDF (signed in, or a signed link)."""
    slip = packing_slip(_pdf_merchant(), fulfillment_id)
    name = "".join(c for c in slip.order.name if c.isalnum()) or "order"
    return pdf_response(render_template("web/printing/pdf.html", document="slip", slip=slip),
                        f"packing-slip-{name}-{fulfillment_id}.pdf")


def _settings_page(status: int = 200, **extra):
    return render("web/printing/settings.html", {"slip-settings": "web/printing/_settings.html"},
                  status=status, **{"look": slip_look(g.merchant_id), "errors": {},
                                    "form": {}, **extra})


@bp.get("/settings/packing-slip")
@login_required
def show_slip_settings():
    """The packing slip's logo and footer."""
    return _settings_page()


@bp.post("/settings/packing-slip")
@login_required
def save_slip_settings_form():
    """Save the footer, and the logo if one was chosen; every refusal inline, nothing saved."""
    form, upload = request.form, request.files.get("logo")
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        save_slip_settings(g.merchant_id, footer=form.get("footer", ""),
                           logo=upload.read() if upload and upload.filename else None,
                           remove_logo=checkbox(form, "remove_logo"))
        submission.outcome = "Packing slip settings saved."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.show_slip_settings"), repeat.message)
    except SlipSettingsRefused as error:
        db.session.rollback()
        return _settings_page(422, errors=error.errors, form=form)
    except DomainError as error:  # the form token
        db.session.rollback()
        return _settings_page(http_status(error), errors={"form": error.message}, form=form)
    return redirect_after_post(url_for("web.show_slip_settings"), submission.outcome)
