"""The catalog read of a large shop through a Shopify bulk query: start it, follow it, and
read its JSONL result, streamed and checkpointed by line, into the catalog core.

When: the import's (or a re-read's) products step counts the shop's variants first; from
``bulk_import_min_variants`` (10,000 by default) on it starts ``bulkOperationRunQuery``
with queries/bulk/CatalogVariants.graphql instead of paging. Below that, paging is quicker
(a bulk operation costs a fixed wait for Shopify to start and write the file) and a small
shop's import finishes within one or two jobs anyway; above it, paging costs one query per
~40 variants against the shop's rate limit, a bulk operation none.

Following it: the step records the operation (``BulkOperation``) and the run waits (no job
holds a lease meanwhile). ``bulk_operations/finish`` re-reads the operation and queues the
run's continuation; when the webhook never comes, the reconciliation polls unfinished
operations (``poll_unfinished``) and does the same. A continuation that finds the operation
still running polls it once and waits again.

Reading it: the file is downloaded streamed (``iter_lines``), one variant line and the lines
whose ``__parentId`` is that variant (its media, its inventory levels) reassembled into the
node ProductVariantPage returns, and handed in batches to ``catalog.store_variants`` — the
paginated import's path. Each batch commits with ``lines_done`` and the run's counts, so a
killed worker resumes at the next unstored line; a batch redone upserts the same rows.
A failed or canceled operation falls back to paging: nothing is lost, only slower.
"""
from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

import requests
from sqlalchemy import select

from app.extensions import db
from app.models import (BulkOperation, Channel, ChannelStatus, OutboxEvent, Platform,
                        WebhookInbox)
from app.models._common import utcnow
from app.platforms.shopify.catalog import store_variants
from app.platforms.shopify.mapping import parse_time
from app.platforms.shopify.payload_checks import _show
from app.platforms.shopify.sync import ShopifyCall, settings
from app.sync.cursors import save_cursors
from app.sync.errors import PermanentError, Rejected, RetryableError
from app.sync.handlers import Delivery
from app.sync.queue import Job
from app.sync.schedule import enqueue_once
from app.sync.transactions import commit_step, end_read

log = logging.getLogger("stockroom.shopify")

BULK_QUERIES = Path(__file__).parent / "queries" / "bulk"
#: Variants stored per transaction while reading the file (one checkpoint each).
BATCH_VARIANTS = 500
#: Batches one job reads before handing over to a continuation job (short leases).
BATCHES_PER_JOB = 20
WAITING = "bulk operation"
UNFINISHED = ("CREATED", "RUNNING", "CANCELING")


@cache
def bulk_query(name: str) -> str:
    """The bulk query document in queries/bulk/<name>.graphql."""
    return (BULK_QUERIES / f"{name}.graphql").read_text()


def wants_bulk(state: dict) -> bool:
    """Whether this run's products step reads the catalog through a bulk operation."""
    if state.get("bulk_fallback"):
        return False
    threshold = settings().bulk_import_min_variants
    return threshold >= 0 and (state.get("variants_total") or 0) >= threshold


def operation_of_run(channel_id: int, run_id: int, kind: str) -> BulkOperation | None:
    """The bulk operation a run started (its latest), if any."""
    return db.session.scalar(select(BulkOperation).where(
        BulkOperation.channel_id == channel_id, BulkOperation.run_id == run_id,
        BulkOperation.purpose == kind).order_by(BulkOperation.id.desc()).limit(1))


def step_products(call: ShopifyCall, job: Job, state: dict, kind: str, advance) -> dict:
    """The products step through a bulk operation: start it, wait for it, or read it.

    Returns the next checkpoint; ``state["waiting"]`` set means the run stops until the
    operation finishes (the webhook or the reconciliation queues its continuation).
    """
    op = operation_of_run(job.channel_id, state["run"], kind)
    if op is None:
        op = _start(call, job, state, kind)
        return {**state, "waiting": WAITING}
    if not op.finished:
        refresh(call, op)  # a continuation before the webhook: look once
        if not op.finished:
            commit_step()
            return {**state, "waiting": WAITING}
    state = {k: v for k, v in state.items() if k != "waiting"}
    if op.status != "COMPLETED" or (op.object_count and not op.url):
        log.warning(json.dumps({"event": "shopify_bulk_fallback", "channel_id": job.channel_id,
                                "operation": op.remote_id, "status": op.status,
                                "error_code": op.error_code}))
        return {**state, "bulk_fallback": op.status.lower(), "after": None}
    return _read(job, state, kind, op, advance)


