"""Stock levels CSV: streamed export, previewed import, all-or-nothing idempotent apply."""
import csv
import io

import pytest
from sqlalchemy import select

from app.errors import InsufficientStock
from app.extensions import db
from app.models import InventoryLevel, InventoryMovement
from app.stock import adjust_stock
from app.warehouse.csv_levels import (EXPORT_HEADER, ImportAlreadyApplied, ImportNotApplicable,
                                      StalePreview, apply_import, export_csv, plan_import,
                                      store_import)
from tests.fixtures.factories import make_item, make_location, make_merchant, stock
from tests.fixtures.stock import on_hand

HEADER = "Handle,Title,SKU,Location,On hand (current),On hand (new)\n"


def upload(merchant, text, name="levels.csv"):
    stock_import = store_import(merchant.id, name, text.encode())
    db.session.commit()
    return stock_import


def test_export_csv_has_shopify_columns_and_every_item_at_every_location(setup):
    merchant, main, shop, mug, tote = setup
    other = make_merchant()
    make_item(other, "SECRET")
    make_location(other, "Elsewhere")
    chunks = list(export_csv(merchant.id))
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert tuple(rows[0]) == EXPORT_HEADER
    assert [(r[2], r[3], r[6], r[7]) for r in rows[1:]] == [
        ("MUG-1", "Main", "5", ""), ("MUG-1", "Shop", "0", ""),
        ("TOTE-1", "Main", "0", ""), ("TOTE-1", "Shop", "0", "")]
    only_shop = list(csv.reader(io.StringIO("".join(export_csv(merchant.id,
                                                               location_id=shop.id)))))
    assert {r[3] for r in only_shop[1:]} == {"Shop"}


def test_export_csv_yields_in_chunks(setup):
    merchant, main, *_ = setup
    for n in range(2100):
        make_item(merchant, f"BULK-{n:05d}")
    db.session.commit()
    chunks = list(export_csv(merchant.id, location_id=main.id))
    assert len(chunks) >= 3  # a chunk per 1000 rows, not one string of everything
    assert sum(c.count("\n") for c in chunks) == 2102 + 1


def test_plan_import_lists_changes_and_every_bad_row(setup):
    merchant, main, shop, mug, tote = setup
    stock_import = upload(merchant, HEADER + "\n".join([
        ",,mug-1,Main,5,8",        # change (SKU by its key)
        ",,TOTE-1,shop,0,3",       # change (location case-insensitive)
        ",,MUG-1,Shop,0,0",        # unchanged
        ",,TOTE-1,Main,0,",        # blank: left as is
        ",,NOPE,Main,0,1",         # unknown SKU
        ",,MUG-1,Moon,0,1",        # unknown location
        ",,TOTE-1,Main,0,-1",      # negative
        ",,TOTE-1,Main,0,lots",    # non-numeric
        ",,MUG-1,Main,5,9",        # duplicate of row 2
    ]) + "\n")
    plan = plan_import(merchant.id, stock_import)
    assert [(c.row, c.sku, c.location, c.current, c.new) for c in plan.changes] == [
        (2, "MUG-1", "Main", 5, 8), (3, "TOTE-1", "Shop", 0, 3)]
    assert (plan.unchanged, plan.skipped) == (1, 1)
    assert [(b.row, b.reason) for b in plan.bad_rows] == [
        (6, "unknown SKU NOPE"), (7, "unknown location Moon"),
        (8, "On hand (new) can't be negative"),
        (9, "On hand (new) must be a whole number (got lots)"),
        (10, "duplicate of row 2 (same SKU and location)")]
    assert not plan.can_apply


@pytest.mark.parametrize("text", ["SKU,Where,Count\nMUG-1,Main,3\n", "just one column\n"])
def test_plan_import_wrong_header_is_a_file_error(setup, text):
    merchant, *_ = setup
    plan = plan_import(merchant.id, upload(merchant, text))
    assert plan.file_error.startswith("The first row must name the columns")
    assert not plan.changes and not plan.can_apply


