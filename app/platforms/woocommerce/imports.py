"""The connect import and the catalog refresh: resumable, page by page, as outbox jobs.

``channel.connected`` starts the import: webhooks (a new secret), the units of open orders
(what WooCommerce already took off ``stock_quantity``), then products page by page (simple
products and variations as listings, their stock as levels), then the open orders. A
``catalog.refresh_requested`` job (the onboarding page's "Read the store's quantities
again") runs the middle two steps again. Each page's rows are committed together with the
checkpoint (``Channel.sync_cursors["import"]`` / ``["catalog_refresh"]``: ``run`` = the
job that started it, ``step``, ``page``); after ``import_pages_per_job`` pages the run
continues in a new ``woocommerce.import`` job, so no job holds its lease for long. A job
that dies midway (a killed worker, a store outage) is retried and resumes at the
checkpoint; redoing the page in hand changes nothing, since every row is keyed by the
store's ids. Products are read oldest id first, so products created meanwhile land on the
last page (and fire ``product.created`` anyway).
"""
from __future__ import annotations

import json
import logging

from app.database import refresh_listing_statistics
from app.extensions import db
from app.models import Channel, ChannelStatus, OutboxEvent, Platform
from app.models._common import utcnow
from app.platforms.woocommerce.catalog import (add_units, committed_units, listings_of,
                                               open_orders_page, product_page, remove_missing,
                                               remove_vanished, save_entries)
from app.platforms.woocommerce.client import StoreClient
from app.platforms.woocommerce.connect import client_for, delivery_url, settings, webhook_secret
from app.platforms.woocommerce.sync import apply_order, ensure_webhooks, with_tracking
from app.stock.push import mark_dirty
from app.sync.cursors import save_cursors, set_cursors
from app.sync.errors import PermanentError
from app.sync.queue import Job
from app.sync.topics import Topic
from app.sync.transactions import commit_step, end_read

log = logging.getLogger("stockroom.woocommerce")

WOO = Platform.WOOCOMMERCE
CONTINUE_TOPIC = Topic.WOOCOMMERCE_IMPORT
REFRESH_TOPIC = Topic.CATALOG_REFRESH_REQUESTED
#: The runs, by their checkpoint key in sync_cursors.
STEPS = {"import": ("webhooks", "committed", "products", "orders", "done"),
         "catalog_refresh": ("committed", "products", "done")}
UNINSTALLED_NOTE = "skipped: the store is no longer connected"


def run_state(channel: Channel, key: str) -> dict:
    """A run's checkpoint ({} before the first run)."""
    return dict((channel.sync_cursors or {}).get(key) or {})


def _save_state(channel_id: int, key: str, state: dict) -> None:
    """Write the checkpoint. Flushes."""
    save_cursors(channel_id, {key: state})


def import_after_connect(job: Job) -> str:
    """Webhooks, listings with their stock, open orders: all pages, resumable."""
    return start_run(job.merchant_id, job.channel_id, "import", run=job.id,
                     pages_per_job=settings().import_pages_per_job)


def refresh_catalog(job: Job) -> str:
    """Read every listing and the store's quantities again (onboarding's refresh)."""
    return start_run(job.merchant_id, job.channel_id, "catalog_refresh", run=job.id,
                     pages_per_job=settings().import_pages_per_job)


def continue_run(job: Job) -> str:
    """A continuation: carry on from the checkpoint unless a newer run replaced it."""
    key = job.payload.get("key", "import")
    channel = db.session.get(Channel, job.channel_id, populate_existing=True)
    active, state = channel.status == ChannelStatus.ACTIVE, run_state(channel, key)
    end_read()
    if not active:
        return UNINSTALLED_NOTE
    if key not in STEPS or state.get("run") != job.payload.get("run"):
        return "superseded by a newer run"
    return _run(job.merchant_id, job.channel_id, key, state,
                pages_per_job=settings().import_pages_per_job)


def initial_import(merchant_id: int, channel_id: int) -> str:
    """The whole connect import inline, without continuation jobs (demo seeding); the
    caller commits."""
    return start_run(merchant_id, channel_id, "import",
                     run=f"inline:{utcnow().isoformat()}", pages_per_job=None)


def start_run(merchant_id: int, channel_id: int, key: str, *, run, pages_per_job: int | None
              ) -> str:
    """Begin a run (or resume this job's own, after a crash) and go as far as allowed."""
    channel = db.session.get(Channel, channel_id, populate_existing=True)
    if channel is None or channel.status != ChannelStatus.ACTIVE:
        end_read()
        return UNINSTALLED_NOTE
    state = run_state(channel, key)
    if state.get("run") != run or state.get("step") == "done":
        if state.get("run") == run:  # finished, and only its completion was lost
            end_read()
            return f"{key} already done ({_counts(state)})"
        state = {"run": run, "step": STEPS[key][0], "page": 1, "counts": {},
                 "committed": {}, "started_at": utcnow().isoformat()}
        _save_state(channel_id, key, state)
    commit_step()
    return _run(merchant_id, channel_id, key, state, pages_per_job=pages_per_job)


