"""REST-format webhook payloads (orders, fulfillments, fulfillment orders, inventory levels, shop).

Shapes follow Shopify's published examples (vendor/shopify/webhooks/); keys the sandbox has no
data for are filled from the topic's JSON schema by :func:`complete_required` (null / [] / false).
"""
from __future__ import annotations

from pathlib import Path

from .reference import webhook_payload_schema
from .state import Fulfillment, FulfillmentOrder, Order, Shop, gid, iso


def money(amount: str, currency: str = "USD") -> dict:
    """A Shopify MoneyBag in REST form."""
    m = {"amount": amount, "currency_code": currency}
    return {"shop_money": m, "presentment_money": dict(m)}


def _order_fulfillment_status(shop: Shop, order: Order) -> str | None:
    done = sum(li.fulfilled_quantity for li in order.line_items)
    total = sum(li.quantity for li in order.line_items)
    if done == 0:
        return None
    return "fulfilled" if done >= total else "partial"


def line_item_payload(shop: Shop, order: Order, li, quantity: int | None = None) -> dict:
    """One order line item as REST payloads print it."""
    v = shop.variants[li.variant_id]
    qty = li.quantity if quantity is None else quantity
    status = None
    if li.fulfilled_quantity >= li.quantity:
        status = "fulfilled"
    elif li.fulfilled_quantity:
        status = "partial"
    return {
        "id": li.id, "admin_graphql_api_id": gid("LineItem", li.id), "variant_id": v.id,
        "product_id": v.product_id, "title": li.title, "variant_title": v.title,
        "name": f"{li.title} - {v.title}", "sku": li.sku, "vendor": shop.name, "quantity": qty,
        "current_quantity": li.quantity, "fulfillable_quantity": li.quantity - li.fulfilled_quantity,
        "fulfillment_service": "manual", "fulfillment_status": status, "requires_shipping": True,
        "taxable": True, "gift_card": False, "grams": v.grams, "price": li.price,
        "price_set": money(li.price), "total_discount": "0.00", "total_discount_set": money("0.00"),
        "discount_allocations": [], "duties": [], "tax_lines": [], "properties": [],
        "product_exists": True, "variant_inventory_management": "shopify",
        "attributed_staffs": [], "sales_line_item_group_id": None,
    }


def order_payload(shop: Shop, order: Order) -> dict:
    """The orders/* payload (REST Order resource)."""
    total = f"{sum(float(li.price) * li.quantity for li in order.line_items):.2f}"
    first, last = (order.customer_name.split(" ", 1) + [""])[:2]
    return {
        "id": order.id, "admin_graphql_api_id": gid("Order", order.id), "name": order.name,
        "number": order.number - 1000, "order_number": order.number, "email": order.email,
        "contact_email": order.email, "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at), "processed_at": iso(order.created_at),
        "cancelled_at": iso(order.cancelled_at) if order.cancelled_at else None,
        "cancel_reason": order.cancel_reason,
        "closed_at": iso(order.closed_at) if order.closed_at else None,
        "currency": "USD", "presentment_currency": "USD", "financial_status": "paid",
        "fulfillment_status": _order_fulfillment_status(shop, order), "confirmed": True,
        "test": False, "token": order.token, "source_name": "web", "tags": "", "note": None,
        "note_attributes": [], "total_price": total, "total_price_set": money(total),
        "subtotal_price": total, "subtotal_price_set": money(total),
        "total_line_items_price": total, "total_line_items_price_set": money(total),
        "current_total_price": total, "current_total_price_set": money(total),
        "current_subtotal_price": total, "current_subtotal_price_set": money(total),
        "total_discounts": "0.00", "total_discounts_set": money("0.00"),
        "current_total_discounts": "0.00", "current_total_discounts_set": money("0.00"),
        "total_tax": "0.00", "total_tax_set": money("0.00"), "current_total_tax": "0.00",
        "current_total_tax_set": money("0.00"), "total_shipping_price_set": money("0.00"),
        "current_shipping_price_set": money("0.00"), "total_outstanding": "0.00",
        "total_tip_received": "0.00", "taxes_included": False, "tax_exempt": False,
        "total_weight": sum(shop.variants[li.variant_id].grams * li.quantity
                            for li in order.line_items),
        "customer": {"id": order.customer_id, "email": order.email, "first_name": first,
                     "last_name": last, "admin_graphql_api_id": gid("Customer", order.customer_id)},
        "shipping_address": dict(order.shipping_address),
        "billing_address": dict(order.shipping_address),
        "line_items": [line_item_payload(shop, order, li) for li in order.line_items],
        "fulfillments": [fulfillment_payload(shop, f) for f in shop.fulfillments.values()
                         if f.order_id == order.id],
        "shipping_lines": [], "tax_lines": [], "discount_codes": [], "discount_applications": [],
        "refunds": [], "returns": [], "line_item_groups": [], "payment_gateway_names": ["manual"],
        "order_status_url": f"https://{shop.domain}/orders/{order.token}/authenticate",
    }


