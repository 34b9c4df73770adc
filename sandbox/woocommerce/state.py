"""In-memory state of the emulated WooCommerce stores: records, id sequences, one lock, seed."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

WC_VERSION = "9.4.3"
WP_VERSION = "6.7.1"
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded",
                  "failed", "checkout-draft")
PERMISSIONS = ("read", "write", "read_write")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC, to the second (WordPress stores seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def wc_api_hash(consumer_key: str) -> str:
    """WooCommerce stores only this hash of a consumer key (wc_api_hash)."""
    return hmac.new(b"wc-api", consumer_key.encode(), hashlib.sha256).hexdigest()


def wc_rand_hash() -> str:
    """40 hex characters, like wc_rand_hash()."""
    return secrets.token_hex(20)


def money(value: float | int | str) -> str:
    """Money the way the REST API prints it: a string with two decimals."""
    return f"{float(value):.2f}"


@dataclass
class ApiKey:
    """A row of wp_woocommerce_api_keys (the plain key is kept only for the sandbox controls)."""

    key_id: int
    user_id: int
    description: str
    permissions: str
    consumer_key: str
    consumer_secret: str
    consumer_key_hash: str = ""
    nonces: dict[int, str] = field(default_factory=dict)
    last_access: dt.datetime | None = None

    def __post_init__(self) -> None:
        self.consumer_key_hash = self.consumer_key_hash or wc_api_hash(self.consumer_key)


@dataclass
class Image:
    """A media library attachment used as a product or variation image."""

    id: int
    src: str
    name: str = ""
    alt: str = ""
    date_created: dt.datetime = field(default_factory=utcnow)


@dataclass
class Variation:
    """A product_variation post."""

    id: int
    parent_id: int
    sku: str
    regular_price: str
    attributes: list[dict[str, Any]]
    manage_stock: bool = True
    stock_quantity: int | None = None
    stock_status: str = "instock"
    backorders: str = "no"
    sale_price: str = ""
    status: str = "publish"
    menu_order: int = 0
    #: GTIN, UPC, EAN or ISBN (WooCommerce 9.2+, ``_global_unique_id``; unique per store).
    global_unique_id: str = ""
    #: The variation's own image (an attachment), or None.
    image: Image | None = None
    meta_data: list[dict[str, Any]] = field(default_factory=list)
    date_created: dt.datetime = field(default_factory=utcnow)
    date_modified: dt.datetime = field(default_factory=utcnow)


@dataclass
class Product:
    """A product post (simple or variable)."""

    id: int
    name: str
    sku: str
    type: str = "simple"
    regular_price: str = ""
    sale_price: str = ""
    status: str = "publish"
    manage_stock: bool = True
    stock_quantity: int | None = None
    stock_status: str = "instock"
    backorders: str = "no"
    attributes: list[dict[str, Any]] = field(default_factory=list)
    variation_ids: list[int] = field(default_factory=list)
    total_sales: int = 0
    weight: str = ""
    global_unique_id: str = ""
    images: list[Image] = field(default_factory=list)
    meta_data: list[dict[str, Any]] = field(default_factory=list)
    date_created: dt.datetime = field(default_factory=utcnow)
    date_modified: dt.datetime = field(default_factory=utcnow)


@dataclass
class LineItem:
    """An order item of type line_item."""

    id: int
    name: str
    product_id: int
    variation_id: int
    quantity: int
    sku: str
    unit_price: float
    meta_data: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OrderNote:
    """An order note (a comment on the order)."""

    id: int
    note: str
    customer_note: bool
    added_by: str
    date_created: dt.datetime = field(default_factory=utcnow)


@dataclass
class Tracking:
    """A Shipment Tracking extension item (stored in the order's _wc_shipment_tracking_items)."""

    tracking_id: str
    tracking_number: str
    tracking_provider: str
    custom_tracking_provider: str
    custom_tracking_link: str
    date_shipped: dt.datetime


@dataclass
class RefundItem:
    """A refund's line item: ``quantity`` units of the order item ``refunded_item_id``."""

    id: int
    refunded_item_id: int
    quantity: int
    total: float


@dataclass
class Refund:
    """A shop_order_refund post."""

    id: int
    amount: float
    reason: str
    date_created: dt.datetime = field(default_factory=utcnow)
    line_items: list[RefundItem] = field(default_factory=list)
    refunded_payment: bool = False


@dataclass
class Order:
    """A shop_order."""

    id: int
    status: str
    order_key: str
    billing: dict[str, str]
    shipping: dict[str, str]
    line_items: list[LineItem]
    shipping_total: float = 0.0
    shipping_method: str = "Flat rate"
    customer_id: int = 0
    customer_note: str = ""
    payment_method: str = "bacs"
    payment_method_title: str = "Direct bank transfer"
    transaction_id: str = ""
    created_via: str = "checkout"
    shipping_line_id: int = 0
    stock_reduced: bool = False
    meta_data: list[dict[str, Any]] = field(default_factory=list)
    notes: list[OrderNote] = field(default_factory=list)
    trackings: list[Tracking] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    date_created: dt.datetime = field(default_factory=utcnow)
    date_modified: dt.datetime = field(default_factory=utcnow)
    date_paid: dt.datetime | None = None
    date_completed: dt.datetime | None = None

    @property
    def total(self) -> float:
        """Order total: items plus shipping (the sandbox charges no tax)."""
        return round(sum(i.unit_price * i.quantity for i in self.line_items)
                     + self.shipping_total, 2)


@dataclass
class Webhook:
    """A row of wc_webhooks."""

    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    user_id: int
    api_version: int = 3
    failure_count: int = 0
    pending_delivery: bool = True
    home_base: str = ""
    date_created: dt.datetime = field(default_factory=utcnow)
    date_modified: dt.datetime = field(default_factory=utcnow)

    @property
    def resource(self) -> str:
        """``order`` for ``order.updated``."""
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        """``updated`` for ``order.updated``."""
        return self.topic.split(".", 1)[1]


@dataclass
class Owner:
    """The store's administrator (the one who approves wc-auth requests)."""

    user_id: int = 1
    username: str = "admin"
    password: str = "password"
    display_name: str = "Store Owner"


@dataclass
class Store:
    """One WooCommerce site; reachable under /stores/<slug>."""

    slug: str
    name: str
    utc_offset_minutes: int = 0
    # Settings > General "Timezone" chosen as a city; "" when set as a bare UTC offset (the
    # REST index then says only gmt_offset). The sandbox's own dates follow the offset.
    timezone_string: str = ""
    currency: str = "USD"
    currency_symbol: str = "$"
    shipment_tracking: bool = True
    owner: Owner = field(default_factory=Owner)
    salt: str = field(default_factory=lambda: secrets.token_hex(16))
    keys: dict[int, ApiKey] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    variations: dict[int, Variation] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    request_counts: dict[str, int] = field(default_factory=dict)
    events: list[tuple[str, str, int]] = field(default_factory=list)
    faults: dict[str, Any] = field(default_factory=dict)
    #: Fields a misbehaving plugin rewrites in REST product/variation output, by post id
    #: (the ``woocommerce_rest_prepare_product_object`` filter): malformed data on demand.
    rest_overrides: dict[int, dict[str, Any]] = field(default_factory=dict)
    _post_seq: int = 100
    _item_seq: int = 0
    _comment_seq: int = 0
    _key_seq: int = 0
    _webhook_seq: int = 0

    def next_post_id(self) -> int:
        """Products, variations, orders and refunds share WordPress's post id sequence."""
        self._post_seq += 1
        return self._post_seq

    def next_item_id(self) -> int:
        """Order item ids (line items, shipping lines) come from their own table."""
        self._item_seq += 1
        return self._item_seq

    def next_comment_id(self) -> int:
        """Order notes are comments."""
        self._comment_seq += 1
        return self._comment_seq

    def next_key_id(self) -> int:
        """API key ids."""
        self._key_seq += 1
        return self._key_seq

    def next_webhook_id(self) -> int:
        """Webhook ids."""
        self._webhook_seq += 1
        return self._webhook_seq

    @property
    def tz(self) -> dt.timezone:
        """The site's timezone (a fixed offset, like a 'UTC+2' WordPress setting)."""
        return dt.timezone(dt.timedelta(minutes=self.utc_offset_minutes))

    def find_product_or_variation(self, post_id: int) -> Product | Variation | None:
        """wc_get_product(): a product or a variation by post id."""
        return self.products.get(post_id) or self.variations.get(post_id)

    def find_key(self, consumer_key: str) -> ApiKey | None:
        """Look a key up by its hash, like get_user_data_by_consumer_key()."""
        wanted = wc_api_hash(consumer_key)
        return next((k for k in self.keys.values()
                     if hmac.compare_digest(k.consumer_key_hash, wanted)), None)

    def create_key(self, *, permissions: str, description: str,
                   consumer_key: str | None = None, consumer_secret: str | None = None) -> ApiKey:
        """Insert an API key owned by the store owner."""
        key = ApiKey(self.next_key_id(), self.owner.user_id, description, permissions,
                     consumer_key or f"ck_{wc_rand_hash()}",
                     consumer_secret or f"cs_{wc_rand_hash()}")
        self.keys[key.key_id] = key
        return key

    def count_request(self, endpoint: str) -> None:
        """Record one request against ``"METHOD route"``."""
        self.request_counts[endpoint] = self.request_counts.get(endpoint, 0) + 1


class Sandbox:
    """Every store of one sandbox process, guarded by one re-entrant lock."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config: dict[str, Any] = dict(config or {})
        self.lock = threading.RLock()
        self.stores: dict[str, Store] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.dispatcher = None  # set by create_app (webhooks.Dispatcher)

    def store(self, slug: str) -> Store | None:
        """The store with this slug, or None."""
        return self.stores.get(slug)

    def flush_events(self) -> None:
        """Queue webhook deliveries for the hooks fired so far (WooCommerce does it at shutdown).

        Within one flush the same (resource, event, id) is queued once, like WC_Webhook's
        per-request ``processed`` list.
        """
        with self.lock:
            batches = [(store, store.events) for store in self.stores.values() if store.events]
            for store, _ in batches:
                store.events = []
        if self.dispatcher is None:
            return
        for store, events in batches:
            for resource, event, resource_id in dict.fromkeys(events):
                self.dispatcher.schedule(store.slug, resource, event, resource_id)

    def reset(self, *, seed: bool = True) -> None:
        """Forget everything; optionally load the deterministic seed again."""
        with self.lock:
            self.stores.clear()
            self.deliveries.clear()
            if self.dispatcher is not None:
                self.dispatcher.clear()
            if seed:
                from sandbox.woocommerce.seed import load_seed
                load_seed(self)
