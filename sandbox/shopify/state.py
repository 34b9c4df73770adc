"""The sandbox's in-memory world: shops, catalog, inventory, orders, fulfillment orders, apps, tokens.

Everything lives in one :class:`Store` guarded by one re-entrant lock; every HTTP handler takes the
lock for the whole request, so the emulator is trivially consistent (it is not built for speed).
Ids come from per-type counters, so a given seed always produces the same ids.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

GID_PREFIX = "gid://shopify/"


def gid(kind: str, num: int) -> str:
    """The Admin API global id of a ``kind`` object with numeric id ``num``."""
    return f"{GID_PREFIX}{kind}/{num}"


def parse_gid(value: str, kind: str | None = None) -> int | None:
    """The numeric id inside a gid (None when it is not a gid of ``kind``)."""
    if not isinstance(value, str) or not value.startswith(GID_PREFIX):
        return None
    rest = value[len(GID_PREFIX):].split("?", 1)[0]
    parts = rest.split("/")
    if len(parts) != 2 or (kind and parts[0] != kind) or not parts[1].isdigit():
        return None
    return int(parts[1])


def iso(ts: float) -> str:
    """An ISO-8601 UTC timestamp as the Admin API prints DateTime values."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- catalog and shop -------------------------------------------------------------------------

@dataclass
class Location:
    """A stock location: merchant-managed, fulfillment service (3PL) or external service."""

    id: int
    name: str
    kind: str  # "merchant" | "fulfillment_service" | "external"
    service_handle: str | None = None
    external_url: str | None = None
    address1: str = "1 Main Street"
    city: str = "Ottawa"
    country_code: str = "CA"
    zip: str = "K1A 0B1"
    # Deactivated in the admin (locationDeactivate): listed only with includeInactive.
    active: bool = True
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def is_fulfillment_service(self) -> bool:
        return self.kind in ("fulfillment_service", "external")


@dataclass
class Product:
    """A product and its variant ids (``deleted``: gone from the API, kept for old orders)."""

    id: int
    title: str
    variant_ids: list[int] = field(default_factory=list)
    image_id: int | None = None  # the featured MediaImage
    image_url: str = ""
    vendor: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    deleted: bool = False


@dataclass
class Variant:
    """A product variant with its SKU, barcode, image and inventory item.

    A deleted variant stays here flagged (orders still name it, as Shopify's line items
    keep their variant's title and SKU) but the Admin API no longer returns it.
    """

    id: int
    product_id: int
    title: str
    sku: str
    price: str
    inventory_item_id: int
    grams: int = 250
    barcode: str = ""
    image_id: int | None = None  # the variant's own MediaImage
    image_url: str = ""
    position: int = 1
    created_at: float = 0.0
    updated_at: float = 0.0
    deleted: bool = False


@dataclass
class InventoryItem:
    """The stock-keeping side of a variant."""

    id: int
    sku: str
    variant_id: int
    tracked: bool = True


@dataclass
class Level:
    """Quantities of one item at one location (available = on_hand - committed - reserved)."""

    on_hand: int = 0
    committed: int = 0
    incoming: int = 0
    reserved: int = 0
    updated_at: float = 0.0

    @property
    def available(self) -> int:
        return self.on_hand - self.committed - self.reserved

    def quantity(self, name: str) -> int:
        return {"available": self.available, "on_hand": self.on_hand, "committed": self.committed,
                "incoming": self.incoming, "reserved": self.reserved,
                "damaged": 0, "quality_control": 0, "safety_stock": 0}.get(name, 0)


# --- orders and fulfillment --------------------------------------------------------------------

@dataclass
class LineItem:
    """One order line; fulfilled_quantity counts live fulfillments."""

    id: int
    variant_id: int
    title: str
    sku: str
    quantity: int
    price: str
    fulfilled_quantity: int = 0
    #: Units refunded before they were fulfilled (restock CANCEL or NO_RESTOCK): gone from
    #: the order (currentQuantity) and from its fulfillment orders.
    removed_quantity: int = 0
    #: Units refunded after they were fulfilled (restock RETURN or NO_RESTOCK).
    returned_quantity: int = 0

    @property
    def current_quantity(self) -> int:
        return self.quantity - self.removed_quantity


@dataclass
class Order:
    """An order placed at checkout."""

    id: int
    number: int
    line_items: list[LineItem]
    email: str
    customer_id: int
    customer_name: str
    created_at: float
    updated_at: float
    cancelled_at: float | None = None
    cancel_reason: str | None = None
    closed_at: float | None = None
    shipping_address: dict = field(default_factory=dict)
    token: str = ""

    @property
    def name(self) -> str:
        return f"#{self.number}"


@dataclass
class FOLine:
    """A fulfillment order line item (total and remaining quantity)."""

    id: int
    line_item_id: int
    total_quantity: int
    remaining_quantity: int


