"""The /_sandbox/ JSON control API: what merchants, checkouts and 3PLs do on Shopify's side, plus
test knobs (reset, apps, faults, webhook settings, clock, plan) and inspection."""
from __future__ import annotations

import functools

from flask import Blueprint, current_app, request

from . import operations, payloads
from .config import app_from_dict, load_app
from .graphql_api import json_response
from .operations import UserError
from .seed import (add_catalog_product, add_shop, add_variant, create_order, product_summary,
                   seed_catalog)
from .state import parse_gid
from .throttle import PLANS

bp = Blueprint("shopify_controls", __name__, url_prefix="/_sandbox")


def _sandbox():
    return current_app.extensions["shopify_sandbox"]


def _body() -> dict:
    return request.get_json(silent=True) or {}


def control(fn):
    """Run under the store lock; UserError -> 422, missing things -> 404, bad input -> 400."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        sandbox = _sandbox()
        with sandbox.store.lock:
            try:
                result = fn(sandbox, *args, **kwargs)
            except UserError as err:
                return json_response({"error": err.message, "field": err.field,
                                      "code": err.code}, 422)
            except KeyError as err:
                return json_response({"error": f"missing field: {err}"}, 400)
            except LookupError as err:
                return json_response({"error": f"not found: {err}"}, 404)
            except (ValueError, TypeError) as err:
                return json_response({"error": str(err)}, 400)
        return result if not isinstance(result, dict | list) else json_response(result)
    return wrapper


def _shop(sandbox, domain: str):
    shop = sandbox.store.shop(domain)
    if shop is None:
        raise LookupError(domain)
    return shop


def _id(value, kind: str) -> int:
    """Accept a gid or a plain number."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    num = parse_gid(value, kind)
    if num is None:
        raise ValueError(f"not a {kind} id: {value!r}")
    return num


# --- lifecycle and inspection ---------------------------------------------------------------

@bp.get("/health")
@control
def health(sandbox):
    """Liveness and API version."""
    return {"ok": True, "api_version": sandbox.config.api_version}


@bp.post("/reset")
@control
def reset(sandbox):
    """Rebuild the seeded world (optionally with another seed)."""
    sandbox.reset(_body().get("seed"))
    return {"ok": True, "seed": sandbox.store.seed}


@bp.post("/clock")
@control
def clock(sandbox):
    """Advance sandbox time (token and code expiry) by ``advance_seconds``."""
    sandbox.store.clock_offset += float(_body().get("advance_seconds", 0))
    return {"now": sandbox.store.now(), "offset": sandbox.store.clock_offset}


@bp.get("/shops")
@control
def list_shops(sandbox):
    """Every shop with its plan."""
    return [{"domain": s.domain, "name": s.name, "plan": s.plan} for s in sandbox.store.shops.values()]


@bp.get("/shops/<shop>")
@control
def shop_state(sandbox, shop):
    """Everything about one shop, in plain JSON, for tests and the HTML admin."""
    s = _shop(sandbox, shop)
    return shop_snapshot(sandbox, s)


