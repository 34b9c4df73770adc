"""Per-platform harnesses of the contract suite: a connected channel with one order, its
worker, and a read of what the platform now holds (the Shopify sandbox, the WooCommerce
sandbox, the manual channel's book), so one test body runs against every adapter."""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.fulfillment import Tracking, create_fulfillment
from app.models import ChannelLocation, Fulfillment, Merchant, Order, WebhookInbox
from app.platforms.registry import register_handlers
from app.platforms.woocommerce.outbound import remote_parts
from app.sync.inbox import store_webhook
from tests.contract.manual import SHIPPED, UNREACHABLE, ManualAdapter
from tests.fixtures.factories import (confirm_stock, make_channel, make_item, make_location,
                                      make_merchant, make_order, stock)
from tests.integration.shopify.conftest import SHOP, release_session, run_worker_until
from tests.integration.shopify.test_fulfillment_sync import place_order
from tests.integration.shopify.test_install import install_via_admin
from tests.integration.woocommerce.conftest import connected
from tests.integration.woocommerce.test_fulfillment_sync import place

#: The one order of every harness: this many units of one stocked item.
UNITS = 2
#: How long the Shopify sandbox holds its answer to the push whose answer is lost; longer
#: than Stockroom's Shopify timeout in the contract suite (conftest.SHOPIFY_TIMEOUT).
SHOPIFY_LATE_ANSWER = 6.0


@dataclass(frozen=True)
class RemoteFulfillment:
    """What a platform holds of one pushed fulfillment, in the same words for each."""

    #: Shipped there: not canceled (Shopify), the order completed with the push's tracking
    #: entry (WooCommerce), in the book (manual).
    live: bool
    #: Order line remote id -> units the platform holds as shipped.
    lines: dict[str, int]
    tracking: tuple[str, ...]


NOT_HELD = RemoteFulfillment(live=False, lines={}, tracking=())


class Harness:
    """One channel of a platform, with an order of UNITS units of one item stocked at the
    stock location the channel's platform location is mapped to; ids only (the tests end
    the session often: on SQLite a transaction holds the write lock)."""

    platform: str

    def __init__(self, app, order_id: int, location_id: int):
        self.app = app
        order = db.session.get(Order, order_id)
        [line] = order.lines
        self.order_id, self.order_remote_id, self.order_name = order.id, order.remote_id, order.name
        self.merchant_id, self.channel_id = order.merchant_id, order.channel_id
        self.line_id, self.line_remote_id = line.id, line.remote_id
        self.location_id = location_id
        assert line.quantity == UNITS
        assert db.session.scalar(select(ChannelLocation.stock_location_id).where(
            ChannelLocation.channel_id == self.channel_id,
            ChannelLocation.stock_location_id == location_id)) == location_id
        release_session()

    def fulfill(self, tracking: Tracking) -> int:
        """The whole order fulfilled in Stockroom (the fulfill form's domain call); its id."""
        f = create_fulfillment(self.order_id, {self.line_id: UNITS}, self.location_id,
                               merchant_id=self.merchant_id, tracking=tracking)
        fulfillment_id = f.id
        db.session.commit()
        release_session()
        return fulfillment_id

    def remote_id(self, fulfillment_id: int) -> str | None:
        remote_id = db.session.scalar(select(Fulfillment.remote_id).where(
            Fulfillment.id == fulfillment_id))
        release_session()
        return remote_id

    def inbox_since(self, topic: str, after_id: int) -> list[int]:
        """The ids of the deliveries of ``topic`` about the order stored after ``after_id``."""
        ids = list(db.session.scalars(select(WebhookInbox.id).where(
            WebhookInbox.channel_id == self.channel_id, WebhookInbox.topic == topic,
            WebhookInbox.order_remote_id == self.order_remote_id,
            WebhookInbox.id > after_id).order_by(WebhookInbox.id)))
        release_session()
        return ids

    @staticmethod
    def last_inbox_id() -> int:
        last = db.session.scalar(select(func.max(WebhookInbox.id))) or 0
        release_session()
        return last

    # Each platform's: ------------------------------------------------------------------

    def run_worker(self, *, until=None) -> None:
        """Worker passes until ``until()`` holds (without it: until the queues stay idle)."""
        raise NotImplementedError

    def remote_fulfillment(self, fulfillment_id: int) -> RemoteFulfillment | None:
        """What the platform holds for the fulfillment (by the remote id Stockroom
        recorded); None when the fulfillment has none."""
        raise NotImplementedError

    def shipments_on_platform(self) -> int:
        """How many shipments of the order the platform holds (live or not)."""
        raise NotImplementedError

    def created_note(self, fulfillment_id: int) -> str:
        """The job note of the create push, naming what the platform made (read there)."""
        raise NotImplementedError

    def lose_next_push(self) -> None:
        """The next fulfillment push fails, as a retryable error (the job waits to retry)."""
        raise NotImplementedError

    def deliver_platform_change(self) -> list[int]:
        """The platform sends a webhook about the order, which the sync lock covers; the
        ids of the deliveries stored (in Stockroom's inbox, not applied yet)."""
        raise NotImplementedError

    def fulfill_on_platform(self) -> None:
        """The whole order shipped on the platform itself (from the location mapped to our
        stock location), and its webhook stored in Stockroom's inbox."""
        raise NotImplementedError


