"""Field resolution for the real schema: scope checks, registered root fields, dict-backed objects.

Objects handed to GraphQL are plain dicts built in views.py. A key holds the value (or a callable
``(info, **args)`` computing it); a schema field with no key is "not emulated" and fails loudly.
Root fields (QueryRoot / Mutation) are registered by the area modules with :func:`query` and
:func:`mutation`.
"""
from __future__ import annotations

import base64
from contextvars import ContextVar

from graphql import GraphQLError, get_named_type

from .errors import access_denied, not_emulated

ROOTS: dict[str, dict] = {"QueryRoot": {}, "Mutation": {}}
# True while a bulk operation executes its query: connections then have no 250-item page limit
# (bulk_operations.py pages the root connection itself and reads nested ones whole).
BULK_EXECUTION: ContextVar[bool] = ContextVar("bulk_execution", default=False)


def query(name: str):
    """Register a QueryRoot field resolver ``fn(ctx, info, **args)``."""
    def deco(fn):
        ROOTS["QueryRoot"][name] = fn
        return fn
    return deco


def mutation(name: str):
    """Register a Mutation field resolver ``fn(ctx, info, **args)``."""
    def deco(fn):
        ROOTS["Mutation"][name] = fn
        return fn
    return deco


def resolve_field(source, info, **args):
    """The one field resolver: enforce scopes, then read the dict or call the root resolver."""
    ctx = info.context
    parent, name = info.parent_type.name, info.field_name
    scopes, text = ctx.admin_schema.field_requirement(parent, name)
    if scopes and not ctx.can(*scopes):
        raise access_denied(name, text)
    type_name = _guarded_type(info)
    if type_name:
        scopes, text = ctx.admin_schema.type_requirement(type_name)
        if scopes and not ctx.can(*scopes):
            raise access_denied(name, text)
    if parent in ROOTS and source is None:
        fn = ROOTS[parent].get(name)
        if fn is None:
            raise not_emulated(parent, name)
        _check_global_ids(args)
        return fn(ctx, info, **args)
    if isinstance(source, dict) and name in source:
        value = source[name]
        return value(info, **args) if callable(value) else value
    raise not_emulated(parent, name)


def _check_global_ids(args: dict) -> None:
    """Shopify rejects ``id``/``ids`` arguments that are not global ids."""
    values = [args["id"]] if isinstance(args.get("id"), str) else list(args.get("ids") or [])
    for value in values:
        if isinstance(value, str) and not value.startswith("gid://"):
            raise GraphQLError(f"Invalid global id '{value}'",
                               extensions={"code": "argumentLiteralsIncompatible",
                                           "typeName": "CoercionError"})


def _guarded_type(info) -> str | None:
    """The object type whose access scopes guard this field (a connection's node type is checked
    at the connection field, not again at edges/nodes/node)."""
    parent = info.parent_type.name
    if parent.endswith(("Connection", "Edge")):
        return None
    named = get_named_type(info.return_type)
    if named.name.endswith("Connection") and "edges" in getattr(named, "fields", {}):
        edge = get_named_type(named.fields["edges"].type)
        return get_named_type(edge.fields["node"].type).name
    return named.name


def resolve_type(value, info, abstract_type):
    """Concrete type of an interface/union value: the dict's ``__typename``."""
    return value.get("__typename") if isinstance(value, dict) else None


# --- connections -----------------------------------------------------------------------------

def encode_cursor(key) -> str:
    """An opaque cursor for an item key."""
    return base64.urlsafe_b64encode(f'{{"last_id":{key}}}'.encode()).decode().rstrip("=")


def decode_cursor(cursor: str):
    """The item key inside a cursor (raises a GraphQL error for garbage)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw.split(":", 1)[1].rstrip("}"))
    except (ValueError, IndexError, UnicodeDecodeError) as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.",
                           extensions={"code": "BAD_REQUEST"}) from exc


def connection(items, args: dict, node_fn, key=lambda x: x.id) -> dict:
    """A Relay connection over ``items`` honoring first/last/after/before/reverse."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last",
                           extensions={"code": "BAD_REQUEST"})
    if not BULK_EXECUTION.get() and ((first is not None and first > 250)
                                     or (last is not None and last > 250)):
        raise GraphQLError("The first/last argument cannot exceed 250.",
                           extensions={"code": "BAD_REQUEST"})
    seq = list(items)
    if args.get("reverse"):
        seq.reverse()
    keys = [key(x) for x in seq]
    lo, hi = 0, len(seq)
    if args.get("after") is not None:
        k = decode_cursor(args["after"])
        lo = keys.index(k) + 1 if k in keys else len(seq)
    if args.get("before") is not None:
        k = decode_cursor(args["before"])
        hi = keys.index(k) if k in keys else hi
    window = list(range(lo, max(lo, hi)))
    has_next = has_prev = False
    if first is not None:
        has_next = len(window) > first or hi < len(seq)
        window = window[:first]
    if last is not None:
        has_prev = len(window) > last or lo > 0
        window = window[-last:] if last else []
    has_prev = has_prev or (first is not None and lo > 0)
    nodes = [node_fn(seq[i]) for i in window]
    edges = [{"cursor": encode_cursor(keys[i]), "node": n} for i, n in zip(window, nodes)]
    return {"edges": edges, "nodes": nodes, "pageInfo": {
        "hasNextPage": has_next, "hasPreviousPage": has_prev,
        "startCursor": edges[0]["cursor"] if edges else None,
        "endCursor": edges[-1]["cursor"] if edges else None}}


# Area modules register their root fields on import.
from . import (bulk_operations, fulfillment_orders, inventory, queries,  # noqa: E402,F401
               webhook_subscriptions)
