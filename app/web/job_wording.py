"""The Sync page's jobs in a merchant's words: what each one is about (which store, order,
fulfillment) and how it went; topics, ids and handler notes stay one click away."""
from __future__ import annotations

from dataclasses import dataclass

from app.models import JobStatus
from app.sync.topics import Topic
from app.warehouse.packing import PACKED_TOPIC

_PLATFORMS = {"shopify": "Shopify", "woocommerce": "WooCommerce"}

#: Outbox topics -> what the job does: {store}; {f_ref} "fulfillment #1001-F1" ({F_ref}
#: capitalized), {o_ref} "order #1001" ({O_ref}), {of_order} " of order #1001" (see _fill).
_OUTBOX = {
    Topic.FULFILLMENT_CREATED: "Send {f_ref}{of_order} to {store}",
    Topic.FULFILLMENT_CANCELED: "Cancel {f_ref}{of_order} on {store}",
    Topic.FULFILLMENT_TRACKING_UPDATED: "Send the new tracking of {f_ref} to {store}",
    Topic.FULFILLMENT_SHIPPED: "Mark {f_ref} shipped on {store}",
    Topic.FULFILLMENT_DELIVERED: "Mark {f_ref} delivered on {store}",
    PACKED_TOPIC: "{F_ref} packed (recorded in Stockroom)",
    Topic.CHANNEL_INSTALLED: "Set up {store} after the install",
    Topic.CHANNEL_CONNECTED: "Import {store}'s products and open orders",
    Topic.CHANNEL_RECONCILE_REQUESTED: "Check {store} for changes Stockroom may have missed",
    Topic.CATALOG_REFRESH_REQUESTED: "Read {store}'s products and quantities again",
    Topic.INVENTORY_LEVELS_CHANGED: "Note a stock change for the stores",
    Topic.INVENTORY_PUSH_REQUESTED: "Send stock quantities to {store}",
    Topic.ORDER_REFUND_RECORDED: "Refund of {o_ref} recorded",
    Topic.ORDER_REFUNDS_CHANGED: "Read the refunds of {o_ref} from {store}",
    Topic.ORDER_RETURN_RECORDED: "Send the return of {o_ref} to {store}",
    Topic.WAREHOUSE_LOW_STOCK_DIGEST: "Send the low-stock email",
    Topic.SHOPIFY_IMPORT: "Import from {store} (continued)",
    Topic.SHOPIFY_CATALOG_REFRESH: "Read {store}'s products again (continued)",
    Topic.SHOPIFY_RECONCILE: "Check {store} for missed changes (continued)",
    Topic.SHOPIFY_TOKEN_REFRESH: "Renew Stockroom's access to {store}",
    Topic.WOOCOMMERCE_IMPORT: "Import from {store} (continued)",
}
#: A fulfillment change made on the platform: recorded here, nothing to send back.
_FROM_PLATFORM = {
    Topic.FULFILLMENT_CREATED: "{F_ref}{of_order} made on {store}",
    Topic.FULFILLMENT_CANCELED: "{F_ref}{of_order} canceled on {store}",
    Topic.FULFILLMENT_TRACKING_UPDATED: "Tracking of {f_ref} changed on {store}",
    Topic.FULFILLMENT_SHIPPED: "{F_ref} shipped on {store}",
    Topic.FULFILLMENT_DELIVERED: "{F_ref} delivered on {store}",
}
#: Webhook topics (Shopify's "orders/updated", WooCommerce's "order.updated") -> what the
#: store said happened.
_INBOX = {
    "orders/create": "New {o_ref}", "orders/updated": "{O_ref} changed",
    "orders/cancelled": "{O_ref} canceled", "orders/edited": "{O_ref} edited",
    "orders/delete": "{O_ref} deleted", "orders/fulfilled": "{O_ref} fulfilled",
    "orders/partially_fulfilled": "{O_ref} partly fulfilled",
    "fulfillments/create": "Fulfillment made for {o_ref}",
    "fulfillments/update": "Fulfillment of {o_ref} changed",
    "refunds/create": "Refund of {o_ref}",
    "returns/request": "Return requested for {o_ref}",
    "returns/approve": "Return of {o_ref} approved",
    "returns/close": "Return of {o_ref} closed", "returns/cancel": "Return canceled",
    "returns/decline": "Return of {o_ref} declined", "returns/process": "Return of {o_ref} processed",
    "returns/reopen": "Return of {o_ref} reopened", "returns/update": "Return of {o_ref} changed",
    "fulfillment_orders/split": "Fulfillment order of {o_ref} split",
    "fulfillment_orders/merged": "Fulfillment orders of {o_ref} merged",
    "fulfillment_orders/moved": "Fulfillment order of {o_ref} moved to another location",
    "fulfillment_orders/cancelled": "Fulfillment order of {o_ref} canceled",
    "fulfillment_orders/rescheduled": "Fulfillment order of {o_ref} rescheduled",
    "fulfillment_orders/placed_on_hold": "Fulfillment order of {o_ref} put on hold",
    "fulfillment_orders/hold_released": "Hold on a fulfillment order of {o_ref} released",
    "fulfillment_holds/added": "Hold added to a fulfillment order of {o_ref}",
    "fulfillment_holds/released": "Hold on a fulfillment order of {o_ref} released",
    "fulfillment_orders/fulfillment_request_accepted": "The fulfillment service accepted the request for {o_ref}",
    "fulfillment_orders/fulfillment_request_rejected": "The fulfillment service rejected the request for {o_ref}",
    "fulfillment_orders/cancellation_request_accepted": "The fulfillment service accepted canceling {o_ref}",
    "fulfillment_orders/cancellation_request_rejected": "The fulfillment service refused canceling {o_ref}",
    "app/uninstalled": "Stockroom was uninstalled", "app/scopes_update": "Stockroom's access changed",
    "bulk_operations/finish": "A bulk export Stockroom asked for finished",
    "locations/create": "Location added", "locations/update": "Location changed",
    "locations/delete": "Location deleted", "locations/activate": "Location reactivated",
    "locations/deactivate": "Location deactivated",
    "products/create": "Product added", "products/update": "Product changed",
    "products/delete": "Product deleted",
    "customers/data_request": "A customer asked for their data",
    "customers/redact": "A customer's data must be erased",
    "shop/redact": "The shop's data must be erased",
    "order.created": "New {o_ref}", "order.updated": "{O_ref} changed",
    "order.deleted": "{O_ref} deleted", "order.restored": "{O_ref} restored",
    "product.created": "Product added", "product.updated": "Product changed",
    "product.deleted": "Product deleted", "product.restored": "Product restored",
}


