"""Dashboard blueprint: merchant-facing pages (HTMX) and health endpoints."""
from flask import Flask

from app.web.blueprint import bp  # noqa: F401  (create_app registers it from here)


def init_web(app: Flask) -> None:
    """Bind what the dashboard needs app-wide: HTMX detection, sign-in, CSRF, filters, form
    tokens (and the periodic pruning of used ones)."""
    from app.auth import init_auth
    from app.extensions import htmx
    from app.web.filters import register_filters
    from app.sync.schedule import register_periodic
    from app.web.form_tokens import form_token, prune_form_submissions

    htmx.init_app(app)
    register_periodic("web.prune_form_submissions", prune_form_submissions, every_seconds=3600)
    init_auth(app)
    register_filters(app)
    app.jinja_env.globals["form_token"] = form_token


from app.web import (bulk, connections, fulfillment_orders, fulfillments,  # noqa: E402,F401
                     inventory, listings, locations, onboarding, orders, sessions,
                     stock_csv, sync, transfers, views)  # routes register on import
from app.web import low_stock, packing, receiving  # noqa: E402,F401
from app.web import printing, returns, settings  # noqa: E402,F401