@dataclass
class Hold:
    """A fulfillment hold."""

    id: int
    reason: str
    reason_notes: str | None
    handle: str | None
    app_client_id: str | None


@dataclass
class FulfillmentOrder:
    """Work to do at one location for one order."""

    id: int
    order_id: int
    location_id: int
    lines: list[FOLine]
    created_at: float
    updated_at: float
    status: str = "OPEN"
    request_status: str = "UNSUBMITTED"
    holds: list[Hold] = field(default_factory=list)
    fulfillment_ids: list[int] = field(default_factory=list)
    merchant_requests: list[dict] = field(default_factory=list)
    status_before_hold: str | None = None

    @property
    def remaining(self) -> int:
        return sum(line.remaining_quantity for line in self.lines)

    @property
    def is_active(self) -> bool:
        return self.status in ("OPEN", "IN_PROGRESS", "ON_HOLD", "SCHEDULED")


@dataclass
class FulfillmentLine:
    """Quantity of one FO line item in a fulfillment."""

    id: int
    line_item_id: int
    fo_line_id: int
    fo_id: int
    quantity: int


@dataclass
class FulfillmentEvent:
    """A carrier/shipment event on a fulfillment."""

    id: int
    status: str
    message: str | None
    happened_at: float
    created_at: float


@dataclass
class Fulfillment:
    """Items shipped from one location (tracking, events, status)."""

    id: int
    order_id: int
    location_id: int
    lines: list[FulfillmentLine]
    created_at: float
    updated_at: float
    name: str
    status: str = "SUCCESS"
    shipment_status: str | None = None  # last event status, e.g. IN_TRANSIT, DELIVERED
    tracking: list[dict] = field(default_factory=list)  # {company, number, url}
    events: list[FulfillmentEvent] = field(default_factory=list)
    notify_customer: bool = False
    origin: str = "app"  # app | platform | fulfillment_service
    app_client_id: str | None = None
    delivered_at: float | None = None


@dataclass
class RefundLine:
    """A refund line item: units of one order line, restocked (or not) at a location."""

    id: int
    line_item_id: int
    quantity: int
    restock_type: str  # return | cancel | no_restock (REST lower case)
    location_id: int | None


@dataclass
class Refund:
    """A refund of an order (money back, items restocked or not)."""

    id: int
    order_id: int
    lines: list[RefundLine]
    created_at: float
    note: str | None = None


@dataclass
class Shop:
    """A store with its catalog, stock, orders and fulfillment data."""

    domain: str
    name: str
    email: str
    plan: str = "standard"
    iana_timezone: str = "America/Toronto"  # shop.ianaTimezone (Settings > General)
    locations: dict[int, Location] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    variants: dict[int, Variant] = field(default_factory=dict)
    items: dict[int, InventoryItem] = field(default_factory=dict)
    levels: dict[tuple[int, int], Level] = field(default_factory=dict)  # (item_id, location_id)
    # item_id -> the location ids it is stocked at (levels is keyed by pair; listing one
    # item's levels must not scan every level of a 50,000-variant shop)
    item_locations: dict[int, list[int]] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    fulfillment_orders: dict[int, FulfillmentOrder] = field(default_factory=dict)
    fulfillments: dict[int, Fulfillment] = field(default_factory=dict)
    refunds: dict[int, Refund] = field(default_factory=dict)
    returns: dict[int, object] = field(default_factory=dict)  # returns.Return
    adjustment_groups: dict[int, dict] = field(default_factory=dict)
    next_order_number: int = 1001
    id: int = 0

    def variant_by_sku(self, sku: str) -> Variant | None:
        return next((v for v in self.variants.values() if v.sku == sku and not v.deleted), None)

    def live_variants(self) -> list[Variant]:
        """The variants the Admin API returns (deleted ones are only kept for old orders)."""
        return [v for v in self.variants.values() if not v.deleted]

    def level(self, item_id: int, location_id: int, *, create: bool = False) -> Level | None:
        key = (item_id, location_id)
        if key not in self.levels and create:
            self.levels[key] = Level()
            self.item_locations.setdefault(item_id, []).append(location_id)
        return self.levels.get(key)

    def item_levels(self, item_id: int) -> list[tuple[int, Level]]:
        """(location id, level) of one inventory item, in the order they were stocked."""
        return [(loc_id, self.levels[(item_id, loc_id)])
                for loc_id in self.item_locations.get(item_id, ())]

    def primary_location(self) -> Location:
        return next(loc for loc in self.locations.values() if loc.kind == "merchant")


# --- apps and credentials ------------------------------------------------------------------

@dataclass
class App:
    """An app registered from a shopify.app.toml plus its client secret."""

    client_id: str
    secret: str
    name: str
    handle: str
    application_url: str
    scopes: list[str]
    redirect_urls: list[str]
    embedded: bool = True
    webhook_api_version: str = "2026-10"
    declared_webhooks: list[dict] = field(default_factory=list)  # {topic, uri, compliance}
    id: int = 0