def shop_snapshot(sandbox, s) -> dict:
    """A JSON picture of one shop's state."""
    return {
        "domain": s.domain, "plan": s.plan,
        "locations": [{"id": loc.id, "gid": f"gid://shopify/Location/{loc.id}", "name": loc.name,
                       "kind": loc.kind} for loc in s.locations.values()],
        "variants": [{"id": v.id, "sku": v.sku, "inventory_item_id": v.inventory_item_id,
                      "title": v.title, "barcode": v.barcode, "product_id": v.product_id}
                     for v in s.live_variants()],
        "products": [{"id": p.id, "title": p.title, "variant_ids": list(p.variant_ids)}
                     for p in s.products.values() if not p.deleted],
        "levels": [{"inventory_item_id": i, "location_id": loc, "sku": s.items[i].sku,
                    "available": lvl.available, "on_hand": lvl.on_hand,
                    "committed": lvl.committed} for (i, loc), lvl in s.levels.items()],
        "orders": [{"id": o.id, "name": o.name, "cancelled": o.cancelled_at is not None,
                    "line_items": [{"id": li.id, "sku": li.sku, "quantity": li.quantity,
                                    "fulfilled": li.fulfilled_quantity} for li in o.line_items]}
                   for o in s.orders.values()],
        "fulfillment_orders": [{
            "id": fo.id, "gid": f"gid://shopify/FulfillmentOrder/{fo.id}", "order_id": fo.order_id,
            "location_id": fo.location_id, "status": fo.status,
            "request_status": fo.request_status,
            "supported_actions": [a["action"] for a in operations.supported_actions(s, fo)],
            "line_items": [{"id": ln.id, "line_item_id": ln.line_item_id,
                            "total": ln.total_quantity, "remaining": ln.remaining_quantity}
                           for ln in fo.lines]} for fo in s.fulfillment_orders.values()],
        "fulfillments": [{"id": f.id, "order_id": f.order_id, "status": f.status,
                          "shipment_status": f.shipment_status, "tracking": f.tracking,
                          "origin": f.origin, "location_id": f.location_id,
                          "lines": [{"line_item_id": fl.line_item_id, "quantity": fl.quantity,
                                     "fulfillment_order_id": fl.fo_id} for fl in f.lines]}
                         for f in s.fulfillments.values()],
        "installations": [{"client_id": i.client_id, "scopes": i.scopes, "active": i.active}
                          for (sh, _), i in sandbox.store.installations.items() if sh == s.domain],
    }


# --- apps and installation --------------------------------------------------------------------

@bp.get("/apps")
@control
def list_apps(sandbox):
    """Every registered app."""
    return [{"client_id": a.client_id, "name": a.name, "handle": a.handle,
             "application_url": a.application_url, "redirect_urls": a.redirect_urls,
             "scopes": a.scopes, "webhooks": a.declared_webhooks}
            for a in sandbox.store.apps.values()]


@bp.post("/apps")
@control
def register_app(sandbox):
    """Register/replace an app: ``{toml_path | toml (parsed dict), secret, application_url,
    redirect_urls}``; defaults to the configured shopify.app.toml."""
    body = _body()
    secret = body.get("secret") or sandbox.config.api_secret
    kwargs = {"application_url": body.get("application_url"),
              "redirect_urls": body.get("redirect_urls")}
    if isinstance(body.get("toml"), dict):
        app = app_from_dict(body["toml"], secret, **kwargs)
    else:
        app = load_app(body.get("toml_path") or sandbox.config.app_toml, secret, **kwargs)
    old = sandbox.store.apps.get(app.client_id)
    app.id = old.id if old else len(sandbox.store.apps) + 1
    sandbox.store.apps[app.client_id] = app
    return {"client_id": app.client_id, "application_url": app.application_url,
            "redirect_urls": app.redirect_urls, "scopes": app.scopes}


@bp.post("/apps/<client_id>/secret")
@control
def set_secret(sandbox, client_id):
    """Replace an app's client secret."""
    app = sandbox.store.apps.get(client_id)
    if app is None:
        raise LookupError(client_id)
    app.secret = _body()["secret"]
    return {"ok": True}


@bp.post("/shops/<shop>/install")
@control
def install(sandbox, shop):
    """Install an app directly (no browser) and return an offline token response."""
    _shop(sandbox, shop)
    body = _body()
    app = sandbox.store.apps.get(body.get("client_id") or next(iter(sandbox.store.apps), ""))
    if app is None:
        raise LookupError("app")
    scopes = body.get("scopes") or app.scopes
    sandbox.auth.install(shop, app.client_id, scopes)
    return sandbox.auth.issue(shop, app.client_id, scopes, expiring=bool(body.get("expiring")))


