"""Inventory: levels per item and location, adjustments with a reason, the ledger."""
from __future__ import annotations

from flask import g, request, url_for

from app.errors import DomainError, InvalidInput
from app.extensions import db
from app.stock import ADJUST_REASONS, adjust_stock
from app.web import bp, queries
from app.web.auth import login_required
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import optional_int, whole_number
from app.web.rendering import redirect_after_post, render, with_toast


@bp.get("/inventory")
@login_required
def list_inventory():
    """Every item's on hand / committed / available at every location; search by SKU."""
    q = request.args.get("q", "")[:200]
    return render("web/inventory/index.html", {"inventory-table": "web/inventory/_table.html"},
                  q=q, **queries.stock_matrix(g.merchant_id, q))


def _item_page(item_id: int, status: int = 200, **extra):
    context = {"item": queries.inventory_item(g.merchant_id, item_id),
               "levels": queries.item_levels(g.merchant_id, item_id),
               "ledger": queries.item_ledger(g.merchant_id, item_id),
               "locations": queries.stock_locations(g.merchant_id),
               "reasons": ADJUST_REASONS, "errors": {}, "form": {}, **extra}
    return render("web/inventory/show.html", {"item-stock": "web/inventory/_item.html"},
                  status=status, **context)


@bp.get("/inventory/<int:item_id>")
@login_required
def show_item(item_id: int):
    """One item: its level at each location, the adjust form, and its ledger history."""
    return _item_page(item_id)


@bp.post("/inventory/<int:item_id>/adjust")
@login_required
def adjust_item_stock(item_id: int):
    """Change on hand by a delta, or set it to a counted number, with a reason."""
    form = request.form
    try:
        location_id = optional_int(form.get("location_id"))
        if location_id is None:
            raise InvalidInput("Choose a location.", field="location")
        amount = whole_number(form.get("quantity"), field="quantity")
        mode = {"delta": amount} if form.get("mode", "delta") == "delta" else {"absolute": amount}
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        adjust_stock(g.merchant_id, location_id, item_id, reason=form.get("reason", ""),
                     note=form.get("note", "").strip(), **mode)
        submission.outcome = "Stock adjusted."
        db.session.commit()
    except AlreadySubmitted as repeat:  # answered like the first: nothing adjusted again
        db.session.rollback()
        return _adjusted(item_id, repeat.message)
    except DomainError as error:
        db.session.rollback()
        return _item_page(item_id, error.status_code, form=form,
                          errors={getattr(error, "field", None) or "form": error.message})
    return _adjusted(item_id, submission.outcome)


def _adjusted(item_id: int, message: str):
    if not request.headers.get("HX-Request"):
        return redirect_after_post(url_for("web.show_item", item_id=item_id), message)
    return with_toast(_item_page(item_id), message)
