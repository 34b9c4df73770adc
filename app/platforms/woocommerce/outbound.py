"""WooCommerce outbound: outbox pushes (Stockroom's fulfillments -> tracking entries, notes,
order statuses on the store), run by the worker."""
from __future__ import annotations

from app.fulfillment import Tracking
from app.models import FulfillmentStatus
from app.platforms.base import FulfillmentPlan, PushResult, Skip
from app.platforms.woocommerce.client import StoreClient
from app.platforms.woocommerce.connect import client_for
from app.platforms.woocommerce.mapping import (CANCELED_STATUSES, COMPLETED_META, cancel_note,
                                               completed_by_us, shipment_note, tracking_note,
                                               tracking_payload)
from app.platforms.woocommerce.sync import tracking_entries
from app.sync.push import read_plan, run_push
from app.sync.queue import Job


# --- remote ids of our pushed fulfillments -------------------------------------------

def remote_parts(remote_id: str | None) -> dict[str, str]:
    """"note:12:tracking:ab12" -> {"note": "12", "tracking": "ab12"} (our pushed shipments)."""
    parts = (remote_id or "").split(":")
    if len(parts) % 2 or parts[0] != "note":
        return {}
    return dict(zip(parts[::2], parts[1::2]))


def remote_id_of(note_id: str | int, tracking_id: str | None) -> str:
    """The remote id recording what a push created on the store."""
    return f"note:{note_id}" + (f":tracking:{tracking_id}" if tracking_id else "")


# --- outbox: Stockroom -> WooCommerce fulfillments ------------------------------------

def _add_tracking(client: StoreClient, order: str, tracking: Tracking) -> str | None:
    """The tracking entry (reused when a retried push already made it); None without the
    extension or a tracking number."""
    if not tracking.number:
        return None
    entries = tracking_entries(client, order)
    if entries is None:
        return None
    for entry in entries:
        if entry.get("tracking_number") == tracking.number:
            return str(entry["tracking_id"])
    created = client.post(f"orders/{order}/shipment-trackings", tracking_payload(tracking),
                          version="wc-shipment-tracking/v3",
                          what=f"adding tracking {tracking.number}")
    return str(created["tracking_id"])


def _add_note(client: StoreClient, order: str, text: str, *, known: frozenset[str],
              after: int = 0) -> int:
    """A customer-visible note; a retried push reuses its own identical note."""
    claimed = {remote_parts(r).get("note") for r in known}
    for note in client.get(f"orders/{order}/notes", params={"type": "customer"},
                           what=f"reading the notes of order {order}"):
        if note.get("note") == text and str(note["id"]) not in claimed and note["id"] > after:
            return int(note["id"])
    created = client.post(f"orders/{order}/notes", {"note": text, "customer_note": True},
                          what="adding the customer note")
    return int(created["id"])


def _set_status(client: StoreClient, order: str, status: str, marker: str) -> None:
    client.put(f"orders/{order}", {"status": status, "meta_data": [
        {"key": COMPLETED_META, "value": marker}]}, what=f"setting order {order} to {status}")


def push_fulfillment(job: Job) -> str:
    """Tracking entry (when the extension is there), a customer note, and `completed` once
    every line is fulfilled here."""
    return run_push(job, elsewhere="made on the store: nothing to push", plan=_create_plan,
                    send=_create)


def _create_plan(job: Job) -> FulfillmentPlan | Skip:
    plan = read_plan(job)
    if plan.remote_id:
        return Skip(f"already on the store ({plan.remote_id})")
    if plan.status == FulfillmentStatus.CANCELED:
        return Skip("canceled before it reached the store: nothing to push")
    return plan


def _create(job: Job, plan: FulfillmentPlan) -> PushResult:
    client = client_for(job.channel_id)
    order, tracking = plan.order_remote_id, plan.tracking
    tracking_id = _add_tracking(client, order, tracking)
    text = shipment_note(units=plan.units, total_units=plan.order_units, tracking=tracking,
                         all_shipped=plan.order_fulfilled)
    note_id = _add_note(client, order, text, known=plan.known_remote_ids)
    completed = ""
    if plan.order_fulfilled:
        current = client.get(f"orders/{order}", what=f"reading order {order}")
        if current["status"] not in ("completed", *CANCELED_STATUSES):
            _set_status(client, order, "completed", "yes")
            completed = "; order completed"
    return PushResult(f"note {note_id} added to {plan.order_name}"
                      + (f", tracking {tracking.number}" if tracking_id else "") + completed,
                      remote_id_of(note_id, tracking_id))


def _pushed(not_there: str, made_there: str | None = None):
    """A plan step for pushes to a fulfillment an earlier push made on the store."""
    def plan(job: Job) -> FulfillmentPlan | Skip:
        planned = read_plan(job)
        if not remote_parts(planned.remote_id):
            return Skip(made_there if planned.remote_id and made_there else not_there)
        return planned
    return plan


def push_cancel(job: Job) -> str:
    """Remove our tracking entry, tell the customer, and reopen (processing) an order we
    had completed."""
    return run_push(job, elsewhere="canceled on the store: nothing to push",
                    plan=_pushed("never reached the store: nothing to cancel there",
                                 "made on the store: canceled in Stockroom only"),
                    send=_cancel)


def _cancel(job: Job, plan: FulfillmentPlan) -> PushResult:
    parts = remote_parts(plan.remote_id)
    client = client_for(job.channel_id)
    order = plan.order_remote_id
    if parts.get("tracking"):
        _delete_tracking(client, order, parts["tracking"])
    _add_note(client, order, cancel_note(units=plan.units, tracking=plan.tracking),
              known=plan.known_remote_ids, after=int(parts["note"]))
    current = client.get(f"orders/{order}", what=f"reading order {order}")
    reopened = ""
    if current["status"] == "completed" and completed_by_us(current):
        _set_status(client, order, "processing", "")
        reopened = "; order back to processing"
    return PushResult(f"cancel noted on {plan.order_name}" + reopened)


def _delete_tracking(client: StoreClient, order: str, tracking_id: str) -> None:
    from app.platforms.woocommerce.client import WooError

    try:
        client.delete(f"orders/{order}/shipment-trackings/{tracking_id}",
                      version="wc-shipment-tracking/v3", what="removing the tracking entry")
    except WooError as exc:
        if exc.status != 404:
            raise  # gone already (or the extension removed): nothing left to delete


def push_tracking(job: Job) -> str:
    """Replace our tracking entry and tell the customer the new tracking details."""
    return run_push(job, elsewhere="changed on the store: nothing to push",
                    plan=_pushed("not on the store yet: the create push carries the tracking"),
                    send=_update_tracking)


def _update_tracking(job: Job, plan: FulfillmentPlan) -> PushResult:
    parts = remote_parts(plan.remote_id)
    client = client_for(job.channel_id)
    order, tracking = plan.order_remote_id, plan.tracking
    if parts.get("tracking"):
        _delete_tracking(client, order, parts["tracking"])
    tracking_id = _add_tracking(client, order, tracking)
    _add_note(client, order, tracking_note(tracking), known=plan.known_remote_ids,
              after=int(parts["note"]))
    return PushResult(f"tracking of {plan.order_name} updated",
                      remote_id_of(parts["note"], tracking_id))


def push_shipment_state(job: Job) -> str:
    """WooCommerce orders have no shipment states: nothing to push."""
    return "WooCommerce has no shipment states: nothing to push"