@bp.post("/shops/<shop>/uninstall")
@control
def uninstall(sandbox, shop):
    """The merchant uninstalls the app: tokens revoked, app/uninstalled sent to that app."""
    s = _shop(sandbox, shop)
    client_id = _body().get("client_id") or next(iter(sandbox.store.apps), "")
    if not sandbox.auth.uninstall(shop, client_id):
        raise UserError("App is not installed on this shop.")
    sandbox.store.emit(shop, "app/uninstalled", payloads.shop_payload(s), client_id=client_id)
    return {"ok": True}


@bp.get("/session-token")
@control
def session_token(sandbox):
    """A fresh session token (what shopify.idToken() returns) for ?shop=&client_id=."""
    shop = request.args.get("shop", "")
    _shop(sandbox, shop)
    app = sandbox.store.apps.get(request.args.get("client_id") or next(iter(sandbox.store.apps), ""))
    if app is None:
        raise LookupError("app")
    resp = json_response({"id_token": sandbox.auth.session_token(shop, app)})
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.post("/shops/<shop>/compliance/<topic>")
@control
def compliance(sandbox, shop, topic):
    """Send a compliance webhook: customers_data_request, customers_redact or shop_redact."""
    s = _shop(sandbox, shop)
    rest = {"customers_data_request": "customers/data_request",
            "customers_redact": "customers/redact", "shop_redact": "shop/redact"}.get(topic)
    if rest is None:
        raise ValueError("unknown compliance topic")
    body = _body()
    payload = {"shop_id": s.id, "shop_domain": s.domain}
    order = next(iter(s.orders.values()), None)
    if rest != "shop/redact" and order is not None:
        payload["customer"] = {"id": order.customer_id, "email": order.email, "phone": None}
        ids = [o.id for o in s.orders.values() if o.customer_id == order.customer_id]
        payload["orders_requested" if rest == "customers/data_request" else "orders_to_redact"] = ids
        if rest == "customers/data_request":
            payload["data_request"] = {"id": sandbox.store.next_id("DataRequest")}
    sandbox.store.emit(shop, rest, payload, client_id=body.get("client_id")
                       or next(iter(sandbox.store.apps), None))
    return {"ok": True, "payload": payload}


# --- merchant / checkout actions ---------------------------------------------------------------

@bp.post("/shops/<shop>/products")
@control
def add_product(sandbox, shop):
    """The merchant adds a product: ``{title, image_url?, variants: [{title, sku, barcode?,
    image_url?, price, on_hand?}], locations?: [location id], unchecked?}``; products/create.

    ``on_hand`` (one number for every location, or ``{location id: quantity}``) stocks the
    new variants at ``locations`` (default: all). The sandbox refuses empty and already
    used SKUs unless ``unchecked`` (Shopify itself allows both: tests of those cases say so).
    """
    s = _shop(sandbox, shop)
    body = _body()
    variants = body.get("variants") or []
    if not body.get("title") or not variants:
        raise ValueError("title and variants required")
    if not body.get("unchecked"):
        _check_skus(s, [v.get("sku") for v in variants])
    locations = [_id(x, "Location") for x in body["locations"]] if "locations" in body else None
    created = add_catalog_product(sandbox.store, s, body["title"], variants,
                                  image_url=body.get("image_url") or "", locations=locations)
    sandbox.store.emit(shop, "products/create",
                       payloads.product_payload(s, s.products[created["id"]]))
    return created


def _check_skus(s, skus: list, *, except_ids: set[int] = frozenset()) -> None:
    seen = set()
    for sku in skus:
        taken = s.variant_by_sku(sku) if sku else None
        if not sku or sku in seen or (taken is not None and taken.id not in except_ids):
            raise UserError(f"SKU {sku!r} is missing or already taken", ["variants"])
        seen.add(sku)


def _product(s, product_id):
    product = s.products.get(_id(product_id, "Product"))
    if product is None or product.deleted:
        raise LookupError(product_id)
    return product


