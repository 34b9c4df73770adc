"""GraphQL objects as dicts: how shops, orders, fulfillment orders, fulfillments and inventory look
through the Admin API. Keys are schema field names; callables are resolved lazily with args."""
from __future__ import annotations

from decimal import Decimal

from . import operations
from .resolvers import connection
from .state import (Fulfillment, FulfillmentOrder, InventoryItem, Location, Order, gid, iso,
                    parse_gid)


def fo_visible(ctx, fo: FulfillmentOrder, *, write: bool = False) -> bool:
    """Shopify's FO scope split: merchant-managed vs third-party (fulfillment service) locations."""
    loc = ctx.shop.locations[fo.location_id]
    kind = "third_party" if loc.is_fulfillment_service else "merchant_managed"
    verb = "write" if write else "read"
    return ctx.can(f"{verb}_{kind}_fulfillment_orders")


def fo_scope_text(ctx, fo: FulfillmentOrder, *, write: bool) -> str:
    """The requiredAccess text for one FO's location kind."""
    loc = ctx.shop.locations[fo.location_id]
    kind = "third_party" if loc.is_fulfillment_service else "merchant_managed"
    return f"`{'write' if write else 'read'}_{kind}_fulfillment_orders` access scope."


def shop_node(ctx) -> dict:
    """Shop."""
    s = ctx.shop
    return {"__typename": "Shop", "id": gid("Shop", s.id), "name": s.name,
            "myshopifyDomain": s.domain, "email": s.email, "currencyCode": "USD",
            "ianaTimezone": s.iana_timezone,
            "plan": {"displayName": s.plan.title(), "partnerDevelopment": False,
                     "shopifyPlus": s.plan in ("plus", "enterprise")}}


def location_node(ctx, loc: Location) -> dict:
    """Location with its inventory levels."""
    shop = ctx.shop

    def levels():  # only when asked: a location node is built for every level's location
        return [(item_id, lvl) for (item_id, loc_id), lvl in shop.levels.items()
                if loc_id == loc.id]

    return {
        "__typename": "Location", "id": gid("Location", loc.id),
        "legacyResourceId": str(loc.id), "name": loc.name, "isActive": loc.active,
        "isFulfillmentService": loc.is_fulfillment_service, "fulfillsOnlineOrders": True,
        "shipsInventory": True, "createdAt": iso(loc.created_at),
        "updatedAt": iso(loc.updated_at),
        "fulfillmentService": _service_node(loc) if loc.is_fulfillment_service else None,
        "address": {"address1": loc.address1, "city": loc.city, "countryCode": loc.country_code,
                    "zip": loc.zip, "country": "Canada", "address2": None, "province": None,
                    "provinceCode": None, "phone": None},
        "inventoryLevels": lambda info, **a: connection(
            levels(), a, lambda x: level_node(ctx, x[0], loc.id), key=lambda x: x[0]),
        "inventoryLevel": lambda info, **a: _level_or_none(
            ctx, _num(a.get("inventoryItemId"), "InventoryItem"), loc.id),
    }


def _service_node(loc: Location) -> dict:
    return {"__typename": "FulfillmentService", "id": gid("FulfillmentService", loc.id),
            "handle": loc.service_handle, "serviceName": loc.name,
            "type": "THIRD_PARTY", "inventoryManagement": True,
            "callbackUrl": loc.external_url, "fulfillmentOrdersOptIn": loc.kind != "external"}


def _num(value, kind):
    return parse_gid(value, kind) if value else None


def _level_or_none(ctx, item_id, loc_id):
    return level_node(ctx, item_id, loc_id) if ctx.shop.level(item_id, loc_id) else None


def level_node(ctx, item_id: int, loc_id: int) -> dict:
    """InventoryLevel with named quantities."""
    shop = ctx.shop
    lvl = shop.level(item_id, loc_id)
    level_gid = f"gid://shopify/InventoryLevel/{loc_id}?inventory_item_id={item_id}"
    return {
        "__typename": "InventoryLevel", "id": level_gid, "isActive": True,
        "createdAt": iso(0), "updatedAt": iso(lvl.updated_at), "canDeactivate": False,
        "item": lambda info, **a: item_node(ctx, shop.items[item_id]),
        "location": lambda info, **a: location_node(ctx, shop.locations[loc_id]),
        "quantities": lambda info, **a: [
            {"__typename": "InventoryQuantity", "id": f"{level_gid}&name={n}", "name": n,
             "quantity": lvl.quantity(n), "updatedAt": iso(lvl.updated_at)}
            for n in a.get("names", [])],
    }


