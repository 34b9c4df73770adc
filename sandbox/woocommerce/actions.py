"""What changes a store: stock, order status transitions, notes, refunds, owner actions.

Every change that WooCommerce would save through a data store fires the hook its webhook
topic listens to; here that is ``store.events.append((resource, event, id))``. Callers hold
``Sandbox.lock``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from sandbox.woocommerce.state import (Image, LineItem, Order, OrderNote, Product, Refund,
                                       RefundItem,
                                       Store, Tracking, Variation, utcnow)

STATUS_NAMES = {"pending": "Pending payment", "processing": "Processing", "on-hold": "On hold",
                "completed": "Completed", "cancelled": "Cancelled", "refunded": "Refunded",
                "failed": "Failed", "checkout-draft": "Draft", "trash": "Trash"}
REDUCE_ON = {"processing", "completed", "on-hold"}
RESTORE_ON = {"cancelled", "pending"}
PROVIDERS = {
    "Australia": {"Australia Post": "https://auspost.com.au/mypost/track/#/details/%1$s"},
    "Canada": {"Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor=%1$s"},
    "Germany": {"DHL Intraship (DE)": "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?lang=de&idc=%1$s"},
    "United Kingdom": {"Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/%1$s",
                       "DHL": "https://www.dhl.com/content/g0/en/express/tracking.shtml?brand=DHL&AWB=%1$s"},
    "United States": {"Fedex": "https://www.fedex.com/apps/fedextrack/?action=track&action=track&tracknumbers=%1$s",
                      "UPS": "https://www.ups.com/track?loc=en_US&tracknum=%1$s",
                      "USPS": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=%1$s"},
}


class ActionError(Exception):
    """A store-owner action that cannot be done (unknown id, wrong state); carries a status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------- stock

def sync_stock_status(item: Product | Variation) -> None:
    """Managed stock decides the status: >0 in stock, else out of stock (or on backorder)."""
    if not item.manage_stock or getattr(item, "type", "simple") == "variable":
        return
    if item.stock_quantity is not None and item.stock_quantity > 0:
        item.stock_status = "instock"
    else:
        item.stock_status = "onbackorder" if item.backorders != "no" else "outofstock"


def sync_variable_stock_status(store: Store, product: Product) -> None:
    """A variable product is in stock when any variation is (WC_Product_Variable::sync)."""
    statuses = {store.variations[v].stock_status for v in product.variation_ids
                if v in store.variations}
    for status in ("instock", "onbackorder", "outofstock"):
        if status in statuses:
            product.stock_status = status
            return


def touch_product(store: Store, item: Product | Variation, *, emit: bool = True,
                  event: str = "updated") -> None:
    """Save a product or variation: date_modified, stock status, parent sync, webhook hook.

    A variation's save ends in ``wc_deferred_product_sync(parent)``: at shutdown
    ``WC_Product_Variable::sync($parent)`` saves the parent, whose data store bumps
    ``post_modified`` ("Only update post modified time to record this save event") and fires
    ``woocommerce_update_product``. So a variation change is a ``product.updated`` of the
    variation itself (``woocommerce_update_product_variation``) and one of its parent, and
    the parent shows up in ``products?modified_after``.
    """
    item.date_modified = utcnow()
    sync_stock_status(item)
    if emit:
        store.events.append(("product", event, item.id))
    if isinstance(item, Variation) and item.parent_id in store.products:
        sync_parent(store, store.products[item.parent_id], emit=emit)


def sync_parent(store: Store, parent: Product, *, emit: bool = True) -> None:
    """WC_Product_Variable::sync($parent, true): stock status, then save (product.updated)."""
    sync_variable_stock_status(store, parent)
    parent.date_modified = utcnow()
    if emit:
        store.events.append(("product", "updated", parent.id))


def formatted_name(store: Store, item: Product | Variation) -> str:
    """get_formatted_name(): 'Name (SKU)'; variations are 'Parent - Option (SKU)'."""
    return f"{product_name(store, item)} ({item.sku})" if item.sku else product_name(store, item)


def product_name(store: Store, item: Product | Variation) -> str:
    """A variation is named after its parent and its attribute options."""
    if isinstance(item, Product):
        return item.name
    parent = store.products.get(item.parent_id)
    options = ", ".join(a["option"] for a in item.attributes)
    return f"{parent.name if parent else 'Variation'} - {options}"


