"""Dashboard blueprint: merchant-facing pages (HTMX) and health endpoints."""
from flask import Blueprint, Flask

bp = Blueprint("web", __name__)


def init_web(app: Flask) -> None:
    """Bind what the dashboard needs app-wide: HTMX detection, sign-in, CSRF, filters, form tokens."""
    from flask_htmx import HTMX

    from app.web.auth import init_auth
    from app.web.filters import register_filters
    from app.web.form_tokens import form_token

    HTMX(app)
    init_auth(app)
    register_filters(app)
    app.jinja_env.globals["form_token"] = form_token


from app.web import (bulk, connections, fulfillment_orders, fulfillments,  # noqa: E402,F401
                     inventory, listings, locations, onboarding, orders, sessions,
                     stock_csv, sync, transfers, views)  # routes register on import
from app.web import returns  # noqa: E402,F401