def item_node(ctx, item: InventoryItem) -> dict:
    """InventoryItem."""
    shop = ctx.shop
    return {
        "__typename": "InventoryItem", "id": gid("InventoryItem", item.id),
        "legacyResourceId": str(item.id), "sku": item.sku, "tracked": item.tracked,
        "requiresShipping": True, "createdAt": iso(0), "updatedAt": iso(0),
        "variant": lambda info, **a: variant_node(ctx, shop.variants[item.variant_id]),
        "inventoryLevels": lambda info, **a: connection(
            shop.item_levels(item.id), a, lambda x: level_node(ctx, item.id, x[0]),
            key=lambda x: x[0]),
        "inventoryLevel": lambda info, **a: _level_or_none(
            ctx, item.id, _num(a.get("locationId"), "Location")),
    }


def media_image_node(media_id: int, url: str, alt: str) -> dict:
    """MediaImage (ready) with its preview image: how variant and product images are read
    since ProductVariant.image and Product.featuredImage were deprecated."""
    image = {"__typename": "Image", "id": gid("ImageSource", media_id), "url": url,
             "altText": alt or None, "width": 800, "height": 800}
    return {"__typename": "MediaImage", "id": gid("MediaImage", media_id), "alt": alt or None,
            "mediaContentType": "IMAGE", "status": "READY", "image": image,
            "preview": {"__typename": "MediaPreviewImage", "image": image, "status": "READY"},
            "mediaErrors": [], "mediaWarnings": []}


def _media(image_id: int | None, url: str, alt: str) -> list[dict]:
    return [media_image_node(image_id, url, alt)] if image_id and url else []


def variant_node(ctx, v) -> dict:
    """ProductVariant (its barcode is null when the merchant left it empty, as Shopify's)."""
    shop = ctx.shop
    product = shop.products[v.product_id]
    return {
        "__typename": "ProductVariant", "id": gid("ProductVariant", v.id),
        "legacyResourceId": str(v.id), "sku": v.sku, "title": v.title, "price": v.price,
        "displayName": f"{product.title} - {v.title}", "barcode": v.barcode or None,
        "position": v.position, "createdAt": iso(v.created_at), "updatedAt": iso(v.updated_at),
        "media": lambda info, **a: connection(_media(v.image_id, v.image_url, v.title), a,
                                              lambda m: m, key=lambda m: parse_gid(
                                                  m["id"], "MediaImage")),
        "inventoryItem": lambda info, **a: item_node(ctx, shop.items[v.inventory_item_id]),
        "product": lambda info, **a: product_node(ctx, product),
    }


def product_node(ctx, p) -> dict:
    """Product."""
    shop = ctx.shop
    featured = _media(p.image_id, p.image_url, p.title)
    return {"__typename": "Product", "id": gid("Product", p.id), "title": p.title,
            "legacyResourceId": str(p.id), "handle": p.title.lower().replace(" ", "-"),
            "status": "ACTIVE", "vendor": p.vendor or shop.name,
            "createdAt": iso(p.created_at), "updatedAt": iso(p.updated_at),
            "featuredMedia": featured[0] if featured else None,
            "media": lambda info, **a: connection(featured, a, lambda m: m, key=lambda m: parse_gid(
                m["id"], "MediaImage")),
            "variants": lambda info, **a: connection(
                [shop.variants[i] for i in p.variant_ids], a, lambda v: variant_node(ctx, v))}


def _display_fulfillment_status(order: Order) -> str:
    done = sum(li.fulfilled_quantity for li in order.line_items)
    total = sum(li.quantity for li in order.line_items)
    if done == 0:
        return "UNFULFILLED"
    return "FULFILLED" if done >= total else "PARTIALLY_FULFILLED"


