"""Bulk query operations: bulkOperationRunQuery run by a worker thread, the JSONL result file,
the BulkOperation object, bulkOperationCancel and the bulk_operations/finish webhook."""
from __future__ import annotations

import hmac
import json
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request
from graphql import (FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError,
                     InlineFragmentNode, OperationDefinitionNode, execute, get_named_type, parse,
                     validate)

from . import queries, resolvers
from .errors import user_errors
from .operations import UserError
from .resolvers import BULK_EXECUTION, mutation, query
from .state import gid, iso, parse_gid

bp = Blueprint("shopify_bulk_operations", __name__)

MAX_CONNECTIONS = 5  # shopify.dev: "supports up to five connections"
MAX_NESTING = 2  # "with a maximum nesting depth of two levels"
ROOT_PAGE = 250  # root objects the worker reads per turn of the store lock
TOPIC = "bulk_operations/finish"
_FILES: Path | None = None


@dataclass
class BulkOperation:
    """One bulk query operation of one app on one shop."""

    id: int
    shop: str
    client_id: str
    query: str
    created_at: float
    status: str = "CREATED"
    error_code: str | None = None
    completed_at: float | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int = 0
    path: Path | None = None
    download_token: str = ""
    base_url: str = ""
    cancel_requested: bool = False
    failure: str | None = None  # the first execution error of a FAILED operation
    started: float | None = None  # time.monotonic() of the worker's first and last line
    finished: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.status in ("CREATED", "RUNNING", "CANCELING")

    def file_url(self) -> str:
        return f"{self.base_url}/_sandbox/bulk/{self.id}.jsonl?token={self.download_token}"


def node(op: BulkOperation) -> dict:
    """The GraphQL BulkOperation object (counts are UnsignedInt64: printed as strings)."""
    done = op.status == "COMPLETED"
    partial = op.status == "FAILED" and op.object_count > 0
    return {"__typename": "BulkOperation", "id": gid("BulkOperation", op.id),
            "status": op.status, "errorCode": op.error_code, "type": "QUERY",
            "query": op.query, "createdAt": iso(op.created_at),
            "completedAt": iso(op.completed_at) if op.completed_at else None,
            "objectCount": str(op.object_count), "rootObjectCount": str(op.root_object_count),
            "fileSize": str(op.file_size) if done and op.object_count else None,
            "url": op.file_url() if done and op.object_count else None,
            "partialDataUrl": op.file_url() if partial else None}


def _operations(store) -> dict[int, BulkOperation]:
    return store.bulk_operations


def _mine(ctx, op: BulkOperation | None) -> BulkOperation | None:
    if op is None or op.shop != ctx.shop.domain or op.client_id != ctx.app.client_id:
        return None
    return op


# --- validating the bulk query ---------------------------------------------------------------

@dataclass
class Entry:
    """A selected field of the bulk query: its sub-selection and whether it is a connection."""

    connection: bool = False
    nested: bool = False  # a connection below another connection's node
    sub: dict = field(default_factory=dict)


def _selections(selection_set, fragments, parent_type=None, schema=None):
    """(field, the type it is selected on) of a selection set, fragments flattened."""
    for sel in selection_set.selections if selection_set else ():
        if isinstance(sel, FieldNode):
            yield sel, parent_type
        else:
            frag = fragments[sel.name.value] if isinstance(sel, FragmentSpreadNode) else sel
            cond = frag.type_condition
            on = schema.get_type(cond.name.value) if cond and schema else parent_type
            yield from _selections(frag.selection_set, fragments, on, schema)


def _is_connection(gtype) -> bool:
    named = get_named_type(gtype)
    return named.name.endswith("Connection") and "edges" in getattr(named, "fields", {})


def _shape(schema, selection_set, parent_type, fragments, depth: int, counter: list) -> dict:
    """Response key -> Entry for one object; raises UserError for Shopify's bulk limits."""
    out: dict[str, Entry] = {}
    for f, on_type in _selections(selection_set, fragments, parent_type, schema):
        key = (f.alias or f.name).value
        fdef = getattr(on_type, "fields", {}).get(f.name.value)
        if fdef is None:  # __typename
            out.setdefault(key, Entry())
            continue
        entry = out.setdefault(key, Entry())
        named = get_named_type(fdef.type)
        if _is_connection(fdef.type):
            counter.append(f.name.value)
            if depth + 1 > MAX_NESTING:
                raise UserError(f"Bulk queries cannot contain connections with a nesting depth "
                                f"greater than {MAX_NESTING}.", ["query"], "INVALID")
            entry.connection = True
            node_type = get_named_type(named.fields["nodes"].type)
            entry.nested = depth > 0
            for part, _ in _selections(f.selection_set, fragments):
                if part.name.value == "nodes":
                    entry.sub.update(_shape(schema, part.selection_set, node_type, fragments,
                                            depth + 1, counter))
                elif part.name.value == "edges":
                    for inner, _ in _selections(part.selection_set, fragments):
                        if inner.name.value == "node":
                            entry.sub.update(_shape(schema, inner.selection_set, node_type,
                                                    fragments, depth + 1, counter))
        elif f.selection_set is not None:
            entry.sub.update(_shape(schema, f.selection_set, named, fragments, depth, counter))
    return out


