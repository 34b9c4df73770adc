"""Shopify's reference data vendored in vendor/shopify/: the Admin schema and the webhook topics.

The one place that knows where that data lives; the sandbox, the tests and the benches read
it through here, never from a path outside the repository (``make refresh-shopify-reference``
updates the copy, vendor/shopify/README.md says where it came from).
"""
from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path

from .schema import AdminSchema, load_schema

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDORED_DIR = REPO_ROOT / "vendor" / "shopify"
WEBHOOKS_VERSION = "2026-07"


def reference_dir() -> Path:
    """``$SHOPIFY_SCHEMA_DIR`` when set, else the vendored copy ``<repo>/vendor/shopify``."""
    env = os.environ.get("SHOPIFY_SCHEMA_DIR")
    return Path(env) if env else VENDORED_DIR


def admin_schema(directory: Path | str | None = None) -> AdminSchema:
    """The Admin API schema (built from the introspection JSON once per directory)."""
    return load_schema(str(directory or reference_dir()))


@lru_cache(maxsize=None)
def _read_json(path: str) -> dict | None:
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else None


def _topic_file(kind: str, topic: str, directory: Path | str | None) -> str:
    return str(Path(directory or reference_dir()) / "webhooks" / WEBHOOKS_VERSION / kind
               / f"{topic}.json")


def webhook_metadata(topic: str, directory: Path | str | None = None) -> dict | None:
    """Shopify's metadata of ``topic`` (``orders/create``): access scopes, description,
    ``response``; None for a topic not in the data. Shared and cached: don't modify it."""
    return _read_json(_topic_file("metadatas", topic, directory))


def webhook_payload_schema(topic: str, directory: Path | str | None = None) -> dict | None:
    """The JSON Schema of ``topic``'s payload; None for a topic not in the data. Cached."""
    return _read_json(_topic_file("schemas", topic, directory))


def webhook_example(topic: str, directory: Path | str | None = None) -> dict:
    """The example payload Shopify's docs give for ``topic`` (a fresh copy to modify).

    Raises ``LookupError`` for a topic the vendored data doesn't have.
    """
    metadata = webhook_metadata(topic, directory)
    if metadata is None or "response" not in metadata:
        raise LookupError(f"no webhook example for {topic!r} in {reference_dir()}")
    return copy.deepcopy(metadata["response"])
