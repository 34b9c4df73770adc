"""REST v3 representations of the sandbox records, field for field as WooCommerce 9.x prints them."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sandbox.woocommerce import actions
from sandbox.woocommerce.state import (WC_VERSION, Image, Order, OrderNote, Product, Store,
                                       Tracking, Variation, Webhook, money)

TOPIC_HOOKS = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded",
                      "woocommerce_delete_order_refund"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product",
                        "woocommerce_new_product_variation"],
    "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product",
                        "woocommerce_update_product_variation"],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
}


def php_json(data: Any) -> str:
    """wp_json_encode(): compact, ASCII-only, and with escaped slashes ('\\/') like PHP."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def local_date(store: Store, when: dt.datetime | None) -> str | None:
    """A date in the site's timezone, 'Y-m-d\\TH:i:s' with no offset (date_created)."""
    return when.astimezone(store.tz).strftime("%Y-%m-%dT%H:%M:%S") if when else None


def gmt_date(when: dt.datetime | None) -> str | None:
    """The same instant in UTC, also without an offset (date_created_gmt)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") if when else None


def dates(store: Store, **named: dt.datetime | None) -> dict[str, str | None]:
    """``date_x`` and ``date_x_gmt`` for each given date."""
    out: dict[str, str | None] = {}
    for name, when in named.items():
        out[name] = local_date(store, when)
        out[f"{name}_gmt"] = gmt_date(when)
    return out


def public_meta(meta: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """meta_data hides protected keys (those starting with '_')."""
    return [m for m in meta if not str(m.get("key", "")).startswith("_")]


def links(base: str, self_path: str, collection_path: str, **extra: str) -> dict[str, Any]:
    """The _links object: self, collection and any extra relation."""
    out: dict[str, Any] = {"self": [{"href": f"{base}{self_path}", "targetHints": {
        "allow": ["GET", "POST", "PUT", "PATCH", "DELETE"]}}],
        "collection": [{"href": f"{base}{collection_path}"}]}
    for rel, path in extra.items():
        out[rel] = [{"href": f"{base}{path}"}]
    return out


# ---------------------------------------------------------------- orders

def order_data(store: Store, order: Order, rest_base: str) -> dict[str, Any]:
    """GET /wc/v3/orders/{id}."""
    data: dict[str, Any] = {
        "id": order.id, "parent_id": 0, "status": order.status, "currency": store.currency,
        "version": WC_VERSION, "prices_include_tax": False,
        **dates(store, date_created=order.date_created, date_modified=order.date_modified),
        "discount_total": "0.00", "discount_tax": "0.00",
        "shipping_total": money(order.shipping_total), "shipping_tax": "0.00",
        "cart_tax": "0.00", "total": money(order.total), "total_tax": "0.00",
        "customer_id": order.customer_id, "order_key": order.order_key,
        "billing": dict(order.billing), "shipping": dict(order.shipping),
        "payment_method": order.payment_method,
        "payment_method_title": order.payment_method_title,
        "transaction_id": order.transaction_id, "customer_ip_address": "127.0.0.1",
        "customer_user_agent": "Mozilla/5.0 (sandbox shopper)",
        "created_via": order.created_via, "customer_note": order.customer_note,
        **dates(store, date_completed=order.date_completed, date_paid=order.date_paid),
        "cart_hash": "", "number": str(order.id), "meta_data": public_meta(order.meta_data),
        "line_items": [line_item_data(i) for i in order.line_items],
        "tax_lines": [],
        "shipping_lines": [{"id": order.shipping_line_id, "method_title": order.shipping_method,
                            "method_id": "flat_rate", "instance_id": "1",
                            "total": money(order.shipping_total), "total_tax": "0.00",
                            "taxes": [], "tax_status": "taxable", "meta_data": []}],
        "fee_lines": [], "coupon_lines": [],
        "refunds": [{"id": r.id, "reason": r.reason, "total": money(-r.amount)}
                    for r in order.refunds],
        "payment_url": f"{rest_base.split('/wp-json')[0]}/checkout/order-pay/{order.id}/"
                       f"?pay_for_order=true&key={order.order_key}",
        "is_editable": order.status in ("pending", "on-hold", "auto-draft", "checkout-draft"),
        "needs_payment": order.status in ("pending", "failed") and order.total > 0,
        "needs_processing": True, "currency_symbol": store.currency_symbol,
    }
    data["_links"] = links(rest_base, f"/wc/v3/orders/{order.id}", "/wc/v3/orders")
    return data


def line_item_data(item) -> dict[str, Any]:
    """One entry of line_items."""
    total = money(item.unit_price * item.quantity)
    return {"id": item.id, "name": item.name, "product_id": item.product_id,
            "variation_id": item.variation_id, "quantity": item.quantity, "tax_class": "",
            "subtotal": total, "subtotal_tax": "0.00", "total": total, "total_tax": "0.00",
            "taxes": [], "meta_data": list(item.meta_data), "sku": item.sku,
            "price": float(item.unit_price), "image": {"id": "", "src": ""},
            "parent_name": None}


def note_data(store: Store, order: Order, note: OrderNote, rest_base: str) -> dict[str, Any]:
    """GET /wc/v3/orders/{id}/notes/{note_id}."""
    return {"id": note.id,
            "author": "system" if note.added_by == "WooCommerce" else note.added_by,
            **dates(store, date_created=note.date_created),
            "note": note.note, "customer_note": note.customer_note,
            "_links": links(rest_base, f"/wc/v3/orders/{order.id}/notes/{note.id}",
                            f"/wc/v3/orders/{order.id}/notes",
                            up=f"/wc/v3/orders/{order.id}")}


# ---------------------------------------------------------------- products

def stock_fields(item: Product | Variation) -> dict[str, Any]:
    """manage_stock / stock_quantity / stock_status / backorders."""
    return {"manage_stock": item.manage_stock,
            "stock_quantity": item.stock_quantity if item.manage_stock else None,
            "backorders": item.backorders, "backorders_allowed": item.backorders != "no",
            "backordered": False, "low_stock_amount": None}


def price_fields(store: Store, item: Product | Variation) -> dict[str, Any]:
    """price / regular_price / sale_price and friends (variable: lowest variation price)."""
    if isinstance(item, Product) and item.type == "variable":
        prices = [store.variations[v].regular_price for v in item.variation_ids
                  if v in store.variations]
        price = min(prices, key=float) if prices else ""
        regular = ""
    else:
        price = item.sale_price or item.regular_price
        regular = item.regular_price
    return {"price": price, "regular_price": regular, "sale_price": item.sale_price,
            "date_on_sale_from": None, "date_on_sale_from_gmt": None,
            "date_on_sale_to": None, "date_on_sale_to_gmt": None,
            "on_sale": bool(item.sale_price), "purchasable": bool(price)}


def image_data(store: Store, image: Image | None) -> dict[str, Any] | None:
    """An entry of ``images`` (products) or the ``image`` object (variations)."""
    if image is None:
        return None
    return {"id": image.id, **dates(store, date_created=image.date_created,
                                    date_modified=image.date_created),
            "src": image.src, "name": image.name, "alt": image.alt}


def with_overrides(store: Store, item_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Apply what a plugin filtering the REST output rewrites (Store.rest_overrides)."""
    for name, value in (store.rest_overrides.get(item_id) or {}).items():
        if value == "__remove__":
            data.pop(name, None)
        else:
            data[name] = value
    return data