@bp.post("/shops/<shop>/products/<product_id>")
@control
def update_product(sandbox, shop, product_id):
    """The merchant edits a product: ``{title?, image_url?, variants?: [{id, sku?, barcode?,
    title?, image_url?}], add_variants?: [spec], remove_variants?: [id], unchecked?}``.

    One products/update for the whole edit (as Shopify sends one per save).
    """
    s = _shop(sandbox, shop)
    product = _product(s, product_id)
    body = _body()
    store = sandbox.store
    now = store.now()
    edits = [(s.variants.get(_id(e["id"], "ProductVariant")), e) for e in body.get("variants")
             or []]
    if any(v is None or v.deleted or v.product_id != product.id for v, _ in edits):
        raise LookupError("variant of this product")
    if not body.get("unchecked"):
        changed = [e["sku"] for _, e in edits if "sku" in e]
        _check_skus(s, changed + [v.get("sku") for v in body.get("add_variants") or []],
                    except_ids={v.id for v, _ in edits})
    for key in ("title", "image_url"):
        if key in body:
            setattr(product, key, body[key] or "")
    if body.get("image_url") and not product.image_id:
        product.image_id = store.next_id("MediaImage")
    for v, e in edits:
        for key in ("sku", "barcode", "title", "image_url"):
            if key in e:
                setattr(v, key, e[key] or "")
        if e.get("image_url") and not v.image_id:
            v.image_id = store.next_id("MediaImage")
        s.items[v.inventory_item_id].sku = v.sku
        v.updated_at = now
    locations = [_id(x, "Location") for x in body["locations"]] if "locations" in body else None
    for spec in body.get("add_variants") or []:
        add_variant(store, s, product, spec, locations=locations)
    for vid in body.get("remove_variants") or []:
        _remove_variant(s, product, _id(vid, "ProductVariant"))
    product.updated_at = now
    store.emit(shop, "products/update", payloads.product_payload(s, product))
    return product_summary(product, [s.variants[v] for v in product.variant_ids])


def _remove_variant(s, product, variant_id: int) -> None:
    v = s.variants.get(variant_id)
    if v is None or v.deleted or v.product_id != product.id:
        raise LookupError(variant_id)
    v.deleted = True
    product.variant_ids.remove(v.id)


@bp.delete("/shops/<shop>/variants/<variant_id>")
@control
def delete_variant(sandbox, shop, variant_id):
    """The merchant deletes one variant: products/update of its product without it."""
    s = _shop(sandbox, shop)
    v = s.variants.get(_id(variant_id, "ProductVariant"))
    if v is None or v.deleted:
        raise LookupError(variant_id)
    product = s.products[v.product_id]
    _remove_variant(s, product, v.id)
    product.updated_at = sandbox.store.now()
    sandbox.store.emit(shop, "products/update", payloads.product_payload(s, product))
    return {"ok": True, "product_id": product.id}


@bp.delete("/shops/<shop>/products/<product_id>")
@control
def delete_product(sandbox, shop, product_id):
    """The merchant deletes a product and its variants: products/delete ``{"id": ...}``."""
    s = _shop(sandbox, shop)
    product = _product(s, product_id)
    product.deleted = True
    for vid in product.variant_ids:
        s.variants[vid].deleted = True
    sandbox.store.emit(shop, "products/delete", payloads.product_deleted_payload(product))
    return {"ok": True, "id": product.id}


@bp.post("/shops/<shop>/variants/<variant_id>/quantities")
@control
def set_quantities(sandbox, shop, variant_id):
    """The merchant sets a variant's on-hand stock: ``{quantities: {location id: on_hand}}``.

    Committed units (open orders) stay as they are, so available follows; one
    inventory_levels/update per changed location (what Shopify sends for stock edits).
    A location the variant was not stocked at is connected first.
    """
    s = _shop(sandbox, shop)
    v = s.variants.get(_id(variant_id, "ProductVariant"))
    if v is None or v.deleted:
        raise LookupError(variant_id)
    out = {}
    for loc_key, on_hand in (_body().get("quantities") or {}).items():
        loc = _id(loc_key, "Location")
        if loc not in s.locations:
            raise LookupError(loc_key)
        level = s.level(v.inventory_item_id, loc, create=True)
        delta = int(on_hand) - level.on_hand
        if delta:
            operations.adjust_level(sandbox.store, s, v.inventory_item_id, loc, on_hand=delta)
        out[str(loc)] = {"available": level.available, "on_hand": level.on_hand,
                         "committed": level.committed}
    return out