def adjust_order_stock(store: Store, order: Order, direction: int, *, emit: bool) -> None:
    """wc_reduce_stock_levels (-1) / wc_increase_stock_levels (+1) with their order note."""
    changes = []
    for line in order.line_items:
        item = store.find_product_or_variation(line.variation_id or line.product_id)
        if item is None or not item.manage_stock:
            continue
        old = item.stock_quantity or 0
        item.stock_quantity = old + direction * line.quantity
        touch_product(store, item, emit=emit)
        changes.append(f"{formatted_name(store, item)} {old}&rarr;{item.stock_quantity}")
    order.stock_reduced = direction < 0
    if changes:
        verb = "reduced" if direction < 0 else "increased"
        add_note(store, order, f"Stock levels {verb}: " + ", ".join(changes), customer=False,
                 when=order.date_modified)


# ---------------------------------------------------------------- orders

def line_item_for(store: Store, post_id: int, quantity: int) -> LineItem:
    """A line item for a product or variation id, priced at its regular price."""
    item = store.find_product_or_variation(post_id)
    if item is None:
        raise ActionError(f"Unknown product or variation {post_id}", 404)
    if isinstance(item, Product) and item.type == "variable":
        raise ActionError(f"Product {post_id} is variable; order one of its variations")
    is_variation = isinstance(item, Variation)
    return LineItem(store.next_item_id(), product_name(store, item),
                    item.parent_id if is_variation else item.id,
                    item.id if is_variation else 0, quantity, item.sku,
                    float(item.regular_price or 0))


def build_order(store: Store, items: list[tuple[int, int]], billing: dict[str, str],
                shipping: dict[str, str], when: dt.datetime | None = None) -> Order:
    """Insert a pending order (no hooks fired yet)."""
    when = when or utcnow()
    order = Order(store.next_post_id(), "pending", f"wc_order_{secrets.token_hex(6)}",
                  billing, shipping, [line_item_for(store, pid, qty) for pid, qty in items],
                  shipping_total=5.0, date_created=when, date_modified=when)
    order.shipping_line_id = store.next_item_id()
    store.orders[order.id] = order
    return order


def add_note(store: Store, order: Order, text: str, *, customer: bool,
             added_by: str = "WooCommerce", when: dt.datetime | None = None) -> OrderNote:
    """$order->add_order_note(): a comment, which does not save the order (no webhook)."""
    note = OrderNote(store.next_comment_id(), text, customer, added_by, when or utcnow())
    order.notes.append(note)
    return note


def move_order_to(store: Store, order: Order, status: str, *, when: dt.datetime | None = None,
                  emit: bool = True, note: str = "") -> None:
    """set_status() + save(): transition note, dates, stock reduce/restore, order.updated."""
    when = when or utcnow()
    old = order.status
    order.status = status
    order.date_modified = when
    if status in ("processing", "completed") and order.date_paid is None:
        order.date_paid = when
    if status == "completed":
        order.date_completed = when
    if old != status:
        add_note(store, order, f"{note} Order status changed from {STATUS_NAMES[old]} to "
                 f"{STATUS_NAMES[status]}.".strip(), customer=False, when=when)
    if status in REDUCE_ON and not order.stock_reduced:
        adjust_order_stock(store, order, -1, emit=emit)
    elif status in RESTORE_ON and order.stock_reduced:
        adjust_order_stock(store, order, +1, emit=emit)
    if emit:
        store.events.append(("order", "updated", order.id))


def save_order(store: Store, order: Order) -> None:
    """A plain save (woocommerce_update_order) without a status change."""
    order.date_modified = utcnow()
    store.events.append(("order", "updated", order.id))


def trash_order(store: Store, order: Order) -> None:
    """Move to trash: woocommerce_trash_order -> order.deleted."""
    order.meta_data.append({"id": store.next_item_id(), "key": "_wp_trash_meta_status",
                            "value": order.status})
    order.status = "trash"
    order.date_modified = utcnow()
    store.events.append(("order", "deleted", order.id))


def delete_order(store: Store, order: Order) -> None:
    """Delete permanently (force=true): the order is gone, order.deleted fires."""
    store.orders.pop(order.id, None)
    store.events.append(("order", "deleted", order.id))


# ---------------------------------------------------------------- owner actions