# --- Shopify: the sandbox shop, over HTTPS ----------------------------------------------

class ShopifyChannel(Harness):
    """demo-shop installed through the sandbox admin; its Main Warehouse mapped to our
    Warehouse; an order of 2 MUG-WHT placed at the checkout, at the Main Warehouse."""

    platform = "shopify"
    sku = "MUG-WHT"

    def __init__(self, stockroom):
        self.stockroom, self.sandbox = stockroom, stockroom.sandbox
        install_via_admin(stockroom)
        stockroom.run_worker(until=lambda: db.session.query(ChannelLocation).count() == 4)
        main = db.session.scalar(select(ChannelLocation).where(
            ChannelLocation.name == "Main Warehouse"))
        merchant = db.session.get(Merchant, main.merchant_id)
        warehouse = make_location(merchant, "Warehouse")
        main.stock_location_id = warehouse.id
        confirm_stock(main)  # Stockroom's counts are the truth there: pushes may go
        stock(warehouse, make_item(merchant, self.sku), 10)
        location_id, remote_location = warehouse.id, main.remote_id
        db.session.commit()
        order, summary = place_order(stockroom, [(self.sku, UNITS)],
                                     location_id=remote_location)
        order_id, self.fulfillment_order = order.id, summary["fulfillment_orders"][0]["id"]
        stockroom.run_worker()  # the order's own webhooks, applied
        super().__init__(stockroom.app, order_id, location_id)

    def run_worker(self, *, until=None) -> None:
        self.stockroom.run_worker(until=until)

    def _fulfillments(self) -> list[dict]:
        """The sandbox shop's fulfillments of the order."""
        return [x for x in self.sandbox.shop()["fulfillments"]
                if f"gid://shopify/Order/{x['order_id']}" == self.order_remote_id]

    def remote_fulfillment(self, fulfillment_id: int) -> RemoteFulfillment | None:
        remote_id = self.remote_id(fulfillment_id)
        found = [x for x in self._fulfillments()
                 if f"gid://shopify/Fulfillment/{x['id']}" == remote_id]
        if not found:
            return None
        [held] = found
        lines: dict[str, int] = {}
        for line in held["lines"]:
            key = f"gid://shopify/LineItem/{line['line_item_id']}"
            lines[key] = lines.get(key, 0) + line["quantity"]
        return RemoteFulfillment(live=held["status"] == "SUCCESS", lines=lines,
                                 tracking=tuple(t["number"] for t in held["tracking"]))

    def shipments_on_platform(self) -> int:
        return len(self._fulfillments())

    def created_note(self, fulfillment_id: int) -> str:
        [made] = self._fulfillments()
        shipped = made["shipment_status"] == "IN_TRANSIT"  # made Shipped (with tracking)
        return (f"created on Shopify as gid://shopify/Fulfillment/{made['id']}"
                + (", IN_TRANSIT recorded" if shipped else ""))

    def lose_next_push(self) -> None:
        """Shopify makes the next fulfillment (and sends its webhooks) but answers later than
        Stockroom waits: the push times out, its outcome unknown to Stockroom."""
        self.sandbox.control("POST", "faults/api", {
            "kind": "slow_response", "seconds": SHOPIFY_LATE_ANSWER,
            "operation": "FulfillmentCreate"})

    def deliver_platform_change(self) -> list[int]:
        """Shopify's fulfillments/create about the fulfillment the lost push made (the
        webhook an echo of our push is): waited for until it is in the inbox."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ids = self.inbox_since("fulfillments/create", 0)
            if ids:
                return ids
            time.sleep(0.05)
        raise AssertionError("Shopify's fulfillments/create never reached the inbox")

    def fulfill_on_platform(self) -> None:
        """A fulfillment made in Shopify admin at the Main Warehouse, with tracking."""
        after = self.last_inbox_id()
        self.sandbox.control("POST", f"shops/{SHOP}/fulfillments", {
            "fulfillment_order_id": self.fulfillment_order, "tracking": {"number": "SHIP-9"}})
        deadline = time.monotonic() + 15
        while not self.inbox_since("fulfillments/create", after):
            assert time.monotonic() < deadline, "Shopify's fulfillments/create never came"
            time.sleep(0.05)


# --- WooCommerce: the sandbox store, over HTTPS -----------------------------------------

#: A customer note of one shipment (mapping.shipment_note): "2 of 2 items shipped, ...".
SHIPMENT_NOTE = re.compile(r"^\d+ of \d+ items? shipped")


class WooCommerceChannel(Harness):
    """demo-store connected by its owner (the Warehouse holds 10 TEE-CLASSIC, the store's
    opening stock confirmed as Stockroom's); a shopper's order of 2 TEE-CLASSIC."""

    platform = "woocommerce"
    sku = "TEE-CLASSIC"
    slug = "demo-store"

    def __init__(self, stockroom):
        self.stockroom, self.sandbox = stockroom, stockroom.sandbox
        _, _, location_id = connected(stockroom, skus=(self.sku,), stock=10)
        _, placed = place(stockroom, [(self.sku, UNITS)])
        self.store_order = placed["id"]
        super().__init__(stockroom.app, placed.id, location_id)

    def run_worker(self, *, until=None) -> None:
        self.stockroom.run_worker(until=until)

    def _order(self) -> dict:
        return self.sandbox.rest(self.slug, "GET", f"orders/{self.store_order}")

    def _trackings(self) -> list[dict]:
        return self.sandbox.rest(self.slug, "GET", f"orders/{self.store_order}/shipment-trackings",
                                 version="wc-shipment-tracking/v3")

    def _shipment_notes(self) -> list[dict]:
        notes = self.sandbox.rest(self.slug, "GET", f"orders/{self.store_order}/notes",
                                  params={"type": "customer"})
        return [n for n in notes if SHIPMENT_NOTE.match(n["note"])]

    def remote_fulfillment(self, fulfillment_id: int) -> RemoteFulfillment | None:
        """WooCommerce has no shipment object: a pushed fulfillment is its customer note,
        its tracking entry, and the order completed (every line shipped) once all is."""
        parts = remote_parts(self.remote_id(fulfillment_id))
        if not parts:
            return None
        order, entries = self._order(), self._trackings()
        completed = order["status"] == "completed"
        ours = parts.get("tracking") in {str(e["tracking_id"]) for e in entries}
        return RemoteFulfillment(
            live=completed and ours,
            lines={str(li["id"]): li["quantity"] for li in order["line_items"]} if completed
            else {},
            tracking=tuple(e["tracking_number"] for e in entries))

    def shipments_on_platform(self) -> int:
        return len(self._shipment_notes())

    def created_note(self, fulfillment_id: int) -> str:
        [note] = self._shipment_notes()
        [entry] = self._trackings()
        return (f"note {note['id']} added to {self.order_name}, tracking "
                f"{entry['tracking_number']}; order completed")

    def lose_next_push(self) -> None:
        """The store's PHP workers are exhausted when the push completes the order (503):
        its tracking entry and note are on the store already, the order still processing."""
        self.sandbox.control("PUT", f"/stores/{self.slug}/faults", json={"rest_error": {
            "route": "PUT wc/v3/orders/{order_id}", "count": 1, "status": 503}})

    def deliver_platform_change(self) -> list[int]:
        """The owner completes the order on the store at the same moment: order.updated."""
        after = self.last_inbox_id()
        self.sandbox.control("POST", f"/stores/{self.slug}/orders/{self.store_order}/complete",
                             json={})
        self.sandbox.drain()
        return self.inbox_since("order.updated", after)

    def fulfill_on_platform(self) -> None:
        """The owner marks the order completed on the store (WooCommerce's fulfillment)."""
        assert self.deliver_platform_change()


# --- the manual channel: the book -------------------------------------------------------

class ManualChannel(Harness):
    """A manual channel (tests/contract/manual.py) whose one location, "the shelf", is
    mapped to our Warehouse (5 in stock); an order of 2 entered by hand."""

    platform = "manual"

    def __init__(self, app):
        register_handlers((ManualAdapter(),))  # the real ones are registered by create_app
        SHIPPED.clear()
        UNREACHABLE.clear()
        merchant = make_merchant()
        location, item = make_location(merchant, "Warehouse"), make_item(merchant)
        stock(location, item, 5)
        channel = make_channel(merchant, ManualAdapter.platform)
        db.session.add(ChannelLocation(merchant_id=merchant.id, channel_id=channel.id,
                                       remote_id="shelf", name="The shelf",
                                       stock_location_id=location.id))
        order = make_order(channel, [(item, UNITS)])
        order_id, location_id = order.id, location.id
        db.session.commit()
        super().__init__(app, order_id, location_id)

    def run_worker(self, *, until=None, timeout: float = 15.0) -> None:
        run_worker_until(self.app, until=until, timeout=timeout, idle_passes=3, pause=0.02)

    def _entries(self) -> dict[str, dict]:
        return {key: entry for key, entry in SHIPPED.items()
                if entry["order"] == self.order_remote_id}

    def remote_fulfillment(self, fulfillment_id: int) -> RemoteFulfillment | None:
        remote_id = self.remote_id(fulfillment_id)
        if remote_id is None:
            return None
        entry = SHIPPED.get(remote_id)
        if entry is None:
            return NOT_HELD  # struck from the book
        return RemoteFulfillment(live=True, lines=dict(entry["lines"]),
                                 tracking=(entry["tracking"],))

    def shipments_on_platform(self) -> int:
        return len(self._entries())

    def created_note(self, fulfillment_id: int) -> str:
        return f"written in the book as manual:{fulfillment_id}"

    def lose_next_push(self) -> None:
        UNREACHABLE.append("the book is out of reach")

    def deliver_platform_change(self) -> list[int]:
        """A shipment of the order noted by hand (shipment.noted), through the intake."""
        release_session()
        inbox_id = store_webhook(self.app, platform=self.platform, topic="shipment.noted",
                                 dedupe_key=f"noted-{uuid.uuid4().hex}", headers={},
                                 body=b"{}", order_remote_id=self.order_remote_id,
                                 channel_id=self.channel_id)
        assert inbox_id is not None
        return [inbox_id]


    def fulfill_on_platform(self) -> None:
        """A shipment of the whole order written in the book by hand, then noted."""
        SHIPPED["hand:1"] = {"order": self.order_remote_id, "lines": {self.line_remote_id: UNITS},
                             "tracking": "SHIP-9", "topic": "by hand"}
        self.deliver_platform_change()
