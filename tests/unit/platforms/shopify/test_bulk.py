"""Reading a bulk operation's JSONL file: variants reassembled from their __parentId lines,
checkpoints between variants, a resumed read storing nothing twice, bad lines named."""
from __future__ import annotations

import json

import pytest

from app.platforms.shopify.bulk import variant_batches
from app.sync.errors import PermanentError


def _file(variants: int, levels: int = 2) -> list[bytes]:
    lines = []
    for n in range(1, variants + 1):
        vid = f"gid://shopify/ProductVariant/{n}"
        lines.append({"id": vid, "sku": f"SKU-{n}", "product": {"id": "gid://shopify/Product/1"},
                      "inventoryItem": {"id": f"gid://shopify/InventoryItem/{n}"}})
        lines.append({"preview": {"image": {"url": f"https://cdn.example.com/{n}.jpg"}},
                      "__parentId": vid})
        for loc in range(1, levels + 1):
            lines.append({"location": {"id": f"gid://shopify/Location/{loc}"},
                          "quantities": [{"name": "on_hand", "quantity": n}], "__parentId": vid})
    return [json.dumps(line).encode() for line in lines]


def test_variant_batches_reassembles_nodes_with_their_children():
    (batch, resume, at_end), = variant_batches(_file(3), 0, 10)
    assert at_end and resume == 12 and [v["sku"] for v in batch] == ["SKU-1", "SKU-2", "SKU-3"]
    levels = batch[1]["inventoryItem"]["inventoryLevels"]
    assert [lv["location"]["id"] for lv in levels["nodes"]] == [
        "gid://shopify/Location/1", "gid://shopify/Location/2"]
    assert levels["pageInfo"] == {"hasNextPage": False}
    assert batch[1]["media"]["nodes"][0]["preview"]["image"]["url"].endswith("/2.jpg")
    assert "__parentId" not in levels["nodes"][0]


def test_variant_batches_resumes_at_a_checkpoint_without_duplicates():
    lines = _file(5)
    first = list(variant_batches(lines, 0, 2))
    assert [[v["sku"] for v in b] for b, _, _ in first] == [
        ["SKU-1", "SKU-2"], ["SKU-3", "SKU-4"], ["SKU-5"]]
    checkpoint = first[0][1]
    assert checkpoint == 8 and json.loads(lines[checkpoint])["sku"] == "SKU-3"
    resumed = list(variant_batches(lines, checkpoint, 2))  # a worker killed after batch one
    assert [v["sku"] for b, _, _ in resumed for v in b] == ["SKU-3", "SKU-4", "SKU-5"]
    assert list(variant_batches(lines, len(lines), 2)) == []  # read to the end: nothing


@pytest.mark.parametrize("bad, message", [
    (b"{not json", "line 2 of the bulk operation's file is not JSON"),
    (json.dumps({"location": {"id": "x"}, "__parentId": "gid://shopify/ProductVariant/9"}).encode(),
     "line 2 of the bulk operation's file names parent"),
])
def test_variant_batches_names_a_bad_line(bad, message):
    lines = _file(1, levels=0)[:1] + [bad]
    with pytest.raises(PermanentError, match=message):
        list(variant_batches(lines, 0, 10))
