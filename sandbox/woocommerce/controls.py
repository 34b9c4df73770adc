"""The JSON control API under /_sandbox/api: reset, stores, keys, owner actions, faults, logs.

Not part of WooCommerce: tests and the demo drive the store owner's side through it.
Every owner action fires the same hooks (and so the same webhooks) the store would.
"""
from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from sandbox.woocommerce import actions, seed, serializers
from sandbox.woocommerce.state import PERMISSIONS, Order, Sandbox, Store, utcnow

bp = Blueprint("wc_controls", __name__, url_prefix="/_sandbox/api")
FAULTS = ("fail", "duplicate", "delay", "reorder", "rest_error")


class ControlError(Exception):
    """A bad control request: ``{"error": message}`` with a status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@bp.errorhandler(ControlError)
def control_error(error: ControlError):
    """JSON body for control errors."""
    return jsonify(error=str(error)), error.status


@bp.errorhandler(actions.ActionError)
def action_error(error: actions.ActionError):
    """JSON body for refused owner actions."""
    return jsonify(error=str(error)), error.status


def sandbox() -> Sandbox:
    """The Sandbox bound to the running app."""
    return current_app.extensions["wc_sandbox"]


def body() -> dict[str, Any]:
    """The JSON (or form) body as a dict."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.form.to_dict()


def get_store(slug: str) -> Store:
    """The store or 404."""
    store = sandbox().store(slug)
    if store is None:
        raise ControlError(f"No store {slug!r}", 404)
    return store


def get_order(store: Store, order_id: int) -> Order:
    """The order or 404."""
    order = store.orders.get(order_id)
    if order is None:
        raise ControlError(f"No order {order_id} in {store.slug}", 404)
    return order


def store_url(store: Store) -> str:
    """The store URL as seen through the listener this request came in on."""
    return f"{request.host_url.rstrip('/')}/stores/{store.slug}"


def store_summary(store: Store) -> dict[str, Any]:
    """Store settings, keys (plain, for tests) and webhooks (with secrets and failure counts)."""
    return {
        "slug": store.slug, "name": store.name, "store_url": store_url(store),
        "utc_offset_minutes": store.utc_offset_minutes, "timezone_string": store.timezone_string,
        "shipment_tracking": store.shipment_tracking,
        "owner": {"username": store.owner.username, "password": store.owner.password},
        "keys": [key_data(k) for k in store.keys.values()],
        "webhooks": [{"id": w.id, "topic": w.topic, "status": w.status,
                      "delivery_url": w.delivery_url, "secret": w.secret,
                      "failure_count": w.failure_count, "pending_delivery": w.pending_delivery}
                     for w in store.webhooks.values()],
        "faults": dict(store.faults),
        "counts": {"products": len(store.products), "variations": len(store.variations),
                   "orders": len(store.orders)},
    }


def key_data(key) -> dict[str, Any]:
    """A key with its plain consumer key/secret."""
    return {"key_id": key.key_id, "description": key.description,
            "permissions": key.permissions, "consumer_key": key.consumer_key,
            "consumer_secret": key.consumer_secret,
            "last_access": serializers.gmt_date(key.last_access)}


# ---------------------------------------------------------------- sandbox-wide

@bp.post("/reset")
def reset():
    """Forget everything; ``{"seed": false}`` leaves the sandbox empty."""
    sandbox().reset(seed=bool(body().get("seed", True)))
    return jsonify(stores=sorted(sandbox().stores))


@bp.post("/seed")
def load_seed():
    """Reset to the deterministic seed."""
    sandbox().reset(seed=True)
    return jsonify(stores=sorted(sandbox().stores))


@bp.route("/config", methods=["GET", "PUT"])
def config():
    """Read or change webhook_delay_seconds / allow_insecure_http / base_url at runtime."""
    box = sandbox()
    if request.method == "PUT":
        data = body()
        with box.lock:
            for name in ("allow_insecure_http", "base_url"):
                if name in data:
                    box.config[name] = data[name]
            if "webhook_delay_seconds" in data:
                box.config["webhook_delay_seconds"] = float(data["webhook_delay_seconds"])
                box.dispatcher.delay = box.config["webhook_delay_seconds"]
    keys = ("allow_insecure_http", "base_url", "webhook_delay_seconds")
    return jsonify({k: box.config.get(k) for k in keys})


@bp.get("/stores")
def list_stores():
    """Every store with its URL and keys."""
    with sandbox().lock:
        return jsonify([store_summary(s) for s in sandbox().stores.values()])


