"""The channel-adapter contract: what every platform implements, and its typed plans."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from app.fulfillment import Tracking
from app.sync.topics import Topic

if TYPE_CHECKING:
    from flask import Flask

    from app.sync.handlers import FailureHook, Handler, PayloadCheck
    from app.sync.schedule import Task


@dataclass(frozen=True)
class FulfillmentPlan:
    """What a fulfillment push needs, read in one short transaction before any API call.

    Platform-neutral: remote ids are the platform's own (Shopify gids, Woo numbers). An
    adapter that needs more (Shopify: the mapped remote location) adds it in its own plan
    subclass.
    """

    fulfillment_id: int
    status: str
    origin: str
    remote_id: str | None            # what an earlier push made (None: not there yet)
    order_remote_id: str
    order_name: str
    lines: Mapping[str, int]         # remote line id -> quantity of this fulfillment
    tracking: Tracking
    notify_customer: bool
    order_units: int                 # units ordered on the whole order
    order_fulfilled: bool            # every line of the order fulfilled here
    #: Remote ids of the order's other fulfillments: a retried push never adopts these.
    known_remote_ids: frozenset[str]

    @property
    def units(self) -> int:
        """Units in this fulfillment."""
        return sum(self.lines.values())


@dataclass(frozen=True)
class Skip:
    """Nothing to push, and why (shown on the Sync page as the job's note)."""

    note: str


@dataclass(frozen=True)
class PushResult:
    """What a push did on the platform: its note, and the remote id to record (if any)."""

    note: str
    remote_id: str | None = None


@dataclass(frozen=True)
class Route:
    """One outbox topic's handler for a platform, and the hook its failures call."""

    handler: Handler
    on_failure: FailureHook | None = None


@runtime_checkable
class ChannelAdapter(Protocol):
    """What a platform must do. Each method is the job handler of one outbox topic.

    The registry (app/platforms/registry.py) routes the contract's topics to these methods;
    ``jobs`` adds the platform's own (continuations, token refresh), ``inbound`` maps each
    subscribed webhook topic to the handler that turns it into domain commands. A handler
    follows app.sync.handlers.Handler's rules (no transaction across a call, never commits
    its final writes).
    """

    platform: str
    #: The outbox topic of the first import after install / connect, and of reconcile.
    import_topic: Topic
    reconcile_topic: Topic

    def init_app(self, app: Flask) -> None:
        """Install / connect: settings, the blueprint (OAuth or wc-auth, webhook intake)."""

    def subscribed_topics(self) -> frozenset[str]:
        """The webhook topics the platform is asked to deliver (toml, or the store's list)."""

    def start_import(self, job) -> str | None:
        """Import locations, listings and open orders after install / connect (resumable)."""

    def push_fulfillment(self, job) -> str | None:
        """Push a fulfillment made in Stockroom (a FulfillmentPlan) to the platform."""

    def push_cancel(self, job) -> str | None:
        """Push a cancel made in Stockroom."""

    def push_tracking(self, job) -> str | None:
        """Push changed tracking details."""

    def push_shipped(self, job) -> str | None:
        """Push the shipped status (or say the platform has none)."""

    def push_delivered(self, job) -> str | None:
        """Push the delivered status (or say the platform has none)."""

    def push_inventory(self, job) -> str | None:
        """Push the channel's stale quantities, batch by batch."""

    def reconcile(self, job) -> str | None:
        """Pull what changed since the last sync (with overlap); the sync lock holds orders."""

    def inbound(self) -> Mapping[str, Handler]:
        """Webhook topic -> the handler that translates its payload into domain commands
        (app/sync/commands.py), applied by ``apply_commands``."""

    def payload_checks(self) -> Mapping[str, PayloadCheck]:
        """Webhook topic -> the check its body must pass before its handler runs (the body
        agrees with where it was delivered: a valid HMAC alone does not prove a webhook)."""

    def jobs(self) -> Mapping[Topic, Route]:
        """The platform's other outbox jobs (continuations, refreshes)."""

    def periodic_tasks(self) -> Mapping[str, tuple[float, Task]]:
        """Periodic task name -> (every seconds, task) that enqueues due work."""


#: The contract's outbox topics and the adapter method each one runs.
CONTRACT: tuple[tuple[Topic, str], ...] = (
    (Topic.FULFILLMENT_CREATED, "push_fulfillment"),
    (Topic.FULFILLMENT_CANCELED, "push_cancel"),
    (Topic.FULFILLMENT_TRACKING_UPDATED, "push_tracking"),
    (Topic.FULFILLMENT_SHIPPED, "push_shipped"),
    (Topic.FULFILLMENT_DELIVERED, "push_delivered"),
    (Topic.INVENTORY_PUSH_REQUESTED, "push_inventory"),
)


def outbox_routes(adapter: ChannelAdapter, *, on_push_failure: FailureHook
                  ) -> dict[Topic, Route]:
    """Every outbox topic the adapter handles: the contract's, then its own jobs."""
    routes: dict[Topic, Route] = {
        adapter.import_topic: Route(adapter.start_import),
        adapter.reconcile_topic: Route(adapter.reconcile)}
    for topic, method in CONTRACT:
        hook = on_push_failure if topic.startswith("fulfillment.") else None
        routes[topic] = Route(getattr(adapter, method), hook)
    routes.update(adapter.jobs())
    return routes

