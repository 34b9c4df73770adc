"""WooCommerce's reconciliation (an outbox job): orders and products modified since the last
sync re-read and applied, disabled webhooks re-enabled. Queued by scheduled.py."""
from __future__ import annotations

import datetime as dt

from app.extensions import db
from app.models import Channel
from app.models._common import utcnow
from app.platforms.woocommerce.client import StoreClient
from app.platforms.woocommerce.connect import client_for, delivery_url, settings, webhook_secret
from app.platforms.woocommerce.mapping import OPEN_STATUSES, gmt_string, parse_gmt
from app.platforms.woocommerce.catalog import product_page, refresh_product
from app.platforms.woocommerce.sync import apply_order, ensure_webhooks, find_order, with_tracking
from app.sync.cursors import set_cursors
from app.sync.errors import PermanentError
from app.sync.lock import push_in_flight
from app.sync.queue import Job
from app.sync.transactions import commit_step, end_read


# --- outbox: the reconciliation ------------------------------------------------------

def _webhook_setup(channel_id: int) -> tuple[str, str]:
    channel = db.session.get(Channel, channel_id)
    secret = webhook_secret(channel)
    url = delivery_url(channel)
    end_read()
    if not secret:
        raise PermanentError("The store has no webhook secret: reconnect it.")
    return url, secret


def _finish_sync(channel_id: int, started: dt.datetime, *, cursor: dt.datetime | None = None
                 ) -> Channel:
    channel = db.session.get(Channel, channel_id, with_for_update=True)
    set_cursors(channel, {"orders_synced_at": (cursor or started).isoformat()})
    channel.last_synced_at = utcnow()
    db.session.flush()
    return channel


def reconcile(job: Job) -> str:
    """Repair what webhooks missed: orders and products modified since the last sync (with
    overlap), disabled webhooks re-enabled. Queued every WOOCOMMERCE_RECONCILE_SECONDS
    (scheduled.py). WP-Cron runs Action Scheduler only when the site has visitors, so a
    product webhook may come late, or never (a disabled webhook)."""
    started = utcnow()
    channel = db.session.get(Channel, job.channel_id)
    since = parse_gmt((channel.sync_cursors or {}).get("orders_synced_at")) if channel else None
    products_since = parse_gmt((channel.sync_cursors or {}).get("products_synced_at")) \
        if channel else None
    url, secret = _webhook_setup(job.channel_id)
    client = client_for(job.channel_id)
    hooks = ensure_webhooks(client, url, secret)
    params = {"orderby": "modified", "order": "asc"}
    if since is not None:
        after = since - dt.timedelta(seconds=settings().reconcile_overlap_seconds)
        params.update(modified_after=gmt_string(after), dates_are_gmt="true")
    else:
        params["status"] = ",".join(OPEN_STATUSES)
    orders = [with_tracking(client, o) for o in client.pages("orders", params=params,
                                                             what="reconciling orders")]
    applied, held = 0, []
    for remote in orders:
        existing = find_order(job.channel_id, str(remote.data["id"]))
        if existing is not None and push_in_flight(existing.id):
            held.append(parse_gmt(remote.data.get("date_modified_gmt")) or started)
            continue  # a push is in flight: the next run sees the order again
        apply_order(job.merchant_id, job.channel_id, remote)
        applied += 1
    cursor = min([started, *(h - dt.timedelta(seconds=1) for h in held)])
    commit_step()  # the orders' changes, before the products are read
    products = reconcile_products(client, job.merchant_id, job.channel_id, products_since)
    channel = _finish_sync(job.channel_id, started, cursor=cursor)
    if products_since is not None or products:
        set_cursors(channel, {"products_synced_at": started.isoformat()})
    return (f"{applied} orders reconciled, {len(held)} held by a push in flight; "
            f"{products} products re-read; "
            f"webhooks: {hooks['reenabled']} re-enabled, {hooks['created']} recreated")


def reconcile_products(client: StoreClient, merchant_id: int, channel_id: int,
                       since: dt.datetime | None) -> int:
    """Re-read products modified since ``since`` (minus the overlap), oldest change first.

    A variation's save also saves its parent (``date_modified`` bumped), so a variable
    product whose variations changed is found here too; its variations are re-read with it.
    Nothing is read before the connect import finished (it reads everything). Returns how
    many products were re-read. Commits after each product.
    """
    if since is None:
        return 0
    after = since - dt.timedelta(seconds=settings().reconcile_overlap_seconds)
    params = {"modified_after": gmt_string(after), "dates_are_gmt": "true",
              "orderby": "modified", "order": "asc"}
    count, page, pages = 0, 1, 1
    while page <= pages:
        products, pages, _ = product_page(client, page, params=params)
        for product in products:
            if isinstance(product, dict) and isinstance(product.get("id"), int):
                refresh_product(client, merchant_id, channel_id, str(product["id"]), product)
                commit_step()
                count += 1
        if not products:
            break
        page += 1
    return count