@bp.post("/stores")
def create_store():
    """New store: slug, name, utc_offset_minutes, timezone_string, shipment_tracking, catalog
    (seed products)."""
    data = body()
    slug = str(data.get("slug", "")).strip()
    if not slug or not slug.replace("-", "").isalnum():
        raise ControlError("slug must be letters, digits and dashes")
    with sandbox().lock:
        if slug in sandbox().stores:
            raise ControlError(f"Store {slug!r} exists", 409)
        store = Store(slug, str(data.get("name") or slug),
                      utc_offset_minutes=int(data.get("utc_offset_minutes", 0)),
                      timezone_string=str(data.get("timezone_string") or ""),
                      shipment_tracking=bool(data.get("shipment_tracking", True)))
        sandbox().stores[slug] = store
        if data.get("catalog", True):
            seed.seed_catalog(store)
        return jsonify(store_summary(store)), 201


@bp.get("/stores/<slug>")
def read_store(slug: str):
    """One store's summary."""
    with sandbox().lock:
        return jsonify(store_summary(get_store(slug)))


@bp.post("/stores/<slug>/keys")
def create_key(slug: str):
    """A REST key without the wc-auth dance: permissions read|write|read_write."""
    data = body()
    permissions = data.get("permissions", "read_write")
    if permissions not in PERMISSIONS:
        raise ControlError(f"permissions must be one of {', '.join(PERMISSIONS)}")
    with sandbox().lock:
        key = get_store(slug).create_key(permissions=permissions,
                                         description=str(data.get("description", "Test key")))
        return jsonify(key_data(key)), 201


@bp.post("/stores/<slug>/products")
def create_products(slug: str):
    """The owner adds products: ``{"products": [{name, sku, price, stock, gtin, image}]}``.

    ``stock`` null = stock not managed. ``"variations": [{option, sku, price, stock, gtin,
    image}]`` (with ``"attribute"``) makes a variable product. SKUs must be new in the store.
    Each product fires ``product.created`` (each variation too, then the parent's
    ``product.updated``), as saving it in wp-admin does.
    """
    items = body().get("products") or []
    if not isinstance(items, list) or not items:
        raise ControlError("products required")
    with sandbox().lock:
        store = get_store(slug)
        taken = {p.sku for p in store.products.values()} | {v.sku for v in
                                                           store.variations.values()}
        for item in items:
            skus = [item.get("sku")] + [v.get("sku") for v in item.get("variations") or []]
            if not item.get("name") or any(s in taken for s in skus if s) \
                    or (not item.get("variations") and not item.get("sku")
                        and not item.get("allow_no_sku")):
                raise ControlError(f"name and a new sku required: {item!r}")
            taken.update(s for s in skus if s)
        created = [seed.add_product_spec(store, item, utcnow(), emit=True) for item in items]
        return jsonify([{"id": p.id, "sku": p.sku, "variations": [
            {"id": v, "sku": store.variations[v].sku} for v in p.variation_ids]}
            for p in created]), 201


def get_product(store: Store, post_id: int):
    """A product or variation by post id, or 404."""
    item = store.find_product_or_variation(post_id)
    if item is None:
        raise ControlError(f"No product or variation {post_id}", 404)
    return item


@bp.put("/stores/<slug>/products/<int:post_id>")
def update_product(slug: str, post_id: int):
    """The owner edits a product or variation and saves (``product.updated``): any of sku,
    global_unique_id, name, regular_price, manage_stock, stock_quantity, images / image."""
    from sandbox.woocommerce import api
    from sandbox.woocommerce.rest import RestError

    with sandbox().lock:
        store = get_store(slug)
        item = get_product(store, post_id)
        try:
            api.update_stockable(store, item, body())
        except RestError as exc:
            raise ControlError(f"{exc.code}: {exc.message}", exc.status) from None
        return jsonify(serializers.product_data(store, item, f"{store_url(store)}/wp-json"))


@bp.delete("/stores/<slug>/products/<int:post_id>")
def delete_product(slug: str, post_id: int):
    """Trash a product (``product.deleted``); ``?force=true`` deletes it for good (no
    webhook); a variation is always deleted for good, without any webhook."""
    with sandbox().lock:
        store = get_store(slug)
        item = get_product(store, post_id)
        if post_id in store.variations:
            actions.delete_variation(store, item)
        elif request.args.get("force") in ("1", "true", "yes"):
            actions.delete_product(store, item)
        else:
            actions.trash_product(store, item)
        return jsonify(deleted=post_id)


@bp.post("/stores/<slug>/products/<int:post_id>/restore")
def restore_product(slug: str, post_id: int):
    """Restore a trashed product (``product.restored``)."""
    with sandbox().lock:
        store = get_store(slug)
        item = get_product(store, post_id)
        actions.restore_product(store, item)
        return jsonify(serializers.product_data(store, item, f"{store_url(store)}/wp-json"))


