"""Translate WooCommerce REST JSON into domain dataclasses, and our shipments into Woo's words."""
from __future__ import annotations

import datetime as dt

from app.fulfillment import Tracking
from app.orders.upsert import LineData, OrderData

#: Orders worth importing: paid and waiting to ship (on-hold: awaiting payment check).
OPEN_STATUSES = ("processing", "on-hold")
#: A store order in one of these is canceled for Stockroom: nothing left to fulfill.
CANCELED_STATUSES = ("cancelled", "refunded", "failed", "trash")
#: Shipment Tracking's predefined providers, by the lower-cased name Stockroom may use.
PROVIDERS = {"ups": "UPS", "usps": "USPS", "fedex": "Fedex", "dhl": "DHL",
             "dhl express": "DHL", "royal mail": "Royal Mail", "canada post": "Canada Post",
             "australia post": "Australia Post"}
#: Public order meta marking an order Stockroom itself set to completed.
COMPLETED_META = "stockroom_completed"


def parse_gmt(value: str | None) -> dt.datetime | None:
    """``date_x_gmt`` ("2026-11-01T09:00:00", no offset, UTC) -> aware datetime."""
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def gmt_string(when: dt.datetime) -> str:
    """An aware datetime as WooCommerce's GMT query format (use with dates_are_gmt=true)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def order_data(order: dict) -> OrderData:
    """GET orders/{id} -> OrderData."""
    lines = [LineData(remote_id=str(li["id"]), quantity=int(li["quantity"]),
                      sku=li.get("sku") or "", title=li.get("name") or "",
                      remote_variant_id=str(li.get("variation_id") or li.get("product_id") or "")
                      or None)
             for li in order.get("line_items") or []]
    modified = parse_gmt(order.get("date_modified_gmt"))
    canceled = order.get("status") in CANCELED_STATUSES
    return OrderData(
        remote_id=str(order["id"]), name=f"#{order.get('number') or order['id']}",
        placed_at=parse_gmt(order.get("date_created_gmt")) or modified, lines=lines,
        customer_name=_customer_name(order),
        customer_email=(order.get("billing") or {}).get("email") or "",
        currency=order.get("currency") or "USD", total_price=str(order.get("total") or "0.00"),
        cancelled_at=(modified if canceled else None), remote_updated_at=modified)


def _customer_name(order: dict) -> str:
    for address in (order.get("shipping") or {}, order.get("billing") or {}):
        name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
        if name:
            return name
    return ""


def completed_by_us(order: dict) -> bool:
    """True while the order carries our completion marker."""
    return any(m.get("key") == COMPLETED_META and m.get("value") == "yes"
               for m in order.get("meta_data") or [])


def tracking_payload(tracking: Tracking) -> dict:
    """The Shipment Tracking extension's POST body for our tracking details."""
    body = {"tracking_number": tracking.number}
    provider = PROVIDERS.get(tracking.company.strip().lower())
    if provider:
        body["tracking_provider"] = provider
    else:
        body["custom_tracking_provider"] = tracking.company or "Carrier"
        if tracking.url:
            body["custom_tracking_link"] = tracking.url
    return body


def tracking_from_entries(entries: list[dict]) -> Tracking:
    """The newest Shipment Tracking entry as our Tracking (empty when there is none)."""
    if not entries:
        return Tracking()
    entry = entries[-1]
    return Tracking(str(entry.get("tracking_number") or ""),
                    str(entry.get("tracking_provider") or entry.get("custom_tracking_provider")
                        or ""), str(entry.get("tracking_link") or ""))


def _items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n} items"


def shipment_note(*, units: int, total_units: int, tracking: Tracking, all_shipped: bool) -> str:
    """The customer-visible note of one shipment.

    "2 of 3 items shipped via UPS, tracking 1Z…: https://…" — the tracking parts only
    when known; "All 3 items have now shipped." when this completes the order.
    """
    text = f"{units} of {_items(total_units)} shipped"
    if tracking.company:
        text += f" via {tracking.company}"
    if tracking.number:
        text += f", tracking {tracking.number}"
    if tracking.url:
        text += f": {tracking.url}"
    text += "."
    if all_shipped and units != total_units:
        text += f" All {_items(total_units)} have now shipped."
    return text


def cancel_note(*, units: int, tracking: Tracking) -> str:
    """The customer-visible note when a shipment is canceled."""
    text = f"Shipment of {_items(units)} canceled"
    if tracking.number:
        text += f" (tracking {tracking.number} no longer applies)"
    return text + "."


def tracking_note(tracking: Tracking) -> str:
    """The customer-visible note when tracking details change."""
    text = "Tracking updated:"
    if tracking.company:
        text += f" {tracking.company}"
    if tracking.number:
        text += f" {tracking.number}"
    if tracking.url:
        text += f": {tracking.url}"
    return text + "."