def test_store_import_refuses_empty_and_binary(setup):
    from app.errors import InvalidInput

    merchant, *_ = setup
    for data in (b"", b"\xff\xfe\x00S\x00K"):
        with pytest.raises(InvalidInput):
            store_import(merchant.id, "x.csv", data)


def test_apply_import_sets_counts_once_and_same_file_again_changes_nothing(setup):
    merchant, main, shop, mug, tote = setup
    text = "SKU,Location,On hand\nMUG-1,Main,2\nTOTE-1,Shop,7\n"
    first = upload(merchant, text)
    plan = plan_import(merchant.id, first)
    outcome = apply_import(merchant.id, first.id, sha256=plan.sha256, digest=plan.digest)
    db.session.commit()
    assert outcome == "2 counts set from levels.csv."
    assert (on_hand(main, mug), on_hand(shop, tote)) == (2, 7)
    movements = db.session.scalars(select(InventoryMovement).where(
        InventoryMovement.reason == "csv_import")).all()
    assert sorted(m.delta for m in movements) == [-3, 7]
    assert {(m.reference_type, m.reference_id) for m in movements} == {("stock_import", first.id)}
    with pytest.raises(ImportAlreadyApplied):
        apply_import(merchant.id, first.id, sha256=plan.sha256, digest=plan.digest)
    db.session.rollback()
    second = upload(merchant, text)
    again = plan_import(merchant.id, second)
    assert again.changes == [] and again.unchanged == 2
    apply_import(merchant.id, second.id, sha256=again.sha256, digest=again.digest)
    db.session.commit()
    assert db.session.query(InventoryMovement).filter_by(reason="csv_import").count() == 2


def test_apply_import_refuses_bad_rows_and_stale_previews(setup):
    merchant, main, shop, mug, _ = setup
    bad = upload(merchant, "SKU,Location,On hand\nMUG-1,Main,1\nNOPE,Main,1\n")
    plan = plan_import(merchant.id, bad)
    with pytest.raises(ImportNotApplicable):
        apply_import(merchant.id, bad.id, sha256=plan.sha256, digest=plan.digest)
    db.session.rollback()
    assert on_hand(main, mug) == 5
    good = upload(merchant, "SKU,Location,On hand\nMUG-1,Main,1\n")
    plan = plan_import(merchant.id, good)
    with pytest.raises(StalePreview):
        apply_import(merchant.id, good.id, sha256="0" * 64, digest=plan.digest)
    db.session.rollback()
    adjust_stock(merchant.id, main.id, mug.id, delta=-1, reason="damaged")  # after the preview
    db.session.commit()
    with pytest.raises(StalePreview):
        apply_import(merchant.id, good.id, sha256=plan.sha256, digest=plan.digest)
    db.session.rollback()
    assert on_hand(main, mug) == 4


def test_apply_import_is_all_or_nothing(setup):
    merchant, main, shop, mug, tote = setup
    stock(shop, tote, 5)
    level = db.session.scalar(select(InventoryLevel).where(InventoryLevel.item_id == tote.id))
    level.committed = 3  # held for open orders: a count of 1 can't cover it
    db.session.commit()
    # Main (applied first, fine) then Shop (refused): Main's change is rolled back too.
    stock_import = upload(merchant, "SKU,Location,On hand\nMUG-1,Main,1\nTOTE-1,Shop,1\n")
    plan = plan_import(merchant.id, stock_import)
    with pytest.raises(InsufficientStock):
        apply_import(merchant.id, stock_import.id, sha256=plan.sha256, digest=plan.digest)
    db.session.rollback()
    assert (on_hand(main, mug), on_hand(shop, tote)) == (5, 5)


def test_other_merchants_import_is_not_found(setup):
    from app.errors import NotFound

    merchant, *_ = setup
    stock_import = upload(merchant, "SKU,Location,On hand\nMUG-1,Main,1\n")
    plan = plan_import(merchant.id, stock_import)
    with pytest.raises(NotFound):
        apply_import(make_merchant().id, stock_import.id, sha256=plan.sha256, digest=plan.digest)


