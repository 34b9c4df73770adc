"""Deterministic demo data: shops with locations (merchant, 3PL, external), catalog, stock and orders."""
from __future__ import annotations

from .state import (FOLine, FulfillmentOrder, InventoryItem, LineItem, Location, Order, Product,
                    Shop, Store, Variant)

SHOPS = [
    ("demo-shop.myshopify.com", "Demo Shop", "standard"),
    ("second-shop.myshopify.com", "Second Shop", "advanced"),
]

CATALOG = [
    ("Canvas Tote", [("Natural", "TOTE-NAT", "24.00"), ("Black", "TOTE-BLK", "24.00")]),
    ("Enamel Mug", [("White", "MUG-WHT", "14.50")]),
    ("Wool Beanie", [("Grey", "BEANIE-GRY", "29.00"), ("Navy", "BEANIE-NVY", "29.00")]),
]

LOCATIONS = [
    ("Main Warehouse", "merchant", None, None),
    ("Downtown Store", "merchant", None, None),
    ("ShipFast 3PL", "fulfillment_service", "shipfast", None),
    ("Marketplace Fulfillment", "external", "marketplace-fulfillment",
     "https://fulfillment.example.com/orders"),
]

CUSTOMERS = [("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@example.com")]


def seed_shops(store: Store) -> None:
    """Build every demo shop into ``store`` (called by ``Store.reset``)."""
    for domain, name, plan in SHOPS:
        shop = Shop(domain=domain, name=name, email=f"owner@{domain}", plan=plan,
                    id=store.next_id("Shop"))
        store.shops[domain] = shop
        _seed_locations(store, shop)
        _seed_catalog(store, shop)
        _seed_orders(store, shop)


def _seed_locations(store: Store, shop: Shop) -> None:
    for name, kind, handle, url in LOCATIONS:
        loc = Location(id=store.next_id("Location"), name=name, kind=kind, service_handle=handle,
                       external_url=url)
        shop.locations[loc.id] = loc


def add_catalog_product(store: Store, shop: Shop, title: str, variants: list[dict]) -> dict:
    """A product with variants (``{title, sku, price, on_hand?}``) stocked at every location.

    ``on_hand`` is one number for every location or ``{location id: quantity}``.
    """
    now = store.now()
    product = Product(id=store.next_id("Product"), title=title)
    shop.products[product.id] = product
    created = []
    for v in variants:
        item_id = store.next_id("InventoryItem")
        variant = Variant(id=store.next_id("ProductVariant"), product_id=product.id,
                          title=v.get("title") or "Default Title", sku=v["sku"],
                          price=str(v.get("price") or "10.00"), inventory_item_id=item_id)
        shop.variants[variant.id] = variant
        product.variant_ids.append(variant.id)
        shop.items[item_id] = InventoryItem(id=item_id, sku=variant.sku, variant_id=variant.id)
        stock = v.get("on_hand", 0)
        for loc in shop.locations.values():
            level = shop.level(item_id, loc.id, create=True)
            level.on_hand = int(stock.get(str(loc.id), stock.get(loc.id, 0))
                                if isinstance(stock, dict) else stock)
            level.updated_at = now
        created.append({"id": variant.id, "gid": f"gid://shopify/ProductVariant/{variant.id}",
                        "sku": variant.sku, "inventory_item_id": item_id})
    return {"id": product.id, "gid": f"gid://shopify/Product/{product.id}", "variants": created}


def _seed_catalog(store: Store, shop: Shop) -> None:
    now = store.now()
    for title, variants in CATALOG:
        product = Product(id=store.next_id("Product"), title=title)
        shop.products[product.id] = product
        for vtitle, sku, price in variants:
            item_id = store.next_id("InventoryItem")
            variant = Variant(id=store.next_id("ProductVariant"), product_id=product.id,
                              title=vtitle, sku=sku, price=price, inventory_item_id=item_id)
            shop.variants[variant.id] = variant
            product.variant_ids.append(variant.id)
            shop.items[item_id] = InventoryItem(id=item_id, sku=sku, variant_id=variant.id)
            for loc in shop.locations.values():
                level = shop.level(item_id, loc.id, create=True)
                level.on_hand = store.rng.randint(5, 40)
                level.updated_at = now


def _seed_orders(store: Store, shop: Shop) -> None:
    """Three unfulfilled orders: at the primary location, at the 3PL, at the external service."""
    locs = list(shop.locations.values())
    variants = list(shop.variants.values())
    plans = [(locs[0], [(variants[0], 2), (variants[2], 1)]),
             (locs[2], [(variants[1], 1), (variants[3], 3)]),
             (locs[3], [(variants[4], 1)])]
    for i, (loc, lines) in enumerate(plans):
        name, email = CUSTOMERS[i % len(CUSTOMERS)]
        create_order(store, shop, [(v.id, q) for v, q in lines], email=email, customer_name=name,
                     location_id=loc.id)


def create_order(store: Store, shop: Shop, lines: list[tuple[int, int]], *, email: str,
                 customer_name: str, location_id: int | None = None) -> Order:
    """Create an order like a checkout does: line items, one open FO per location, committed stock.

    Without ``location_id`` each line is routed to the first merchant location with enough
    available stock (else the primary location), as Shopify's order routing roughly does.
    """
    now = store.now()
    items = []
    for variant_id, qty in lines:
        v = shop.variants[variant_id]
        items.append(LineItem(id=store.next_id("LineItem"), variant_id=v.id,
                              title=shop.products[v.product_id].title, sku=v.sku,
                              quantity=qty, price=v.price))
    first, last = (customer_name.split(" ", 1) + [""])[:2]
    order = Order(id=store.next_id("Order"), number=shop.next_order_number, line_items=items,
                  email=email, customer_id=store.next_id("Customer"), customer_name=customer_name,
                  created_at=now, updated_at=now, token=store.random_token("", 32),
                  shipping_address={"first_name": first, "last_name": last, "name": customer_name,
                                    "address1": "12 Harbour Road", "address2": None,
                                    "city": "Halifax", "province": "Nova Scotia",
                                    "province_code": "NS", "zip": "B3H 1A1", "country": "Canada",
                                    "country_code": "CA", "phone": None, "company": None,
                                    "latitude": None, "longitude": None})
    shop.next_order_number += 1
    shop.orders[order.id] = order
    by_location: dict[int, list[LineItem]] = {}
    for li in items:
        loc_id = location_id or _route(shop, li)
        by_location.setdefault(loc_id, []).append(li)
    for loc_id, lis in by_location.items():
        fo = FulfillmentOrder(id=store.next_id("FulfillmentOrder"), order_id=order.id,
                              location_id=loc_id, created_at=now, updated_at=now,
                              lines=[FOLine(id=store.next_id("FulfillmentOrderLineItem"),
                                            line_item_id=li.id, total_quantity=li.quantity,
                                            remaining_quantity=li.quantity) for li in lis])
        shop.fulfillment_orders[fo.id] = fo
        for li in lis:
            item_id = shop.variants[li.variant_id].inventory_item_id
            level = shop.level(item_id, loc_id, create=True)
            level.committed += li.quantity
            level.updated_at = now
    return order


def _route(shop: Shop, li: LineItem) -> int:
    item_id = shop.variants[li.variant_id].inventory_item_id
    for loc in shop.locations.values():
        level = shop.level(item_id, loc.id)
        if loc.kind == "merchant" and level and level.available >= li.quantity:
            return loc.id
    return shop.primary_location().id
