"""Cost-based rate limiting: Shopify's query cost calculation and one leaky bucket per app+shop.

Cost rules (shopify.dev "GraphQL Admin API rate limits"): scalars and enums 0, objects 1,
connections 2 + (first|last) x the cost of one node, every mutation field 10. The requested cost
is computed before execution and taken from the bucket; the difference to the actual cost
(computed from what was really returned) is refunded afterwards.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from graphql import (FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLSchema,
                     InlineFragmentNode, OperationDefinitionNode, get_named_type, is_leaf_type)
from graphql.utilities import value_from_ast_untyped

PLANS = {  # restore rate (points/s), bucket size
    "standard": (100.0, 2000.0),
    "advanced": (200.0, 4000.0),
    "plus": (1000.0, 20000.0),
    "enterprise": (2000.0, 40000.0),
}
MAX_SINGLE_QUERY_COST = 1000
MUTATION_COST = 10


@dataclass
class Bucket:
    """A leaky bucket: ``available`` refills at ``restore_rate`` up to ``maximum``."""

    maximum: float
    restore_rate: float
    available: float
    stamp: float

    def refill(self, now: float) -> None:
        """Add what leaked back since the last look."""
        self.available = min(self.maximum, self.available + (now - self.stamp) * self.restore_rate)
        self.stamp = now

    def status(self) -> dict:
        """Shopify's ``throttleStatus`` object."""
        return {"maximumAvailable": self.maximum, "currentlyAvailable": int(self.available),
                "restoreRate": self.restore_rate}