@bp.post("/stores/<slug>/products/<int:post_id>/variations")
def add_variation(slug: str, post_id: int):
    """Add a variation ``{option, sku, price, stock, gtin, image}`` to a variable product."""
    data = body()
    with sandbox().lock:
        store = get_store(slug)
        parent = store.products.get(post_id)
        if parent is None:
            raise ControlError(f"No product {post_id}", 404)
        if data.get("sku") and actions.sku_taken(store, str(data["sku"])):
            raise ControlError(f"SKU {data['sku']!r} is taken")
        variation = seed.add_variation_spec(store, parent, data, utcnow(), emit=True)
        return jsonify(serializers.product_data(store, variation,
                                                f"{store_url(store)}/wp-json")), 201


@bp.route("/stores/<slug>/products/<int:post_id>/rest-overrides", methods=["PUT", "DELETE"])
def rest_overrides(slug: str, post_id: int):
    """Malformed data on demand: fields a plugin rewrites in the REST output of this product
    or variation (``{"stock_quantity": "lots"}``; ``"__remove__"`` drops a field)."""
    with sandbox().lock:
        store = get_store(slug)
        if request.method == "DELETE":
            store.rest_overrides.pop(post_id, None)
        else:
            store.rest_overrides[post_id] = dict(body())
        return jsonify(store.rest_overrides.get(post_id) or {})


@bp.post("/stores/<slug>/catalog")
def generate_catalog(slug: str):
    """A large catalog without webhooks: ``{"products": N, "variations": K, "prefix": "GEN"}``
    (every product variable with K variations when K > 0, else simple); streamed from
    seed.catalog_specs, so the request holds one product's spec at a time."""
    data = body()
    count, per = int(data.get("products", 0)), int(data.get("variations", 0))
    if count <= 0 or per < 0:
        raise ControlError("products > 0 required; variations >= 0")
    with sandbox().lock:
        store = get_store(slug)
        made = seed.add_catalog(store, seed.catalog_specs(
            count, variations=per, prefix=str(data.get("prefix") or "GEN")))
        return jsonify(products=made["products"], variations=made["variations"]), 201


@bp.put("/stores/<slug>/shipment-tracking")
def set_shipment_tracking(slug: str):
    """Install (``{"installed": true}``) or remove the Shipment Tracking extension."""
    with sandbox().lock:
        store = get_store(slug)
        store.shipment_tracking = bool(body().get("installed", True))
        return jsonify(shipment_tracking=store.shipment_tracking)


# ---------------------------------------------------------------- owner actions