def _start(call: ShopifyCall, job: Job, state: dict, kind: str) -> BulkOperation:
    commit_step()  # no transaction across the call
    out = call("BulkOperationRunQuery", {"query": bulk_query("CatalogVariants")},
               idempotent=False)["bulkOperationRunQuery"]
    errors = out.get("userErrors") or []
    if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors):
        # Another bulk query of ours on this shop (an earlier run's): wait for it to end.
        raise RetryableError(f"Shopify is running another bulk operation for this shop: "
                             f"{errors[0].get('message')}", retry_after=60)
    if errors or not out.get("bulkOperation"):
        raise PermanentError("Shopify refused the catalog bulk query: "
                             + "; ".join(e.get("message", "") for e in errors))
    op = BulkOperation(merchant_id=job.merchant_id, channel_id=job.channel_id,
                       remote_id=out["bulkOperation"]["id"], purpose=kind, run_id=state["run"],
                       status=out["bulkOperation"]["status"])
    db.session.add(op)
    db.session.flush()
    return op


def refresh(call: ShopifyCall, op: BulkOperation) -> bool:
    """Re-read ``op`` from Shopify and record it; True when it finished with this read.
    Flushes (the call is made with no transaction open)."""
    op_id, was_finished = op.id, op.finished
    commit_step()
    node = call("BulkOperationNode", {"id": op.remote_id}).get("node")
    op = db.session.get(BulkOperation, op_id)
    if node is None:  # Shopify no longer knows it (expired): read the catalog by paging
        op.status = "EXPIRED"
    else:
        op.status = node["status"]
        op.error_code = node.get("errorCode")
        op.object_count = int(node.get("objectCount") or 0)
        op.url = node.get("url") or node.get("partialDataUrl")
        if node.get("completedAt"):
            op.completed_at = parse_time(node["completedAt"])
    db.session.flush()
    return op.finished and not was_finished


def continue_run(op: BulkOperation) -> None:
    """Queue the continuation of the run that waits for ``op``. Flushes."""
    from app.platforms.shopify.imports import RUNS  # imports calls into this module

    db.session.add(OutboxEvent(merchant_id=op.merchant_id, channel_id=op.channel_id,
                               topic=RUNS[op.purpose][1], payload={"run": op.run_id}))
    db.session.flush()


# --- reading the file ------------------------------------------------------------------

def _read(job: Job, state: dict, kind: str, op: BulkOperation, advance) -> dict:
    """Store up to BATCHES_PER_JOB batches of the file from ``op.lines_done`` on."""
    start, url, op_id = op.lines_done, op.url, op.id
    commit_step()
    cfg = settings()
    batches = 0
    with requests.get(url, stream=True, timeout=cfg.timeout_seconds, verify=cfg.verify) as resp:
        if resp.status_code != 200:
            raise RetryableError(f"the bulk operation's file answered HTTP {resp.status_code}")
        lines = resp.iter_lines(chunk_size=64 * 1024)  # requests' default reads 512 bytes
        for nodes, next_line, at_end in variant_batches(lines, start, BATCH_VARIANTS):
            counts = store_variants(job.merchant_id, job.channel_id, nodes)
            state = advance(state, {"pageInfo": {"hasNextPage": True, "endCursor": None}},
                            **counts)
            db.session.get(BulkOperation, op_id).lines_done = next_line
            save_cursors(job.channel_id, {kind: state})
            commit_step()  # the batch, its line checkpoint and the counts together
            batches += 1
            if batches >= BATCHES_PER_JOB and not at_end:
                return state  # the run hands over to a continuation job; it resumes here
    return advance(state, None)