def product_data(store: Store, product: Product | Variation, rest_base: str) -> dict[str, Any]:
    """GET /wc/v3/products/{id} (a variation id gives the variation in product shape)."""
    if isinstance(product, Variation):
        return with_overrides(store, product.id, variation_as_product(store, product, rest_base))
    home = rest_base.split("/wp-json")[0]
    slug = product.name.lower().replace(" ", "-")
    data = {
        "id": product.id, "name": product.name, "slug": slug,
        "permalink": f"{home}/product/{slug}/",
        **dates(store, date_created=product.date_created, date_modified=product.date_modified),
        "type": product.type, "status": product.status, "featured": False,
        "catalog_visibility": "visible", "description": "", "short_description": "",
        "sku": product.sku, **price_fields(store, product), "total_sales": product.total_sales,
        "virtual": False, "downloadable": False, "downloads": [], "download_limit": -1,
        "download_expiry": -1, "external_url": "", "button_text": "", "tax_status": "taxable",
        "tax_class": "", **stock_fields(product), "sold_individually": False,
        "weight": product.weight, "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": True, "shipping_taxable": True, "shipping_class": "",
        "shipping_class_id": 0, "reviews_allowed": True, "average_rating": "0.00",
        "rating_count": 0, "upsell_ids": [], "cross_sell_ids": [], "parent_id": 0,
        "purchase_note": "", "categories": [{"id": 15, "name": "Uncategorized",
                                              "slug": "uncategorized"}],
        "brands": [], "tags": [], "images": [image_data(store, i) for i in product.images],
        "attributes": product.attributes,
        "default_attributes": [], "variations": list(product.variation_ids),
        "grouped_products": [], "menu_order": 0, "price_html": "", "related_ids": [],
        "meta_data": public_meta(product.meta_data), "stock_status": product.stock_status,
        "has_options": product.type == "variable", "post_password": "",
        "global_unique_id": product.global_unique_id,
    }
    data["_links"] = links(rest_base, f"/wc/v3/products/{product.id}", "/wc/v3/products")
    return with_overrides(store, product.id, data)


