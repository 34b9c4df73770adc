"""QueryRoot fields Stockroom reads: shop, locations, orders, fulfillment orders, fulfillments,
inventory items and levels, product variants, nodes, current app installation."""
from __future__ import annotations

import re
from datetime import datetime

from graphql import GraphQLError

from . import views
from .errors import access_denied
from .resolvers import connection, query
from .state import parse_gid

TERM = re.compile(r"(\w+):(>=|<=|>|<)?('[^']*'|\"[^\"]*\"|\S+)")


def parse_search(text: str | None) -> list[tuple[str, str, str]]:
    """Shopify search syntax, the subset the sandbox filters on: ``key:[op]value`` terms."""
    return [(k, op or "=", v.strip("'\"")) for k, op, v in TERM.findall(text or "")]


def _ts(value: str) -> float | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _compare(actual, op: str, wanted) -> bool:
    if actual is None or wanted is None:
        return False
    return {"=": actual == wanted, ">": actual > wanted, "<": actual < wanted,
            ">=": actual >= wanted, "<=": actual <= wanted}[op]


def _matches(terms, fields: dict) -> bool:
    for key, op, value in terms:
        if key not in fields:
            continue  # Shopify ignores unknown search terms
        actual = fields[key]
        if key.endswith("_at"):  # DateTime values are printed (and compared) to the second
            if not _compare(int(actual), op, _ts(value)):
                return False
        elif isinstance(actual, (int, float)) and value.lstrip("-").isdigit():
            if not _compare(actual, op, int(value)):
                return False
        elif str(actual).lower() != value.lower():
            return False
    return True


@query("shop")
def resolve_shop(ctx, info):
    """QueryRoot.shop."""
    return views.shop_node(ctx)


@query("currentAppInstallation")
def resolve_current_installation(ctx, info):
    """QueryRoot.currentAppInstallation (granted scopes)."""
    return {"__typename": "AppInstallation", "id": f"gid://shopify/AppInstallation/{ctx.app.id}",
            "accessScopes": [{"__typename": "AccessScope", "handle": s, "description": s}
                             for s in ctx.token.scopes],
            "launchUrl": ctx.app.application_url}


@query("locations")
def resolve_locations(ctx, info, **args):
    """QueryRoot.locations."""
    # Fulfillment-service locations are Shopify's "legacy" ones: listed only with includeLegacy.
    locs = [loc for loc in ctx.shop.locations.values()
            if (loc.active or args.get("includeInactive"))
            and (not loc.is_fulfillment_service or args.get("includeLegacy"))]
    terms = parse_search(args.get("query"))
    locs = [loc for loc in locs if _matches(terms, {"name": loc.name, "id": loc.id})]
    return connection(locs, args, lambda loc: views.location_node(ctx, loc))


@query("location")
def resolve_location(ctx, info, id=None):
    """QueryRoot.location (primary location without id)."""
    loc = ctx.shop.locations.get(parse_gid(id, "Location")) if id else ctx.shop.primary_location()
    return views.location_node(ctx, loc) if loc else None


def _order_fields(order) -> dict:
    return {"updated_at": order.updated_at, "created_at": order.created_at,
            "name": order.name, "id": order.id,
            "status": "cancelled" if order.cancelled_at else "open"}


@query("orders")
def resolve_orders(ctx, info, **args):
    """QueryRoot.orders with search and UPDATED_AT sort."""
    terms = parse_search(args.get("query"))
    orders = [o for o in ctx.shop.orders.values() if _matches(terms, _order_fields(o))]
    if args.get("sortKey") == "UPDATED_AT":
        orders.sort(key=lambda o: (o.updated_at, o.id))
    return connection(orders, args, lambda o: views.order_node(ctx, o))


@query("order")
def resolve_order(ctx, info, id):
    """QueryRoot.order."""
    order = ctx.shop.orders.get(parse_gid(id, "Order"))
    return views.order_node(ctx, order) if order else None


@query("fulfillmentOrders")
def resolve_fulfillment_orders(ctx, info, **args):
    """QueryRoot.fulfillmentOrders: only those the scopes cover."""
    terms = parse_search(args.get("query"))
    location_ids = args.get("locationIds")
    fos = []
    for fo in ctx.shop.fulfillment_orders.values():
        if not views.fo_visible(ctx, fo):
            continue
        if not args.get("includeClosed") and fo.status in ("CLOSED", "CANCELLED", "INCOMPLETE"):
            continue
        if location_ids and f"gid://shopify/Location/{fo.location_id}" not in location_ids:
            continue
        fields = {"status": fo.status.lower(), "request_status": fo.request_status.lower(),
                  "updated_at": fo.updated_at, "created_at": fo.created_at,
                  "assigned_location_id": fo.location_id, "order_id": fo.order_id}
        if _matches(terms, fields):
            fos.append(fo)
    return connection(fos, args, lambda fo: views.fo_node(ctx, fo))


@query("fulfillmentOrder")
def resolve_fulfillment_order(ctx, info, id):
    """QueryRoot.fulfillmentOrder (ACCESS_DENIED outside the scopes)."""
    fo = ctx.shop.fulfillment_orders.get(parse_gid(id, "FulfillmentOrder"))
    if fo is None:
        return None
    if not views.fo_visible(ctx, fo):
        raise access_denied("fulfillmentOrder", views.fo_scope_text(ctx, fo, write=False))
    return views.fo_node(ctx, fo)