class Buckets:
    """All buckets, keyed (client_id, shop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self.overrides: dict[str, tuple[float, float]] = {}  # shop -> (restore, size)
        self._drain_pending: set[str] = set()
        #: shop -> {"calls": answered GraphQL requests, "throttled": THROTTLED answers}
        self.counts: dict[str, dict[str, int]] = {}

    def get(self, client_id: str, shop: str, plan: str, now: float) -> Bucket:
        """The bucket of this app on this shop, refilled to ``now``."""
        with self._lock:
            restore, size = self.overrides.get(shop) or PLANS.get(plan, PLANS["standard"])
            key = (client_id, shop)
            b = self._buckets.get(key)
            if b is None or b.maximum != size or b.restore_rate != restore:
                b = self._buckets[key] = Bucket(size, restore, size, now)
            if shop in self._drain_pending:
                self._drain_pending.discard(shop)
                b.available, b.stamp = 0.0, now
            b.refill(now)
            return b

    def count(self, shop: str, *, throttled: bool) -> None:
        """One GraphQL request answered on ``shop`` (THROTTLED or run)."""
        with self._lock:
            counts = self.counts.setdefault(shop, {"calls": 0, "throttled": 0})
            counts["calls"] += 1
            counts["throttled"] += int(throttled)

    def take(self, bucket: Bucket, requested: float) -> bool:
        """Take ``requested`` points from ``bucket`` if it holds them (atomically: concurrent
        requests on one shop never both spend the last points)."""
        with self._lock:
            if requested > bucket.available:
                return False
            bucket.available -= requested
            return True

    def refund(self, bucket: Bucket, points: float) -> None:
        """Give back what a request asked for but did not cost (under the same lock)."""
        with self._lock:
            bucket.available = min(bucket.maximum, bucket.available + max(0.0, points))

    def drain(self, shop: str) -> None:
        """Empty every bucket of ``shop`` now and on first use (the throttle fault)."""
        import time
        with self._lock:
            self._drain_pending.add(shop)
            for (_, bucket_shop), b in self._buckets.items():
                if bucket_shop == shop:
                    b.available, b.stamp = 0.0, time.monotonic()

    def reset(self) -> None:
        """Forget all buckets (they start full again)."""
        with self._lock:
            self._buckets.clear()
            self.overrides.clear()
            self._drain_pending.clear()
            self.counts.clear()


# --- cost calculation ------------------------------------------------------------------------

class CostCalculator:
    """Requested (static) and actual (from the response data) cost of one operation."""

    def __init__(self, schema: GraphQLSchema, document, operation: OperationDefinitionNode,
                 variables: dict) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        self.operation = operation

    def requested(self) -> int:
        """Cost before execution: connections sized by their first/last arguments."""
        return self._operation_cost(None)

    def actual(self, data: dict | None) -> int:
        """Cost of what was returned: connections sized by the nodes really returned."""
        return self._operation_cost(data or {})

    def _operation_cost(self, data) -> int:
        op = self.operation.operation.value
        root = self.schema.mutation_type if op == "mutation" else self.schema.query_type
        if op == "mutation":
            fields = list(self._fields(self.operation.selection_set))
            if data is None:
                return MUTATION_COST * len(fields)
            return MUTATION_COST * sum(1 for f in fields if data.get(_key(f)) is not None) or 0
        return self._selection_cost(self.operation.selection_set, root, data, static=data is None)

    def _fields(self, selection_set):
        for sel in selection_set.selections if selection_set else []:
            if isinstance(sel, FieldNode):
                yield sel
            elif isinstance(sel, InlineFragmentNode):
                yield from self._fields(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value in self.fragments:
                yield from self._fields(self.fragments[sel.name.value].selection_set)

    def _selection_cost(self, selection_set, parent_type, data, *, static: bool) -> int:
        total = 0
        for node in self._fields(selection_set):
            name = node.name.value
            if name.startswith("__"):
                continue
            field = _field_def(parent_type, name)
            if field is None:
                continue
            value = None if static or not isinstance(data, dict) else data.get(_key(node))
            total += self._field_cost(node, field, value, static=static)
        return total

    def _field_cost(self, node: FieldNode, field, value, *, static: bool) -> int:
        named = get_named_type(field.type)
        if is_leaf_type(named):
            return 0
        if named.name.endswith("Connection") and "edges" in getattr(named, "fields", {}):
            return self._connection_cost(node, named, value, static=static)
        if not static and value is None:
            return 0
        items = value if isinstance(value, list) else [value]
        if static:
            return 1 + self._selection_cost(node.selection_set, _object_of(self.schema, named),
                                            None, static=True)
        return 1 + max((self._selection_cost(node.selection_set, _object_of(self.schema, named),
                                             item, static=False) for item in items), default=0)

    def _connection_cost(self, node: FieldNode, conn_type, value, *, static: bool) -> int:
        node_type = get_named_type(conn_type.fields["edges"].type).fields["node"].type
        node_type = _object_of(self.schema, get_named_type(node_type))
        node_selections = self._node_selections(node)
        if static:
            size = self._size(node)
            per_node = 1 + sum(self._selection_cost(s, node_type, None, static=True)
                               for s in node_selections)
            return 2 + size * per_node
        if value is None:
            return 0
        nodes = self._returned_nodes(value)
        cost = 2
        for item in nodes:
            cost += 1 + sum(self._selection_cost(s, node_type, item, static=False)
                            for s in node_selections)
        return cost

    def _node_selections(self, conn_node: FieldNode):
        """Selection sets of the connection's nodes (``edges { node }`` and ``nodes``)."""
        out = []
        for f in self._fields(conn_node.selection_set):
            if f.name.value == "nodes":
                out.append(f.selection_set)
            elif f.name.value == "edges":
                for g in self._fields(f.selection_set):
                    if g.name.value == "node":
                        out.append(g.selection_set)
        return out

    @staticmethod
    def _returned_nodes(value: dict) -> list:
        nodes = value.get("nodes")
        if nodes is None:
            nodes = [e.get("node") for e in (value.get("edges") or []) if isinstance(e, dict)]
        return [n for n in nodes if n is not None]

    def _size(self, node: FieldNode) -> int:
        for arg in node.arguments:
            if arg.name.value in ("first", "last"):
                value = value_from_ast_untyped(arg.value, self.variables)
                if isinstance(value, int):
                    return value
        return 0


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _field_def(parent_type, name: str):
    fields = getattr(parent_type, "fields", None)
    return fields.get(name) if fields else None


def _object_of(schema: GraphQLSchema, named):
    """For interfaces/unions, a representative possible type (Shopify: max of selections)."""
    if hasattr(named, "fields") and not hasattr(named, "resolve_type"):
        return named
    possible = schema.get_possible_types(named) if hasattr(schema, "get_possible_types") else []
    return possible[0] if possible else named