def fulfillment_payload(shop: Shop, f: Fulfillment) -> dict:
    """The fulfillments/* payload (REST Fulfillment resource)."""
    order = shop.orders[f.order_id]
    by_li = {li.id: li for li in order.line_items}
    first = f.tracking[0] if f.tracking else {}
    status = {"SUCCESS": "success", "CANCELLED": "cancelled"}.get(f.status, f.status.lower())
    return {
        "id": f.id, "admin_graphql_api_id": gid("Fulfillment", f.id), "order_id": f.order_id,
        "name": f.name, "status": status, "created_at": iso(f.created_at),
        "updated_at": iso(f.updated_at), "service": "manual",
        "shipment_status": f.shipment_status.lower() if f.shipment_status else None,
        "location_id": f.location_id, "origin_address": None, "email": order.email,
        "destination": dict(order.shipping_address), "receipt": {},
        "tracking_company": first.get("company"), "tracking_number": first.get("number"),
        "tracking_numbers": [t["number"] for t in f.tracking if t.get("number")],
        "tracking_url": first.get("url"),
        "tracking_urls": [t["url"] for t in f.tracking if t.get("url")],
        "line_items": [line_item_payload(shop, order, by_li[fl.line_item_id], fl.quantity)
                       for fl in f.lines],
    }


def fo_ref(fo: FulfillmentOrder | None, *, with_request: bool = False,
           with_location: bool = False) -> dict | None:
    """A fulfillment order as the fulfillment_orders/* payloads reference it."""
    if fo is None:
        return None
    ref = {"id": gid("FulfillmentOrder", fo.id), "status": fo.status.lower()}
    if with_request:
        ref["request_status"] = fo.request_status.lower()
    if with_location:
        ref["assigned_location_id"] = gid("Location", fo.location_id)
    return ref


def hold_payload(hold) -> dict:
    """A fulfillment hold in fulfillment_orders/placed_on_hold form."""
    return {"id": gid("FulfillmentHold", hold.id), "reason": hold.reason.lower(),
            "reason_notes": hold.reason_notes, "handle": hold.handle,
            "held_by_requesting_app": False, "held_by_app": None}