def place_order(store: Store, items: list[tuple[int, int]], billing: dict[str, str],
                shipping: dict[str, str], *, status: str = "processing",
                customer_note: str = "") -> Order:
    """A shopper checks out: order.created, then payment (processing) -> order.updated."""
    if not items:
        raise ActionError("An order needs at least one line item")
    if status not in ("pending", "processing", "on-hold", "completed"):
        raise ActionError(f"Cannot place an order as {status}")
    order = build_order(store, items, billing, shipping)
    order.customer_note = customer_note
    store.events.append(("order", "created", order.id))
    for line in order.line_items:
        product = store.products.get(line.product_id)
        if product:
            product.total_sales += line.quantity
    if status != "pending":
        if status == "processing":
            order.transaction_id = f"txn_{secrets.token_hex(6)}"
        move_order_to(store, order, status)
    return order


def complete_order(store: Store, order: Order, *, tracking: dict[str, Any] | None = None) -> Order:
    """Owner marks the order completed, optionally adding a tracking number first."""
    if order.status in ("cancelled", "refunded", "trash"):
        raise ActionError(f"Order {order.id} is {order.status}", 409)
    if tracking:
        if not store.shipment_tracking:
            raise ActionError("The Shipment Tracking extension is not installed in this store",
                              409)
        add_tracking(store, order, **tracking)
    move_order_to(store, order, "completed")
    return order


def cancel_order(store: Store, order: Order) -> Order:
    """Owner cancels: stock comes back if it was reduced."""
    if order.status in ("cancelled", "refunded", "trash"):
        raise ActionError(f"Order {order.id} is {order.status}", 409)
    move_order_to(store, order, "cancelled")
    return order


def refund_order(store: Store, order: Order, *, amount: float | None = None, reason: str = "",
                 restock: bool = False, line_items: dict[int, int] | None = None,
                 api_refund: bool = False, line_totals: dict[int, float] | None = None
                 ) -> Refund:
    """wc_create_refund(): a refund post, note, order.updated; full refund -> 'refunded'.

    ``line_items`` ({order item id: quantity}) refunds those units (amount: their total
    unless given); with ``restock`` they go back in stock as wc_restock_refunded_items does
    (per item, only what the order reduced, with its "Item #… stock increased" note).
    ``line_totals`` are the items' ``refund_total`` (default: their price).
    Without line items, ``restock`` puts the whole order's reduced stock back.
    """
    remaining = round(order.total - sum(r.amount for r in order.refunds), 2)
    items = {i.id: i for i in order.line_items}
    refund_items = []
    for item_id, qty in (line_items or {}).items():
        item = items.get(int(item_id))
        left = (item.quantity - sum(ri.quantity for r in order.refunds for ri in r.line_items
                                    if ri.refunded_item_id == item.id)) if item else 0
        if item is None or qty <= 0 or qty > left:
            raise ActionError(f"Invalid refund line item {item_id!r} (quantity {qty}, "
                              f"refundable {left})")
        total = (line_totals or {}).get(item.id, item.unit_price * int(qty))  # refund_total
        refund_items.append(RefundItem(store.next_item_id(), item.id, int(qty), round(total, 2)))
    if amount is None and refund_items:
        amount = round(sum(ri.total for ri in refund_items), 2)
    amount = remaining if amount is None else round(float(amount), 2)
    if amount < 0 or amount > remaining:  # wc_create_refund: 0 is a refund of items only
        raise ActionError(f"Invalid refund amount (remaining {remaining:.2f})")
    refund = Refund(store.next_post_id(), amount, reason, line_items=refund_items,
                    refunded_payment=api_refund)
    order.refunds.append(refund)
    if restock and refund_items:
        _restock_refunded_items(store, order, refund_items)
    elif restock and order.stock_reduced:
        adjust_order_stock(store, order, +1, emit=True)
    note = f"Refunded {store.currency_symbol}{amount:.2f}" + (f" – {reason}" if reason else "")
    add_note(store, order, note, customer=False)
    if round(remaining - amount, 2) == 0:
        move_order_to(store, order, "refunded")
    else:
        save_order(store, order)
    return refund