def resolve_items(store: Store, lines: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Line items given by sku, product_id or variation_id."""
    by_sku = {p.sku: p.id for p in store.products.values() if p.sku}
    by_sku.update({v.sku: v.id for v in store.variations.values() if v.sku})
    items = []
    for line in lines:
        post_id = line.get("variation_id") or line.get("product_id") or by_sku.get(line.get("sku"))
        if not post_id:
            raise ControlError(f"Unknown line {line!r}")
        items.append((int(post_id), int(line.get("quantity", 1))))
    return items


def order_json(store: Store, order: Order) -> dict[str, Any]:
    """The order in REST shape."""
    return serializers.order_data(store, order, f"{store_url(store)}/wp-json")


@bp.post("/stores/<slug>/orders")
def place_order(slug: str):
    """A shopper checks out: ``{"line_items": [{"sku", "quantity"}], "status", "customer"}``."""
    data = body()
    with sandbox().lock:
        store = get_store(slug)
        customer = seed.CUSTOMERS[int(data.get("customer", 0)) % len(seed.CUSTOMERS)]
        billing = data.get("billing") or seed.address(customer, with_contact=True)
        shipping = data.get("shipping") or seed.address(customer, with_contact=False)
        order = actions.place_order(store, resolve_items(store, data.get("line_items") or []),
                                    billing, shipping, status=data.get("status", "processing"),
                                    customer_note=str(data.get("customer_note", "")))
        return jsonify(order_json(store, order)), 201


@bp.post("/stores/<slug>/orders/<int:order_id>/complete")
def complete_order(slug: str, order_id: int):
    """Mark completed; ``{"tracking": {"tracking_number", "tracking_provider"}}`` optional."""
    with sandbox().lock:
        store = get_store(slug)
        order = actions.complete_order(store, get_order(store, order_id),
                                       tracking=body().get("tracking"))
        return jsonify(order_json(store, order))


@bp.post("/stores/<slug>/orders/<int:order_id>/cancel")
def cancel_order(slug: str, order_id: int):
    """Cancel (restores stock that was reduced)."""
    with sandbox().lock:
        store = get_store(slug)
        return jsonify(order_json(store, actions.cancel_order(store, get_order(store, order_id))))


@bp.post("/stores/<slug>/orders/<int:order_id>/refund")
def refund_order(slug: str, order_id: int):
    """Refund ``{"amount", "reason", "restock", "line_items": [{"id", "quantity"}]}`` (no
    amount = the line items' total, else what is left), as the owner does in the admin with
    "Restock refunded items" ticked or not."""
    data = body()
    lines: dict[int, int] = {}
    for item in data.get("line_items") or []:
        lines[int(item["id"])] = lines.get(int(item["id"]), 0) + int(item["quantity"])
    with sandbox().lock:
        store = get_store(slug)
        order = get_order(store, order_id)
        actions.refund_order(store, order, amount=data.get("amount"),
                             reason=str(data.get("reason", "")),
                             restock=bool(data.get("restock", False)), line_items=lines or None)
        return jsonify(order_json(store, order))


@bp.post("/stores/<slug>/orders/<int:order_id>/trash")
def trash_order(slug: str, order_id: int):
    """Move the order to the trash (order.deleted)."""
    with sandbox().lock:
        store = get_store(slug)
        order = get_order(store, order_id)
        actions.trash_order(store, order)
        return jsonify(order_json(store, order))


@bp.post("/stores/<slug>/orders/<int:order_id>/status")
def set_order_status(slug: str, order_id: int):
    """Owner changes the status in the order screen: ``{"status": "on-hold"}``."""
    status = body().get("status")
    if status not in actions.STATUS_NAMES or status == "trash":
        raise ControlError(f"Unknown status {status!r}")
    with sandbox().lock:
        store = get_store(slug)
        order = get_order(store, order_id)
        actions.move_order_to(store, order, status)
        return jsonify(order_json(store, order))


@bp.post("/stores/<slug>/products/<int:post_id>/stock")
def set_stock(slug: str, post_id: int):
    """Owner edits stock of a product or variation: ``{"stock_quantity": 7}``."""
    data = body()
    with sandbox().lock:
        store = get_store(slug)
        item = store.find_product_or_variation(post_id)
        if item is None:
            raise ControlError(f"No product or variation {post_id}", 404)
        item.manage_stock = True
        item.stock_quantity = int(data["stock_quantity"])
        actions.touch_product(store, item)
        return jsonify(serializers.product_data(store, item, f"{store_url(store)}/wp-json"))


# ---------------------------------------------------------------- faults, logs, counters

@bp.route("/stores/<slug>/faults", methods=["GET", "PUT", "DELETE"])
def faults(slug: str):
    """Webhook faults: fail N, duplicate N, delay seconds, reorder N (hold N, send reversed);
    REST outage: rest_error {route, after, count, status} (api.rest_outage)."""
    with sandbox().lock:
        store = get_store(slug)
        if request.method == "DELETE":
            store.faults.clear()
        elif request.method == "PUT":
            data = body()
            unknown = set(data) - set(FAULTS)
            if unknown:
                raise ControlError(f"Unknown faults {sorted(unknown)}; use {FAULTS}")
            store.faults.update({k: v for k, v in data.items() if v})
            for name in [k for k, v in data.items() if not v]:
                store.faults.pop(name, None)
        return jsonify(store.faults)


@bp.route("/deliveries", methods=["GET", "DELETE"])
def deliveries():
    """Webhook deliveries, pings and wc-auth callbacks; filter by store, webhook_id, kind."""
    box = sandbox()
    with box.lock:
        if request.method == "DELETE":
            box.deliveries.clear()
            return jsonify([])
        items = list(box.deliveries)
    for name in ("store", "kind", "topic"):
        if request.args.get(name):
            items = [d for d in items if d.get(name) == request.args[name]]
    if request.args.get("webhook_id"):
        items = [d for d in items if d.get("webhook_id") == int(request.args["webhook_id"])]
    return jsonify(items)


@bp.post("/webhooks/drain")
def drain():
    """Wait (up to ``timeout`` seconds) until no webhook job is queued; answers the queue size."""
    deadline = time.monotonic() + float(body().get("timeout", 10))
    dispatcher = sandbox().dispatcher
    while dispatcher.queued() and time.monotonic() < deadline:
        time.sleep(0.02)
    return jsonify(queued=dispatcher.queued())


@bp.route("/stores/<slug>/requests", methods=["GET", "DELETE"])
def request_counts(slug: str):
    """REST request counts per ``"METHOD route"`` (e.g. ``"POST wc/v3/products/batch"``)."""
    with sandbox().lock:
        store = get_store(slug)
        if request.method == "DELETE":
            store.request_counts.clear()
        return jsonify(store.request_counts)