def _needs_id(shape: dict) -> bool:
    """True when a connection hangs below this line (directly or through nested objects)."""
    return any(e.connection or _needs_id(e.sub) for e in shape.values())


def _check_ids(shape: dict) -> None:
    """A line with a nested connection must select ``id`` (children carry it as __parentId)."""
    for key, entry in shape.items():
        if entry.connection:
            if _needs_id(entry.sub) and "id" not in entry.sub:
                raise UserError("The parent 'node' field for a nested connection must select "
                                "the 'id' field without an alias and must be of 'Node' type. "
                                f"Connection field: '{key}'", ["query"], "INVALID")
            _check_ids(entry.sub)
        else:
            _check_ids(entry.sub)


def parse_bulk_query(schema, text: str):
    """(document, operation, root field, root Entry) of a valid bulk query, else UserError."""
    try:
        document = parse(text)
    except GraphQLError as err:
        raise UserError(f"Invalid bulk query: {err.message}", ["query"], "INVALID") from err
    errors = validate(schema, document)
    if errors:
        raise UserError(f"Invalid bulk query: {errors[0].message}", ["query"], "INVALID")
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(ops) != 1 or ops[0].operation.value != "query":
        raise UserError("Invalid bulk query: a bulk query must be one query operation.",
                        ["query"], "INVALID")
    if ops[0].variable_definitions:
        raise UserError("Invalid bulk query: bulk queries cannot use variables.",
                        ["query"], "INVALID")
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}
    roots = [f for f, _ in _selections(ops[0].selection_set, fragments)]
    query_root = schema.query_type
    fdef = query_root.fields.get(roots[0].name.value) if len(roots) == 1 else None
    if fdef is None or not _is_connection(fdef.type):
        raise UserError("Invalid bulk query: the sandbox runs bulk queries whose one top-level "
                        "field is a connection (products, productVariants, orders, ...).",
                        ["query"], "INVALID")
    counter: list = []
    shape = _shape(schema, ops[0].selection_set, query_root, fragments, 0, counter)
    if len(counter) > MAX_CONNECTIONS:
        raise UserError(f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections.",
                        ["query"], "INVALID")
    _check_ids(shape)
    root = roots[0]
    return document, (root.alias or root.name).value, shape[(root.alias or root.name).value]


# --- flattening results into JSONL lines ----------------------------------------------------

def _connection_nodes(conn: dict | None):
    if not conn:
        return []
    if conn.get("nodes") is not None:
        return conn["nodes"]
    return [e["node"] for e in conn.get("edges") or [] if e and e.get("node") is not None]


