"""Allocation: which stock locations can cover an order's chosen units, and the auto split over the fewest."""
from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import InventoryLevel, OrderLine, StockLocation


@dataclass
class LocationOption:
    """A stock location as a choice on the fulfill form."""

    location: StockLocation
    available: dict[int, int]  # item id -> available
    short_lines: list[tuple[OrderLine, int]]  # lines it can't cover, with units missing

    @property
    def covers_all(self) -> bool:
        """Every chosen unit is available here."""
        return not self.short_lines


@dataclass
class SplitPart:
    """One fulfillment of an auto-split proposal."""

    location: StockLocation
    quantities: dict[int, int]  # line id -> units


def availability(merchant_id: int, item_ids: list[int]) -> dict[tuple[int, int], int]:
    """(location id, item id) -> available, for these items at every location."""
    if not item_ids:
        return {}
    rows = db.session.execute(
        select(InventoryLevel.location_id, InventoryLevel.item_id,
               InventoryLevel.on_hand - InventoryLevel.committed)
        .where(InventoryLevel.merchant_id == merchant_id, InventoryLevel.item_id.in_(item_ids)))
    return {(loc, item): avail for loc, item, avail in rows}


def location_options(merchant_id: int, lines: list[OrderLine], wanted: dict[int, int]
                     ) -> list[LocationOption]:
    """Each active location with what it has of the chosen items and the lines it can't cover."""
    item_ids = sorted({ln.inventory_item_id for ln in lines if ln.inventory_item_id})
    avail = availability(merchant_id, item_ids)
    options = []
    for location in _active_locations(merchant_id):
        have = {i: avail.get((location.id, i), 0) for i in item_ids}
        short = []
        if not location.allow_negative_stock:
            need: dict[int, int] = defaultdict(int)
            for line in lines:
                qty = wanted.get(line.id, 0)
                if line.inventory_item_id and qty > 0:
                    need[line.inventory_item_id] += qty
                    missing = need[line.inventory_item_id] - have[line.inventory_item_id]
                    if missing > 0:
                        short.append((line, min(missing, qty)))
        options.append(LocationOption(location, have, short))
    return options


def auto_split(options: list[LocationOption], lines: list[OrderLine], wanted: dict[int, int]
               ) -> list[SplitPart] | None:
    """Fewest locations that together cover the chosen units; None if none can.

    Real stock first: a location that allows negative stock (dropship, made to order)
    counts as bottomless only when real stock can't cover the order. Exact for up to 10
    locations (smallest subsets first, ties to the most stock); greedy beyond that.
    """
    need: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.inventory_item_id and wanted.get(line.id, 0) > 0:
            need[line.inventory_item_id] += wanted[line.id]
    if not any(wanted.get(ln.id, 0) > 0 for ln in lines) or not options:
        return None
    for bottomless in (False, True):
        def capacity(opt: LocationOption, item_id: int, bottomless=bottomless) -> float:
            if bottomless and opt.location.allow_negative_stock:
                return float("inf")
            return max(opt.available.get(item_id, 0), 0)

        chosen = _fewest_covering(options, need, capacity)
        if chosen:
            return _assign(list(chosen), lines, wanted, capacity)
    return None


def _fewest_covering(options, need, capacity):
    def covers(subset) -> bool:
        return all(sum(capacity(o, i) for o in subset) >= n for i, n in need.items())

    if len(options) <= 10:
        for size in range(1, len(options) + 1):
            fits = [s for s in itertools.combinations(options, size) if covers(s)]
            if fits:
                return max(fits, key=lambda s: sum(min(capacity(o, i), 10**9)
                                                   for o in s for i in need))
        return None
    remaining, chosen, pool = dict(need), [], list(options)
    while any(v > 0 for v in remaining.values()) and pool:
        best = max(pool, key=lambda o: sum(min(capacity(o, i), r) for i, r in remaining.items()))
        pool.remove(best)
        chosen.append(best)
        for i in remaining:
            remaining[i] = max(0, remaining[i] - capacity(best, i))
    return None if any(v > 0 for v in remaining.values()) else chosen


def _assign(chosen, lines, wanted, capacity) -> list[SplitPart]:
    # Whole lines go to the first location (most stock first) that still has them; a
    # line is split only when no single chosen location can take it whole.
    chosen.sort(key=lambda o: (len(o.short_lines), o.location.name))
    left = {(o.location.id, i): capacity(o, i) for o in chosen for i in o.available}
    parts = {o.location.id: SplitPart(o.location, {}) for o in chosen}
    for line in lines:
        qty = wanted.get(line.id, 0)
        if qty <= 0:
            continue
        if not line.inventory_item_id:
            parts[chosen[0].location.id].quantities[line.id] = qty
            continue
        item = line.inventory_item_id
        whole = next((o for o in chosen if left[(o.location.id, item)] >= qty), None)
        for opt in ([whole] if whole else chosen):
            take = min(qty, left[(opt.location.id, item)])
            if take <= 0:
                continue
            take = int(take)
            parts[opt.location.id].quantities[line.id] = take
            left[(opt.location.id, item)] -= take
            qty -= take
            if qty == 0:
                break
    return [p for p in parts.values() if p.quantities]


def _active_locations(merchant_id: int) -> list[StockLocation]:
    return list(db.session.scalars(
        select(StockLocation).where(StockLocation.merchant_id == merchant_id,
                                    StockLocation.active.is_(True))
        .order_by(StockLocation.name, StockLocation.id)))
