"""The deterministic seed: a few stores with simple and variable products, keys and orders."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from sandbox.woocommerce import actions
from sandbox.woocommerce.state import Product, Sandbox, Store, Variation

SEED_EPOCH = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)

CUSTOMERS = [
    ("Ada", "Lovelace", "ada@example.com", "12 Analytical St", "London", "", "N1 9GU", "GB"),
    ("Grace", "Hopper", "grace@example.com", "1 Compiler Way", "Arlington", "VA", "22201", "US"),
    ("Alan", "Turing", "alan@example.com", "7 Enigma Rd", "Manchester", "", "M13 9PL", "GB"),
    ("Edsger", "Dijkstra", "edsger@example.com", "3 Shortest Path", "Austin", "TX", "78701",
     "US"),
]


def seeded_key_pair(slug: str, permissions: str) -> tuple[str, str]:
    """Stable demo credentials, so `make demo` prints the same keys every run."""
    key = hashlib.sha256(f"key:{slug}:{permissions}".encode()).hexdigest()
    secret = hashlib.sha256(f"secret:{slug}:{permissions}".encode()).hexdigest()
    return f"ck_{key[:40]}", f"cs_{secret[:40]}"


def address(customer: tuple, *, with_contact: bool) -> dict[str, str]:
    """A billing (with email/phone) or shipping address object."""
    first, last, email, line1, city, state, postcode, country = customer
    data = {"first_name": first, "last_name": last, "company": "", "address_1": line1,
            "address_2": "", "city": city, "state": state, "postcode": postcode,
            "country": country}
    if with_contact:
        data.update(email=email, phone="555-0100")
    else:
        data["phone"] = ""
    return data


def add_simple(store: Store, name: str, sku: str, price: str, stock: int | None,
               when: dt.datetime) -> Product:
    """A simple product; ``stock=None`` means stock is not managed."""
    product = Product(store.next_post_id(), name, sku, regular_price=price,
                      manage_stock=stock is not None, stock_quantity=stock,
                      date_created=when, date_modified=when)
    actions.sync_stock_status(product)
    store.products[product.id] = product
    return product


def add_variable(store: Store, name: str, sku: str, attribute: str,
                 options: list[tuple[str, str, str, int]], when: dt.datetime) -> Product:
    """A variable product with one attribute and a variation per option."""
    product = Product(store.next_post_id(), name, sku, type="variable", manage_stock=False,
                      attributes=[{"id": 0, "name": attribute, "slug": attribute.lower(),
                                   "position": 0, "visible": True, "variation": True,
                                   "options": [o[0] for o in options]}],
                      date_created=when, date_modified=when)
    store.products[product.id] = product
    for position, (option, var_sku, price, stock) in enumerate(options):
        variation = Variation(store.next_post_id(), product.id, var_sku, price,
                              [{"id": 0, "name": attribute, "option": option}],
                              stock_quantity=stock, menu_order=position,
                              date_created=when, date_modified=when)
        actions.sync_stock_status(variation)
        store.variations[variation.id] = variation
        product.variation_ids.append(variation.id)
    actions.sync_variable_stock_status(store, product)
    return product


#: GTINs (EAN-13) and images of part of the seeded catalog; the rest has none, as in a
#: real store where only some products carry a barcode.
SEED_GTINS = {"TEE-CLASSIC": "4006381333931", "TOTE-CANVAS": "4006381333948",
              "HOODIE-S": "4006381333955", "HOODIE-M": "4006381333962",
              "BEANIE-BLK": "4006381333979"}
IMAGE_BASE = "https://cdn.example.test/wp-content/uploads/2026/10"


def seed_catalog(store: Store) -> None:
    """The same small catalog in every store (SKUs are per store anyway)."""
    when = SEED_EPOCH - dt.timedelta(days=30)
    add_simple(store, "Classic Tee", "TEE-CLASSIC", "20.00", 25, when)
    add_simple(store, "Canvas Tote", "TOTE-CANVAS", "15.00", 40, when)
    add_simple(store, "Enamel Mug", "MUG-ENAMEL", "12.50", 0, when)
    add_simple(store, "Gift Card", "GIFT-CARD", "25.00", None, when)
    add_variable(store, "Hoodie", "HOODIE", "Size",
                 [("S", "HOODIE-S", "45.00", 5), ("M", "HOODIE-M", "45.00", 8),
                  ("L", "HOODIE-L", "47.00", 0)], when)
    add_variable(store, "Beanie", "BEANIE", "Color",
                 [("Black", "BEANIE-BLK", "18.00", 10), ("Grey", "BEANIE-GRY", "18.00", 12)],
                 when)
    for item in [*store.products.values(), *store.variations.values()]:
        item.global_unique_id = SEED_GTINS.get(item.sku, "")
    for product in store.products.values():
        slug = product.sku.lower()
        product.images = [actions.new_image(store, f"{IMAGE_BASE}/{slug}.jpg")]
    for variation in store.variations.values():
        if variation.sku.startswith("HOODIE-"):
            variation.image = actions.new_image(store,
                                                f"{IMAGE_BASE}/{variation.sku.lower()}.jpg")


def add_product_spec(store: Store, spec: dict[str, Any], when: dt.datetime, *,
                     emit: bool) -> Product:
    """A product from a control spec ``{name, sku, price, stock, gtin, image,
    attribute, variations: [{option, sku, price, stock, gtin, image}]}``."""
    variations = spec.get("variations") or []
    stock = spec.get("stock")
    product = actions.create_product(
        store, name=str(spec["name"]), sku=str(spec.get("sku") or ""),
        type="variable" if variations else "simple",
        regular_price="" if variations else str(spec.get("price") or "10.00"),
        stock_quantity=None if stock is None or variations else int(stock),
        global_unique_id=str(spec.get("gtin") or ""), image_src=str(spec.get("image") or ""),
        attribute=str(spec.get("attribute") or "Option") if variations else "", when=when,
        emit=emit)
    for variation in variations:
        add_variation_spec(store, product, variation, when, emit=emit)
    return product


def add_variation_spec(store: Store, parent: Product, spec: dict[str, Any],
                       when: dt.datetime, *, emit: bool) -> Variation:
    """A variation from a control spec ``{option, sku, price, stock, gtin, image}``."""
    stock = spec.get("stock")
    return actions.create_variation(
        store, parent, option=str(spec.get("option") or spec.get("sku") or "Any"),
        sku=str(spec.get("sku") or ""), regular_price=str(spec.get("price") or "10.00"),
        stock_quantity=None if stock is None else int(stock),
        global_unique_id=str(spec.get("gtin") or ""), image_src=str(spec.get("image") or ""),
        when=when, emit=emit)


def catalog_specs(count: int, *, variations: int = 0, prefix: str = "GEN"
                  ) -> Iterator[dict[str, Any]]:
    """Product specs for a large generated catalog, one at a time (never a whole list).

    Product n has SKU ``{prefix}-{n:06d}`` (variations ``…-V{k}``), a GTIN derived from
    it, and stock ``n % 17`` (variation k: ``(n + k) % 11``): deterministic, so a test can
    say what any listing should hold.
    """
    for n in range(count):
        sku = f"{prefix}-{n:06d}"
        spec: dict[str, Any] = {"name": f"Generated {sku}", "sku": sku,
                                "gtin": f"{200000000000 + n:012d}", "price": "9.00"}
        if variations:
            spec["variations"] = [{"option": f"V{k}", "sku": f"{sku}-V{k}",
                                   "stock": (n + k) % 11} for k in range(variations)]
        else:
            spec["stock"] = n % 17
        yield spec


def add_catalog(store: Store, specs: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Create products from specs (no webhooks: a bulk CSV import, not saves in wp-admin)."""
    when = SEED_EPOCH - dt.timedelta(days=7)
    made = {"products": 0, "variations": 0}
    for spec in specs:
        product = add_product_spec(store, spec, when, emit=False)
        made["products"] += 1
        made["variations"] += len(product.variation_ids)
    return made


