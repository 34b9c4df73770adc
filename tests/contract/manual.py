"""A third, minimal channel adapter (test-only): a "manual" channel with no platform behind it.

It proves that a platform is a matter of filling in the contract: everything common
(origin check, plan, commit, mark synced, the sync lock, inbound domain commands) comes
from app/sync/. Its "remote side" is the ``SHIPPED`` book below, what a merchant would keep
by hand; pushes write to it and ``shipment.noted`` webhooks read from it.
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from app.extensions import db
from app.fulfillment import Tracking
from app.models import Fulfillment, Order, WebhookInbox
from app.platforms.base import FulfillmentPlan, PushResult, Route, Skip
from app.sync.commands import (Command, LocationRef, RecordFulfillment, UpdateTracking,
                               apply_commands, notes_of)
from app.sync.errors import Rejected, RetryableError
from app.sync.lock import defer_while_pushing
from app.sync.push import read_plan, run_push
from app.sync.topics import Topic

PLATFORM = "manual"
#: The manual channel's book: remote id -> what it holds of a pushed fulfillment.
SHIPPED: dict[str, dict] = {}
#: Test harness: why each of the next writes to the book fails (the book is out of reach),
#: one reason a write, oldest first.
UNREACHABLE: list[str] = []


def _new(job) -> FulfillmentPlan | Skip:
    plan = read_plan(job)
    return Skip(f"already in the book as {plan.remote_id}") if plan.remote_id else plan


def _in_book(job) -> FulfillmentPlan | Skip:
    plan = read_plan(job, if_missing="not in the book")
    if isinstance(plan, Skip) or plan.remote_id not in SHIPPED:
        return Skip("not in the book")
    return plan


def _write(job, plan: FulfillmentPlan) -> PushResult:
    if UNREACHABLE:
        raise RetryableError(UNREACHABLE.pop(0))
    remote_id = plan.remote_id or f"manual:{plan.fulfillment_id}"
    SHIPPED[remote_id] = {"order": plan.order_remote_id, "lines": dict(plan.lines),
                          "tracking": plan.tracking.number, "topic": job.topic}
    return PushResult(f"written in the book as {remote_id}", remote_id)


def check_shipment(delivery) -> None:
    """A noted shipment's body is a JSON object; anything else is refused."""
    if not isinstance(delivery.payload, dict):
        raise Rejected("a noted shipment is a JSON object")


def book_commands(order: Order, known: dict[str, int]) -> list[Command]:
    """The book's shipments of ``order`` as commands (``known``: remote id -> our id)."""
    commands: list[Command] = []
    for remote_id, entry in SHIPPED.items():
        if entry["order"] != order.remote_id:
            continue
        tracking = Tracking(entry["tracking"])
        if remote_id in known:
            commands.append(UpdateTracking(known[remote_id], tracking))
        else:
            commands.append(RecordFulfillment(
                order_id=order.id, remote_id=remote_id, lines=entry["lines"],
                location=LocationRef("shelf"), tracking=tracking, happened="Noted by hand",
                unmapped_note="The shelf is not mapped: stock not adjusted."))
    return commands


def note_shipment(job) -> str:
    """Translate the book's shipments of the noted order, apply them through the core."""
    remote = db.session.scalar(select(WebhookInbox.order_remote_id).where(
        WebhookInbox.id == job.id))
    order = db.session.scalar(select(Order).where(
        Order.merchant_id == job.merchant_id, Order.channel_id == job.channel_id,
        Order.remote_id == remote))
    if order is None:
        return "no such order here"
    defer_while_pushing(order)
    known = dict(db.session.execute(select(Fulfillment.remote_id, Fulfillment.id).where(
        Fulfillment.channel_id == job.channel_id, Fulfillment.order_id == order.id,
        Fulfillment.remote_id.is_not(None))).tuples().all())
    applied = apply_commands(book_commands(order, known), merchant_id=job.merchant_id,
                             channel_id=job.channel_id)
    return notes_of(applied, otherwise="shipment noted: nothing to change")


class ManualAdapter:
    """A channel whose orders are entered by hand and whose shipments are written down."""

    platform = PLATFORM
    import_topic = Topic.CHANNEL_CONNECTED
    reconcile_topic = Topic.CHANNEL_RECONCILE_REQUESTED

    def init_app(self, app) -> None:
        """Nothing to install: no blueprint, no settings."""

    def subscribed_topics(self) -> frozenset[str]:
        """The one inbound event: an order's shipment noted by hand."""
        return frozenset({"shipment.noted"})

    def start_import(self, job) -> str:
        """Nothing to import."""
        return "manual channel: nothing to import"

    def push_fulfillment(self, job) -> str:
        """Write the shipment in the book."""
        return run_push(job, elsewhere="noted by hand: nothing to push", plan=_new,
                        send=_write)

    def push_cancel(self, job) -> str:
        """Strike the shipment from the book."""
        def strike(job, plan):
            SHIPPED.pop(plan.remote_id)
            return PushResult(f"struck {plan.remote_id} from the book")
        return run_push(job, elsewhere="canceled by hand: nothing to push", plan=_in_book,
                        send=strike)

    def push_tracking(self, job) -> str:
        """Rewrite the shipment's tracking in the book."""
        return run_push(job, elsewhere="changed by hand: nothing to push", plan=_in_book,
                        send=_write)

    def push_shipped(self, job) -> str:
        """The book has no shipment states."""
        return "the book has no shipment states: nothing to push"

    def push_delivered(self, job) -> str:
        """The book has no shipment states."""
        return self.push_shipped(job)

    def push_inventory(self, job) -> str:
        """The book holds no stock."""
        return "the book holds no stock: nothing to push"

    def reconcile(self, job) -> str:
        """Nothing to pull."""
        return "manual channel: nothing to reconcile"

    def inbound(self) -> Mapping:
        """shipment.noted: the order's shipments in the book, as domain commands: a
        shipment we wrote (our push's echo) brings its tracking, one written by hand is
        recorded as a fulfillment. Waits while a push of the order is in flight."""
        return {"shipment.noted": note_shipment}

    def payload_checks(self) -> Mapping:
        """shipment.noted must name an order (the intake stores its remote id)."""
        return {"shipment.noted": check_shipment}

    def jobs(self) -> Mapping[Topic, Route]:
        """No jobs of its own."""
        return {}

    def periodic_tasks(self) -> Mapping:
        """No periodic work."""
        return {}