@dataclass
class Installation:
    """An app installed on a shop with granted scopes."""

    shop: str
    client_id: str
    scopes: list[str]
    installed_at: float
    active: bool = True


@dataclass
class AccessToken:
    """An Admin API access token (offline or online, maybe expiring)."""

    token: str
    client_id: str
    shop: str
    scopes: list[str]
    online: bool
    expires_at: float | None
    user_id: int | None = None
    first_used_at: float | None = None
    revoked: bool = False
    issued_by_refresh: str | None = None  # the refresh token whose use produced this token


@dataclass
class RefreshToken:
    """A refresh token of an expiring offline token; retired once replaced."""

    token: str
    client_id: str
    shop: str
    scopes: list[str]
    expires_at: float
    retired: bool = False
    parent: str | None = None  # the refresh token this one replaced


@dataclass
class AuthCode:
    """A single-use authorization code."""

    code: str
    client_id: str
    shop: str
    scopes: list[str]
    expires_at: float
    online: bool
    used: bool = False


@dataclass
class WebhookSubscription:
    """A subscription made through the Admin API."""

    id: int
    client_id: str
    shop: str
    topic: str  # REST form, e.g. "orders/create"
    uri: str
    created_at: float
    updated_at: float
    source: str = "api"  # api | toml
    api_version: str = "2026-10"
    include_fields: list[str] = field(default_factory=list)
    filter: str | None = None


STAFF_USER = {"id": 9001, "first_name": "Merchant", "last_name": "Owner",
              "email": "owner@example.com", "account_owner": True, "locale": "en",
              "collaborator": False, "email_verified": True}


class Store:
    """All sandbox state, one lock. ``reset(seed)`` rebuilds it deterministically."""

    def __init__(self, seed: int = 1) -> None:
        self.lock = threading.RLock()
        self.clock_offset = 0.0
        self.apps: dict[str, App] = {}
        self.listeners: list = []  # callables (shop_domain, topic, payload), kept across resets
        self.reset(seed)

    def emit(self, shop: str, topic: str, payload: dict, *, client_id: str | None = None) -> None:
        """Tell listeners (the webhook dispatcher) that ``topic`` happened on ``shop``.

        ``client_id`` limits the event to one app (app/uninstalled, compliance topics).
        """
        for listener in list(self.listeners):
            listener(shop, topic, payload, client_id=client_id)

    # time ---------------------------------------------------------------------------------
    def now(self) -> float:
        """Sandbox time: wall clock plus whatever the clock control advanced."""
        return time.time() + self.clock_offset

    # ids ------------------------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        """The next numeric id of ``kind`` (deterministic per seed)."""
        value = self._counters.get(kind, self._id_base)
        self._counters[kind] = value + 1
        return value

    def random_token(self, prefix: str, size: int = 32) -> str:
        """A token string from the seeded generator (deterministic per seed and call order)."""
        alphabet = "abcdef0123456789"
        return prefix + "".join(self.rng.choice(alphabet) for _ in range(size))

    # lifecycle ------------------------------------------------------------------------------
    def reset(self, seed: int = 1) -> None:
        """Forget everything except registered apps, then seed the demo shops."""
        from .seed import seed_shops

        with self.lock:
            self.seed = seed
            self.rng = random.Random(seed)
            self._id_base = 1001
            self._counters: dict[str, int] = {}
            self.clock_offset = 0.0
            self.shops: dict[str, Shop] = {}
            self.installations: dict[tuple[str, str], Installation] = {}
            self.tokens: dict[str, AccessToken] = {}
            self.refresh_tokens: dict[str, RefreshToken] = {}
            self.codes: dict[str, AuthCode] = {}
            self.subscriptions: dict[int, WebhookSubscription] = {}
            self.bulk_operations: dict[int, object] = {}  # bulk_operations.BulkOperation
            self.bulk_paused = False  # control: bulk workers wait before their next page
            self.idempotency: dict[tuple, dict] = {}
            self.api_faults: list[dict] = []
            self.toasts: list[dict] = []
            # controls.APP_BRIDGE_LOGS: what the admin frame saw the embedded app do
            self.app_bridge: dict[str, list[dict]] = {
                "misuse": [], "loading": [], "modals": [], "save-bar": []}
            seed_shops(self)

    def shop(self, domain: str) -> Shop | None:
        """A shop by its domain (``demo-shop.myshopify.com``) or its handle (``demo-shop``).

        The admin's URLs (``/store/{handle}/…``, and the ``host`` parameter that encodes
        them) carry the handle; the Admin API and OAuth URLs carry the full domain.
        """
        key = (domain or "").strip().lower()
        return self.shops.get(key) or self.shops.get(f"{key}.myshopify.com")

    def installation(self, shop: str, client_id: str) -> Installation | None:
        inst = self.installations.get((shop, client_id))
        return inst if inst and inst.active else None
