"""Fulfill an order (form, availability, auto split) and act on its fulfillments."""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.errors import (DomainError, InsufficientStock, InvalidInput,
                        QuantityExceedsUnfulfilled)
from app.extensions import db, htmx
from app.fulfillment import (NOTHING_CHOSEN, Tracking, auto_split, cancel_fulfillment,
                             create_fulfillment, fulfill_auto_split, fulfillment_input_problems,
                             line_quantity_problems, location_options, mark_delivered,
                             update_tracking)
from app.models import Fulfillment
from app.web import stock_wording
from app.web.blueprint import bp
from app.warehouse.packing import ship_fulfillment
from app.web.carriers import CARRIERS
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import checkbox, optional_int
from app.web.orders import order_context
from app.web.read_models import order_detail
from app.web.rendering import redirect_after_post, render, with_toast

FORM_FRAGMENTS = {"fulfill-form": "web/fulfillments/_form.html",
                  "fulfill-locations": "web/fulfillments/_locations.html"}


def _quantities(order, source, *, default_all: bool) -> tuple[dict[int, int], dict[str, str]]:
    """Line id -> units from ``qty-<line id>`` fields; errors per field for bad values
    (what isn't a number here, what the domain refuses for each line)."""
    wanted, errors = {}, {}
    for line in order.lines:
        raw = source.get(f"qty-{line.id}")
        if raw is None:
            wanted[line.id] = line.not_shipped_quantity if default_all else 0
            continue
        try:
            wanted[line.id] = int(raw.strip() or "0")
        except ValueError:
            errors[f"qty-{line.id}"] = "Enter a whole number."
            wanted[line.id] = 0
    errors.update({f"qty-{line_id}": problem for line_id, problem
                   in line_quantity_problems(order, wanted).items()})
    return wanted, errors


def _form_context(order, wanted, form, errors, message=None) -> dict:
    lines = list(order.lines)
    # Availability is shown for what can still be fulfilled, whatever was typed.
    valid = {ln.id: min(max(wanted.get(ln.id, 0), 0), ln.not_shipped_quantity) for ln in lines}
    options = location_options(g.merchant_id, lines, valid)
    split = auto_split(options, lines, valid) or []
    # Each part of the proposal opens this form prefilled with its location and units.
    split_links = [(part, url_for("web.new_fulfillment", order_id=order.id,
                                  location_id=part.location.id,
                                  **{f"qty-{ln.id}": part.quantities.get(ln.id, 0)
                                     for ln in lines}))
                   for part in split]
    # Lines without an item move no stock: availability speaks of the tracked ones only.
    untracked = [ln for ln in lines if ln.inventory_item_id is None and valid[ln.id] > 0]
    tracked_chosen = any(ln.inventory_item_id is not None and valid[ln.id] > 0 for ln in lines)
    return {"order": order, "wanted": wanted, "form": form, "errors": errors,
            "message": message, "options": options, "carriers": CARRIERS,
            "untracked": untracked, "tracked_chosen": tracked_chosen,
            "split": split_links, "selected_location": optional_int(form.get("location_id"))}


@bp.get("/orders/<int:order_id>/fulfill")
@login_required
def new_fulfillment(order_id: int):
    """The fulfill form: all unfulfilled units by default, or those in the query string."""
    order = order_detail.order(g.merchant_id, order_id)
    wanted, errors = _quantities(order, request.args, default_all=True)
    return render("web/fulfillments/new.html", FORM_FRAGMENTS,
                  **_form_context(order, wanted, request.args, errors))


@bp.post("/orders/<int:order_id>/fulfillments")
@login_required
def create_order_fulfillment(order_id: int):
    """Create one fulfillment; every error comes back inline and nothing is half-done."""
    form = request.form
    order = order_detail.order(g.merchant_id, order_id)
    wanted, errors = _quantities(order, form, default_all=False)
    location_id = optional_int(form.get("location_id"))
    tracking = Tracking(form.get("tracking_number", ""), form.get("tracking_company", ""),
                        form.get("tracking_url", ""))
    errors.update(fulfillment_input_problems(wanted, location_id, tracking))
    if not errors:
        try:
            submission = _consume(order.id, form)
            fulfillment = create_fulfillment(order.id, {k: v for k, v in wanted.items() if v},
                                             location_id, merchant_id=g.merchant_id,
                                             tracking=tracking,
                                             notify_customer=checkbox(form, "notify_customer"))
            submission.outcome = (f"Fulfillment {fulfillment.name} created. "
                                  f"{stock_wording.taken([fulfillment])}")
            db.session.commit()
        except AlreadySubmitted as repeat:
            return _already_submitted(order.id, repeat)
        except DomainError as error:
            db.session.rollback()
            order = order_detail.order(g.merchant_id, order_id)
            errors, status = _error_fields(order, error), http_status(error)
            return _form_error(order, wanted, form, errors, error.message, status)
        return redirect_after_post(url_for("web.show_order", order_id=order.id),
                                   submission.outcome)
    return _form_error(order, wanted, form, errors, "Fix the highlighted fields.", 422)


