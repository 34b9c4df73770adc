"""Random sequences of fulfill / track / pack / cancel / ship / deliver / adjust keep every
invariant.

A plain-Python model predicts each operation's outcome; after every step the database
must agree with it and with ARCHITECTURE.md's invariants (checked on the real database).
"""
from collections import defaultdict

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from app.errors import (AlreadyCanceled, IllegalTransition, InsufficientStock, InvalidInput,
                        QuantityExceedsUnfulfilled)
from app.extensions import db
from app.fulfillment import (Tracking, cancel_fulfillment, create_fulfillment, mark_delivered,
                             mark_shipped, update_tracking)
from app.models import Fulfillment, InventoryLevel, OrderLine
from app.stock import adjust_stock
from app.warehouse.packing import NotToPack, complete_packing
from tests.conftest import truncate_all
from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                      make_order, stock)
from tests.fixtures.invariants import assert_invariants

SETTINGS = settings(max_examples=25, stateful_step_count=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


class FulfillmentMachine(RuleBasedStateMachine):
    """Drives the domain and a model side by side."""

    def __init__(self):
        super().__init__()
        truncate_all()
        merchant = make_merchant()
        self.merchant_id = merchant.id
        self.locations = [make_location(merchant, "Strict"),
                          make_location(merchant, "Lenient", allow_negative=True)]
        self.items = [make_item(merchant, f"I{i}") for i in range(3)]
        self.on_hand = defaultdict(int)  # (location_id, item_id) -> expected on hand
        for loc in self.locations:
            for item in self.items:
                stock(loc, item, 3)
                self.on_hand[(loc.id, item.id)] = 3
        channel = make_channel(merchant)
        orders = [make_order(channel, [(self.items[0], 2), (self.items[1], 3)]),
                  make_order(channel, [(self.items[2], 4), (self.items[0], 1)])]
        self.lines = [(line.id, line.inventory_item_id, line.quantity)
                      for o in orders for line in o.lines]
        self.line_order = {line.id: o.id for o in orders for line in o.lines}
        self.fulfilled = defaultdict(int)  # line_id -> expected fulfilled
        self.fulfillments = {}  # id -> {"status", "location_id", "lines": {line_id: qty}}
        db.session.commit()

    @rule(order_index=st.integers(0, 1), location_index=st.integers(0, 1),
          qtys=st.lists(st.integers(0, 4), min_size=2, max_size=2), tracked=st.booleans())
    def fulfill(self, order_index, location_index, qtys, tracked):
        order_lines = [ln for ln in self.lines
                       if self.line_order[ln[0]] == self._order_ids()[order_index]]
        wanted = {ln[0]: q for ln, q in zip(order_lines, qtys) if q}
        location = self.locations[location_index]
        expected = self._expected_fulfill_error(wanted, order_lines, location)
        try:
            f = create_fulfillment(self._order_ids()[order_index], wanted, location.id,
                                   merchant_id=self.merchant_id,
                                   tracking=Tracking("1Z1" if tracked else ""))
            db.session.commit()
        except (InvalidInput, QuantityExceedsUnfulfilled, InsufficientStock) as exc:
            db.session.rollback()
            assert type(exc) is expected, f"got {type(exc).__name__}, expected {expected}"
            return
        assert expected is None, f"expected {expected.__name__}"
        # A tracking number ships it (not packed: that is the pack screen's).
        self.fulfillments[f.id] = {"status": "shipped" if tracked else "pending",
                                   "packed": False, "location_id": location.id,
                                   "lines": dict(wanted)}
        for (line_id, item_id, _), q in ((ln, wanted.get(ln[0], 0)) for ln in order_lines):
            self.fulfilled[line_id] += q
            self.on_hand[(location.id, item_id)] -= q

    def _order_ids(self):
        return sorted(set(self.line_order.values()))

    def _expected_fulfill_error(self, wanted, order_lines, location):
        if not wanted:
            return InvalidInput
        if any(q > total - self.fulfilled[lid] for lid, _, total in order_lines
               if (q := wanted.get(lid, 0))):
            return QuantityExceedsUnfulfilled
        if not location.allow_negative_stock:
            need = defaultdict(int)
            for lid, item_id, _ in order_lines:
                need[item_id] += wanted.get(lid, 0)
            if any(self.on_hand[(location.id, i)] < n for i, n in need.items() if n):
                return InsufficientStock
        return None

    def _pick(self, index):
        ids = sorted(self.fulfillments)
        return ids[index % len(ids)] if ids else None

    @rule(index=st.integers(0, 50))
    def cancel(self, index):
        fid = self._pick(index)
        if fid is None:
            return
        model = self.fulfillments[fid]
        try:
            cancel_fulfillment(fid, merchant_id=self.merchant_id)
            db.session.commit()
        except IllegalTransition as exc:
            db.session.rollback()
            assert model["status"] in ("canceled", "delivered")
            assert isinstance(exc, AlreadyCanceled) == (model["status"] == "canceled")
            return
        assert model["status"] in ("pending", "shipped")
        model["status"] = "canceled"
        for line_id, q in model["lines"].items():
            item_id = next(i for lid, i, _ in self.lines if lid == line_id)
            self.fulfilled[line_id] -= q
            self.on_hand[(model["location_id"], item_id)] += q

    @rule(index=st.integers(0, 50), delivered=st.booleans())
    def advance(self, index, delivered):
        fid = self._pick(index)
        if fid is None:
            return
        model = self.fulfillments[fid]
        allowed = {"pending"} | ({"shipped"} if delivered else set())
        try:
            (mark_delivered if delivered else mark_shipped)(fid, merchant_id=self.merchant_id)
            db.session.commit()
        except IllegalTransition:
            db.session.rollback()
            assert model["status"] not in allowed
            return
        assert model["status"] in allowed
        model["status"] = "delivered" if delivered else "shipped"
        model["packed"] |= not delivered  # marked shipped: it left the building, packed

    @rule(index=st.integers(0, 50), number=st.sampled_from(["", "1Z2"]))
    def track(self, index, number):
        fid = self._pick(index)
        if fid is None:
            return
        model = self.fulfillments[fid]
        try:
            update_tracking(fid, Tracking(number), merchant_id=self.merchant_id)
            db.session.commit()
        except IllegalTransition:
            db.session.rollback()
            assert model["status"] == "canceled"
            return
        assert model["status"] != "canceled"
        if model["status"] == "pending" and number:  # removing tracking never un-ships
            model["status"] = "shipped"

    @rule(index=st.integers(0, 50))
    def pack(self, index):
        fid = self._pick(index)
        if fid is None:
            return
        model = self.fulfillments[fid]
        try:
            complete_packing(self.merchant_id, fid, override=True, reason="test")
            db.session.commit()
        except NotToPack:
            db.session.rollback()
            assert model["packed"] or model["status"] in ("delivered", "canceled")
            return
        assert not model["packed"] and model["status"] in ("pending", "shipped")
        model["status"], model["packed"] = "shipped", True

    @rule(location_index=st.integers(0, 1), item_index=st.integers(0, 2),
          delta=st.integers(-4, 4).filter(bool))
    def adjust(self, location_index, item_index, delta):
        location, item = self.locations[location_index], self.items[item_index]
        key = (location.id, item.id)
        try:
            adjust_stock(self.merchant_id, location.id, item.id, delta=delta, reason="correction")
            db.session.commit()
        except InsufficientStock:
            db.session.rollback()
            assert not location.allow_negative_stock and self.on_hand[key] + delta < 0
            return
        self.on_hand[key] += delta

    @invariant()
    def database_matches_model(self):
        assert_invariants()
        for level in db.session.scalars(select(InventoryLevel)):
            assert level.on_hand == self.on_hand[(level.location_id, level.item_id)]
        for line in db.session.scalars(select(OrderLine)):
            assert line.fulfilled_quantity == self.fulfilled[line.id]
        for f in db.session.scalars(select(Fulfillment)):
            model = self.fulfillments[f.id]
            assert f.status == model["status"]
            assert (f.packed_at is not None) == model["packed"]
            if f.status != "canceled":  # a canceled one keeps when it had shipped
                assert (f.shipped_at is not None) == (f.status in ("shipped", "delivered"))
            assert f.to_pack == (f.status in ("pending", "shipped") and not model["packed"])
        db.session.rollback()  # end the read transaction: it would hold SQLite's write lock


def test_fulfillment_state_machine_keeps_invariants(app):
    run_state_machine_as_test(FulfillmentMachine, settings=SETTINGS)