def variation_data(store: Store, variation: Variation, rest_base: str) -> dict[str, Any]:
    """GET /wc/v3/products/{parent}/variations/{id}."""
    home = rest_base.split("/wp-json")[0]
    parent = store.products.get(variation.parent_id)
    slug = parent.name.lower().replace(" ", "-") if parent else "product"
    query = "&".join(f"attribute_{a['name'].lower()}={a['option']}" for a in variation.attributes)
    data = {
        "id": variation.id, "type": "variation",
        **dates(store, date_created=variation.date_created,
                date_modified=variation.date_modified),
        "description": "", "permalink": f"{home}/product/{slug}/?{query}",
        "sku": variation.sku, "global_unique_id": variation.global_unique_id,
        **price_fields(store, variation),
        "status": variation.status, "virtual": False, "downloadable": False, "downloads": [],
        "download_limit": -1, "download_expiry": -1, "tax_status": "taxable",
        "tax_class": "", **stock_fields(variation), "stock_status": variation.stock_status,
        "weight": "", "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "", "shipping_class_id": 0,
        "image": image_data(store, variation.image),
        "attributes": variation.attributes, "menu_order": variation.menu_order,
        "meta_data": public_meta(variation.meta_data),
        "name": actions.product_name(store, variation), "parent_id": variation.parent_id,
    }
    data["_links"] = links(
        rest_base, f"/wc/v3/products/{variation.parent_id}/variations/{variation.id}",
        f"/wc/v3/products/{variation.parent_id}/variations",
        up=f"/wc/v3/products/{variation.parent_id}")
    return with_overrides(store, variation.id, data)


def variation_as_product(store: Store, variation: Variation, rest_base: str) -> dict[str, Any]:
    """A variation read through /products/{id} (what product.updated sends for variations)."""
    data = variation_data(store, variation, rest_base)
    data.update(slug=f"{data['name'].lower().replace(' ', '-')}",
                catalog_visibility="visible", featured=False, short_description="",
                total_sales=0, categories=[], tags=[],
                images=[data["image"]] if data.get("image") else [], variations=[],
                grouped_products=[], related_ids=[], upsell_ids=[], cross_sell_ids=[])
    data["_links"] = links(rest_base, f"/wc/v3/products/{variation.id}", "/wc/v3/products",
                           up=f"/wc/v3/products/{variation.parent_id}")
    return data


# ---------------------------------------------------------------- webhooks, tracking

def webhook_data(store: Store, webhook: Webhook, rest_base: str) -> dict[str, Any]:
    """GET /wc/v3/webhooks/{id} (the secret is never printed)."""
    return {"id": webhook.id, "name": webhook.name, "status": webhook.status,
            "topic": webhook.topic, "resource": webhook.resource, "event": webhook.event,
            "hooks": TOPIC_HOOKS.get(webhook.topic, []), "delivery_url": webhook.delivery_url,
            **dates(store, date_created=webhook.date_created,
                    date_modified=webhook.date_modified),
            "_links": links(rest_base, f"/wc/v3/webhooks/{webhook.id}", "/wc/v3/webhooks")}


def tracking_data(store: Store, order: Order, tracking: Tracking, rest_base: str) -> dict[str, Any]:
    """A Shipment Tracking item as its REST controller prints it."""
    entry = actions.provider_entry(tracking.tracking_provider)
    if entry:
        provider, url_format = entry
        link = url_format.replace("%1$s", tracking.tracking_number)
    else:
        provider = tracking.custom_tracking_provider or tracking.tracking_provider
        link = tracking.custom_tracking_link.replace("%1$s", tracking.tracking_number)
    base = f"/wc-shipment-tracking/v3/orders/{order.id}/shipment-trackings"
    return {"tracking_id": tracking.tracking_id, "tracking_provider": provider,
            "tracking_link": link, "tracking_number": tracking.tracking_number,
            "date_shipped": tracking.date_shipped.strftime("%Y-%m-%d"),
            "_links": links(rest_base, f"{base}/{tracking.tracking_id}", base,
                            up=f"/wc/v3/orders/{order.id}")}
