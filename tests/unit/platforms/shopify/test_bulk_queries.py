"""The bulk query documents are valid against the vendored 2026-10 schema and within
Shopify's bulk limits (the sandbox's own checks, which follow shopify.dev)."""
from __future__ import annotations

import pytest

from app.platforms.shopify.bulk import BULK_QUERIES, bulk_query
from sandbox.shopify.bulk_operations import parse_bulk_query
from sandbox.shopify.config import SandboxConfig
from sandbox.shopify.schema import load_schema


@pytest.mark.parametrize("name", sorted(p.stem for p in BULK_QUERIES.glob("*.graphql")))
def test_bulk_query_is_accepted(name):
    schema = load_schema(str(SandboxConfig().schema_dir)).schema
    _, root, shape = parse_bulk_query(schema, bulk_query(name))
    assert root == "productVariants" and shape.connection
