"""Orders: the list of every channel's orders, and one order's page."""
from __future__ import annotations

import hashlib

from flask import Response, g, request

from app.auth import login_required
from app.extensions import htmx
from app.platforms.shopify.actions import HOLD_REASONS
from app.web.blueprint import bp
from app.web.forms import optional_int
from app.web.read_models import common, order_detail, orders, sync
from app.web.read_models.fulfillment_orders import fulfillment_order_panels
from app.web.read_models.orders import Cursor, OrderFilters
from app.web.rendering import is_htmx, render


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
    filters = orders.resolve_search(g.merchant_id, _filters())
    page = orders.orders_page(g.merchant_id, filters, Cursor.decode(request.args.get("after")))
    counts = orders.order_status_counts(g.merchant_id, filters)
    version = _version(counts, [(o.id, o.name, o.customer_name, page.statuses[o.id].value,
                                 [(line.quantity, line.fulfilled_quantity) for line in o.lines])
                                for o in page.orders])
    if _unchanged("order-rows", version):
        return Response(status=204)
    return render("web/orders/index.html", {"order-rows": "web/orders/_rows.html"},
                  filters=filters, page=page, counts=counts, version=version,
                  channels=common.channels(g.merchant_id),
                  locations=common.stock_locations(g.merchant_id),
                  after=request.args.get("after"))


def _version(*parts) -> str:
    """A short fingerprint of what a polled fragment shows."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _unchanged(target: str, version: str) -> bool:
    """A poll (``since=`` the version it shows) of a fragment whose data did not change:
    answered 204, so htmx swaps nothing and nothing the merchant selected is lost."""
    return (is_htmx() and htmx.target == target
            and request.args.get("since") == version)


@bp.get("/orders/<int:order_id>")
@login_required
def show_order(order_id: int):
    """Lines, fulfillments (cards with actions), and the order's timeline."""
    context = order_context(order_id)
    if _unchanged("order-detail", context["version"]):
        return Response(status=204)
    return render("web/orders/show.html", {"order-detail": "web/orders/_detail.html"},
                  **context)


def order_context(order_id: int, **extra) -> dict:
    """What the order page and its detail fragment render."""
    order = order_detail.order(g.merchant_id, order_id)
    timeline = order_detail.order_timeline(g.merchant_id, order.id)
    # The newest failed push per fulfillment: its card shows the error and a retry.
    failed_pushes = {}
    for event in reversed(timeline):
        fulfillment_id = (event.payload or {}).get("fulfillment_id")
        if fulfillment_id is not None:
            failed_pushes.pop(fulfillment_id, None)
            if event.status in sync.FAILED_STATUSES:
                failed_pushes[fulfillment_id] = event
    entries = order_detail.timeline_entries(timeline,
                                            order_detail.order_webhooks(g.merchant_id, order))
    fulfillments = order_detail.order_fulfillments(g.merchant_id, order.id)
    fo_panels = fulfillment_order_panels(g.merchant_id, order)
    version = _version(
        (order.name, order.cancelled_at, order.customer_name, order.customer_email,
         order.total_price),
        [(line.id, line.quantity, line.fulfilled_quantity, line.inventory_item_id)
         for line in order.lines],  # a line matched meanwhile is tracked now
        [(f.id, f.status, f.sync_state, f.sync_error, f.location_id, f.tracking_number,
          f.tracking_company, f.tracking_url) for f in fulfillments],
        [(e.kind, e.id, e.status, e.attempts, e.last_error) for e in entries],
        [(p.fo.id, p.fo.status, p.fo.request_status, p.actions, p.fo.assigned_location_name,
          p.fo.holds, [(fol.id, fol.remaining_quantity) for fol in p.fo.lines])
         for p in fo_panels])
    return {"order": order, "fulfillments": fulfillments, "version": version,
            "fulfillment_names": {f.id: f.name for f in fulfillments},
            "timeline": entries, "failed_pushes": failed_pushes, "editing": None,
            "fo_panels": fo_panels, "fo_form": None, "fo_hold_reasons": HOLD_REASONS,
            "action_error": None, "tracking_errors": {}, "tracking_form": None, **extra}
