"""WooCommerce integration: connect with wc-auth, signed webhooks into the inbox, the REST
client (the real `woocommerce` library behind an SSRF guard), and the adapter that pushes
fulfillments and stock and pulls orders."""
from __future__ import annotations

from flask import Blueprint, Flask

from app.platforms.woocommerce.settings import load_settings

bp = Blueprint("woocommerce", __name__, url_prefix="/woocommerce")


def init_app(app: Flask) -> None:
    """Read the settings (environment, or ``WOOCOMMERCE_SETTINGS`` in config), register routes."""
    from app.platforms.woocommerce import handlers, views  # noqa: F401  (routes, handlers)

    app.extensions["stockroom.woocommerce"] = (app.config.get("WOOCOMMERCE_SETTINGS")
                                               or load_settings())
    app.register_blueprint(bp)