def _restock_refunded_items(store: Store, order: Order, refund_items: list[RefundItem]) -> None:
    """wc_restock_refunded_items(): each refunded item's units back in stock, at most what
    the order reduced (``_reduced_stock``), tallied in ``_restock_refunded_items``."""
    items = {i.id: i for i in order.line_items}
    for ri in refund_items:
        line = items[ri.refunded_item_id]
        product = store.find_product_or_variation(line.variation_id or line.product_id)
        reduced = line.quantity - _meta_int(line, "_restock_refunded_items") \
            if order.stock_reduced else 0
        qty = min(ri.quantity, reduced)
        if not qty or product is None or not product.manage_stock:
            continue
        old = product.stock_quantity or 0
        product.stock_quantity = old + qty
        touch_product(store, product)
        _set_meta(line, "_restock_refunded_items", _meta_int(line, "_restock_refunded_items") + qty)
        add_note(store, order, f"Item #{product.id} stock increased from {old} to "
                               f"{product.stock_quantity}.", customer=False)


def _meta_int(line, key: str) -> int:
    return next((int(m["value"]) for m in line.meta_data if m.get("key") == key), 0)


def _set_meta(line, key: str, value) -> None:
    for m in line.meta_data:
        if m.get("key") == key:
            m["value"] = str(value)
            return
    line.meta_data.append({"id": len(line.meta_data) + 1, "key": key, "value": str(value),
                           "display_key": key, "display_value": str(value)})


# ---------------------------------------------------------------- shipment tracking

def add_tracking(store: Store, order: Order, *, tracking_number: str,
                 tracking_provider: str = "", custom_tracking_provider: str = "",
                 custom_tracking_link: str = "", date_shipped: str | int | None = None) -> Tracking:
    """WC_Shipment_Tracking_Actions::add_tracking_item (saves order meta only: no webhook)."""
    shipped = parse_date_shipped(date_shipped, store)
    tracking_id = hashlib.md5(f"{tracking_number}{tracking_provider}{custom_tracking_provider}"
                              f"{shipped.timestamp()}{secrets.token_hex(4)}".encode()).hexdigest()
    tracking = Tracking(tracking_id, str(tracking_number), provider_slug(tracking_provider),
                        custom_tracking_provider, custom_tracking_link, shipped)
    order.trackings.append(tracking)
    return tracking


def provider_slug(name: str) -> str:
    """The extension stores the provider's sanitized title."""
    return name.strip().lower().replace(" ", "-") if name else ""


def provider_entry(slug: str) -> tuple[str, str] | None:
    """(display name, URL format) of a predefined provider slug, or None."""
    for providers in PROVIDERS.values():
        for name, url in providers.items():
            if provider_slug(name) == slug:
                return name, url
    return None


def parse_date_shipped(value: str | int | None, store: Store) -> dt.datetime:
    """date_shipped: a unix timestamp or a YYYY-MM-DD date (site time); default today."""
    if value in (None, ""):
        now = utcnow().astimezone(store.tz)
        return now.replace(hour=0, minute=0, second=0)
    if isinstance(value, int) or str(value).isdigit():
        return dt.datetime.fromtimestamp(int(value), dt.UTC).astimezone(store.tz)
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ActionError(f"Invalid date_shipped {value!r}") from exc
    return dt.datetime(day.year, day.month, day.day, tzinfo=store.tz)


# ---------------------------------------------------------------- catalog

def sku_taken(store: Store, sku: str, own_id: int = 0) -> bool:
    """wc_product_has_unique_sku() is false: another product or variation has this SKU."""
    items = list(store.products.values()) + list(store.variations.values())
    return bool(sku) and any(i.sku == sku and i.id != own_id for i in items)


def gtin_taken(store: Store, gtin: str, own_id: int = 0) -> bool:
    """wc_product_has_global_unique_id() is false (WooCommerce 9.2+ keeps GTINs unique too)."""
    items = list(store.products.values()) + list(store.variations.values())
    return bool(gtin) and any(i.global_unique_id == gtin and i.id != own_id for i in items)


def new_image(store: Store, src: str, name: str = "") -> Image:
    """An attachment post for an image URL (shares the post id sequence)."""
    return Image(store.next_post_id(), src, name or src.rsplit("/", 1)[-1])