def variant_batches(lines, start: int, size: int):
    """(variant nodes, line to resume at, end of file?) per ``size`` variants of a JSONL
    file, from line ``start`` (always a variant's line: checkpoints fall between variants).
    The last batch resumes past the last line.
    """
    batch: list[dict] = []
    current: dict | None = None
    number = start - 1
    for number, raw in enumerate(lines):
        if number < start or not raw:
            continue
        try:
            row = json.loads(raw)
        except ValueError as exc:
            raise PermanentError(f"line {number + 1} of the bulk operation's file is not "
                                 "JSON") from exc
        parent = row.pop("__parentId", None)
        if parent is None:
            if current is not None:
                batch.append(_finished(current))
                if len(batch) >= size:
                    yield batch, number, False
                    batch = []
            current = _variant(row)
        elif current is not None and parent == current["id"]:
            if "location" in row or "quantities" in row:
                current["inventoryItem"]["inventoryLevels"]["nodes"].append(row)
            else:
                current["media"]["nodes"].append(row)
        else:
            raise PermanentError(f"line {number + 1} of the bulk operation's file names "
                                 f"parent {_show(parent)}, not the variant before it")
    if current is not None:
        batch.append(_finished(current))
    if batch:
        yield batch, max(start, number + 1), True


def _variant(row: dict) -> dict:
    item = row.get("inventoryItem") or {}
    row["inventoryItem"] = {**item, "inventoryLevels": {"nodes": []}} if item else None
    row["media"] = {"nodes": []}
    return row


def _finished(node: dict) -> dict:
    if node.get("inventoryItem") is None:
        node.pop("inventoryItem")
    else:
        node["inventoryItem"]["inventoryLevels"]["pageInfo"] = {"hasNextPage": False}
    return node


# --- the webhook and the fallback -------------------------------------------------------

def check_bulk_finish(delivery: Delivery) -> None:
    """A BulkOperation gid and a status word."""
    gid = delivery.payload.get("admin_graphql_api_id")
    if not isinstance(gid, str) or not gid.startswith("gid://shopify/BulkOperation/"):
        raise Rejected(f"admin_graphql_api_id is {_show(gid)}, not a BulkOperation id")
    if not isinstance(delivery.payload.get("status"), str):
        raise Rejected(f"status is {_show(delivery.payload.get('status'))}")


def apply_bulk_finish(job: Job) -> str:
    """bulk_operations/finish: re-read the operation; when it is one of our runs', carry on."""
    body = db.session.scalar(select(WebhookInbox.body).where(WebhookInbox.id == job.id))
    gid = json.loads(body)["admin_graphql_api_id"]
    op = db.session.scalar(select(BulkOperation).where(
        BulkOperation.merchant_id == job.merchant_id,
        BulkOperation.channel_id == job.channel_id, BulkOperation.remote_id == gid))
    if op is None:
        end_read()
        return f"{gid} is not an operation Stockroom started: nothing to do"
    if op.finished:
        end_read()
        return f"{gid} already recorded as {op.status.lower()}"
    if refresh(ShopifyCall(job.channel_id), op):
        op = db.session.get(BulkOperation, op.id)
        continue_run(op)
        return f"{gid} {op.status.lower()} ({op.object_count} objects): the import carries on"
    return f"{gid} still {op.status.lower()} on Shopify"


def enqueue_bulk_polls() -> int:
    """Scheduled fallback for a bulk_operations/finish that never came: queue the
    continuation of every run waiting for an unfinished operation (it re-reads the operation
    and reads the file, or waits again). Returns how many were queued."""
    from app.platforms.shopify.imports import RUNS  # imports calls into this module

    waiting = db.session.execute(select(BulkOperation.channel_id, BulkOperation.purpose,
                                        BulkOperation.run_id)
                                 .join(Channel, Channel.id == BulkOperation.channel_id)
                                 .where(BulkOperation.status.in_(UNFINISHED),
                                        Channel.status == ChannelStatus.ACTIVE)
                                 .order_by(BulkOperation.id)).all()
    end_read()
    queued = 0
    for channel_id, purpose, run_id in waiting:
        queued += enqueue_once(channel_id, RUNS[purpose][1], {"run": run_id})
        commit_step()
    return queued


def bulk_progress(channel: Channel) -> dict:
    """What the Connections page shows of the channel's latest bulk operation:
    ``{status, objects, lines_done}`` ({} when none)."""
    op = db.session.scalar(select(BulkOperation).where(
        BulkOperation.merchant_id == channel.merchant_id,
        BulkOperation.channel_id == channel.id).order_by(BulkOperation.id.desc()).limit(1))
    if op is None:
        return {}
    return {"status": op.status, "objects": op.object_count, "lines_done": op.lines_done,
            "started_at": op.created_at, "finished_at": op.completed_at,
            "at": utcnow()}
