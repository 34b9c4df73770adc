"""Printed pages: pick lists for selected orders and packing slips, as print views and PDFs."""
from __future__ import annotations

from flask import abort, g, render_template, request

from app.auth import login_required
from app.printing.pdf import pdf_response
from app.web.blueprint import bp
from app.web.forms import optional_int
from app.web.read_models.printing import NothingSelected, packing_slip, pick_list
from app.web.rendering import render
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
