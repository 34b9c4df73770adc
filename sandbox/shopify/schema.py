"""The real Admin GraphQL schema (2026-10) and its per-field access scopes, loaded once."""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema

API_VERSION = "2026-10"
DOCS_SCOPES = "https://shopify.dev/api/usage/access-scopes"


@dataclass(frozen=True)
class AdminSchema:
    """The built schema plus Shopify's access-scope table for types and fields."""

    schema: GraphQLSchema
    field_scopes: dict[tuple[str, str], tuple[list[str], str]]
    type_scopes: dict[str, tuple[list[str], str]]

    def field_requirement(self, type_name: str, field_name: str) -> tuple[list[str], str]:
        """(any-of scopes, Shopify's requiredAccess text) for a field; ([], '') when open."""
        return self.field_scopes.get((type_name, field_name), ([], ""))

    def type_requirement(self, type_name: str) -> tuple[list[str], str]:
        """(any-of scopes, requiredAccess text) to see objects of a type at all."""
        return self.type_scopes.get(type_name, ([], ""))


@lru_cache(maxsize=4)
def load_schema(schema_dir: str) -> AdminSchema:
    """Build the schema from the introspection JSON (fast) and index the scope table."""
    path = Path(schema_dir) / f"admin-{API_VERSION}.introspection.json.gz"
    with gzip.open(path) as fh:
        data = json.load(fh)
    schema = build_client_schema(data["data"])
    field_scopes, type_scopes = {}, {}
    for item in data.get("offline_scopes", {}).get("items", []):
        scopes = item.get("offlineScopes") or []
        if not scopes:
            continue
        entry = (scopes, item.get("requiredAccess") or "")
        if item["type"] == "field":
            field_scopes[(item["typeName"], item["fieldName"])] = entry
        else:
            type_scopes[item["typeName"]] = entry
    return AdminSchema(schema, field_scopes, type_scopes)


def expand_scopes(granted: list[str] | set[str]) -> set[str]:
    """Granted scopes plus the read scopes their write scopes imply."""
    out = set(granted)
    out |= {"read_" + s[len("write_"):] for s in granted if s.startswith("write_")}
    return out