@dataclass(frozen=True)
class JobContext:
    """Names of what a page of jobs refers to, read in one go (app/web/read_models/sync.py)."""

    stores: dict[int, tuple[str, str]]  # channel id -> (name, platform)
    orders: dict[int, str]  # order id -> "#1001"
    orders_by_remote: dict[tuple[int, str], tuple[int, str]]  # (channel, remote) -> (id, name)
    fulfillments: dict[int, str]  # fulfillment id -> "#1001-F1"


@dataclass(frozen=True)
class JobLine:
    """One row of the Sync page, in words."""

    what: str
    order_id: int | None  # linked when the order is known here
    outcome: str
    is_error: bool


def _store(ctx: JobContext, channel_id: int | None) -> str:
    name, platform = ctx.stores.get(channel_id, ("", ""))
    return name or _PLATFORMS.get(platform, "the store")


def _fill(template: str, *, store: str, order: str, fulfillment: str) -> str:
    """The template with the names known here ("a fulfillment", "an order" when not)."""
    f_ref = f"fulfillment {fulfillment}" if fulfillment else "a fulfillment"
    o_ref = f"order {order}" if order else "an order"
    return template.format(store=store, f_ref=f_ref, F_ref=f_ref[0].upper() + f_ref[1:],
                           o_ref=o_ref, O_ref=o_ref[0].upper() + o_ref[1:],
                           of_order=f" of order {order}" if order else "")


def outbox_line(job, ctx: JobContext) -> JobLine:
    """An outbox job: what it sends (or records) and how it went."""
    payload = job.payload or {}
    fulfillment = ctx.fulfillments.get(payload.get("fulfillment_id"), "")
    order = ctx.orders.get(job.order_id, "")
    templates = _FROM_PLATFORM if payload.get("source") == "platform" else {}
    template = templates.get(job.topic) or _OUTBOX.get(job.topic)
    store = _store(ctx, job.channel_id)
    what = (_fill(template, store=store, order=order, fulfillment=fulfillment) if template
            else job.topic.replace(".", ": ").replace("_", " ").capitalize())
    return JobLine(what, job.order_id if order else None, *_outcome(job))


def inbox_line(job, ctx: JobContext) -> JobLine:
    """A webhook delivery: what the store said happened, and whether it was applied."""
    store = _store(ctx, job.channel_id)
    order_id, order = ctx.orders_by_remote.get((job.channel_id, job.order_remote_id or ""),
                                               (None, ""))
    return JobLine(webhook_words(job.topic, order, store), order_id,
                   *_outcome(job, inbound=True))


def _attempts(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


def _outcome(job, *, inbound: bool = False) -> tuple[str, bool]:
    status, error = job.status, (job.last_error or "").strip()
    if status == JobStatus.DONE:
        return ("Applied" if inbound else "Done"), False
    if status == JobStatus.IGNORED:
        return "Nothing to change", False
    if status == JobStatus.DISCARDED:
        return "Discarded: it will not be " + ("applied" if inbound else "sent"), False
    if status == JobStatus.REJECTED:
        return f"Not applied: {error}", True
    if status == JobStatus.DEAD:
        return f"Gave up after {_attempts(job.attempts)}: {error}", True
    if status == JobStatus.FAILED:
        return f"Failed ({_attempts(job.attempts)}), will try again: {error}", True
    if job.attempts:
        return f"Waiting to try again: {error}" if error else "Waiting to try again", False
    return ("Waiting to be applied" if inbound else "Waiting to be sent"), False


def webhook_words(topic: str, order="", store: str = "") -> str:
    """What a delivery says, "Shopify: Order #1001 changed" (the Sync page's rows and the
    order timeline's headings); ``order`` is its name or an Order, "" when unknown."""
    template = _INBOX.get(topic)
    name = order if isinstance(order, str) else getattr(order, "name", "")
    said = (_fill(template, store=store, order=name, fulfillment="") if template
            else topic.replace("/", ": ").replace("_", " ").capitalize())
    return f"{store}: {said}" if store else said