def test_exported_file_imports_as_is_and_with_a_new_count(setup):
    merchant, main, shop, mug, tote = setup
    exported = "".join(export_csv(merchant.id))
    plan = plan_import(merchant.id, upload(merchant, exported))
    assert (plan.changes, plan.bad_rows, plan.skipped) == ([], [], 4)  # "On hand (new)" empty
    rows = list(csv.reader(io.StringIO(exported)))
    rows[1][7] = "11"  # MUG-1 at Main
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    plan = plan_import(merchant.id, upload(merchant, buffer.getvalue()))
    assert [(c.sku, c.location, c.current, c.new) for c in plan.changes] == [
        ("MUG-1", "Main", 5, 11)]


@pytest.mark.postgres
def test_concurrent_applies_of_one_upload_apply_it_once(setup, app):
    from tests.integration.test_concurrency import run_concurrently

    merchant, main, shop, mug, _ = setup
    stock_import = upload(merchant, "SKU,Location,On hand\nMUG-1,Main,9\n")
    plan = plan_import(merchant.id, stock_import)
    merchant_id, import_id, sha, digest = merchant.id, stock_import.id, plan.sha256, plan.digest
    outcomes = run_concurrently(app, lambda i: apply_import(merchant_id, import_id, sha256=sha,
                                                            digest=digest), n=8)
    assert outcomes == {"ok": 1, "ImportAlreadyApplied": 7}
    db.session.expire_all()
    assert on_hand(main, mug) == 9
    assert db.session.query(InventoryMovement).filter_by(reason="csv_import").count() == 1


def test_export_csv_memory_stays_flat_while_the_file_grows(setup):
    """60,000 rows stream out holding about one batch, far below the file's size."""
    import tracemalloc

    from sqlalchemy import insert

    from app.models import InventoryItem

    merchant, main, shop, *_ = setup
    db.session.execute(insert(InventoryItem), [
        {"merchant_id": merchant.id, "sku": f"BULK-{n:06d}", "title": f"Bulk item number {n}"}
        for n in range(60_000)])
    db.session.commit()
    list(export_csv(make_merchant().id))  # the statement compiled and cached beforehand
    tracemalloc.start()
    try:
        size, samples = 0, []
        for chunk in export_csv(merchant.id, location_id=main.id):
            size += len(chunk)
            samples.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert size > 1_000_000 and len(samples) > 30
    assert max(samples) < size / 3, (max(samples), size)
    # Held memory after the first chunks (query compiled, first batch fetched) does not grow
    # with the rows streamed after them: all of them in memory would be over a megabyte.
    assert max(samples[2:]) - samples[2] < 300_000, (samples[2], max(samples[2:]), size)


def test_applied_import_marks_the_mapped_confirmed_location_dirty(setup):
    """An import's counts reach the platforms through the inventory push like any change."""
    from app.models import OutboxEvent
    from app.stock.push import fan_out_levels_changed, pending_pushes
    from app.sync.queue import Job
    from tests.fixtures.factories import listed_at

    merchant, main, shop, mug, tote = setup
    channel = listed_at(merchant, main, mug, "L-main")
    db.session.commit()
    db.session.query(OutboxEvent).delete()
    db.session.commit()
    stock_import = upload(merchant, "SKU,Location,On hand\nMUG-1,Main,9\nTOTE-1,Shop,4\n")
    plan = plan_import(merchant.id, stock_import)
    apply_import(merchant.id, stock_import.id, sha256=plan.sha256, digest=plan.digest)
    db.session.commit()
    events = db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.topic == "inventory.levels_changed").order_by(OutboxEvent.id)).all()
    assert sorted((e.payload["location_id"], e.payload["item_ids"]) for e in events) == sorted(
        [(main.id, [mug.id]), (shop.id, [tote.id])])
    for event in events:
        fan_out_levels_changed(Job(model=OutboxEvent, id=event.id, merchant_id=merchant.id,
                                   channel_id=None, topic=event.topic, attempts=0,
                                   payload=event.payload))
    pending = pending_pushes(channel.id, limit=10)
    assert [(p.location_remote_id, p.sku, p.quantity) for p in pending] == [("L-main", "MUG-1", 9)]
