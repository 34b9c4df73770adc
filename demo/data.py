"""Demo data on the sandboxes: the demo merchant's catalog and orders on a sandbox Shopify shop
and a sandbox WooCommerce store, brought into Stockroom through the real integrations."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass

import requests
from sqlalchemy import select

from app.errors import DomainError
from app.extensions import db
from app.fulfillment import Tracking, create_fulfillment, mark_delivered
from app.models import (Channel, ChannelLocation, InventoryItem, InventoryLevel, Order,
                        StockLocation)
from app.platforms.shopify.sync import ShopifyCall, import_locations, pull_order
from app.platforms.shopify.tokens import Credentials, save_install
from app.warehouse.packing import complete_packing, pack_lines, record_scan
from app.web.carriers import tracking_url

SHOP = "demo-shop.myshopify.com"
WOO_STORE = "juniper-co"
#: Sandbox Shopify location -> the demo merchant's stock location (the rest stay unmapped).
SHOPIFY_LOCATIONS = {"Main Warehouse": "Main warehouse", "Downtown Store": "Downtown shop",
                     "ShipFast 3PL": "ShipFast 3PL"}
WOO_LOCATION = "Main warehouse"
CUSTOMERS = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov",
             "Donald Knuth", "Frances Allen", "Ken Thompson", "Margaret Hamilton",
             "Dennis Ritchie", "Radia Perlman", "John Backus", "Hedy Lamarr", "Tim Berners-Lee",
             "Katherine Johnson", "Linus Torvalds")
CARRIERS = ("UPS", "USPS", "FedEx", "DHL Express", "Canada Post")
HISTORY_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class Sandboxes:
    """Where the two sandboxes answer (HTTP for controls, HTTPS for the app's API calls)."""

    shopify_http: str
    shopify_https: str
    woo_http: str
    woo_https: str
    ca_bundle: str


@dataclass
class DemoSummary:
    """What the seeding did, for the start-up banner."""

    shopify_orders: int = 0
    woo_orders: int = 0
    fulfillments: int = 0
    partial: int = 0


def _control(method: str, url: str, json: dict | None = None) -> dict | list:
    resp = requests.request(method, url, json=json, timeout=30)
    if resp.status_code >= 300:
        raise RuntimeError(f"sandbox control {method} {url}: {resp.status_code} {resp.text[:300]}")
    return resp.json()


def _stock(merchant_id: int) -> dict[tuple[str, str], int]:
    """(location name, sku) -> on hand, the merchant's current stock."""
    rows = db.session.execute(
        select(StockLocation.name, InventoryItem.sku, InventoryLevel.on_hand)
        .join(StockLocation, StockLocation.id == InventoryLevel.location_id)
        .join(InventoryItem, InventoryItem.id == InventoryLevel.item_id)
        .where(InventoryLevel.merchant_id == merchant_id))
    return {(loc, sku): on_hand for loc, sku, on_hand in rows}


def _catalog(merchant_id: int) -> list[InventoryItem]:
    return list(db.session.scalars(select(InventoryItem).where(
        InventoryItem.merchant_id == merchant_id).order_by(InventoryItem.sku)))


def _basket(rng: random.Random, skus: list[str]) -> list[tuple[str, int]]:
    """One to three different SKUs, mostly one unit each."""
    picked = rng.sample(skus, k=rng.choice((1, 1, 2, 2, 3)))
    return [(sku, rng.choice((1, 1, 1, 2, 3))) for sku in picked]


# --- Shopify ------------------------------------------------------------------------------

def seed_shopify(merchant_id: int, sandboxes: Sandboxes, *, orders: int, rng: random.Random
                 ) -> Channel:
    """Onboard the demo shop as a merchant does: list the catalog (with its own stock) on the
    sandbox shop and place orders there; install the app; read locations and the catalog
    through the import's own functions; map locations by name; Stockroom's items come from
    the shop's catalog (``seed_catalog_from_channel``) and its opening stock is the shop's
    (``confirm_opening_stock(..., "platform")``); then pull every order over GraphQL."""
    from demo.seed import catalog

    base = f"{sandboxes.shopify_http}/_sandbox/shops/{SHOP}"
    shop = _control("GET", base)
    sandbox_locations = {loc["name"]: loc["id"] for loc in shop["locations"]}
    products = catalog()
    for product in products:
        _control("POST", f"{base}/products", {"title": product["title"], "variants": [
            {"title": v["title"], "sku": v["sku"], "barcode": v["barcode"],
             "price": f"{12 + len(product['title'])}.00",
             "on_hand": {str(sandbox_locations[remote]): v["on_hand"][ours]
                         for remote, ours in SHOPIFY_LOCATIONS.items()}}
            for v in product["variants"]]})
    _control("POST", f"{base}/plan", {"plan": "plus"})  # seeding pulls a few hundred orders
    skus = [v["sku"] for product in products for v in product["variants"]]
    placed = []
    # Orders over the last two weeks: the sandbox clock goes back, then forward per order.
    step = HISTORY_SECONDS / max(orders, 1)
    _control("POST", f"{sandboxes.shopify_http}/_sandbox/clock",
             {"advance_seconds": -HISTORY_SECONDS})
    for n in range(orders):
        _control("POST", f"{sandboxes.shopify_http}/_sandbox/clock",
                 {"advance_seconds": step * rng.uniform(0.5, 1.5)})
        name = CUSTOMERS[n % len(CUSTOMERS)]
        body = {"lines": [{"sku": sku, "quantity": q} for sku, q in _basket(rng, skus)],
                "customer_name": name,
                "email": name.lower().replace(" ", ".").replace("-", "") + "@example.com"}
        if n % 12 == 5:  # some orders routed to the 3PL
            body["location_id"] = sandbox_locations["ShipFast 3PL"]
        placed.append(_control("POST", f"{base}/orders", body))
    offset = _control("POST", f"{sandboxes.shopify_http}/_sandbox/clock",
                      {"advance_seconds": 0})["offset"]
    _control("POST", f"{sandboxes.shopify_http}/_sandbox/clock", {"advance_seconds": -offset})
    for order in placed[3::37]:  # a few canceled by the merchant before we import them
        _control("POST", f"{base}/orders/{order['id']}/cancel", {"reason": "customer"})

    token = _control("POST", f"{base}/install", {"expiring": True})
    now = time.time()
    credentials = Credentials(
        access_token=token["access_token"], scope=token.get("scope", ""),
        expires_at=now + token["expires_in"] if token.get("expires_in") else None,
        refresh_token=token.get("refresh_token"),
        refresh_token_expires_at=(now + token["refresh_token_expires_in"]
                                  if token.get("refresh_token_expires_in") else None))
    channel, _ = save_install(SHOP, credentials, merchant_id=merchant_id)
    channel.name = shop.get("name") or "Demo Shop"
    db.session.commit()
    call = ShopifyCall(channel.id)
    import_locations(call, merchant_id, channel.id)
    db.session.commit()
    read_shopify_catalog(call, merchant_id, channel.id)
    onboard_channel(merchant_id, channel.id, SHOPIFY_LOCATIONS, truth="platform", seed=True)
    for n, order in enumerate(placed, 1):
        pull_order(call, merchant_id, channel.id, order["gid"])
        if n % 25 == 0:
            db.session.commit()
    db.session.commit()
    return channel


def read_shopify_catalog(call: ShopifyCall, merchant_id: int, channel_id: int) -> int:
    """Every variant with its levels, page by page, as the import's products step reads them
    (app/platforms/shopify/catalog.py); commits each page. Returns the variants read."""
    from app.platforms.shopify.catalog import read_variant_page, store_variants

    after, read = None, 0
    while True:
        page = read_variant_page(call, channel_id, after, 250)
        read += store_variants(merchant_id, channel_id, page["nodes"])["variants"]
        db.session.commit()
        if not page["pageInfo"]["hasNextPage"]:
            return read
        after = page["pageInfo"]["endCursor"]


def onboard_channel(merchant_id: int, channel_id: int, mapping: dict[str, str], *,
                    truth: str, seed: bool = False) -> dict:
    """The onboarding page's choices, made by the seed: (``seed``) the channel's catalog
    becomes Stockroom's items; its platform locations are mapped by name; each mapped
    one's opening stock is confirmed with ``truth``. Commits. Returns the seed's result."""
    from app.catalog import confirm_opening_stock, seed_catalog_from_channel
    from app.stock.locations import map_channel_location

    result = seed_catalog_from_channel(merchant_id, channel_id) if seed else {}
    ours = {loc.name: loc.id for loc in db.session.scalars(
        select(StockLocation).where(StockLocation.merchant_id == merchant_id))}
    for location in db.session.scalars(select(ChannelLocation).where(
            ChannelLocation.merchant_id == merchant_id,
            ChannelLocation.channel_id == channel_id).order_by(ChannelLocation.id)).all():
        if location.name in mapping and location.stock_location_id != ours[mapping[location.name]]:
            map_channel_location(merchant_id, location.id, ours[mapping[location.name]])
        if location.stock_location_id is not None and location.stock_confirmed_at is None:
            confirm_opening_stock(merchant_id, location.id, truth)
    db.session.commit()
    return result


# --- WooCommerce --------------------------------------------------------------------------

def seed_woocommerce(merchant_id: int, sandboxes: Sandboxes, *, orders: int,
                     rng: random.Random, app_url: str) -> Channel:
    """A store selling half the catalog, with its own counts (20 more than Stockroom's), and
    its orders; then the integration connects it with a REST key (what wc-auth's approve
    does, without the browser), registers its webhooks to ``app_url`` and imports listings
    (matched by SKU to the items from the Shopify catalog), their stock and open orders over
    REST; the merchant keeps Stockroom's counts, which are pushed to the store."""
    from demo.woocommerce import connect_store_with_key, import_store_now

    api_base = f"{sandboxes.woo_http}/_sandbox/api"
    store = _control("POST", f"{api_base}/stores", {
        "slug": WOO_STORE, "name": "Juniper & Co. online", "catalog": False})
    stock = _stock(merchant_id)
    items = _catalog(merchant_id)[::2]
    location_id = db.session.scalar(select(StockLocation.id).where(
        StockLocation.merchant_id == merchant_id, StockLocation.name == WOO_LOCATION))
    db.session.commit()
    _control("POST", f"{api_base}/stores/{WOO_STORE}/products", {"products": [
        {"name": item.title, "sku": item.sku, "price": "18.00",
         "stock": stock.get((WOO_LOCATION, item.sku), 0) + 20} for item in items]})
    skus = [item.sku for item in items]
    placed = []
    for n in range(orders):
        first, last = CUSTOMERS[(n * 7 + 3) % len(CUSTOMERS)].split(" ", 1)
        email = f"{first}.{last}".lower().replace("-", "") + "@example.org"
        address = {"first_name": first, "last_name": last, "company": "",
                   "address_1": "1 Demo Street", "address_2": "", "city": "Portland",
                   "state": "OR", "postcode": "97201", "country": "US"}
        placed.append(_control("POST", f"{api_base}/stores/{WOO_STORE}/orders", {
            "line_items": [{"sku": sku, "quantity": q} for sku, q in _basket(rng, skus)],
            "status": "processing",
            "billing": {**address, "email": email, "phone": "555-0100"},
            "shipping": {**address, "phone": ""}}))
    for order in placed[7::41]:
        _control("POST", f"{api_base}/stores/{WOO_STORE}/orders/{order['id']}/cancel", {})
    key = _control("POST", f"{api_base}/stores/{WOO_STORE}/keys", {"permissions": "read_write"})
    channel = connect_store_with_key(merchant_id, f"{sandboxes.woo_https}/stores/{WOO_STORE}",
                                     key, app_url=app_url, name=store.get("name", WOO_STORE),
                                     location_id=location_id)
    db.session.commit()
    import_store_now(channel.id)
    onboard_channel(merchant_id, channel.id, {}, truth="stockroom")
    return db.session.get(Channel, channel.id)


# --- fulfillments -------------------------------------------------------------------------

def fulfill_some(merchant_id: int, channel: Channel, *, rng: random.Random, share_full: float,
                 share_partial: float) -> tuple[int, int]:
    """Fulfill a share of the channel's open orders in Stockroom (some partially), from a
    location with the stock; the worker then pushes them to the platform. Returns
    (fulfillments, partial ones)."""
    locations = {loc.stock_location_id for loc in db.session.scalars(select(ChannelLocation)
                 .where(ChannelLocation.channel_id == channel.id,
                        ChannelLocation.kind != "fulfillment_service"))
                 if loc.stock_location_id}
    orders = list(db.session.scalars(select(Order).where(
        Order.channel_id == channel.id, Order.cancelled_at.is_(None)).order_by(Order.id)))
    assigned = _assigned_locations(channel.id)
    made = partial = 0
    for order in orders:
        roll = rng.random()
        if roll >= share_full + share_partial or assigned.get(order.id) == "fulfillment_service":
            continue
        lines = [line for line in order.lines if line.inventory_item_id]
        if not lines:
            continue
        if roll < share_full:
            quantities = {line.id: line.quantity for line in lines}
        else:
            multi = [line for line in lines if line.quantity > 1]
            if multi:
                quantities = {multi[0].id: multi[0].quantity // 2}
            elif len(lines) > 1:
                quantities = {lines[0].id: lines[0].quantity}
            else:
                continue
        carrier = rng.choice(CARRIERS)
        number = f"1Z{rng.randrange(10**9, 10**10)}"
        # A label bought (tracking) ships it; half of those are packed too, a fifth
        # delivered; the rest of the full ones and the partial ones are Pending, to pick.
        tracking = (Tracking(number, carrier, tracking_url(carrier, number))
                    if roll < share_full * 0.75 else None)
        for location_id in sorted(locations, key=lambda i: (i != assigned.get(order.id), i)):
            try:
                with db.session.begin_nested():
                    f = create_fulfillment(order.id, quantities, location_id,
                                           merchant_id=merchant_id, tracking=tracking)
                    if roll < share_full * 0.5:
                        _pack_by_scan(merchant_id, f.id)
                    if roll < share_full * 0.2:
                        mark_delivered(f.id, merchant_id=merchant_id)
            except DomainError:
                continue
            made += 1
            partial += roll >= share_full
            break
    db.session.commit()
    return made, partial


def _pack_by_scan(merchant_id: int, fulfillment_id: int) -> None:
    """Pack a fulfillment on the pack screen's terms: every unit scanned by SKU, completed."""
    for pl in pack_lines(merchant_id, fulfillment_id):
        for _ in range(pl.quantity):
            record_scan(merchant_id, fulfillment_id, pl.sku or pl.barcode)
    complete_packing(merchant_id, fulfillment_id)


def _assigned_locations(channel_id: int) -> dict[int, object]:
    """order id -> the stock location its (first open) Shopify fulfillment order sits at, or
    "fulfillment_service" for orders routed to a 3PL."""
    from app.models import FulfillmentOrder

    mapping = {loc.remote_id: loc for loc in db.session.scalars(
        select(ChannelLocation).where(ChannelLocation.channel_id == channel_id))}
    result: dict[int, object] = {}
    for fo in db.session.scalars(select(FulfillmentOrder).where(
            FulfillmentOrder.channel_id == channel_id).order_by(FulfillmentOrder.id)):
        location = mapping.get(fo.assigned_location_remote_id)
        if location is None or fo.order_id in result:
            continue
        result[fo.order_id] = ("fulfillment_service" if location.kind == "fulfillment_service"
                               else location.stock_location_id)
    return result


def seed_channels(merchant_id: int, sandboxes: Sandboxes, *, app_url: str,
                  shopify_orders: int = 180, woo_orders: int = 120, seed: int = 7
                  ) -> DemoSummary:
    """Everything above, deterministic per ``seed``; commits."""
    rng = random.Random(seed)
    summary = DemoSummary()
    shopify = seed_shopify(merchant_id, sandboxes, orders=shopify_orders, rng=rng)
    woo = seed_woocommerce(merchant_id, sandboxes, orders=woo_orders, rng=rng, app_url=app_url)
    summary.shopify_orders, summary.woo_orders = shopify_orders, woo_orders
    for channel in (shopify, woo):
        made, partial = fulfill_some(merchant_id, channel, rng=rng, share_full=0.15,
                                     share_partial=0.12)
        summary.fulfillments += made
        summary.partial += partial
    return summary