def _run(merchant_id: int, channel_id: int, key: str, state: dict, *,
         pages_per_job: int | None) -> str:
    client = client_for(channel_id)
    pages = 0
    while state["step"] != "done":
        if pages_per_job is not None and pages >= pages_per_job:
            db.session.add(OutboxEvent(merchant_id=merchant_id, channel_id=channel_id,
                                       topic=CONTINUE_TOPIC,
                                       payload={"run": state["run"], "key": key}))
            return (f"{key} paused at {state['step']} page {state['page']}: continues in a "
                    f"new job ({_counts(state)})")
        done_step, done_page = state["step"], state["page"]
        state = _STEP_FUNCTIONS[state["step"]](client, merchant_id, channel_id, state, key)
        pages += 1
        _save_state(channel_id, key, state)
        if state["step"] != "done":
            commit_step()  # the checkpoint and the page's rows, together
            if done_step == "products" and done_page & (done_page - 1) == 0:
                refresh_listing_statistics()
    return _finish(merchant_id, channel_id, key, state)


def _finish(merchant_id: int, channel_id: int, key: str, state: dict) -> str:
    state = {**state, "finished_at": utcnow().isoformat(), "committed": {}}
    _save_state(channel_id, key, state)
    channel = db.session.get(Channel, channel_id, with_for_update=True)
    marks = {"products_synced_at": state["started_at"]}
    if key == "import":
        marks["orders_synced_at"] = state["started_at"]
    set_cursors(channel, marks)
    channel.last_synced_at = utcnow()
    db.session.flush()
    # Matched listings are due a push; app/stock/push.py holds it until the merchant has
    # confirmed the opening stock of the store's location.
    mark_dirty(merchant_id, channel_id=channel_id)
    log.info(json.dumps({"event": f"woocommerce_{key}_done", "channel_id": channel_id,
                         "counts": state["counts"]}))
    return f"{key} done ({_counts(state)})"


def _counts(state: dict) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(state.get("counts", {}).items())) or "nothing"


# --- steps (each does one page and returns the next checkpoint) -------------------------

def _step_webhooks(client: StoreClient, merchant_id: int, channel_id: int, state: dict,
                   key: str) -> dict:
    channel = db.session.get(Channel, channel_id)
    secret, url = webhook_secret(channel), delivery_url(channel)
    end_read()
    if not secret:
        raise PermanentError("The store has no webhook secret: reconnect it.")
    hooks = ensure_webhooks(client, url, secret, replace=True)
    return _next(state, key, more=False, webhooks=hooks["created"])


def _step_committed(client: StoreClient, merchant_id: int, channel_id: int, state: dict,
                    key: str) -> dict:
    orders, pages = open_orders_page(client, state["page"])
    units = committed_units(channel_id, orders)
    state = {**state, "committed": add_units(dict(state.get("committed") or {}), units)}
    end_read()
    return _next(state, key, more=state["page"] < pages and bool(orders))


def _step_products(client: StoreClient, merchant_id: int, channel_id: int, state: dict,
                   key: str) -> dict:
    products, pages, total = product_page(client, state["page"])
    read = [(product, listings_of(client, product)) for product in products]
    committed = state.get("committed") or {}
    counts = {"listings": 0, "matched": 0, "unmatched": 0, "problems": 0, "removed": 0}
    seen: dict[str, set[str]] = {}
    for product, entries in read:
        saved = save_entries(merchant_id, channel_id, entries, committed)
        for name in ("listings", "matched", "unmatched", "problems"):
            counts[name] += saved.get(name, 0)
        if isinstance(product, dict) and isinstance(product.get("id"), int):
            seen[str(product["id"])] = {v.remote_variant_id for v, _ in entries}
    counts["removed"] += remove_missing(merchant_id, channel_id, seen)
    more = state["page"] < pages and bool(products)
    ids = sorted(p["id"] for p in products if isinstance(p, dict)
                 and isinstance(p.get("id"), int) and not isinstance(p.get("id"), bool))
    high = ids[-1] if more and ids else None
    counts["removed"] += remove_vanished(merchant_id, channel_id, state.get("last_id", 0), high,
                                         [str(i) for i in ids])
    state = {**state, "total_products": total, "last_id": high or 0}
    return _next(state, key, more=more, products=len(products), **counts)


def _step_orders(client: StoreClient, merchant_id: int, channel_id: int, state: dict,
                 key: str) -> dict:
    orders, pages = open_orders_page(client, state["page"])
    remotes = [with_tracking(client, o) for o in orders if isinstance(o, dict)]
    for remote in remotes:
        apply_order(merchant_id, channel_id, remote)
    return _next(state, key, more=state["page"] < pages and bool(orders), orders=len(remotes))


def _next(state: dict, key: str, *, more: bool, **counts: int) -> dict:
    state = {**state, "counts": dict(state.get("counts", {}))}
    for name, value in counts.items():
        state["counts"][name] = state["counts"].get(name, 0) + value
    if more:
        state["page"] += 1
    else:
        steps = STEPS[key]
        state["step"], state["page"] = steps[steps.index(state["step"]) + 1], 1
    return state


_STEP_FUNCTIONS = {"webhooks": _step_webhooks, "committed": _step_committed,
                   "products": _step_products, "orders": _step_orders}


def progress(channel: Channel, key: str = "import") -> dict:
    """What the onboarding page shows of a run: step, products read of the total, counts."""
    state = run_state(channel, key)
    return {"step": state.get("step"), "products": state.get("counts", {}).get("products", 0),
            "total_products": state.get("total_products"), "counts": state.get("counts", {}),
            "finished_at": state.get("finished_at")}
