"""Dashboard plumbing: home, CSRF and security headers, error pages."""
from __future__ import annotations

from flask import g, render_template

from app.auth import authenticate, check_csrf
from app.errors import NotFound
from app.warehouse.low_stock import low_stock
from app.web import attention
from app.web.blueprint import bp
from app.web.read_models import common, inventory, orders
from app.web.read_models.orders import OrderFilters


@bp.before_app_request
def _protect_from_csrf():
    # Only this blueprint's forms: platform webhooks (other blueprints) carry HMACs instead.
    from flask import request

    if request.blueprint == "web":
        check_csrf()


@bp.after_request
def _add_security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if g.get("merchant_id") is not None:
        # Merchant data: never kept by shared caches or the browser's disk cache.
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response


@bp.errorhandler(NotFound)
def _show_not_found(error: NotFound):
    return render_template("web/not_found.html", message=error.message), 404


#: Low-stock rows on the home page (the most short first; the rest on the Low stock page).
HOME_LOW_STOCK_ROWS = 10


@bp.get("/")
def show_home():
    """Signed in: the set-up steps while incomplete, pushes still paused, listings needing a
    decision, orders to do, what is at or below its reorder point and stock by location;
    otherwise the welcome page."""
    from app.web.onboarding_state import onboarding

    if authenticate() is None:
        return render_template("web/welcome.html")
    merchant_id = g.merchant_id
    return render_template("web/home.html", merchant=common.merchant(merchant_id),
                           onboarding=onboarding(merchant_id), errors={},
                           counts=orders.order_status_counts(merchant_id, OrderFilters()),
                           reauthorizations=attention.reauthorizations(merchant_id),
                           location_attention=attention.location_attention(merchant_id),
                           low_stock=low_stock(merchant_id, limit=HOME_LOW_STOCK_ROWS + 1),
                           home_low_stock_rows=HOME_LOW_STOCK_ROWS,
                           **inventory.stock_matrix(merchant_id))