@query("refund")
def resolve_refund(ctx, info, id):
    """QueryRoot.refund."""
    r = ctx.shop.refunds.get(parse_gid(id, "Refund"))
    return views.refund_node(ctx, r) if r else None


@query("fulfillment")
def resolve_fulfillment(ctx, info, id):
    """QueryRoot.fulfillment."""
    f = ctx.shop.fulfillments.get(parse_gid(id, "Fulfillment"))
    return views.fulfillment_node(ctx, f) if f else None


@query("inventoryItem")
def resolve_inventory_item(ctx, info, id):
    """QueryRoot.inventoryItem."""
    item = ctx.shop.items.get(parse_gid(id, "InventoryItem"))
    return views.item_node(ctx, item) if item and not ctx.shop.variants[
        item.variant_id].deleted else None


@query("inventoryItems")
def resolve_inventory_items(ctx, info, **args):
    """QueryRoot.inventoryItems (search by sku)."""
    terms = parse_search(args.get("query"))
    items = [i for i in ctx.shop.items.values() if not ctx.shop.variants[i.variant_id].deleted
             and _matches(terms, {"sku": i.sku, "id": i.id})]
    return connection(items, args, lambda i: views.item_node(ctx, i))


@query("inventoryLevel")
def resolve_inventory_level(ctx, info, id):
    """QueryRoot.inventoryLevel."""
    m = re.match(r"gid://shopify/InventoryLevel/(\d+)\?inventory_item_id=(\d+)$", id or "")
    if not m or not ctx.shop.level(int(m.group(2)), int(m.group(1))):
        return None
    return views.level_node(ctx, int(m.group(2)), int(m.group(1)))


@query("productVariants")
def resolve_product_variants(ctx, info, **args):
    """QueryRoot.productVariants (search by sku)."""
    terms = parse_search(args.get("query"))
    variants = [v for v in ctx.shop.live_variants()
                if not terms or _matches(terms, {"sku": v.sku, "id": v.id, "title": v.title,
                                                 "barcode": v.barcode,
                                                 "product_id": v.product_id})]
    return connection(variants, args, lambda v: views.variant_node(ctx, v))


@query("productVariantsCount")
def resolve_product_variants_count(ctx, info, **args):
    """QueryRoot.productVariantsCount: exact up to ``limit`` (Shopify's default 10,000;
    null: no limit), else the limit with precision AT_LEAST."""
    limit = args.get("limit", 10_000)
    count = len(ctx.shop.live_variants())
    if limit is not None and count > limit:
        return {"__typename": "Count", "count": limit, "precision": "AT_LEAST"}
    return {"__typename": "Count", "count": count, "precision": "EXACT"}


@query("productVariant")
def resolve_product_variant(ctx, info, id):
    """QueryRoot.productVariant."""
    v = ctx.shop.variants.get(parse_gid(id, "ProductVariant"))
    return views.variant_node(ctx, v) if v and not v.deleted else None


@query("products")
def resolve_products(ctx, info, **args):
    """QueryRoot.products."""
    return connection([p for p in ctx.shop.products.values() if not p.deleted], args,
                      lambda p: views.product_node(ctx, p))


@query("product")
def resolve_product(ctx, info, id):
    """QueryRoot.product (null for a product deleted meanwhile, as Shopify answers)."""
    p = ctx.shop.products.get(parse_gid(id, "Product"))
    return views.product_node(ctx, p) if p and not p.deleted else None


NODE_LOOKUPS = {
    "Order": lambda ctx, n: ctx.shop.orders.get(n) and views.order_node(ctx, ctx.shop.orders[n]),
    "Location": lambda ctx, n: ctx.shop.locations.get(n) and views.location_node(
        ctx, ctx.shop.locations[n]),
    "Fulfillment": lambda ctx, n: ctx.shop.fulfillments.get(n) and views.fulfillment_node(
        ctx, ctx.shop.fulfillments[n]),
    "InventoryItem": lambda ctx, n: (
        ctx.shop.items.get(n) and not ctx.shop.variants[ctx.shop.items[n].variant_id].deleted
        and views.item_node(ctx, ctx.shop.items[n])) or None,
    "ProductVariant": lambda ctx, n: (
        ctx.shop.variants.get(n) and not ctx.shop.variants[n].deleted
        and views.variant_node(ctx, ctx.shop.variants[n])) or None,
    "Product": lambda ctx, n: (
        ctx.shop.products.get(n) and not ctx.shop.products[n].deleted
        and views.product_node(ctx, ctx.shop.products[n])) or None,
    "FulfillmentOrder": lambda ctx, n: (
        ctx.shop.fulfillment_orders.get(n) and views.fo_visible(ctx, ctx.shop.fulfillment_orders[n])
        and views.fo_node(ctx, ctx.shop.fulfillment_orders[n])) or None,
}


def _node(ctx, id_):
    m = re.match(r"gid://shopify/(\w+)/(\d+)$", id_ or "")
    if not m:
        raise GraphQLError(f"Invalid global id '{id_}'",
                           extensions={"code": "argumentLiteralsIncompatible"})
    lookup = NODE_LOOKUPS.get(m.group(1))
    return (lookup(ctx, int(m.group(2))) or None) if lookup else None


@query("node")
def resolve_node(ctx, info, id):
    """QueryRoot.node."""
    return _node(ctx, id)


@query("nodes")
def resolve_nodes(ctx, info, ids):
    """QueryRoot.nodes."""
    return [_node(ctx, i) for i in ids]