def inventory_level_payload(item_id: int, location_id: int, available: int, at: float) -> dict:
    """The inventory_levels/update payload."""
    return {"inventory_item_id": item_id, "location_id": location_id, "available": available,
            "updated_at": iso(at),
            "admin_graphql_api_id":
                f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={item_id}"}


def shop_payload(shop: Shop) -> dict:
    """The app/uninstalled payload (REST Shop resource)."""
    return {"id": shop.id, "name": shop.name, "email": shop.email, "domain": shop.domain,
            "myshopify_domain": shop.domain, "plan_name": shop.plan,
            "plan_display_name": shop.plan.title(), "currency": "USD", "country_code": "CA",
            "primary_location_id": shop.primary_location().id, "shop_owner": "Merchant Owner",
            "customer_email": shop.email, "iana_timezone": "America/Toronto",
            "multi_location_enabled": True, "created_at": None, "updated_at": None}


def _empty_for(spec: dict):
    types = spec.get("type")
    types = types if isinstance(types, list) else [types]
    if "null" in types:
        return None
    if "array" in types:
        return []
    if "boolean" in types:
        return False
    return None


def complete_required(payload: dict, topic: str, schema_dir: Path) -> dict:
    """Add the topic schema's required top-level keys the sandbox has no data for."""
    schema = webhook_payload_schema(topic, schema_dir)
    if not schema:
        return payload
    props = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in payload:
            payload[key] = _empty_for(props.get(key, {}))
    return payload


def product_payload(shop: Shop, product) -> dict:
    """The products/create and products/update payload: the REST Product resource.

    Variants carry their inventory item id and barcode; since 2024-07 Shopify no longer
    sends inventory_quantity changes through here as a stock signal (inventory_levels/update
    does), so the quantity is informative only (the sum over locations, as REST printed it).
    """
    images = []
    if product.image_id and product.image_url:
        images.append({"id": product.image_id, "product_id": product.id, "position": 1,
                       "alt": None, "width": 800, "height": 800, "src": product.image_url,
                       "variant_ids": [], "created_at": iso(product.created_at),
                       "updated_at": iso(product.updated_at),
                       "admin_graphql_api_id": gid("ProductImage", product.image_id)})
    variants = []
    for pos, vid in enumerate(product.variant_ids, start=1):
        v = shop.variants[vid]
        if v.image_id and v.image_url:
            images.append({"id": v.image_id, "product_id": product.id,
                           "position": len(images) + 1, "alt": None, "width": 800,
                           "height": 800, "src": v.image_url, "variant_ids": [v.id],
                           "created_at": iso(v.created_at), "updated_at": iso(v.updated_at),
                           "admin_graphql_api_id": gid("ProductImage", v.image_id)})
        quantity = sum(lvl.available for _, lvl in shop.item_levels(v.inventory_item_id))
        variants.append({
            "id": v.id, "product_id": product.id, "title": v.title, "price": v.price,
            "position": pos, "inventory_policy": "deny", "compare_at_price": None,
            "option1": v.title, "option2": None, "option3": None,
            "created_at": iso(v.created_at), "updated_at": iso(v.updated_at),
            "taxable": True, "barcode": v.barcode or None, "sku": v.sku or "",
            "inventory_item_id": v.inventory_item_id, "inventory_quantity": quantity,
            "old_inventory_quantity": quantity, "image_id": v.image_id if v.image_url else None,
            "admin_graphql_api_id": gid("ProductVariant", v.id)})
    handle = product.title.lower().replace(" ", "-")
    return {
        "id": product.id, "admin_graphql_api_id": gid("Product", product.id),
        "title": product.title, "body_html": "", "vendor": product.vendor or shop.name,
        "product_type": "", "handle": handle, "created_at": iso(product.created_at),
        "updated_at": iso(product.updated_at), "published_at": iso(product.created_at),
        "template_suffix": None, "published_scope": "global", "tags": "", "status": "active",
        "variants": variants,
        "options": [{"id": product.id, "product_id": product.id, "name": "Title",
                     "position": 1, "values": [shop.variants[v].title
                                               for v in product.variant_ids]}],
        "images": images, "image": images[0] if images else None,
        "media": [], "variant_gids": [{"admin_graphql_api_id": gid("ProductVariant", v),
                                       "updated_at": iso(shop.variants[v].updated_at)}
                                      for v in product.variant_ids],
        "has_variants_that_requires_components": False, "category": None,
    }


def product_deleted_payload(product) -> dict:
    """The products/delete payload: only the product's REST id."""
    return {"id": product.id}
