"""Actions on an order's Shopify fulfillment orders (move, request, hold...) from the order page."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask import g, request, url_for

from app.auth import login_required
from app.errors import DomainError
from app.extensions import db
from app.platforms.shopify import actions
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import checkbox, optional_int
from app.web.orders import order_context
from app.web.rendering import is_htmx, redirect_after_post, render, with_toast

#: URL slug -> Shopify's FulfillmentOrderAction (CREATE_FULFILLMENT and EXTERNAL are links).
SLUGS = {"move": actions.MOVE, "request-fulfillment": actions.REQUEST_FULFILLMENT,
         "cancel": actions.CANCEL_FULFILLMENT_ORDER,
         "request-cancellation": actions.REQUEST_CANCELLATION,
         "hold": actions.HOLD, "release-hold": actions.RELEASE_HOLD}
FRAGMENTS = {"fulfillment-orders": "web/orders/_fulfillment_orders.html",
             "order-detail": "web/orders/_detail.html"}
_QTY = re.compile(r"qty-(\d+)")


@dataclass
class ActionForm:
    """A submitted action form that failed: reopened with its values and errors."""

    fo_id: int
    action: str
    values: dict
    errors: dict[str, str]
    message: str


def _input(form) -> actions.ActionInput:
    """The form's values; ``qty-<fulfillment order line id>`` fields, when sent, pick units."""
    quantities, errors = {}, {}
    for key, raw in form.items():
        match = _QTY.fullmatch(key)
        if match:
            try:
                quantities[int(match.group(1))] = int(raw.strip() or "0")
            except ValueError:
                errors[key] = "Enter a whole number."
    return actions.ActionInput(
        quantities=quantities or None, location_id=optional_int(form.get("location_id")),
        message=form.get("message", "").strip(), notify_customer=checkbox(form, "notify_customer"),
        reason=form.get("reason", ""), notes=form.get("notes", "").strip(), field_errors=errors)


@bp.post("/fulfillment-orders/<int:fo_id>/<any("
         + ", ".join(f'"{slug}"' for slug in SLUGS) + "):slug>")
@login_required
def change_fulfillment_order(fo_id: int, slug: str):
    """Run one fulfillment-order action on Shopify; errors come back inline in its form.

    The form's token is used before the call (the action commits its read before calling
    Shopify, so the claim is committed first): a repeat never sends the action twice, even
    when the first answer was lost. A failed action's form comes back with a fresh token.
    """
    order_id = actions.fulfillment_order(g.merchant_id, fo_id).order_id
    try:
        submission = consume_form_token(g.merchant_id, request.path, request.form.get(FIELD))
        submission.outcome = actions.run_fulfillment_order_action(
            g.merchant_id, fo_id, SLUGS[slug], _input(request.form))
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return _done(order_id, repeat.message)
    except DomainError as error:
        db.session.commit()  # keeps the re-read of the order made after Shopify refused
        failed = ActionForm(fo_id, slug, request.form.to_dict(),
                            getattr(error, "fields", {}), error.message)
        return render("web/orders/show.html", FRAGMENTS, status=http_status(error),
                      **order_context(order_id, fo_form=failed))
    db.session.commit()
    return _done(order_id, submission.outcome)


def _done(order_id: int, message: str):
    if not is_htmx():
        return redirect_after_post(url_for("web.show_order", order_id=order_id), message)
    return with_toast(render("web/orders/show.html", FRAGMENTS, **order_context(order_id)),
                      message)