def seed_orders(store: Store) -> None:
    """Orders in several states, dated before SEED_EPOCH, without emitting webhooks."""
    by_sku = {p.sku: p.id for p in store.products.values()}
    by_sku.update({v.sku: v.id for v in store.variations.values()})
    plan = [
        ("processing", 0, [("TEE-CLASSIC", 2), ("HOODIE-M", 1)], 6),
        ("processing", 1, [("TOTE-CANVAS", 1)], 5),
        ("on-hold", 2, [("BEANIE-BLK", 3)], 4),
        ("completed", 3, [("TEE-CLASSIC", 1)], 3),
        ("processing", 1, [("HOODIE-S", 1), ("BEANIE-GRY", 1)], 2),
        ("pending", 0, [("GIFT-CARD", 1)], 1),
    ]
    for status, customer, lines, days_ago in plan:
        when = SEED_EPOCH - dt.timedelta(days=days_ago)
        items = [(by_sku[sku], qty) for sku, qty in lines]
        order = actions.build_order(store, items, address(CUSTOMERS[customer], with_contact=True),
                                    address(CUSTOMERS[customer], with_contact=False), when)
        actions.move_order_to(store, order, status, when=when, emit=False)


def seed_store(sandbox: Sandbox, slug: str, name: str, *, utc_offset_minutes: int,
               shipment_tracking: bool) -> Store:
    """Create one seeded store with a read_write and a read key."""
    store = Store(slug, name, utc_offset_minutes=utc_offset_minutes,
                  shipment_tracking=shipment_tracking)
    sandbox.stores[slug] = store
    for permissions in ("read_write", "read"):
        ck, cs = seeded_key_pair(slug, permissions)
        store.create_key(permissions=permissions, description=f"Seeded {permissions} key",
                         consumer_key=ck, consumer_secret=cs)
    seed_catalog(store)
    seed_orders(store)
    return store


def load_seed(sandbox: Sandbox) -> None:
    """demo-store (UTC+2, Shipment Tracking installed), second-store (UTC, not installed)."""
    seed_store(sandbox, "demo-store", "Demo Store", utc_offset_minutes=120,
               shipment_tracking=True)
    seed_store(sandbox, "second-store", "Second Store", utc_offset_minutes=0,
               shipment_tracking=False)
