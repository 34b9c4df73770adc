"""The import after (re)install, and the catalog re-read: webhook subscriptions, locations,
variants with their quantities, open orders.

The import runs as outbox jobs: ``channel.installed`` starts it, and it hands over to a
``shopify.import`` continuation job after ``import_pages_per_job`` pages, so no job holds
its lease for long. Progress is a checkpoint in ``Channel.sync_cursors["import"]``
(``run``: the id of the job that started it, ``step``, ``after``: the page cursor,
``counts``: variants read, matched, levels, orders...; ``variants_total``: how many
variants the shop has — for the onboarding page to show progress),
committed with each page's rows. A job that fails (a Shopify outage, a crash, a killed
worker) is retried by the worker and resumes at the checkpoint; redoing the page in hand
changes nothing, because every row is upserted by its Shopify id.

``catalog.refresh_requested`` ("Read the shop's quantities again") runs the products step
alone with the same machinery, under ``sync_cursors["catalog_refresh"]`` and its own
``shopify.catalog_refresh`` continuation.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace

from sqlalchemy import select

from app.database import refresh_listing_statistics
from app.extensions import db
from app.catalog import rematch_channel
from app.models import Channel, ChannelListing, ChannelStatus, MatchStatus, Order, OutboxEvent
from app.models._common import utcnow
from app.platforms.shopify import bulk
from app.platforms.shopify.catalog import read_variant_page, store_variants
from app.platforms.shopify.mapping import record_fulfillment
from app.platforms.shopify.paging import read_order_fulfillments
from app.platforms.shopify.sync import ShopifyCall, import_locations, pull_order, settings
from app.platforms.shopify.subscriptions import ensure_webhook_subscriptions
from app.stock.push import mark_dirty
from app.sync.cursors import save_cursors
from app.sync.commands import apply_commands
from app.sync.queue import Job
from app.sync.topics import Topic
from app.sync.transactions import commit_step, end_read

log = logging.getLogger("stockroom.shopify")

STEPS = ("webhooks", "locations", "products", "orders", "done")
#: run kind -> (its steps, its continuation topic). The key is also its sync_cursors key.
RUNS = {"import": (STEPS, Topic.SHOPIFY_IMPORT),
        "catalog_refresh": (("products", "done"), Topic.SHOPIFY_CATALOG_REFRESH)}
#: Orders still to fulfill, by Order.displayFulfillmentStatus (the rest are history).
OPEN_STATUSES = frozenset({"UNFULFILLED", "PARTIALLY_FULFILLED", "IN_PROGRESS", "ON_HOLD",
                           "OPEN", "PENDING_FULFILLMENT", "SCHEDULED", "REQUEST_DECLINED"})
#: A queued job of a shop uninstalled meanwhile ends quietly (not as a failure to retry).
UNINSTALLED_NOTE = "skipped: the shop uninstalled the app"
BEFORE_INSTALL_NOTE = "Fulfilled on Shopify before Stockroom was connected: stock not adjusted."


def import_state(channel: Channel, kind: str = "import") -> dict:
    """The channel's checkpoint of a run kind ({} before the first run of that kind)."""
    return dict((channel.sync_cursors or {}).get(kind) or {})


def catalog_progress(channel: Channel) -> dict:
    """What the onboarding page shows of the latest catalog read (the import's, or a
    re-read's when one ran since): ``{kind, step, read, total, matched, levels, done}``.

    ``total`` is None until the products step started; ``done`` once the products step is
    behind (the import still reads open orders after it). {} before any read.
    """
    runs = [(kind, import_state(channel, kind)) for kind in RUNS]
    runs = [(kind, state) for kind, state in runs if state]
    if not runs:
        return {}
    kind, state = max(runs, key=lambda r: r[1].get("started_at") or "")
    counts = state.get("counts") or {}
    steps = RUNS[kind][0]
    return {"kind": kind, "step": state.get("step"), "read": counts.get("variants", 0),
            "total": state.get("variants_total"), "matched": counts.get("matched", 0),
            "levels": counts.get("levels", 0),
            "done": steps.index(state.get("step", steps[0])) > steps.index("products")}