@bp.post("/orders/<int:order_id>/fulfillments/split")
@login_required
def create_split_fulfillments(order_id: int):
    """Fulfill the chosen units as the auto split proposes: every part, or none of them."""
    form = request.form
    order = order_detail.order(g.merchant_id, order_id)
    wanted, errors = _quantities(order, form, default_all=False)
    if not errors and not any(q > 0 for q in wanted.values()):
        errors["quantities"] = NOTHING_CHOSEN
    if errors:
        return _form_error(order, wanted, form, errors, "Fix the highlighted fields.", 422)
    try:
        submission = _consume(order.id, form)
        parts = fulfill_auto_split(g.merchant_id, order.id, {k: v for k, v in wanted.items() if v})
        submission.outcome = f"{len(parts)} fulfillments created. {stock_wording.taken(parts)}"
        db.session.commit()
    except AlreadySubmitted as repeat:
        return _already_submitted(order.id, repeat)
    except DomainError as error:
        db.session.rollback()
        order = order_detail.order(g.merchant_id, order_id)
        return _form_error(order, wanted, form, _error_fields(order, error), error.message,
                           http_status(error))
    return redirect_after_post(url_for("web.show_order", order_id=order.id), submission.outcome)


def _consume(order_id: int, form):
    """Use the fulfill form's token (one for its two buttons: fulfill, or the split)."""
    return consume_form_token(g.merchant_id, url_for("web.create_order_fulfillment",
                                                     order_id=order_id), form.get(FIELD))


def _already_submitted(order_id: int, repeat: AlreadySubmitted):
    """A repeat of a fulfill form that was acted on: show the order, as the first one did."""
    db.session.rollback()
    return redirect_after_post(url_for("web.show_order", order_id=order_id), repeat.message)


def _form_error(order, wanted, form, errors, message, status):
    context = _form_context(order, wanted, form, errors, message)
    return render("web/fulfillments/new.html", {"fulfill-form": "web/fulfillments/_form.html"},
                  status=status, **context)


def _error_fields(order, error: DomainError) -> dict[str, str]:
    """Map a domain error's data to the form fields it concerns."""
    if isinstance(error, QuantityExceedsUnfulfilled):
        return {f"qty-{e.line_id}": f"Only {e.unfulfilled} left to fulfill." for e in error.excesses}
    if isinstance(error, InsufficientStock):
        by_item = {s.item_id: s for s in error.shortfalls}
        return {f"qty-{ln.id}": f"{by_item[ln.inventory_item_id].available} available at this "
                                f"location (needs {by_item[ln.inventory_item_id].requested})."
                for ln in order.lines if ln.inventory_item_id in by_item} | {
            "location": "Not enough stock here for every item."}
    if isinstance(error, InvalidInput):
        return {error.field or "form": error.message}
    return {"form": error.message}


# --- Actions on one fulfillment (answer with the order's detail fragment) ---------------------

# Shipping checks the pack screen's scans: a half-scanned fulfillment is finished there.
_ACTIONS = {"ship": (ship_fulfillment, lambda f: "Marked as shipped."),
            "deliver": (mark_delivered, lambda f: "Marked as delivered."),
            # Only what the fulfillment took comes back: the message says what that was.
            "cancel": (cancel_fulfillment,
                       lambda f: f"Fulfillment canceled. {stock_wording.restored(f)}")}


def _order_id_of(fulfillment_id: int) -> int:
    fulfillment = db.session.get(Fulfillment, fulfillment_id)
    if fulfillment is None or fulfillment.merchant_id != g.merchant_id:
        from app.errors import NotFound

        raise NotFound("That fulfillment does not exist.")
    return fulfillment.order_id


@bp.post("/fulfillments/<int:fulfillment_id>/<any(ship, deliver, cancel):action>")
@login_required
def change_fulfillment_status(fulfillment_id: int, action: str):
    """Mark shipped / delivered, or cancel (the button asks for confirmation first)."""
    order_id = _order_id_of(fulfillment_id)
    change, say = _ACTIONS[action]
    try:
        done = say(change(fulfillment_id, merchant_id=g.merchant_id))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return render("web/orders/show.html", {"order-detail": "web/orders/_detail.html"},
                      status=http_status(error), **order_context(order_id, action_error=error.message))
    if not htmx:
        return redirect_after_post(url_for("web.show_order", order_id=order_id), done)
    return with_toast(render("web/orders/show.html", {"order-detail": "web/orders/_detail.html"},
                             **order_context(order_id)), done)


@bp.route("/fulfillments/<int:fulfillment_id>/tracking", methods=["GET", "POST"])
@login_required
def edit_tracking(fulfillment_id: int):
    """GET: the order page with this card's tracking form open; POST: save it."""
    order_id = _order_id_of(fulfillment_id)
    fragments = {"order-detail": "web/orders/_detail.html"}
    if request.method == "GET":
        return render("web/orders/show.html", fragments,
                      **order_context(order_id, editing=fulfillment_id, tracking_errors={}))
    form = request.form
    message = "Tracking saved."
    try:
        # Once per form: a repeat would push the update (and notify the customer) again.
        consume_form_token(g.merchant_id, request.path, form.get(FIELD)).outcome = message
        update_tracking(fulfillment_id, Tracking(form.get("tracking_number", ""),
                                                 form.get("tracking_company", ""),
                                                 form.get("tracking_url", "")),
                        merchant_id=g.merchant_id, notify_customer=checkbox(form, "notify_customer"))
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        message = repeat.message
    except DomainError as error:
        db.session.rollback()
        errors = {getattr(error, "field", None) or "form": error.message}
        return render("web/orders/show.html", fragments, status=http_status(error),
                      **order_context(order_id, editing=fulfillment_id, tracking_errors=errors,
                                      tracking_form=form))
    if not htmx:
        return redirect_after_post(url_for("web.show_order", order_id=order_id), message)
    return with_toast(render("web/orders/show.html", fragments, **order_context(order_id)),
                      message)
