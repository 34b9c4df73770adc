"""Connections: the merchant's Shopify shops and WooCommerce stores."""
from __future__ import annotations

from flask import current_app, g

from app.auth import login_required
from app.web import attention
from app.web.blueprint import bp
from app.web.read_models import common, imports, listings
from app.web.rendering import render


@bp.get("/connections")
@login_required
def list_connections():
    """Connected channels (platform, domain, scopes, status), running imports (the fragment
    polls itself while one runs) and "connect a WooCommerce store"."""
    woo_connect = "woocommerce.start_connect" in current_app.view_functions
    return render("web/connections/index.html",
                  {"import-progress": "web/connections/_import_progress.html"},
                  imports=imports.running_imports(g.merchant_id),
                  channels=common.channels(g.merchant_id),
                  merchant=common.merchant(g.merchant_id), woo_connect=woo_connect,
                  listing_counts=listings.listing_counts_by_channel(g.merchant_id),
                  reauthorizations={r.channel.id: r
                                    for r in attention.reauthorizations(g.merchant_id)})