def _save_state(channel_id: int, state: dict, kind: str = "import") -> None:
    """Write the checkpoint. Flushes."""
    save_cursors(channel_id, {kind: state})


def _start(job: Job, kind: str) -> str:
    """Begin a new run of ``kind`` (or resume this job's own run, when it is retried)."""
    channel = db.session.get(Channel, job.channel_id, populate_existing=True)
    if channel.status != ChannelStatus.ACTIVE:
        end_read()
        return UNINSTALLED_NOTE
    state = import_state(channel, kind)
    if state.get("run") != job.id:
        state = {"run": job.id, "step": RUNS[kind][0][0], "after": None, "counts": {},
                 "started_at": utcnow().isoformat()}
        _save_state(job.channel_id, state, kind)
    commit_step()
    return _run(job, state, kind)


def _continue(job: Job, kind: str) -> str:
    """A continuation job: carry on from the checkpoint unless a newer run replaced it."""
    channel = db.session.get(Channel, job.channel_id, populate_existing=True)
    active, state = channel.status == ChannelStatus.ACTIVE, import_state(channel, kind)
    end_read()
    if not active:
        return UNINSTALLED_NOTE
    if state.get("run") != job.payload.get("run"):
        return f"superseded by a newer {kind.replace('_', ' ')}"
    return _run(job, state, kind)


def start_import(job: Job) -> str:
    """``channel.installed``: begin a new import run (or resume this job's own run)."""
    return _start(job, "import")


def continue_import(job: Job) -> str:
    """The import's continuation job."""
    return _continue(job, "import")


def start_catalog_refresh(job: Job) -> str:
    """Re-read every variant and its quantities (the onboarding page's "Read the shop's
    quantities again"): the import's products step, checkpointed the same way."""
    return _start(job, "catalog_refresh")


def continue_catalog_refresh(job: Job) -> str:
    """The catalog re-read's continuation job."""
    return _continue(job, "catalog_refresh")


def _run(job: Job, state: dict, kind: str = "import") -> str:
    cfg = settings()
    steps, continuation = RUNS[kind]
    call = ShopifyCall(job.channel_id)
    pages = 0
    what = kind.replace("_", " ")
    while state["step"] != "done":
        if pages >= cfg.import_pages_per_job:
            db.session.add(OutboxEvent(merchant_id=job.merchant_id, channel_id=job.channel_id,
                                       topic=continuation, payload={"run": state["run"]}))
            return f"{what} paused at {state['step']}: continues in a new job ({_counts(state)})"
        done_step = state["step"]
        state = _STEP_FUNCTIONS[state["step"]](call, job, state, steps)
        if state.get("waiting"):  # bulk.py: the continuation is queued when Shopify is done
            _save_state(job.channel_id, state, kind)
            commit_step()
            return f"{what} waits for Shopify's {state['waiting']} ({_counts(state)})"
        pages += 1
        if done_step == "products":
            state["product_pages"] = product_pages = state.get("product_pages", 0) + 1
        if state["step"] != "done":
            _save_state(job.channel_id, state, kind)
            commit_step()  # the checkpoint and the page's rows, together
            if done_step == "products" and product_pages & (product_pages - 1) == 0:
                refresh_listing_statistics()  # the planner sees the catalog as it grows
    state["finished_at"] = utcnow().isoformat()
    _save_state(job.channel_id, state, kind)
    mark_dirty(job.merchant_id, channel_id=job.channel_id)  # pushes wait for confirmation
    db.session.get(Channel, job.channel_id).last_synced_at = utcnow()
    log.info(json.dumps({"event": f"shopify_{kind}_done", "channel_id": job.channel_id,
                         "counts": state["counts"]}))
    return f"{what} done ({_counts(state)})"


def _counts(state: dict) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(state.get("counts", {}).items())) or "nothing"


def _advance(state: dict, steps: tuple[str, ...], page: dict | None = None, **counts: int
             ) -> dict:
    """The next checkpoint: the same step at the next page, or the next step."""
    state = {**state, "counts": dict(state.get("counts", {}))}
    for key, value in counts.items():
        state["counts"][key] = state["counts"].get(key, 0) + value
    if page is not None and page["pageInfo"]["hasNextPage"]:
        state["after"] = page["pageInfo"]["endCursor"]
    else:
        state["step"], state["after"] = steps[steps.index(state["step"]) + 1], None
    return state


