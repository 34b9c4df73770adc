"""WooCommerce integration: connect with wc-auth, signed webhooks into the inbox, the REST
client (the real `woocommerce` library behind an SSRF guard), and the adapter that pushes
fulfillments and stock and pulls orders."""
from __future__ import annotations

from flask import Blueprint, Flask

from app.platforms.woocommerce.settings import load_settings
from app.sync.transactions import commit_step

bp = Blueprint("woocommerce", __name__, url_prefix="/woocommerce")


def init_app(app: Flask) -> None:
    """Read the settings (environment, or ``WOOCOMMERCE_SETTINGS`` in config), register routes."""
    # The blueprint's routes; job handlers are registered by app/platforms/registry.py.
    from app.platforms.woocommerce import views  # noqa: F401

    app.extensions["stockroom.woocommerce"] = (app.config.get("WOOCOMMERCE_SETTINGS")
                                               or load_settings())
    app.register_blueprint(bp)
    _register_cli(app)


def _register_cli(app: Flask) -> None:
    import click

    @app.cli.command("woocommerce-reconcile")
    @click.option("--channel", "channel_id", type=int, help="Only this channel (default: all).")
    def reconcile_command(channel_id: int | None):
        """Queue a reconciliation of connected WooCommerce stores now (the worker runs it)."""
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Channel, ChannelStatus, Platform
        from app.platforms.woocommerce.sync import request_reconcile

        query = select(Channel).where(Channel.platform == Platform.WOOCOMMERCE,
                                      Channel.status == ChannelStatus.ACTIVE)
        if channel_id is not None:
            query = query.where(Channel.id == channel_id)
        channels = db.session.scalars(query).all()
        queued = sum(request_reconcile(channel) for channel in channels)
        commit_step()
        click.echo(f"reconciliation queued for {queued} of {len(channels)} WooCommerce "
                   "store(s) (the others already had one queued)")