@bp.post("/shops")
@control
def create_shop(sandbox):
    """A new, empty shop: ``{domain, name?, plan?, locations?: n, iana_timezone?}`` (n
    merchant locations; the zone Settings > General gives, America/Toronto by default)."""
    body = _body()
    domain = (body.get("domain") or "").strip().lower()
    if not domain.endswith(".myshopify.com"):
        raise ValueError("domain must be <handle>.myshopify.com")
    if sandbox.store.shop(domain) is not None:
        raise UserError(f"{domain} exists", ["domain"])
    shop = add_shop(sandbox.store, domain, body.get("name") or domain.split(".")[0].title(),
                    plan=body.get("plan") or "standard", locations=int(body.get("locations", 1)))
    if body.get("iana_timezone"):
        shop.iana_timezone = str(body["iana_timezone"])
    return shop_snapshot(sandbox, shop)


@bp.post("/shops/<shop>/catalog")
@control
def seed_shop_catalog(sandbox, shop):
    """Seed a catalog: ``{variants, products, locations, prefix?, seed?, stock?: [lo, hi]}``.

    Streams the variants (:func:`seed.catalog_specs`); no webhooks (a catalog that was
    there before the app was installed). Answers counts and the stocked locations.
    """
    s = _shop(sandbox, shop)
    body = _body()
    stock = tuple(int(x) for x in body.get("stock") or (0, 50))
    return seed_catalog(sandbox.store, s, variants=int(body["variants"]),
                        products=int(body.get("products") or body["variants"]),
                        locations=int(body.get("locations", 1)),
                        prefix=body.get("prefix") or "SKU", seed=int(body.get("seed", 1)),
                        stock=(stock[0], stock[1]))


@bp.post("/shops/<shop>/orders")
@control
def place_order(sandbox, shop):
    """A checkout: ``{lines: [{sku, quantity}], email, customer_name, location_id?}``."""
    s = _shop(sandbox, shop)
    body = _body()
    lines = []
    for line in body.get("lines") or []:
        v = s.variant_by_sku(line["sku"])
        if v is None:
            raise UserError(f"Unknown SKU {line['sku']}", ["lines"])
        lines.append((v.id, int(line.get("quantity", 1))))
    if not lines:
        raise ValueError("lines required")
    loc = body.get("location_id")
    order = create_order(sandbox.store, s, lines, email=body.get("email", "buyer@example.com"),
                         customer_name=body.get("customer_name", "Sandbox Buyer"),
                         location_id=_id(loc, "Location") if loc else None)
    for li in order.line_items:
        item = s.variants[li.variant_id].inventory_item_id
        for fo in s.fulfillment_orders.values():
            if fo.order_id == order.id and any(ln.line_item_id == li.id for ln in fo.lines):
                level = s.level(item, fo.location_id)
                sandbox.store.emit(shop, "inventory_levels/update",
                                   payloads.inventory_level_payload(item, fo.location_id,
                                                                    level.available,
                                                                    level.updated_at))
    sandbox.store.emit(shop, "orders/create", payloads.order_payload(s, order))
    return _order_summary(s, order)


def _order_summary(s, order) -> dict:
    return {"id": order.id, "gid": f"gid://shopify/Order/{order.id}", "name": order.name,
            "fulfillment_orders": [{"id": fo.id, "gid": f"gid://shopify/FulfillmentOrder/{fo.id}",
                                    "location_id": fo.location_id,
                                    "line_items": [{"id": ln.id, "quantity": ln.total_quantity}
                                                   for ln in fo.lines]}
                                   for fo in s.fulfillment_orders.values()
                                   if fo.order_id == order.id]}