def _step_webhooks(call: ShopifyCall, job: Job, state: dict, steps) -> dict:
    created, deleted = ensure_webhook_subscriptions(call, settings())
    return _advance(state, steps, webhooks_created=created, webhooks_deleted=deleted)


def _step_locations(call: ShopifyCall, job: Job, state: dict, steps) -> dict:
    count = import_locations(call, job.merchant_id, job.channel_id)
    return _advance(state, steps, locations=count)


def _step_products(call: ShopifyCall, job: Job, state: dict, steps) -> dict:
    if state["after"] is None and "variants_total" not in state:  # for "read N of M"
        total = call("ProductVariantsCount")["productVariantsCount"]
        state = {**state, "variants_total": total["count"]}
    if bulk.wants_bulk(state):  # a large shop: one bulk query instead of pages
        kind = next(k for k, (k_steps, _) in RUNS.items() if k_steps == steps)
        return bulk.step_products(call, job, state, kind,
                                  lambda s, page, **c: _advance(s, steps, page, **c))
    page = read_variant_page(call, job.channel_id, state["after"], settings().import_page_size)
    counts = store_variants(job.merchant_id, job.channel_id, page["nodes"])
    return _advance(state, steps, page, **counts)


def _step_orders(call: ShopifyCall, job: Job, state: dict, steps) -> dict:
    page = call("OrderPage", {"first": settings().import_page_size, "after": state["after"],
                              "query": "status:open", "sortKey": "CREATED_AT"})["orders"]
    imported = 0
    for node in page["nodes"]:
        if node.get("cancelledAt") or node["displayFulfillmentStatus"] not in OPEN_STATUSES:
            continue
        import_order(call, job.merchant_id, job.channel_id, node["id"],
                     with_fulfillments=node["displayFulfillmentStatus"] != "UNFULFILLED")
        commit_step()  # one order at a time: short transactions, progress kept
        imported += 1
    return _advance(state, steps, page, orders=imported)


_STEP_FUNCTIONS = {"webhooks": _step_webhooks, "locations": _step_locations,
                   "products": _step_products, "orders": _step_orders}


def match_unmatched_listings(merchant_id: int, channel_id: int) -> int:
    """Link listings whose SKU an item now has (created since). Flushes.

    Returns how many were linked. The reconciliation runs it, so items the merchant adds
    after install are picked up without a new import.
    """
    return rematch_channel(merchant_id, channel_id)


def unmatched_listings(merchant_id: int, channel_id: int | None = None) -> list[ChannelListing]:
    """The merchant's live listings no item matches (to show, never to guess)."""
    query = select(ChannelListing).where(ChannelListing.merchant_id == merchant_id,
                                         ChannelListing.match_status == MatchStatus.UNMATCHED)
    if channel_id is not None:
        query = query.where(ChannelListing.channel_id == channel_id)
    return list(db.session.scalars(query.order_by(ChannelListing.sku, ChannelListing.id)))


def import_order(call: ShopifyCall, merchant_id: int, channel_id: int, order_gid: str, *,
                 with_fulfillments: bool = True) -> Order | None:
    """An open order with its fulfillment orders; fulfillments made before install recorded.

    Those earlier fulfillments count toward the lines' fulfilled quantities (so nothing is
    fulfilled twice) but move no stock: Stockroom's counts were taken after them. An order
    Shopify calls UNFULFILLED has none to read (``with_fulfillments=False``). Flushes.
    """
    order = pull_order(call, merchant_id, channel_id, order_gid)
    if order is None or not with_fulfillments or not any(line.quantity for line in order.lines):
        return order
    node = read_order_fulfillments(call, "OrderFulfillmentsForSync", order_gid) or {}
    # Recorded once each (by remote id), never more than is left, and with no stock moved.
    apply_commands([replace(record_fulfillment(order.id, f), location=None,
                            unmapped_note=BEFORE_INSTALL_NOTE)
                    for f in node.get("fulfillments") or [] if f["status"] == "SUCCESS"],
                   merchant_id=merchant_id, channel_id=channel_id)
    return order