def order_node(ctx, order: Order) -> dict:
    """Order (fulfillment orders filtered by scope)."""
    shop = ctx.shop
    fos = [fo for fo in shop.fulfillment_orders.values()
           if fo.order_id == order.id and fo_visible(ctx, fo)]
    fuls = [f for f in shop.fulfillments.values() if f.order_id == order.id]
    return {
        "__typename": "Order", "id": gid("Order", order.id), "legacyResourceId": str(order.id),
        "name": order.name, "number": order.number - 1000, "email": order.email,
        "createdAt": iso(order.created_at), "updatedAt": iso(order.updated_at),
        "processedAt": iso(order.created_at),
        "cancelledAt": iso(order.cancelled_at) if order.cancelled_at else None,
        "cancelReason": order.cancel_reason.upper() if order.cancel_reason else None,
        "closed": order.closed_at is not None,
        "closedAt": iso(order.closed_at) if order.closed_at else None,
        "displayFulfillmentStatus": _display_fulfillment_status(order),
        "displayFinancialStatus": "PAID", "test": False, "note": None, "tags": [],
        "currencyCode": "USD",
        # No taxes, shipping or discounts in the sandbox: the total is the lines' sum.
        "totalPriceSet": _money_bag(sum(Decimal(li.price) * li.quantity
                                        for li in order.line_items)),
        "lineItems": lambda info, **a: connection(order.line_items, a,
                                                  lambda li: line_item_node(ctx, li)),
        "fulfillmentOrders": lambda info, **a: connection(
            [fo for fo in fos if a.get("displayable") is not True or fo.is_active], a,
            lambda fo: fo_node(ctx, fo)),
        # A plain list (no paging): ``first`` caps it; fulfillmentsCount says how many exist.
        "fulfillments": lambda info, **a: [fulfillment_node(ctx, f)
                                           for f in fuls[:a.get("first") or len(fuls)]],
        "fulfillmentsCount": {"__typename": "Count", "count": len(fuls), "precision": "EXACT"},
        # A plain list too (oldest first), cut by ``first``.
        "refunds": lambda info, **a: [
            refund_node(ctx, r) for r in sorted(
                (r for r in shop.refunds.values() if r.order_id == order.id),
                key=lambda r: r.id)][:a.get("first") or None],
        "returns": lambda info, **a: _order_returns(ctx, order.id, a),
        "shippingAddress": _address(order.shipping_address),
        "customer": {"__typename": "Customer", "id": gid("Customer", order.customer_id),
                     "displayName": order.customer_name},
    }


def _order_returns(ctx, order_id: int, args: dict) -> dict:
    from .returns import order_returns  # returns.py builds on these views

    return order_returns(ctx, order_id, args)


def _money_bag(amount: Decimal) -> dict:
    """MoneyBag in the shop's currency (shop and presentment money are the same here)."""
    money = {"__typename": "MoneyV2", "amount": str(amount.quantize(Decimal("0.01"))),
             "currencyCode": "USD"}
    return {"__typename": "MoneyBag", "shopMoney": money, "presentmentMoney": dict(money)}


def _address(a: dict) -> dict:
    return {"address1": a.get("address1"), "address2": a.get("address2"), "city": a.get("city"),
            "zip": a.get("zip"), "province": a.get("province"),
            "provinceCode": a.get("province_code"), "country": a.get("country"),
            "countryCodeV2": a.get("country_code"), "name": a.get("name"),
            "firstName": a.get("first_name"), "lastName": a.get("last_name"),
            "phone": a.get("phone"), "company": a.get("company")}


def line_item_node(ctx, li) -> dict:
    """LineItem."""
    shop = ctx.shop
    v = shop.variants[li.variant_id]
    status = ("fulfilled" if li.fulfilled_quantity >= li.quantity
              else "partial" if li.fulfilled_quantity else "unfulfilled")
    return {"__typename": "LineItem", "id": gid("LineItem", li.id), "title": li.title,
            "name": f"{li.title} - {v.title}", "sku": li.sku, "quantity": li.quantity,
            "currentQuantity": li.current_quantity, "variantTitle": v.title,
            "unfulfilledQuantity": li.current_quantity - li.fulfilled_quantity,
            "fulfillableQuantity": li.current_quantity - li.fulfilled_quantity,
            "fulfillmentStatus": status, "requiresShipping": True,
            "originalUnitPriceSet": _money_bag(Decimal(li.price)),
            "variant": lambda info, **a: variant_node(ctx, v)}