@bp.post("/shops/<shop>/orders/<order_id>/cancel")
@control
def cancel_order(sandbox, shop, order_id):
    """The merchant cancels an order."""
    s = _shop(sandbox, shop)
    order = operations.cancel_order(sandbox.store, s, _id(order_id, "Order"),
                                    _body().get("reason", "customer"))
    return {"ok": True, "id": order.id}


@bp.post("/shops/<shop>/orders/<order_id>/refunds")
@control
def refund_order(sandbox, shop, order_id):
    """The merchant refunds in Shopify admin: ``{refund_line_items: [{line_item_id, quantity,
    restock_type: return|cancel|no_restock, location_id?}], note?}`` (refunds/create)."""
    s = _shop(sandbox, shop)
    items = [{**item, "line_item_id": _id(item["line_item_id"], "LineItem"),
              "location_id": _id(item["location_id"], "Location")
              if item.get("location_id") is not None else None}
             for item in _body().get("refund_line_items") or []]
    r = operations.refund(sandbox.store, s, _id(order_id, "Order"), items, _body().get("note"))
    return {"id": r.id, "gid": f"gid://shopify/Refund/{r.id}",
            "refund_line_items": [{"id": rl.id, "line_item_id": rl.line_item_id,
                                   "quantity": rl.quantity, "restock_type": rl.restock_type,
                                   "location_id": rl.location_id} for rl in r.lines]}


@bp.post("/shops/<shop>/fulfillments")
@control
def fulfill_on_platform(sandbox, shop):
    """The merchant fulfills in Shopify admin: ``{fulfillment_order_id, line_items?, tracking?}``."""
    s = _shop(sandbox, shop)
    body = _body()
    fo_id = _id(body["fulfillment_order_id"], "FulfillmentOrder")
    lines = _line_inputs(body.get("line_items"))
    f = operations.create_fulfillment(sandbox.store, s, [(fo_id, lines)],
                                      tracking=_tracking(body.get("tracking")),
                                      notify=bool(body.get("notify_customer")), origin="platform")
    return {"id": f.id, "gid": f"gid://shopify/Fulfillment/{f.id}", "status": f.status}


def _line_inputs(items):
    if items is None:
        return None
    return [(_id(x["id"], "FulfillmentOrderLineItem"), int(x["quantity"])) for x in items]


def _tracking(t) -> list[dict]:
    if not t:
        return []
    return [{"company": t.get("company"), "number": t.get("number"), "url": t.get("url")}]


@bp.post("/shops/<shop>/fulfillments/<f_id>/cancel")
@control
def cancel_fulfillment(sandbox, shop, f_id):
    """The merchant cancels a fulfillment."""
    f = operations.cancel_fulfillment(sandbox.store, _shop(sandbox, shop), _id(f_id, "Fulfillment"))
    return {"id": f.id, "status": f.status}


@bp.post("/shops/<shop>/fulfillments/<f_id>/tracking")
@control
def add_tracking(sandbox, shop, f_id):
    """The merchant adds tracking to a fulfillment."""
    body = _body()
    f = operations.update_tracking(sandbox.store, _shop(sandbox, shop), _id(f_id, "Fulfillment"),
                                   _tracking(body), bool(body.get("notify_customer")))
    return {"id": f.id, "tracking": f.tracking}


@bp.post("/shops/<shop>/fulfillments/<f_id>/events")
@control
def add_event(sandbox, shop, f_id):
    """A carrier update: ``{status: IN_TRANSIT | DELIVERED | ...}``."""
    body = _body()
    ev = operations.create_event(sandbox.store, _shop(sandbox, shop), _id(f_id, "Fulfillment"),
                                 body.get("status", "IN_TRANSIT"), message=body.get("message"))
    return {"id": ev.id, "status": ev.status}


@bp.post("/shops/<shop>/fulfillments/<f_id>/delivered")
@control
def mark_delivered(sandbox, shop, f_id):
    """The carrier reports the shipment delivered."""
    ev = operations.create_event(sandbox.store, _shop(sandbox, shop), _id(f_id, "Fulfillment"),
                                 "DELIVERED")
    return {"id": ev.id, "status": ev.status}


