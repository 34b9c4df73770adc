"""Orders: the list of every channel's orders, and one order's page."""
from __future__ import annotations

from flask import g, request

from app.platforms.shopify.actions import HOLD_REASONS, fulfillment_order_panels
from app.web import bp, queries
from app.web.auth import login_required
from app.web.forms import optional_int
from app.web.queries import Cursor, OrderFilters
from app.web.rendering import render


def _filters() -> OrderFilters:
    args = request.args
    return OrderFilters(channel_id=optional_int(args.get("channel")),
                        status=args.get("status") or None,
                        location_id=optional_int(args.get("location")),
                        q=args.get("q", "")[:200])


@bp.get("/orders")
@login_required
def list_orders():
    """All channels' orders, newest first: filters, search, status counts, keyset pages."""
    filters = _filters()
    page = queries.orders_page(g.merchant_id, filters, Cursor.decode(request.args.get("after")))
    return render("web/orders/index.html", {"order-rows": "web/orders/_rows.html"},
                  filters=filters, page=page,
                  counts=queries.order_status_counts(g.merchant_id, filters),
                  channels=queries.channels(g.merchant_id),
                  locations=queries.stock_locations(g.merchant_id),
                  after=request.args.get("after"))


@bp.get("/orders/<int:order_id>")
@login_required
def show_order(order_id: int):
    """Lines, fulfillments (cards with actions), and the order's timeline."""
    return render("web/orders/show.html", {"order-detail": "web/orders/_detail.html"},
                  **order_context(order_id))


def order_context(order_id: int, **extra) -> dict:
    """What the order page and its detail fragment render."""
    order = queries.order(g.merchant_id, order_id)
    timeline = queries.order_timeline(g.merchant_id, order.id)
    # The newest failed push per fulfillment: its card shows the error and a retry.
    failed_pushes = {}
    for event in reversed(timeline):
        fulfillment_id = (event.payload or {}).get("fulfillment_id")
        if fulfillment_id is not None:
            failed_pushes.pop(fulfillment_id, None)
            if event.status in queries.FAILED_STATUSES:
                failed_pushes[fulfillment_id] = event
    return {"order": order, "fulfillments": queries.order_fulfillments(g.merchant_id, order.id),
            "timeline": timeline, "failed_pushes": failed_pushes, "editing": None,
            "fo_panels": fulfillment_order_panels(g.merchant_id, order), "fo_form": None,
            "fo_hold_reasons": HOLD_REASONS,
            "action_error": None, "tracking_errors": {}, "tracking_form": None, **extra}
