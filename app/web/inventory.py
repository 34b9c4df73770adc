"""Inventory: items (by hand or from listings), levels per location, adjustments, the ledger."""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.catalog import create_item, update_item
from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db, htmx
from app.stock import ADJUST_REASONS, adjust_stock
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import optional_int, whole_number
from app.web.read_models import common, inventory
from app.web.rendering import redirect_after_post, render, with_toast


def _inventory_page(status: int = 200, **extra):
    q = request.args.get("q", "")[:200]
    context = {"q": q, "errors": {}, "form": {}, "item_count": inventory.item_count(g.merchant_id),
               **inventory.stock_matrix(g.merchant_id, q), **extra}
    return render("web/inventory/index.html", {"inventory-table": "web/inventory/_table.html",
                                               "new-item": "web/inventory/_new_item.html"},
                  status=status, **context)


@bp.get("/inventory")
@login_required
def list_inventory():
    """Every item's on hand / committed / available at every location; search by SKU."""
    return _inventory_page()


def _item_fields(form) -> dict:
    return {"sku": form.get("sku", ""), "title": form.get("title", ""),
            "barcode": form.get("barcode", ""), "image_url": form.get("image_url", "")}


@bp.post("/inventory/items")
@login_required
def create_inventory_item():
    """A new item by hand (SKU, title, barcode, image); waiting listings of its SKU match it."""
    form = request.form
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        fields = _item_fields(form)
        item = create_item(g.merchant_id, fields.pop("sku"), fields.pop("title"), **fields)
        submission.outcome = f"Item {item.sku} created."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.list_inventory"), repeat.message)
    except DomainError as error:
        db.session.rollback()
        return _inventory_page(http_status(error), form=form, errors={
            f"new-{getattr(error, 'field', None) or 'form'}": error.message})
    return redirect_after_post(url_for("web.show_item", item_id=item.id), submission.outcome)


def _item_page(item_id: int, status: int = 200, **extra):
    item = inventory.inventory_item(g.merchant_id, item_id)
    source_channel, source_listing = inventory.item_source(g.merchant_id, item)
    ledger = inventory.item_ledger(g.merchant_id, item_id)
    context = {"item": item, "source_channel": source_channel, "source_listing": source_listing,
               "listings": inventory.item_listings(g.merchant_id, item_id),
               "edit_errors": {}, "edit_form": None,
               "levels": inventory.item_levels(g.merchant_id, item_id),
               "ledger": ledger, "fulfillment_refs": inventory.fulfillment_refs(
                   g.merchant_id, ledger),
               "locations": common.stock_locations(g.merchant_id),
               "reasons": ADJUST_REASONS, "errors": {}, "form": {}, **extra}
    return render("web/inventory/show.html", {"item-stock": "web/inventory/_item.html",
                                              "item-details": "web/inventory/_details.html"},
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
        return _item_page(item_id, http_status(error), form=form,
                          errors={getattr(error, "field", None) or "form": error.message})
    return _adjusted(item_id, submission.outcome)


def _adjusted(item_id: int, message: str):
    if not htmx:
        return redirect_after_post(url_for("web.show_item", item_id=item_id), message)
    return with_toast(_item_page(item_id), message)


@bp.post("/inventory/<int:item_id>/edit")
@login_required
def edit_inventory_item(item_id: int):
    """Change an item's SKU, title, barcode or image; a new SKU or barcode re-matches."""
    form = request.form
    try:
        submission = consume_form_token(g.merchant_id, request.path, form.get(FIELD))
        item = update_item(g.merchant_id, item_id, **_item_fields(form))
        submission.outcome = f"Item {item.sku} saved."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return redirect_after_post(url_for("web.show_item", item_id=item_id), repeat.message)
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _item_page(item_id, http_status(error), edit_form=form, edit_errors={
            f"edit-{getattr(error, 'field', None) or 'form'}": error.message})
    return redirect_after_post(url_for("web.show_item", item_id=item_id), submission.outcome)