def fo_node(ctx, fo: FulfillmentOrder) -> dict:
    """FulfillmentOrder with supported actions."""
    shop = ctx.shop
    order = shop.orders[fo.order_id]
    loc = shop.locations[fo.location_id]
    return {
        "__typename": "FulfillmentOrder", "id": gid("FulfillmentOrder", fo.id),
        "status": fo.status, "requestStatus": fo.request_status,
        "createdAt": iso(fo.created_at), "updatedAt": iso(fo.updated_at),
        "fulfillAt": None, "fulfillBy": None, "orderId": gid("Order", order.id),
        "orderName": order.name, "orderProcessedAt": iso(order.created_at),
        "channelId": None,
        "order": lambda info, **a: order_node(ctx, order),
        "assignedLocation": {"__typename": "FulfillmentOrderAssignedLocation",
                             "name": loc.name, "address1": loc.address1, "address2": None,
                             "city": loc.city, "countryCode": loc.country_code,
                             "zip": loc.zip, "province": None, "phone": None,
                             "location": lambda info, **a: location_node(ctx, loc)},
        "destination": _destination(order),
        "supportedActions": [{"__typename": "FulfillmentOrderSupportedAction", **act}
                             for act in operations.supported_actions(shop, fo)],
        "lineItems": lambda info, **a: connection(fo.lines, a,
                                                  lambda ln: fo_line_node(ctx, ln)),
        "fulfillments": lambda info, **a: connection(
            [shop.fulfillments[i] for i in fo.fulfillment_ids], a,
            lambda f: fulfillment_node(ctx, f)),
        "fulfillmentHolds": [hold_node(h) for h in fo.holds],
        "merchantRequests": lambda info, **a: connection(
            [r for r in fo.merchant_requests if not a.get("kind") or r["kind"] == a["kind"]],
            a, _merchant_request_node, key=lambda r: r["id"]),
    }


def _merchant_request_node(r: dict) -> dict:
    return {"__typename": "FulfillmentOrderMerchantRequest",
            "id": gid("FulfillmentOrderMerchantRequest", r["id"]), "kind": r["kind"],
            "message": r["message"], "sentAt": iso(r["at"]),
            "requestOptions": {"notify_customer": r["notify"]}}


def _destination(order: Order) -> dict:
    a = order.shipping_address
    return {"__typename": "FulfillmentOrderDestination", "id": gid("FulfillmentOrderDestination",
                                                                   order.id),
            "address1": a.get("address1"), "address2": a.get("address2"),
            "city": a.get("city"), "zip": a.get("zip"), "province": a.get("province"),
            "countryCode": a.get("country_code"), "firstName": a.get("first_name"),
            "lastName": a.get("last_name"), "email": order.email, "phone": None,
            "company": None}


def hold_node(h) -> dict:
    """FulfillmentHold."""
    return {"__typename": "FulfillmentHold", "id": gid("FulfillmentHold", h.id),
            "reason": h.reason, "reasonNotes": h.reason_notes, "handle": h.handle,
            "heldByRequestingApp": True, "displayReason": h.reason.replace("_", " ").title()}


def fo_line_node(ctx, ln) -> dict:
    """FulfillmentOrderLineItem."""
    shop = ctx.shop
    li = next(li for o in shop.orders.values() for li in o.line_items if li.id == ln.line_item_id)
    v = shop.variants[li.variant_id]
    return {"__typename": "FulfillmentOrderLineItem",
            "id": gid("FulfillmentOrderLineItem", ln.id), "totalQuantity": ln.total_quantity,
            "remainingQuantity": ln.remaining_quantity, "sku": li.sku,
            "productTitle": li.title, "variantTitle": v.title,
            "inventoryItemId": gid("InventoryItem", v.inventory_item_id),
            "requiresShipping": True,
            "lineItem": lambda info, **a: line_item_node(ctx, li),
            "variant": lambda info, **a: variant_node(ctx, v)}


DISPLAY_STATUS = {"IN_TRANSIT": "IN_TRANSIT", "DELIVERED": "DELIVERED",
                  "OUT_FOR_DELIVERY": "OUT_FOR_DELIVERY", "ATTEMPTED_DELIVERY": "ATTEMPTED_DELIVERY",
                  "CONFIRMED": "CONFIRMED", "LABEL_PRINTED": "LABEL_PRINTED",
                  "LABEL_PURCHASED": "LABEL_PURCHASED", "READY_FOR_PICKUP": "READY_FOR_PICKUP",
                  "CARRIER_PICKED_UP": "CARRIER_PICKED_UP", "DELAYED": "DELAYED",
                  "FAILURE": "FAILURE"}


