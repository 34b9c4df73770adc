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


def add_catalog_product(store: Store, shop: Shop, title: str, variants: list[dict], *,
                        image_url: str = "", locations: list[int] | None = None) -> dict:
    """A product with variants (``{title, sku, price, barcode?, image_url?, on_hand?}``).

    Every variant is stocked at ``locations`` (default: every location of the shop).
    ``on_hand`` is one number for every location or ``{location id: quantity}``.
    """
    now = store.now()
    product = Product(id=store.next_id("Product"), title=title, image_url=image_url,
                      image_id=store.next_id("MediaImage") if image_url else None,
                      created_at=now, updated_at=now)
    shop.products[product.id] = product
    created = [add_variant(store, shop, product, v, locations=locations) for v in variants]
    return product_summary(product, created)


def product_summary(product: Product, variants: list[Variant]) -> dict:
    """What the controls answer about a product: its ids and its variants' ids."""
    return {"id": product.id, "gid": f"gid://shopify/Product/{product.id}",
            "variants": [{"id": v.id, "gid": f"gid://shopify/ProductVariant/{v.id}",
                          "sku": v.sku, "barcode": v.barcode,
                          "inventory_item_id": v.inventory_item_id,
                          "inventory_item_gid": f"gid://shopify/InventoryItem/"
                                                f"{v.inventory_item_id}"}
                         for v in variants]}


def add_variant(store: Store, shop: Shop, product: Product, spec: dict, *,
                locations: list[int] | None = None) -> Variant:
    """One variant of ``product`` with its inventory item, stocked at ``locations``."""
    now = store.now()
    item_id = store.next_id("InventoryItem")
    image_url = spec.get("image_url") or ""
    variant = Variant(id=store.next_id("ProductVariant"), product_id=product.id,
                      title=spec.get("title") or "Default Title", sku=spec.get("sku") or "",
                      price=str(spec.get("price") or "10.00"), inventory_item_id=item_id,
                      barcode=spec.get("barcode") or "", image_url=image_url,
                      image_id=store.next_id("MediaImage") if image_url else None,
                      position=len(product.variant_ids) + 1, created_at=now, updated_at=now)
    shop.variants[variant.id] = variant
    product.variant_ids.append(variant.id)
    product.updated_at = now
    shop.items[item_id] = InventoryItem(id=item_id, sku=variant.sku, variant_id=variant.id)
    stock = spec.get("on_hand", 0)
    for loc_id in (locations if locations is not None else list(shop.locations)):
        level = shop.level(item_id, loc_id, create=True)
        level.on_hand = int(stock.get(str(loc_id), stock.get(loc_id, 0))
                            if isinstance(stock, dict) else stock)
        level.updated_at = now
    return variant


def catalog_specs(variants: int, products: int, *, prefix: str = "SKU", seed: int = 1,
                  stock: tuple[int, int] = (0, 50), locations: list[int] | None = None):
    """``(title, image_url, [variant spec])`` per product, generated one product at a time.

    ``variants`` are spread evenly over ``products`` (the first products get one more when
    they don't divide). Every variant has a SKU ``{prefix}-{n:06d}``, a barcode, and an
    image on every other variant; ``on_hand`` per location (``locations``) is drawn from
    ``stock`` by a generator seeded with ``seed``, so a given call always yields the same
    catalog. Nothing is built ahead: 50,000 variants cost the memory of one product.
    """
    import random

    rng = random.Random(seed)
    base, extra = divmod(variants, max(products, 1))
    n = 0
    for p in range(products):
        count = base + (1 if p < extra else 0)
        if count == 0:
            continue
        specs = []
        for i in range(count):
            n += 1
            spec = {"title": f"Option {i + 1}", "sku": f"{prefix}-{n:06d}",
                    "barcode": f"{400000000000 + n:013d}", "price": f"{10 + n % 40}.00",
                    "image_url": (f"https://cdn.example.com/{prefix.lower()}/{n}.jpg"
                                  if n % 2 else "")}
            if locations is not None:
                spec["on_hand"] = {loc: rng.randint(*stock) for loc in locations}
            else:
                spec["on_hand"] = rng.randint(*stock)
            specs.append(spec)
        yield (f"{prefix.title()} product {p + 1}",
               f"https://cdn.example.com/{prefix.lower()}/p{p + 1}.jpg", specs)


def seed_catalog(store: Store, shop: Shop, *, variants: int, products: int, locations: int,
                 prefix: str = "SKU", seed: int = 1, stock: tuple[int, int] = (0, 50)) -> dict:
    """Stock a shop with ``variants`` over ``products`` at its first ``locations`` merchant
    locations (created when the shop has fewer). Streams :func:`catalog_specs`."""
    merchant = [loc.id for loc in shop.locations.values() if loc.kind == "merchant"]
    while len(merchant) < locations:
        loc = Location(id=store.next_id("Location"), name=f"Warehouse {len(merchant) + 1}",
                       kind="merchant")
        shop.locations[loc.id] = loc
        merchant.append(loc.id)
    where = merchant[:locations]
    count = 0
    for title, image_url, specs in catalog_specs(variants, products, prefix=prefix, seed=seed,
                                                 stock=stock, locations=where):
        add_catalog_product(store, shop, title, specs, image_url=image_url, locations=where)
        count += len(specs)
    return {"variants": count, "products": products, "locations": [
        {"id": loc_id, "gid": f"gid://shopify/Location/{loc_id}",
         "name": shop.locations[loc_id].name} for loc_id in where]}


def add_shop(store: Store, domain: str, name: str, *, plan: str = "standard",
             locations: int = 1) -> Shop:
    """An empty shop (no catalog, no orders) with ``locations`` merchant locations."""
    shop = Shop(domain=domain, name=name, email=f"owner@{domain}", plan=plan,
                id=store.next_id("Shop"))
    store.shops[domain] = shop
    for i in range(locations):
        loc = Location(id=store.next_id("Location"), name=f"Warehouse {i + 1}", kind="merchant")
        shop.locations[loc.id] = loc
    return shop


def _seed_catalog(store: Store, shop: Shop) -> None:
    now = store.now()
    for title, variants in CATALOG:
        product = Product(id=store.next_id("Product"), title=title, created_at=now,
                          updated_at=now)
        shop.products[product.id] = product
        for vtitle, sku, price in variants:
            item_id = store.next_id("InventoryItem")
            variant = Variant(id=store.next_id("ProductVariant"), product_id=product.id,
                              title=vtitle, sku=sku, price=price, inventory_item_id=item_id,
                              position=len(product.variant_ids) + 1, created_at=now,
                              updated_at=now)
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