def create_product(store: Store, *, name: str, sku: str = "", type: str = "simple",
                   regular_price: str = "", stock_quantity: int | None = None,
                   manage_stock: bool | None = None, global_unique_id: str = "",
                   image_src: str = "", attribute: str = "", status: str = "publish",
                   when=None, emit: bool = True) -> Product:
    """$product->save() of a new product: woocommerce_new_product -> product.created.

    A variable product carries no stock of its own here (manage stock at variation level).
    """
    when = when or utcnow()
    if manage_stock is None:
        manage_stock = stock_quantity is not None and type != "variable"
    product = Product(store.next_post_id(), name, sku, type=type, regular_price=regular_price,
                      manage_stock=manage_stock,
                      stock_quantity=stock_quantity if manage_stock else None, status=status,
                      global_unique_id=global_unique_id, date_created=when, date_modified=when)
    if attribute:
        product.attributes = [{"id": 0, "name": attribute, "slug": attribute.lower(),
                               "position": 0, "visible": True, "variation": True,
                               "options": []}]
    if image_src:
        product.images = [new_image(store, image_src)]
    sync_stock_status(product)
    store.products[product.id] = product
    if emit:
        store.events.append(("product", "created", product.id))
    return product


def create_variation(store: Store, parent: Product, *, option: str, sku: str = "",
                     regular_price: str = "", stock_quantity: int | None = None,
                     manage_stock: bool | None = None, global_unique_id: str = "",
                     image_src: str = "", when=None, emit: bool = True) -> Variation:
    """A new variation: woocommerce_new_product_variation -> product.created (of the
    variation), then the parent's deferred sync -> product.updated (of the parent)."""
    if parent.type != "variable":
        raise ActionError(f"Product {parent.id} is not variable")
    when = when or utcnow()
    attribute = parent.attributes[0]["name"] if parent.attributes else "Option"
    if manage_stock is None:
        manage_stock = stock_quantity is not None
    variation = Variation(store.next_post_id(), parent.id, sku, regular_price,
                          [{"id": 0, "name": attribute, "option": option}],
                          manage_stock=manage_stock,
                          stock_quantity=stock_quantity if manage_stock else None,
                          menu_order=len(parent.variation_ids),
                          global_unique_id=global_unique_id, date_created=when,
                          date_modified=when)
    if image_src:
        variation.image = new_image(store, image_src)
    if parent.attributes and option not in parent.attributes[0]["options"]:
        parent.attributes[0]["options"].append(option)
    sync_stock_status(variation)
    store.variations[variation.id] = variation
    parent.variation_ids.append(variation.id)
    if emit:
        store.events.append(("product", "created", variation.id))
    sync_parent(store, parent, emit=emit)
    return variation


def trash_product(store: Store, product: Product) -> None:
    """wp_trash_post(): status trash (kept, restorable) -> product.deleted ``{"id"}``."""
    product.meta_data.append({"id": store.next_item_id(), "key": "_wp_trash_meta_status",
                              "value": product.status})
    product.status = "trash"
    product.date_modified = utcnow()
    store.events.append(("product", "deleted", product.id))


def restore_product(store: Store, product: Product) -> None:
    """wp_untrash_post(): back to its status before trashing -> product.restored."""
    if product.status != "trash":
        raise ActionError(f"Product {product.id} is not in the trash", 409)
    before = next((m["value"] for m in reversed(product.meta_data)
                   if m["key"] == "_wp_trash_meta_status"), "draft")
    product.meta_data = [m for m in product.meta_data if m["key"] != "_wp_trash_meta_status"]
    # WordPress 5.6+ restores to draft unless the previous status is kept by a filter.
    product.status = before
    product.date_modified = utcnow()
    store.events.append(("product", "restored", product.id))


def delete_product(store: Store, product: Product) -> None:
    """Delete for good (REST ``force=true``): wp_delete_post(), which fires no product webhook
    (``product.deleted`` listens to ``wp_trash_post`` only: woocommerce#28541)."""
    for variation_id in product.variation_ids:
        store.variations.pop(variation_id, None)
    store.products.pop(product.id, None)


def delete_variation(store: Store, variation: Variation) -> None:
    """Delete a variation (always for good: variations have no trash). No webhook at all:
    ``product.deleted`` is not fired for variations (woocommerce#31620), and the parent is
    not saved (only its transients are cleared)."""
    store.variations.pop(variation.id, None)
    parent = store.products.get(variation.parent_id)
    if parent is not None and variation.id in parent.variation_ids:
        parent.variation_ids.remove(variation.id)
        sync_variable_stock_status(store, parent)