@bp.post("/shops/<shop>/inventory")
@control
def set_stock(sandbox, shop):
    """The merchant edits stock: ``{sku, location_id, on_hand}`` or ``{..., delta}``."""
    s = _shop(sandbox, shop)
    body = _body()
    v = s.variant_by_sku(body["sku"])
    if v is None:
        raise LookupError(body["sku"])
    loc = _id(body["location_id"], "Location")
    level = s.level(v.inventory_item_id, loc, create=True)
    delta = int(body["delta"]) if "delta" in body else int(body["on_hand"]) - level.on_hand
    operations.adjust_level(sandbox.store, s, v.inventory_item_id, loc, on_hand=delta)
    return {"available": level.available, "on_hand": level.on_hand, "committed": level.committed}


# --- the 3PL (fulfillment service) side -------------------------------------------------------

@bp.post("/shops/<shop>/fulfillment_orders/<fo_id>/split")
@control
def split_fulfillment_order(sandbox, shop, fo_id):
    """The merchant splits a fulfillment order in the admin: ``{line_items: [{id, quantity}]}``
    leave it for a new fulfillment order at the same location (fulfillment_orders/split)."""
    s = _shop(sandbox, shop)
    original, remaining = operations.split(sandbox.store, s, _id(fo_id, "FulfillmentOrder"),
                                           _line_inputs(_body()["line_items"]))
    return {"id": original.id, "remaining_id": remaining.id,
            "remaining_gid": f"gid://shopify/FulfillmentOrder/{remaining.id}"}


@bp.post("/shops/<shop>/fulfillment_orders/<fo_id>/<action>")
@control
def fulfillment_service(sandbox, shop, fo_id, action):
    """The 3PL answers: accept | reject | accept_cancellation | reject_cancellation | fulfill."""
    s = _shop(sandbox, shop)
    fo = _id(fo_id, "FulfillmentOrder")
    message = _body().get("message")
    if action in ("accept", "reject"):
        done = operations.respond_to_request(sandbox.store, s, fo, action == "accept", message)
        return {"id": done.id, "status": done.status, "request_status": done.request_status}
    if action in ("accept_cancellation", "reject_cancellation"):
        done, replacement = operations.respond_to_cancellation(
            sandbox.store, s, fo, action == "accept_cancellation", message)
        return {"id": done.id, "status": done.status, "request_status": done.request_status,
                "replacement_id": replacement.id if replacement else None}
    if action == "fulfill":
        body = _body()
        lines = _line_inputs(body.get("line_items"))
        f = operations.create_fulfillment(sandbox.store, s, [(fo, lines)],
                                          tracking=_tracking(body.get("tracking")), notify=False,
                                          origin="fulfillment_service")
        return {"id": f.id, "gid": f"gid://shopify/Fulfillment/{f.id}"}
    raise LookupError(action)


# --- knobs ------------------------------------------------------------------------------------

@bp.post("/shops/<shop>/plan")
@control
def set_plan(sandbox, shop):
    """``{plan}`` (standard|advanced|plus|enterprise) or ``{restore_rate, bucket_size}``."""
    s = _shop(sandbox, shop)
    body = _body()
    if "plan" in body:
        if body["plan"] not in PLANS:
            raise ValueError(f"plan must be one of {sorted(PLANS)}")
        s.plan = body["plan"]
        sandbox.buckets.overrides.pop(shop, None)
    if "restore_rate" in body or "bucket_size" in body:
        restore, size = PLANS[s.plan]
        sandbox.buckets.overrides[shop] = (float(body.get("restore_rate", restore)),
                                           float(body.get("bucket_size", size)))
    return {"plan": s.plan, "override": sandbox.buckets.overrides.get(shop)}


@bp.get("/shops/<shop>/rate-limit")
@control
def rate_limit_counts(sandbox, shop):
    """GraphQL requests answered on the shop since the last reset, and how many of them were
    THROTTLED (every app's together)."""
    s = _shop(sandbox, shop)
    counts = sandbox.buckets.counts.get(s.domain, {"calls": 0, "throttled": 0})
    return {"calls": counts["calls"], "throttled": counts["throttled"]}