def _strip(value, shape: dict, children: list):
    """A copy of ``value`` without its connections (collected into ``children``)."""
    if isinstance(value, list):
        return [_strip(v, shape, children) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        entry = shape.get(key)
        if entry is not None and entry.connection:
            children.append((v, entry.sub))
        elif entry is not None and entry.sub:
            out[key] = _strip(v, entry.sub, children)
        else:
            out[key] = v
    return out


def flatten(obj: dict, shape: dict, parent_id: str | None = None):
    """JSONL lines of one object: itself, then each nested connection's nodes with __parentId
    (shopify.dev, "Download result data": nested connections are not nested in the file)."""
    children: list = []
    line = _strip(obj, shape, children)
    if parent_id is not None:
        line["__parentId"] = parent_id
    yield line
    for conn, sub in children:
        for child in _connection_nodes(conn):
            yield from flatten(child, sub, obj.get("id"))


# --- the worker -----------------------------------------------------------------------------

def _files_dir() -> Path:
    global _FILES
    if _FILES is None:
        _FILES = Path(tempfile.mkdtemp(prefix="shopify-sandbox-bulk-"))
    return _FILES


def _page_resolver(state: dict):
    """resolve_field with the root connection paged by the worker and nested ones read whole."""
    def resolve(source, info, **args):
        if source is None and info.parent_type.name == "QueryRoot":
            args = {k: v for k, v in args.items() if k not in ("first", "last", "before")}
            args.update(first=ROOT_PAGE, after=state["after"])
            result = resolvers.resolve_field(source, info, **args)
            state["page_info"] = (result or {}).get("pageInfo") or {}
            return result
        if _is_connection(info.return_type) and "first" in info.parent_type.fields[
                info.field_name].args:
            args = {k: v for k, v in args.items() if k not in ("last", "before", "after")}
            args["first"] = 10 ** 9
        return resolvers.resolve_field(source, info, **args)
    return resolve


def run_operation(sandbox, ctx, op: BulkOperation, document, root_key: str, shape: Entry) -> None:
    """Execute ``op`` page by page into its JSONL file; finish it and send the webhook."""
    store = sandbox.store
    state = {"after": None, "page_info": {}}
    op.path = _files_dir() / f"{op.id}.jsonl"
    with store.lock:
        op.status, op.started = "RUNNING", time.monotonic()
    error = None
    with op.path.open("w", encoding="utf-8") as out:
        while True:
            while store.bulk_paused and not op.cancel_requested:
                time.sleep(0.01)
            if op.cancel_requested:
                break
            with store.lock:
                marker = BULK_EXECUTION.set(True)
                try:
                    result = execute(ctx.admin_schema.schema, document, context_value=ctx,
                                     field_resolver=_page_resolver(state),
                                     type_resolver=resolvers.resolve_type)
                finally:
                    BULK_EXECUTION.reset(marker)
                if result.errors:
                    codes = {(e.extensions or {}).get("code") for e in result.errors}
                    error = "ACCESS_DENIED" if "ACCESS_DENIED" in codes else "INTERNAL_SERVER_ERROR"
                    op.failure = result.errors[0].message
                    break
                lines = []
                for obj in _connection_nodes((result.data or {}).get(root_key)):
                    lines.extend(flatten(obj, shape.sub))
                    op.root_object_count += 1
                op.object_count += len(lines)
            for line in lines:
                out.write(json.dumps(line, separators=(",", ":")) + "\n")
            if not state["page_info"].get("hasNextPage"):
                break
            state["after"] = state["page_info"].get("endCursor")
    with store.lock:
        op.finished = time.monotonic()
        op.file_size = op.path.stat().st_size
        op.completed_at = store.now()
        if error:
            op.status, op.error_code = "FAILED", error
        elif op.cancel_requested:
            op.status = "CANCELED"
        else:
            op.status = "COMPLETED"
        store.emit(op.shop, TOPIC, finish_payload(op), client_id=op.client_id)


def finish_payload(op: BulkOperation) -> dict:
    """The bulk_operations/finish webhook body (shopify.dev webhook reference)."""
    return {"admin_graphql_api_id": gid("BulkOperation", op.id),
            "completed_at": iso(op.completed_at) if op.completed_at else None,
            "created_at": iso(op.created_at),
            "error_code": op.error_code.lower() if op.error_code else None,
            "status": op.status.lower(), "type": "query"}


# --- GraphQL roots ---------------------------------------------------------------------------

@mutation("bulkOperationRunQuery")
def bulk_operation_run_query(ctx, info, query, groupObjects=False):
    """bulkOperationRunQuery: validate, refuse a second running query operation, start it."""
    ops = _operations(ctx.store)
    try:
        running = next((o for o in ops.values() if _mine(ctx, o) and o.running), None)
        if running is not None:
            raise UserError("A bulk query operation for this app and shop is already in "
                            f"progress: {gid('BulkOperation', running.id)}.", None,
                            "OPERATION_IN_PROGRESS")
        document, root_key, shape = parse_bulk_query(ctx.admin_schema.schema, query)
    except UserError as err:
        return {"bulkOperation": None, "userErrors": user_errors(info, [err])}
    sandbox = current_app.extensions["shopify_sandbox"]
    op = BulkOperation(id=ctx.store.next_id("BulkOperation"), shop=ctx.shop.domain,
                       client_id=ctx.app.client_id, query=query, created_at=ctx.store.now(),
                       download_token=ctx.store.random_token(""),
                       base_url=request.host_url.rstrip("/"))
    ops[op.id] = op
    op.thread = threading.Thread(target=_run_logged, name=f"shopify-bulk-{op.id}", daemon=True,
                                 args=(current_app._get_current_object(), sandbox, ctx, op,
                                       document, root_key, shape))
    op.thread.start()
    return {"bulkOperation": node(op), "userErrors": []}


def _run_logged(flask_app, sandbox, ctx, op, document, root_key, shape) -> None:
    with flask_app.app_context():
        try:
            run_operation(sandbox, ctx, op, document, root_key, shape)
        except Exception:  # a crash is a FAILED operation, as on Shopify, never a hung one
            flask_app.logger.exception("bulk operation %s crashed", op.id)
            with sandbox.store.lock:
                op.status, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
                op.completed_at, op.finished = sandbox.store.now(), time.monotonic()
                sandbox.store.emit(op.shop, TOPIC, finish_payload(op), client_id=op.client_id)


@mutation("bulkOperationCancel")
def bulk_operation_cancel(ctx, info, id):
    """bulkOperationCancel: CANCELING now, CANCELED when the worker stops."""
    op = _mine(ctx, _operations(ctx.store).get(parse_gid(id, "BulkOperation")))
    if op is None:
        err = UserError("Bulk operation does not exist", ["id"])
        return {"bulkOperation": None, "userErrors": user_errors(info, [err])}
    if not op.running:
        err = UserError(f"A bulk operation cannot be canceled when it is {op.status.lower()}",
                        ["id"])
        return {"bulkOperation": node(op), "userErrors": user_errors(info, [err])}
    op.cancel_requested, op.status = True, "CANCELING"
    return {"bulkOperation": node(op), "userErrors": []}


@query("currentBulkOperation")
def resolve_current_bulk_operation(ctx, info, type="QUERY"):
    """QueryRoot.currentBulkOperation: this app's most recent query operation on the shop."""
    if type != "QUERY":
        return None  # bulk mutations are not emulated; the sandbox has none to report
    mine = [o for o in _operations(ctx.store).values() if _mine(ctx, o)]
    return node(max(mine, key=lambda o: o.id)) if mine else None


@query("bulkOperation")
def resolve_bulk_operation(ctx, info, id):
    """QueryRoot.bulkOperation."""
    op = _mine(ctx, _operations(ctx.store).get(parse_gid(id, "BulkOperation")))
    return node(op) if op else None


queries.NODE_LOOKUPS["BulkOperation"] = lambda ctx, n: (
    (op := _mine(ctx, _operations(ctx.store).get(n))) and node(op)) or None


# --- the result file and the control view ---------------------------------------------------

@bp.get("/_sandbox/bulk/<int:op_id>.jsonl")
def download_result(op_id: int):
    """The JSONL file at ``url`` / ``partialDataUrl`` (a signed URL: no access token needed)."""
    store = current_app.extensions["shopify_sandbox"].store
    op = _operations(store).get(op_id)
    given = request.args.get("token", "")
    if op is None or op.path is None or op.running or not hmac.compare_digest(
            given.encode(), op.download_token.encode()):
        abort(403)
    path = op.path

    def chunks():
        with path.open("rb") as fh:
            while block := fh.read(64 * 1024):
                yield block
    return Response(chunks(), mimetype="application/jsonl",
                    headers={"Content-Length": str(path.stat().st_size)})


@bp.post("/_sandbox/bulk/pause")
def pause_workers():
    """Control: ``{"paused": true}`` holds every bulk worker before its next page (tests see
    RUNNING, a second run, a cancel); ``false`` lets them go on. A reset unpauses."""
    store = current_app.extensions["shopify_sandbox"].store
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("paused"), bool):
        return {"error": "body must be {\"paused\": true|false}"}, 422
    store.bulk_paused = body["paused"]
    return {"paused": store.bulk_paused}


@bp.get("/_sandbox/shops/<shop_domain>/bulk-operations")
def list_operations(shop_domain: str):
    """Control: the shop's bulk operations with the worker's measured throughput."""
    store = current_app.extensions["shopify_sandbox"].store
    with store.lock:
        shop = store.shop(shop_domain)
        if shop is None:
            abort(404)
        out = []
        for op in _operations(store).values():
            if op.shop != shop.domain:
                continue
            seconds = (op.finished - op.started) if op.finished and op.started else None
            out.append({"id": gid("BulkOperation", op.id), "status": op.status,
                        "object_count": op.object_count,
                        "root_object_count": op.root_object_count, "file_size": op.file_size,
                        "seconds": seconds,
                        "objects_per_second": (op.object_count / seconds) if seconds else None,
                        "failure": op.failure})
    return {"bulk_operations": out}
