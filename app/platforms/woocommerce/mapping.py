"""Translate WooCommerce REST JSON into domain dataclasses, and our shipments into Woo's words."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.catalog import RemoteLevel, RemoteVariant
from app.fulfillment import Tracking
from app.orders.upsert import LineData, OrderData
from app.sync.commands import LocationRef, RecordFulfillment

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
#: A store's one location (WooCommerce core keeps one stock count per product).
STORE_LOCATION_ID = "store"


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


def store_completion(order_id: int, order: dict, tracking: Tracking) -> RecordFulfillment:
    """An order completed on the store (not by us) as a fulfillment here of every unit still
    unshipped, taken at the store's mapped location; once per completion (its remote id
    carries date_completed)."""
    completed = order.get("date_completed_gmt") or order.get("date_modified_gmt")
    return RecordFulfillment(
        order_id=order_id, remote_id=f"completed:{order['id']}:{completed}", lines=None,
        location=LocationRef(STORE_LOCATION_ID, kind="store"), tracking=tracking,
        happened="Completed on the store",
        unmapped_note="The store is not mapped to a stock location: stock not adjusted.")


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


# --- catalog -------------------------------------------------------------------------

#: Product types that are listings themselves (a variable product's variations are; the
#: variable parent, grouped and external products carry no stock of their own).
LISTED_TYPES = ("simple", "variation")


@dataclass(frozen=True)
class StoreStock:
    """A listing's stock as the store reports it: None while ``manage_stock`` is off."""

    quantity: int | None
    problem: str = ""


def store_stock(data: dict) -> StoreStock:
    """``manage_stock`` / ``stock_quantity`` -> the quantity, or why it can't be read.

    WooCommerce prints an integer (negative when oversold); a plugin filtering the REST
    output may print anything, which is reported on the listing instead of guessed.
    """
    if data.get("manage_stock") is False or data.get("manage_stock") == "parent":
        return StoreStock(None)  # "parent": the variation's stock is the parent's (unlisted)
    quantity = data.get("stock_quantity")
    if quantity is None:
        return StoreStock(None) if data.get("manage_stock") is not True else \
            StoreStock(None, "stock is managed but the store sent no stock_quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) \
            or quantity != int(quantity):
        return StoreStock(None, f"stock_quantity is {str(quantity)[:40]!r}, not a whole number")
    return StoreStock(int(quantity))


def _image_url(data: dict) -> str:
    image = data.get("image")
    if isinstance(image, dict) and image.get("src"):
        return str(image["src"])
    images = data.get("images")
    if isinstance(images, list) and images and isinstance(images[0], dict):
        return str(images[0].get("src") or "")
    return ""


def _text(value, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


#: Where barcode plugins kept a product's GTIN/EAN/UPC before WooCommerce 9.2's own field
#: (and on stores that still run them), by preference: EAN for WooCommerce, Product GTIN
#: (EAN, UPC, ISBN) for WooCommerce, WooCommerce UPC, EAN, and ISBN, Germanized, ATUM and
#: the plain keys shops add by hand. Compared case-blind.
BARCODE_META_KEYS = ("_alg_ean", "_wpm_gtin_code", "hwp_product_gtin", "hwp_var_gtin",
                     "_ts_gtin", "_barcode", "barcode", "_gtin", "gtin", "_ean", "ean",
                     "_upc", "upc")


def barcode_of(data: dict) -> str:
    """``global_unique_id`` when set, else the first barcode meta entry with text in it."""
    own = _text(data.get("global_unique_id"), 64)
    if own:
        return own
    found = {}
    for entry in data.get("meta_data") or []:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            value = entry.get("value")
            text = _text(str(value) if isinstance(value, int) and not isinstance(value, bool)
                         else value, 64)
            if text:
                found.setdefault(entry["key"].lower(), text)
    return next((found[key] for key in BARCODE_META_KEYS if key in found), "")


def remote_variant(data: dict, parent: dict | None = None) -> tuple[RemoteVariant, StoreStock]:
    """A simple product, or a variation of ``parent``, as a listing with its stock.

    barcode = ``global_unique_id`` (GTIN/UPC/EAN/ISBN, WooCommerce 9.2+), else a barcode
    plugin's meta entry (BARCODE_META_KEYS); the image is the
    variation's own, else its parent's first. Malformed data (no id, a non-text SKU, a
    stock that is not a number) becomes ``problem``: listed, never matched.
    """
    problems = []
    raw_id = data.get("id")
    valid_id = isinstance(raw_id, int) and not isinstance(raw_id, bool) and raw_id > 0
    parent_id = (parent or {}).get("id") if parent else None
    sku = data.get("sku")
    if sku is not None and not isinstance(sku, str):
        problems.append(f"the SKU is {str(sku)[:40]!r}, not text")
    name = _text(data.get("name"), 400)
    if parent is not None:
        options = ", ".join(str(a.get("option")) for a in data.get("attributes") or []
                            if isinstance(a, dict))
        name = f"{_text(parent.get('name'), 300)} — {options}".strip(" —")
    elif data.get("type") == "variation" and data.get("parent_id"):
        parent_id = data["parent_id"]  # a variation read on its own (products/{id})
    if not valid_id:
        problems.append(f"the store sent no valid id ({str(raw_id)[:40]!r})")
        key = _text(sku, 200) or name or "unnamed"
        variant_id = f"invalid:{parent_id or ''}:{key}"[:255]
    else:
        variant_id = str(raw_id)
    stock = store_stock(data)
    if stock.problem:
        problems.append(stock.problem)
    product_id = str(parent_id) if parent_id else variant_id
    variant = RemoteVariant(
        remote_variant_id=variant_id, remote_product_id=product_id,
        remote_inventory_item_id=variant_id if valid_id else None,
        sku=sku if isinstance(sku, str) else "", title=name or _text(sku, 200),
        barcode=barcode_of(data),
        image_url=_text(_image_url(data) or (_image_url(parent) if parent else ""), 2048),
        problem="; ".join(problems))
    return variant, stock


def remote_level(variant: RemoteVariant, stock: StoreStock, committed: int,
                 location_remote_id: str) -> RemoteLevel | None:
    """The store's quantities of a listing at its one location (None for a problem listing).

    available = ``stock_quantity`` (what the store sells); committed = units of its open
    orders not yet fulfilled (WooCommerce took them off ``stock_quantity`` when paid);
    on_hand = both. All None while the store does not manage the stock.
    """
    if variant.problem:
        return None
    if stock.quantity is None:
        return RemoteLevel(variant.remote_variant_id, location_remote_id, None, None, None)
    return RemoteLevel(variant.remote_variant_id, location_remote_id,
                       on_hand=stock.quantity + committed, available=stock.quantity,
                       committed=committed)


def open_units(order: dict, fulfilled: dict[tuple[str, str], int]) -> dict[str, int]:
    """Units of one open store order still to ship, by listing (variation, else product) id.

    ``fulfilled``: what Stockroom already fulfilled of each (order id, line id).
    """
    units: dict[str, int] = {}
    for line in order.get("line_items") or []:
        listing = line.get("variation_id") or line.get("product_id")
        quantity = line.get("quantity")
        if not listing or not isinstance(quantity, int):
            continue
        left = quantity - fulfilled.get((str(order.get("id")), str(line.get("id"))), 0)
        if left > 0:
            units[str(listing)] = units.get(str(listing), 0) + left
    return units