@bp.post("/faults/api")
@control
def arm_api_fault(sandbox):
    """Arm an API fault: ``{kind: error|timeout|slow|throttle, count, status, seconds, shop}``."""
    return sandbox.faults.arm(_body())


@bp.delete("/faults")
@control
def clear_faults(sandbox):
    """Disarm API and webhook faults."""
    sandbox.faults.clear()
    sandbox.webhooks.settings.faults = {}
    return {"ok": True}


@bp.post("/webhooks/settings")
@control
def webhook_settings(sandbox):
    """``{timeout, retry_delays, time_scale}`` for deliveries."""
    body = _body()
    st = sandbox.webhooks.settings
    st.timeout = float(body.get("timeout", st.timeout))
    st.time_scale = float(body.get("time_scale", st.time_scale))
    if "retry_delays" in body:
        st.retry_delays = [float(x) for x in body["retry_delays"]]
    return {"timeout": st.timeout, "time_scale": st.time_scale, "retry_delays": st.retry_delays}


@bp.post("/webhooks/faults")
@control
def webhook_faults(sandbox):
    """Arm delivery faults: ``{duplicate: n, drop: n, delay: n, delay_seconds, reorder: n,
    reorder_batch, topics: [...]}`` (each number = how many deliveries it hits)."""
    sandbox.webhooks.settings.faults = dict(_body())
    return sandbox.webhooks.settings.faults


@bp.post("/webhooks/flush")
@control
def webhook_flush(sandbox):
    """Release deliveries held by the reorder fault."""
    sandbox.webhooks.flush_held()
    return {"ok": True}


@bp.get("/webhooks/deliveries")
def webhook_deliveries():
    """Delivered/pending/failed webhooks (``?topic=&shop=&state=``), oldest first."""
    args = request.args
    return json_response(_sandbox().webhooks.deliveries(
        topic=args.get("topic"), shop=args.get("shop"), state=args.get("state")))


@bp.get("/toasts")
@control
def list_toasts(sandbox):
    """Toasts shown by the embedded app."""
    return list(sandbox.store.toasts)


@bp.post("/toasts")
@control
def add_toast(sandbox):
    """The admin frame records toasts the embedded app showed (shopify.toast.show)."""
    body = _body()
    sandbox.store.toasts.append({"message": body.get("message"), "isError": bool(body.get("isError"))})
    return {"ok": True}



#: What the admin frame records of the embedded app's App Bridge use, per log: each field
#: with its kind (str, cut to the length given, or bool).
#: misuse: elements used wrongly (a nav link outside the app's URL, two primary title-bar
#:   buttons, a ui-modal without id...); loading: each shopify.loading(true), with the page;
#: modals: each ui-modal shown or hidden; save-bar: the save bar shown / hidden /
#:   leave_blocked (a sidebar click refused while a form had unsaved changes).
APP_BRIDGE_LOGS = {
    "misuse": {"message": 500},
    "loading": {"path": 500},
    "modals": {"id": 200, "open": bool, "title": 500, "text": 2000},
    "save-bar": {"event": 40, "path": 500, "to": 500},
}


@bp.get("/app-bridge/<any(misuse, loading, modals, 'save-bar'):log>")
@control
def list_app_bridge_log(sandbox, log):
    """One App Bridge log, oldest first (APP_BRIDGE_LOGS)."""
    return list(sandbox.store.app_bridge[log])


@bp.post("/app-bridge/<any(misuse, loading, modals, 'save-bar'):log>")
@control
def add_app_bridge_log(sandbox, log):
    """The admin frame records one entry of a log."""
    body = _body()
    sandbox.store.app_bridge[log].append({
        name: bool(body.get(name)) if kind is bool else str(body.get(name, ""))[:kind]
        for name, kind in APP_BRIDGE_LOGS[log].items()})
    return {"ok": True}
