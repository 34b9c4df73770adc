"""Stock levels as CSV: the export download, the upload, its preview and its apply."""
from __future__ import annotations

from flask import Response, abort, g, request, stream_with_context, url_for

from app.auth import login_required
from app.errors import DomainError, NotFound
from app.extensions import db
from app.warehouse.csv_levels import (ImportAlreadyApplied, StalePreview, apply_import,
                                      export_csv, plan_import, require_import, store_import)
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import optional_int
from app.web.read_models import common
from app.web.rendering import redirect_after_post, render
from app.web.signed_links import download_merchant, signed_url

#: Purpose of the signed download links (embedded: the link can't carry the session token).
EXPORT_PURPOSE = "stock-csv-export"


def export_url(location_id: int | None = None) -> str:
    """The export link; embedded (no cookies), signed for this merchant for 15 minutes."""
    args = {"location_id": location_id} if location_id else {}
    return signed_url("web.export_stock_csv", EXPORT_PURPOSE, **args)


def _page(status: int = 200, **extra):
    context = {"locations": common.stock_locations(g.merchant_id), "export_url": export_url,
               "errors": {}, **extra}
    return render("web/stock_csv/index.html", {"stock-csv-upload": "web/stock_csv/_upload.html"},
                  status=status, **context)


@bp.get("/stock/csv")
@login_required
def show_stock_csv():
    """Download the levels as CSV; upload a CSV of counts to preview."""
    return _page()


@bp.get("/stock/export.csv")
def export_stock_csv():
    """The levels as a streamed CSV download (all locations, or ``location_id``'s)."""
    merchant_id = download_merchant(EXPORT_PURPOSE)
    if merchant_id is None:
        abort(401)
    location_id = optional_int(request.args.get("location_id"))
    name = "stock-levels"
    if location_id is not None:
        location = next((loc for loc in common.stock_locations(merchant_id)
                         if loc.id == location_id), None)
        if location is None:
            raise NotFound("That stock location does not exist.")
        name += f"-{location.id}"
    chunks = stream_with_context(export_csv(merchant_id, location_id=location_id))
    return Response(chunks, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}.csv"',
        "Cache-Control": "private, no-store"})


@bp.post("/stock/imports")
@login_required
def upload_stock_csv():
    """Keep the uploaded file and show its preview (nothing is applied yet)."""
    upload = request.files.get("file")
    try:
        submission = consume_form_token(g.merchant_id, request.path, request.form.get(FIELD))
        if upload is None or not upload.filename:
            from app.errors import InvalidInput

            raise InvalidInput("Choose a CSV file.", field="file")
        stock_import = store_import(g.merchant_id, upload.filename, upload.read())
        submission.outcome = f"{stock_import.filename} uploaded: review the changes."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.show_stock_csv"), repeat.message)
    except DomainError as error:
        db.session.rollback()
        return _page(http_status(error), errors={getattr(error, "field", None) or "file":
                                                error.message})
    return redirect_after_post(url_for("web.show_stock_import", import_id=stock_import.id),
                               submission.outcome)


def _preview(import_id: int, status: int = 200, **extra):
    stock_import = require_import(g.merchant_id, import_id)
    plan = None if stock_import.applied_at else plan_import(g.merchant_id, stock_import)
    return render("web/stock_csv/show.html", {"stock-import": "web/stock_csv/_preview.html"},
                  status=status, stock_import=stock_import, plan=plan,
                  **{"message": None, **extra})


@bp.get("/stock/imports/<int:import_id>")
@login_required
def show_stock_import(import_id: int):
    """The preview: every change (current -> new) and every bad row, before anything is applied."""
    return _preview(import_id)


@bp.post("/stock/imports/<int:import_id>/apply")
@login_required
def apply_stock_import(import_id: int):
    """Apply the previewed file, all or nothing (refused if stock changed since the preview)."""
    form = request.form
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        submission.outcome = apply_import(g.merchant_id, import_id,
                                          sha256=form.get("sha256", ""),
                                          digest=form.get("digest", ""))
        db.session.commit()
    except (AlreadySubmitted, ImportAlreadyApplied) as repeat:
        db.session.rollback()
        message = getattr(repeat, "message", None) or f"Already applied: {repeat.outcome}"
        return redirect_after_post(url_for("web.show_stock_import", import_id=import_id),
                                   message)
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _preview(import_id, http_status(error), message=error.message,
                        stale=isinstance(error, StalePreview))
    return redirect_after_post(url_for("web.show_stock_import", import_id=import_id),
                               submission.outcome)