def fulfillment_node(ctx, f: Fulfillment) -> dict:
    """Fulfillment with tracking and events."""
    shop = ctx.shop
    order = shop.orders[f.order_id]
    display = ("CANCELED" if f.status == "CANCELLED"
               else DISPLAY_STATUS.get(f.shipment_status or "", "FULFILLED"))
    in_transit = next((e.happened_at for e in f.events if e.status == "IN_TRANSIT"), None)
    fo_ids = sorted({fl.fo_id for fl in f.lines})
    return {
        "__typename": "Fulfillment", "id": gid("Fulfillment", f.id),
        "legacyResourceId": str(f.id), "name": f.name, "status": f.status,
        "displayStatus": display, "createdAt": iso(f.created_at),
        "updatedAt": iso(f.updated_at), "totalQuantity": sum(fl.quantity for fl in f.lines),
        "deliveredAt": iso(f.delivered_at) if f.delivered_at else None,
        "inTransitAt": iso(in_transit) if in_transit else None, "estimatedDeliveryAt": None,
        "requiresShipping": True,
        "trackingInfo": lambda info, **a: [
            {"__typename": "FulfillmentTrackingInfo", "company": t.get("company"),
             "number": t.get("number"), "url": t.get("url")}
            for t in f.tracking[:a.get("first") or len(f.tracking)]],
        "location": lambda info, **a: location_node(ctx, shop.locations[f.location_id]),
        "order": lambda info, **a: order_node(ctx, order),
        "fulfillmentLineItems": lambda info, **a: connection(f.lines, a, lambda fl: {
            "__typename": "FulfillmentLineItem", "id": gid("FulfillmentLineItem", fl.id),
            "quantity": fl.quantity,
            "lineItem": lambda info, **b: line_item_node(ctx, next(
                li for li in order.line_items if li.id == fl.line_item_id))}),
        "fulfillmentOrders": lambda info, **a: connection(
            [shop.fulfillment_orders[i] for i in fo_ids], a, lambda fo: fo_node(ctx, fo)),
        "events": lambda info, **a: connection(f.events, a, event_node),
    }


def event_node(ev) -> dict:
    """FulfillmentEvent."""
    return {"__typename": "FulfillmentEvent", "id": gid("FulfillmentEvent", ev.id),
            "status": ev.status, "message": ev.message, "happenedAt": iso(ev.happened_at),
            "createdAt": iso(ev.created_at), "estimatedDeliveryAt": None}


def refund_node(ctx, refund) -> dict:
    """Refund with its refund line items (a connection)."""
    shop = ctx.shop
    order = shop.orders[refund.order_id]
    items = {li.id: li for li in order.line_items}

    def line_node(rl):
        li = items[rl.line_item_id]
        loc = shop.locations.get(rl.location_id) if rl.location_id else None
        return {"__typename": "RefundLineItem", "id": gid("RefundLineItem", rl.id),
                "quantity": rl.quantity, "restockType": rl.restock_type.upper(),
                "restocked": rl.restock_type != "no_restock",
                "priceSet": _money_bag(Decimal(li.price)),
                "subtotalSet": _money_bag(Decimal(li.price) * rl.quantity),
                "totalTaxSet": _money_bag(Decimal("0")),
                "lineItem": lambda info, **a: line_item_node(ctx, li),
                "location": (lambda info, **a: location_node(ctx, loc)) if loc else None}

    total = sum(Decimal(items[rl.line_item_id].price) * rl.quantity for rl in refund.lines)
    return {"__typename": "Refund", "id": gid("Refund", refund.id),
            "legacyResourceId": str(refund.id), "createdAt": iso(refund.created_at),
            "updatedAt": iso(refund.created_at), "processedAt": iso(refund.created_at),
            "note": refund.note, "totalRefundedSet": _money_bag(total),
            "order": lambda info, **a: order_node(ctx, order),
            "refundLineItems": lambda info, **a: connection(refund.lines, a, line_node)}
