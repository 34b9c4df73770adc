"""REST API v3 routes under /stores/<store>/wp-json/wc/v3: orders, notes, products, variations, webhooks."""
from __future__ import annotations

import datetime as dt
import functools
import secrets
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, current_app, g, request

from sandbox.woocommerce import actions, auth, serializers, webhooks
from sandbox.woocommerce.rest import (PERMISSION_ERRORS, RestError, invalid_id, invalid_params,
                                      json_response, no_route, paginate, params, truthy)
from sandbox.woocommerce.state import (ORDER_STATUSES, Order, Product, Sandbox, Store,
                                       Variation, Webhook, utcnow)

bp = Blueprint("wc_rest", __name__, url_prefix="/stores/<store>/wp-json")
EDITABLE = ["POST", "PUT", "PATCH"]
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
BATCH_LIMIT = 100


def sandbox() -> Sandbox:
    """The Sandbox bound to the running app."""
    return current_app.extensions["wc_sandbox"]


def rest_base(store: Store) -> str:
    """rest_url() for this store as the client addressed it."""
    return f"{request.host_url.rstrip('/')}/stores/{store.slug}/wp-json"


def endpoint_label() -> str:
    """'PUT wc/v3/orders/{id}' for request counting."""
    rule = request.url_rule.rule if request.url_rule else request.path
    route = rule.split("/wp-json/", 1)[-1]
    for token in ("<int:order_id>", "<int:product_id>", "<int:item_id>", "<int:note_id>",
                  "<int:webhook_id>", "<tracking_id>"):
        route = route.replace(token, "{" + token.strip("<>").split(":")[-1] + "}")
    return f"{request.method} {route}"


def authenticate_request(store: Store) -> None:
    """determine_current_user + rest_authentication_errors + rest_pre_dispatch permissions."""
    result = auth.authenticate(store, request,
                               allow_insecure_http=sandbox().config.get("allow_insecure_http",
                                                                        False))
    if result.error:
        raise result.error
    g.api_key = result.key
    if result.key:
        error = auth.check_permissions(result.key, request.method)
        if error:
            raise error
        result.key.last_access = utcnow()


def require(kind: str) -> None:
    """The route's permission_callback: logged-out visitors get 401."""
    if getattr(g, "api_key", None) is None:
        code, message = PERMISSION_ERRORS[kind]
        raise RestError(code, message, 401)


def rest_route(rule: str, methods: list[str], kind: str | None) -> Callable:
    """Register a REST view: lock, count, authenticate, check permission, map errors."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(store: str, **kwargs: Any):
            g.after_unlock = []
            with sandbox().lock:
                response = handle(view, store, kind, kwargs)
            for task in g.after_unlock:
                task()
            return response

        bp.add_url_rule(rule, view.__name__, wrapper, methods=methods)
        return wrapper

    return decorator


def handle(view: Callable, slug: str, kind: str | None, kwargs: dict[str, Any]):
    """Run one REST view under the lock, turning RestError into its JSON body."""
    store = sandbox().store(slug)
    if store is None:
        return json_response(no_route().body(), 404)
    store.count_request(endpoint_label())
    outage = rest_outage(store)
    if outage is not None:
        return outage
    try:
        authenticate_request(store)
        if kind is None:
            raise no_route()
        if kind != "public":
            require(kind)
        return view(store, **kwargs)
    except RestError as error:
        return json_response(error.body(), error.status)


def rest_outage(store: Store):
    """The ``rest_error`` fault: ``{"route": "GET wc/v3/products", "after": N, "count": M,
    "status": 503}`` lets N matching requests through, then answers M of them with that
    status (a host's outage page as JSON), as a store whose PHP workers are exhausted."""
    fault = store.faults.get("rest_error")
    if not isinstance(fault, dict) or (fault.get("route") and
                                       fault["route"] != endpoint_label()):
        return None
    if int(fault.get("after", 0) or 0) > 0:
        fault["after"] = int(fault["after"]) - 1
        return None
    left = int(fault.get("count", 1) or 0)
    if left <= 0:
        return None
    fault["count"] = left - 1
    status = int(fault.get("status", 503))
    return json_response({"code": "sandbox_outage", "message": "Service Unavailable",
                          "data": {"status": status}}, status)


# ---------------------------------------------------------------- helpers

def parse_date_param(store: Store, name: str, value: str, *, gmt: bool) -> dt.datetime:
    """rest_parse_date(); a date without offset is site time (or GMT with dates_are_gmt)."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_params({name: "Invalid date."}) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC if gmt else store.tz)
    return parsed


def list_param(args: dict[str, Any], name: str) -> list[str]:
    """A CSV or repeated (name[]) query parameter as a list."""
    values = request.args.getlist(f"{name}[]") or request.args.getlist(name)
    if not values and name in args and not isinstance(args[name], str):
        values = list(args[name])
    out: list[str] = []
    for value in values:
        out.extend(v.strip() for v in str(value).split(",") if v.strip())
    return out


def date_filters(store: Store, args: dict[str, Any], items: list, created: str,
                 modified: str) -> list:
    """after / before / modified_after / modified_before (exclusive bounds, like WC)."""
    gmt = truthy(args.get("dates_are_gmt", False))
    checks = [("after", created, 1), ("before", created, -1),
              ("modified_after", modified, 1), ("modified_before", modified, -1)]
    for name, attr, sign in checks:
        if args.get(name):
            bound = parse_date_param(store, name, str(args[name]), gmt=gmt)
            items = [i for i in items
                     if (getattr(i, attr) - bound).total_seconds() * sign > 0]
    return items


def sort_items(items: list, args: dict[str, Any], fields: dict[str, Callable]) -> list:
    """orderby / order (default date desc)."""
    orderby = str(args.get("orderby", "date"))
    if orderby not in fields:
        raise invalid_params({"orderby": f"orderby is not one of {', '.join(fields)}."})
    order = str(args.get("order", "desc")).lower()
    if order not in ("asc", "desc"):
        raise invalid_params({"order": "order is not one of asc and desc."})
    return sorted(items, key=lambda i: (fields[orderby](i), i.id), reverse=order == "desc")


def include_exclude(items: list, args: dict[str, Any]) -> list:
    """include / exclude id lists."""
    include = {int(i) for i in list_param(args, "include") if i.isdigit()}
    exclude = {int(i) for i in list_param(args, "exclude") if i.isdigit()}
    if include:
        items = [i for i in items if i.id in include]
    return [i for i in items if i.id not in exclude]


def apply_meta(store: Store, meta: list[dict[str, Any]], updates: Any) -> None:
    """meta_data updates: by id, else by key (replacing), else appended."""
    for entry in updates or []:
        if not isinstance(entry, dict) or "key" not in entry:
            continue
        target = next((m for m in meta if entry.get("id") and m["id"] == entry["id"]), None)
        target = target or next((m for m in meta if m["key"] == entry["key"]), None)
        if target:
            target["value"] = entry.get("value")
        else:
            meta.append({"id": store.next_item_id(), "key": entry["key"],
                         "value": entry.get("value")})


def listed(store: Store, items: list, args: dict[str, Any], route: str,
           serialize: Callable[[Store, Any, str], dict]) -> Any:
    """One page of a collection (``route`` below the REST base), each item serialized, with
    the paging headers."""
    base = rest_base(store)
    page, headers = paginate(items, args, f"{base}{route}")
    return json_response([serialize(store, item, base) for item in page], headers=headers)


def created(data: dict[str, Any], location: str) -> Any:
    """201 with a Location header."""
    return json_response(data, 201, {"Location": location})


# ---------------------------------------------------------------- orders

ORDER_SORT = {"date": lambda o: o.date_created, "id": lambda o: o.id,
              "include": lambda o: o.id, "title": lambda o: o.date_created,
              "slug": lambda o: o.id, "modified": lambda o: o.date_modified}


def get_order(store: Store, order_id: int, status: int = 404) -> Order:
    """The order, or woocommerce_rest_shop_order_invalid_id."""
    order = store.orders.get(order_id)
    if order is None:
        raise invalid_id("shop_order", status)
    return order


def status_filter(args: dict[str, Any]) -> set[str] | None:
    """The status parameter (any = every status but trash and drafts)."""
    wanted = list_param(args, "status") or ["any"]
    allowed = ("any", "trash", *ORDER_STATUSES)
    bad = [s for s in wanted if s not in allowed]
    if bad:
        raise invalid_params({"status": f"status[0] is not one of {', '.join(allowed)}."})
    if "any" in wanted:
        return None
    return set(wanted)


@rest_route("/wc/v3/orders", ["GET"], "list")
def list_orders(store: Store):
    """GET orders: status, dates, include/exclude, search, customer, orderby, paging."""
    args = params()
    statuses = status_filter(args)
    orders = [o for o in store.orders.values()
              if (o.status in statuses if statuses else o.status not in ("trash",
                                                                           "checkout-draft"))]
    orders = date_filters(store, args, orders, "date_created", "date_modified")
    orders = include_exclude(orders, args)
    if args.get("customer") not in (None, ""):
        orders = [o for o in orders if o.customer_id == int(args["customer"])]
    if args.get("product") not in (None, ""):  # orders with this product (or its variations)
        wanted = int(args["product"])
        orders = [o for o in orders if any(i.product_id == wanted for i in o.line_items)]
    if args.get("search"):
        needle = str(args["search"]).lower()
        orders = [o for o in orders if needle in serializers.php_json(o.billing).lower()
                  or needle in str(o.id)]
    orders = sort_items(orders, args, ORDER_SORT)
    return listed(store, orders, args, "/wc/v3/orders", serializers.order_data)


@rest_route("/wc/v3/orders/<int:order_id>", ["GET"], "view")
def read_order(store: Store, order_id: int):
    """GET orders/{id}."""
    return json_response(serializers.order_data(store, get_order(store, order_id),
                                                rest_base(store)))


@rest_route("/wc/v3/orders/<int:order_id>", EDITABLE, "edit")
def update_order(store: Store, order_id: int):
    """PUT orders/{id}: status, customer_note, transaction_id, addresses, meta_data, set_paid."""
    order = get_order(store, order_id, status=400)
    args = params()
    status = args.get("status")
    if status is not None and status not in ORDER_STATUSES:
        raise invalid_params({"status": f"status is not one of {', '.join(ORDER_STATUSES)}."})
    for name in ("customer_note", "transaction_id", "payment_method", "payment_method_title"):
        if name in args:
            setattr(order, name, str(args[name]))
    for name in ("billing", "shipping"):
        if isinstance(args.get(name), dict):
            getattr(order, name).update({k: str(v) for k, v in args[name].items()})
    apply_meta(store, order.meta_data, args.get("meta_data"))
    if truthy(args.get("set_paid", False)) and status is None:
        status = "processing"
    if status and status != order.status:
        actions.move_order_to(store, order, status)
    else:
        actions.save_order(store, order)
    return json_response(serializers.order_data(store, order, rest_base(store)))


@rest_route("/wc/v3/orders/<int:order_id>", ["DELETE"], "delete")
def remove_order(store: Store, order_id: int):
    """DELETE orders/{id}: trash, or delete for good with force=true (order.deleted)."""
    order = get_order(store, order_id)
    data = serializers.order_data(store, order, rest_base(store))
    if truthy(params().get("force", False)):
        actions.delete_order(store, order)
    else:
        actions.trash_order(store, order)
        data = serializers.order_data(store, order, rest_base(store))
    return json_response(data)


# ---------------------------------------------------------------- order notes

def note_order(store: Store, order_id: int) -> Order:
    """Notes routes answer woocommerce_rest_order_invalid_id for an unknown order."""
    order = store.orders.get(order_id)
    if order is None:
        raise RestError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
    return order


def order_child(children: list, child_id: int, message: str):
    """The note or refund of that id, or woocommerce_rest_invalid_id (``message`` differs
    by route in WooCommerce)."""
    child = next((c for c in children if c.id == child_id), None)
    if child is None:
        raise RestError("woocommerce_rest_invalid_id", message, 404)
    return child


@rest_route("/wc/v3/orders/<int:order_id>/notes", ["GET"], "list")
def list_notes(store: Store, order_id: int):
    """GET orders/{id}/notes?type=any|customer|internal (newest first, not paginated)."""
    order = note_order(store, order_id)
    kind = params().get("type", "any")
    notes = [n for n in order.notes if kind == "any"
             or (kind == "customer") == n.customer_note]
    notes.sort(key=lambda n: (n.date_created, n.id), reverse=True)
    return json_response([serializers.note_data(store, order, n, rest_base(store))
                          for n in notes])


@rest_route("/wc/v3/orders/<int:order_id>/notes", ["POST"], "create")
def create_note(store: Store, order_id: int):
    """POST orders/{id}/notes: note (required), customer_note, added_by_user."""
    args = params()
    if not args.get("note"):
        raise RestError("rest_missing_callback_param", "Missing parameter(s): note", 400,
                        params=["note"])
    order = note_order(store, order_id)
    added_by = store.owner.display_name if truthy(args.get("added_by_user")) else "WooCommerce"
    note = actions.add_note(store, order, str(args["note"]),
                            customer=truthy(args.get("customer_note", False)), added_by=added_by)
    base = rest_base(store)
    return created(serializers.note_data(store, order, note, base),
                   f"{base}/wc/v3/orders/{order.id}/notes/{note.id}")


@rest_route("/wc/v3/orders/<int:order_id>/notes/<int:note_id>", ["GET"], "view")
def read_note(store: Store, order_id: int, note_id: int):
    """GET orders/{id}/notes/{note_id}."""
    order = note_order(store, order_id)
    note = order_child(order.notes, note_id, "Invalid resource ID.")
    return json_response(serializers.note_data(store, order, note, rest_base(store)))


@rest_route("/wc/v3/orders/<int:order_id>/notes/<int:note_id>", ["DELETE"], "delete")
def remove_note(store: Store, order_id: int, note_id: int):
    """DELETE orders/{id}/notes/{note_id}?force=true."""
    if not truthy(params().get("force", False)):
        raise RestError("woocommerce_rest_trash_not_supported",
                        "Webhooks do not support trashing.", 501)
    order = note_order(store, order_id)
    note = order_child(order.notes, note_id, "Invalid resource ID.")
    data = serializers.note_data(store, order, note, rest_base(store))
    order.notes.remove(note)
    return json_response(data)


# ---------------------------------------------------------------- order refunds

@rest_route("/wc/v3/orders/<int:order_id>/refunds", ["GET"], "list")
def list_refunds(store: Store, order_id: int):
    """GET orders/{id}/refunds (newest first, paged like every collection)."""
    order = note_order(store, order_id)
    refunds = sorted(order.refunds, key=lambda r: (r.date_created, r.id), reverse=True)
    return listed(store, refunds, params(), f"/wc/v3/orders/{order.id}/refunds",
                  lambda store, refund, base: serializers.refund_data(store, order, refund, base))


@rest_route("/wc/v3/orders/<int:order_id>/refunds/<int:refund_id>", ["GET"], "view")
def read_refund(store: Store, order_id: int, refund_id: int):
    """GET orders/{id}/refunds/{refund_id}."""
    order = note_order(store, order_id)
    refund = order_child(order.refunds, refund_id, "Invalid ID.")
    return json_response(serializers.refund_data(store, order, refund, rest_base(store)))


@rest_route("/wc/v3/orders/<int:order_id>/refunds", ["POST"], "create")
def create_refund(store: Store, order_id: int):
    """POST orders/{id}/refunds: amount, reason, line_items [{id, quantity, refund_total}],
    api_refund (the gateway: the sandbox has none, so it must be false), api_restock
    (default true: the selected line items are restocked). An amount of 0 is allowed, as
    wc_create_refund allows it (it refuses only a negative one or more than remains)."""
    args = params()
    order = note_order(store, order_id)
    if truthy(args.get("api_refund", True)):
        raise RestError("woocommerce_rest_cannot_create_order_refund",
                        "The payment gateway for this order does not support automatic "
                        "refunds.", 500)
    lines: dict[int, int] = {}
    totals: dict[int, float] = {}
    for item in args.get("line_items") or []:
        if not isinstance(item, dict) or "id" not in item:
            raise invalid_params({"line_items": "line_items[0][id] is a required property."})
        lines[int(item["id"])] = lines.get(int(item["id"]), 0) + int(item.get("quantity", 0))
        if item.get("refund_total") not in (None, ""):
            totals[int(item["id"])] = totals.get(int(item["id"]), 0) + float(item["refund_total"])
    try:
        refund = actions.refund_order(
            store, order, amount=args.get("amount"), reason=str(args.get("reason", "")),
            restock=truthy(args.get("api_restock", True)), line_items=lines or None,
            line_totals=totals)
    except actions.ActionError as err:
        raise RestError("woocommerce_rest_cannot_create_order_refund", str(err), 500) from None
    base = rest_base(store)
    return created(serializers.refund_data(store, order, refund, base),
                   f"{base}/wc/v3/orders/{order.id}/refunds/{refund.id}")


# ---------------------------------------------------------------- products

PRODUCT_SORT = {"date": lambda p: p.date_created, "id": lambda p: p.id,
                "include": lambda p: p.id, "title": lambda p: p.name.lower(),
                "slug": lambda p: p.name.lower(), "modified": lambda p: p.date_modified,
                "menu_order": lambda p: 0, "price": lambda p: float(p.regular_price or 0),
                "popularity": lambda p: p.total_sales, "rating": lambda p: 0}


@rest_route("/wc/v3/products", ["GET"], "list")
def list_products(store: Store):
    """GET products: sku (exact, CSV), type, status, search, include/exclude, dates, paging."""
    args = params()
    products = list(store.products.values())
    skus = list_param(args, "sku")
    if skus:
        products = [p for p in products if p.sku in skus]
    if args.get("type"):
        products = [p for p in products if p.type == args["type"]]
    status = args.get("status", "any")
    if status != "any":
        products = [p for p in products if p.status == status]
    else:  # WP_Query's "any" leaves out trashed posts
        products = [p for p in products if p.status != "trash"]
    if args.get("stock_status"):
        products = [p for p in products if p.stock_status == args["stock_status"]]
    if args.get("search"):
        products = [p for p in products if str(args["search"]).lower() in p.name.lower()]
    products = date_filters(store, args, include_exclude(products, args), "date_created",
                            "date_modified")
    products = sort_items(products, args, PRODUCT_SORT)
    return listed(store, products, args, "/wc/v3/products", serializers.product_data)


@rest_route("/wc/v3/products/<int:product_id>", ["GET"], "view")
def read_product(store: Store, product_id: int):
    """GET products/{id} (a variation id works too, as in WooCommerce)."""
    item = store.find_product_or_variation(product_id)
    if item is None:
        raise invalid_id("product")
    return json_response(serializers.product_data(store, item, rest_base(store)))


def update_stockable(store: Store, item: Product | Variation, data: dict[str, Any], *,
                     event: str = "updated") -> None:
    """prepare_object_for_database() for the fields the sandbox supports; then save
    (``event``: the hook the save fires, ``created`` for a new post)."""
    problems = validate_product_fields(data)
    if problems:
        raise invalid_params(problems)
    if "sku" in data and data["sku"] != item.sku:
        sku = str(data["sku"]).strip()
        if sku and sku_taken(store, sku, item.id):
            raise RestError("product_invalid_sku", "Invalid or duplicated SKU.", 400,
                            resource_id=item.id, unique_sku=sku)
        item.sku = sku
    if "global_unique_id" in data and data["global_unique_id"] != item.global_unique_id:
        gtin = str(data["global_unique_id"] or "").strip()
        if gtin and not gtin.replace("-", "").isdigit():
            raise RestError("product_invalid_global_unique_id",
                            "Invalid or duplicated GTIN, UPC, EAN or ISBN.", 400,
                            resource_id=item.id)
        if actions.gtin_taken(store, gtin, item.id):
            raise RestError("product_invalid_global_unique_id",
                            "Invalid or duplicated GTIN, UPC, EAN or ISBN.", 400,
                            resource_id=item.id, unique_global_unique_id=gtin)
        item.global_unique_id = gtin
    apply_images(store, item, data)
    for name in ("regular_price", "sale_price"):
        if name in data:
            setattr(item, name, str(data[name] or ""))
    if isinstance(item, Product) and "name" in data:
        item.name = str(data["name"])
    if "status" in data:
        item.status = str(data["status"])
    if "backorders" in data:
        item.backorders = str(data["backorders"])
    apply_stock(item, data)
    apply_meta(store, item.meta_data, data.get("meta_data"))
    actions.touch_product(store, item, event=event)


def apply_images(store: Store, item: Product | Variation, data: dict[str, Any]) -> None:
    """``images`` (products: a list of {id} or {src}) / ``image`` (variations: one)."""
    if isinstance(item, Product) and isinstance(data.get("images"), list):
        item.images = [actions.new_image(store, str(i.get("src") or ""), str(i.get("name") or ""))
                       for i in data["images"] if isinstance(i, dict) and i.get("src")]
    if isinstance(item, Variation) and "image" in data:
        image = data["image"]
        item.image = (actions.new_image(store, str(image["src"]), str(image.get("name") or ""))
                      if isinstance(image, dict) and image.get("src") else None)


def validate_product_fields(data: dict[str, Any]) -> dict[str, str]:
    """Schema checks: stock_quantity integer, stock_status and backorders enums."""
    problems: dict[str, str] = {}
    quantity = data.get("stock_quantity")
    if quantity is not None and not (isinstance(quantity, int) and not isinstance(quantity, bool)
                                     or str(quantity).lstrip("-").isdigit()):
        problems["stock_quantity"] = "stock_quantity is not of type integer."
    if "stock_status" in data and data["stock_status"] not in ("instock", "outofstock",
                                                               "onbackorder"):
        problems["stock_status"] = "stock_status is not one of instock, outofstock, and onbackorder."
    if "backorders" in data and data["backorders"] not in ("no", "notify", "yes"):
        problems["backorders"] = "backorders is not one of no, notify, and yes."
    return problems


def apply_stock(item: Product | Variation, data: dict[str, Any]) -> None:
    """manage_stock first; stock_quantity only counts while stock is managed (as in WC)."""
    if "manage_stock" in data:
        item.manage_stock = truthy(data["manage_stock"])
    if item.manage_stock:
        if data.get("stock_quantity") is not None:
            item.stock_quantity = int(data["stock_quantity"])
        elif data.get("inventory_delta") is not None:
            item.stock_quantity = (item.stock_quantity or 0) + int(data["inventory_delta"])
    else:
        item.stock_quantity = None
        if "stock_status" in data:
            item.stock_status = str(data["stock_status"])


sku_taken = actions.sku_taken


def create_stockable(store: Store, args: dict[str, Any],
                     make: Callable[[str], Product | Variation]) -> Product | Variation:
    """POST products and POST products/{id}/variations alike: the schema checks and the SKU's
    uniqueness before anything exists, ``make(sku)`` the item (no webhook yet), then every
    other field as the first save (product.created)."""
    problems = validate_product_fields(args)
    if problems:
        raise invalid_params(problems)
    sku = str(args.get("sku") or "").strip()
    if sku_taken(store, sku):
        raise RestError("product_invalid_sku", "Invalid or duplicated SKU.", 400,
                        unique_sku=sku)
    item = make(sku)
    update_stockable(store, item, {k: v for k, v in args.items() if k != "sku"},
                     event="created")
    return item


def edit_product(store: Store, product_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """PUT products/{id} and one item of products/batch: the product as saved."""
    product = store.products.get(product_id)
    if product is None:
        raise invalid_id("product", 400)
    update_stockable(store, product, data)
    return serializers.product_data(store, product, rest_base(store))


@rest_route("/wc/v3/products/<int:product_id>", EDITABLE, "edit")
def update_product(store: Store, product_id: int):
    """PUT products/{id}."""
    return json_response(edit_product(store, product_id, params()))


@rest_route("/wc/v3/products", ["POST"], "create")
def create_product(store: Store):
    """POST products: name, type (simple|variable), sku, global_unique_id, regular_price,
    manage_stock, stock_quantity, images, attributes (-> product.created)."""
    args = params()
    kind = str(args.get("type") or "simple")
    if kind not in ("simple", "variable"):
        raise RestError("woocommerce_rest_sandbox_unsupported",
                        f"The sandbox does not emulate {kind} products.", 501)

    def make(sku: str) -> Product:
        attribute = ""
        for entry in args.get("attributes") or []:
            if isinstance(entry, dict) and entry.get("variation"):
                attribute = str(entry.get("name") or "Option")
        return actions.create_product(
            store, name=str(args.get("name") or "Product"), sku=sku, type=kind,
            regular_price=str(args.get("regular_price") or ""), attribute=attribute,
            status=str(args.get("status") or "publish"), emit=False)

    product = create_stockable(store, args, make)
    base = rest_base(store)
    return created(serializers.product_data(store, product, base),
                   f"{base}/wc/v3/products/{product.id}")


@rest_route("/wc/v3/products/<int:product_id>", ["DELETE"], "delete")
def remove_product(store: Store, product_id: int):
    """DELETE products/{id}: to the trash (product.deleted), or for good with force=true
    (no webhook: product.deleted listens to wp_trash_post only)."""
    product = store.products.get(product_id)
    if product is None:
        raise invalid_id("product")
    data = serializers.product_data(store, product, rest_base(store))
    if truthy(params().get("force", False)):
        actions.delete_product(store, product)
    else:
        if product.status == "trash":
            raise RestError("woocommerce_rest_already_trashed",
                            f"The product with ID {product_id} has already been deleted.", 410)
        actions.trash_product(store, product)
        data = serializers.product_data(store, product, rest_base(store))
    return json_response(data)


def check_batch_limit(data: dict[str, Any]) -> None:
    """check_batch_limit(): more than 100 create+update+delete items -> 413."""
    total = sum(len(data.get(k) or []) for k in ("create", "update", "delete"))
    if total > BATCH_LIMIT:
        raise RestError("woocommerce_rest_request_entity_too_large",
                        f"Unable to accept more than {BATCH_LIMIT} items for this request.", 413)


def batch(data: dict[str, Any],
          update_one: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """batch_items(): each item answered on its own; errors become {"id", "error"}."""
    check_batch_limit(data)
    out: dict[str, Any] = {}
    for action in ("create", "update", "delete"):
        if not data.get(action):
            continue
        out[action] = []
        for item in data[action]:
            item_id = int(item.get("id", 0) or 0) if isinstance(item, dict) else int(item)
            try:
                if action != "update":
                    raise RestError("woocommerce_rest_sandbox_unsupported",
                                    f"The sandbox does not emulate batch {action}.", 501)
                out[action].append(update_one(item))
            except RestError as error:
                out[action].append({"id": item_id, "error": {
                    "code": error.code, "message": error.message,
                    "data": {"status": error.status, **error.data}}})
    return out


@rest_route("/wc/v3/products/batch", EDITABLE, "batch")
def batch_products(store: Store):
    """POST products/batch {update: [...]} (max 100 items)."""
    return json_response(batch(params(), lambda item: edit_product(
        store, int(item.get("id", 0) or 0), item)))


# ---------------------------------------------------------------- variations

def get_parent(store: Store, product_id: int) -> Product:
    """The variable product whose variations are addressed."""
    product = store.products.get(product_id)
    if product is None:
        raise invalid_id("product", 404)
    return product


def get_variation(store: Store, product_id: int, item_id: int, status: int = 404) -> Variation:
    """A variation of that parent, or woocommerce_rest_product_variation_invalid_id."""
    variation = store.variations.get(item_id)
    if variation is None or variation.parent_id != product_id:
        raise invalid_id("product_variation", status)
    return variation


@rest_route("/wc/v3/products/<int:product_id>/variations", ["GET"], "list")
def list_variations(store: Store, product_id: int):
    """GET products/{id}/variations (ordered by menu_order asc by default? WC: date desc)."""
    args = params()
    parent = get_parent(store, product_id)
    items = [store.variations[v] for v in parent.variation_ids if v in store.variations]
    skus = list_param(args, "sku")
    if skus:
        items = [v for v in items if v.sku in skus]
    items = sort_items(include_exclude(items, args), args,
                       {"date": lambda v: v.date_created, "id": lambda v: v.id,
                        "include": lambda v: v.id, "title": lambda v: v.sku,
                        "slug": lambda v: v.sku, "modified": lambda v: v.date_modified,
                        "menu_order": lambda v: v.menu_order})
    return listed(store, items, args, f"/wc/v3/products/{product_id}/variations",
                  serializers.variation_data)


@rest_route("/wc/v3/products/<int:product_id>/variations/<int:item_id>", ["GET"], "view")
def read_variation(store: Store, product_id: int, item_id: int):
    """GET products/{id}/variations/{variation_id}."""
    variation = get_variation(store, product_id, item_id)
    return json_response(serializers.variation_data(store, variation, rest_base(store)))


def edit_variation(store: Store, product_id: int, item_id: int,
                   data: dict[str, Any]) -> dict[str, Any]:
    """PUT products/{id}/variations/{variation_id} and one item of variations/batch."""
    variation = get_variation(store, product_id, item_id, status=400)
    update_stockable(store, variation, data)
    return serializers.variation_data(store, variation, rest_base(store))


@rest_route("/wc/v3/products/<int:product_id>/variations/<int:item_id>", EDITABLE, "edit")
def update_variation(store: Store, product_id: int, item_id: int):
    """PUT products/{id}/variations/{variation_id}."""
    return json_response(edit_variation(store, product_id, item_id, params()))


@rest_route("/wc/v3/products/<int:product_id>/variations", ["POST"], "create")
def create_variation(store: Store, product_id: int):
    """POST products/{id}/variations: attributes [{name, option}], sku, global_unique_id,
    regular_price, manage_stock, stock_quantity, image (-> product.created of the variation,
    product.updated of the parent)."""
    parent = get_parent(store, product_id)
    args = params()

    def make(sku: str) -> Variation:
        options = [str(a.get("option")) for a in args.get("attributes") or []
                   if isinstance(a, dict) and a.get("option")]
        try:
            return actions.create_variation(
                store, parent, option=options[0] if options else "Any", sku=sku,
                regular_price=str(args.get("regular_price") or ""), emit=False)
        except actions.ActionError as exc:
            raise RestError("woocommerce_rest_invalid_product_id", str(exc), 400) from None

    variation = create_stockable(store, args, make)
    base = rest_base(store)
    return created(serializers.variation_data(store, variation, base),
                   f"{base}/wc/v3/products/{product_id}/variations/{variation.id}")


@rest_route("/wc/v3/products/<int:product_id>/variations/<int:item_id>", ["DELETE"], "delete")
def remove_variation(store: Store, product_id: int, item_id: int):
    """DELETE products/{id}/variations/{variation_id}?force=true (no trash; no webhook)."""
    variation = get_variation(store, product_id, item_id)
    if not truthy(params().get("force", False)):
        raise RestError("woocommerce_rest_trash_not_supported",
                        "The product_variation does not support trashing.", 501)
    data = serializers.variation_data(store, variation, rest_base(store))
    actions.delete_variation(store, variation)
    return json_response(data)


@rest_route("/wc/v3/products/<int:product_id>/variations/batch", EDITABLE, "batch")
def batch_variations(store: Store, product_id: int):
    """POST products/{id}/variations/batch {update: [...]} (max 100 items)."""
    get_parent(store, product_id)
    return json_response(batch(params(), lambda item: edit_variation(
        store, product_id, int(item.get("id", 0) or 0), item)))


# ---------------------------------------------------------------- webhooks

def get_webhook(store: Store, webhook_id: int, status: int = 404,
                message: str = "Invalid ID.") -> Webhook:
    """The webhook, or woocommerce_rest_shop_webhook_invalid_id."""
    webhook = store.webhooks.get(webhook_id)
    if webhook is None:
        raise invalid_id("shop_webhook", status, message)
    return webhook


def is_valid_url(url: Any) -> bool:
    """wc_is_valid_url(): http(s) with a host."""
    parsed = urlparse(str(url or ""))
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def check_delivery_url(url: Any) -> None:
    """POST and PUT webhooks refuse a delivery URL that isn't http(s) alike."""
    if not is_valid_url(url):
        raise RestError("woocommerce_rest_shop_webhook_invalid_delivery_url",
                        "Webhook delivery URL must be a valid URL starting with http:// or "
                        "https://.", 400)


def default_webhook_name() -> str:
    """'Webhook created on Nov 23, 2026 @ 12:45 PM'."""
    return "Webhook created on " + utcnow().strftime("%b %d, %Y @ %I:%M %p")


def random_secret() -> str:
    """wp_generate_password(50, true, true)."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
    return "".join(secrets.choice(alphabet) for _ in range(50))


@rest_route("/wc/v3/webhooks", ["GET"], "list")
def list_webhooks(store: Store):
    """GET webhooks?status=all|active|paused|disabled (id desc by default)."""
    args = params()
    status = args.get("status", "all")
    if status not in ("all", *webhooks.WEBHOOK_STATUSES):
        raise invalid_params({"status": "status is not one of all, active, paused, and disabled."})
    items = [w for w in store.webhooks.values() if status == "all" or w.status == status]
    items = include_exclude(items, args)
    items = sort_items(items, {"orderby": args.get("orderby", "id"),
                               "order": args.get("order", "desc")},
                       {"date": lambda w: w.date_created, "id": lambda w: w.id,
                        "title": lambda w: w.name, "include": lambda w: w.id})
    return listed(store, items, args, "/wc/v3/webhooks", serializers.webhook_data)


@rest_route("/wc/v3/webhooks/<int:webhook_id>", ["GET"], "view")
def read_webhook(store: Store, webhook_id: int):
    """GET webhooks/{id}."""
    return json_response(serializers.webhook_data(store, get_webhook(store, webhook_id),
                                                  rest_base(store)))


@rest_route("/wc/v3/webhooks", ["POST"], "create")
def create_webhook(store: Store):
    """POST webhooks: validate topic and URL, save, answer 201, then ping the URL."""
    args = params()
    missing = [p for p in ("topic", "delivery_url") if p not in args]
    if missing:
        raise RestError("rest_missing_callback_param",
                        f"Missing parameter(s): {', '.join(missing)}", 400, params=missing)
    topic = str(args.get("topic") or "").lower()
    if not topic or not webhooks.is_valid_topic(topic):
        raise RestError("woocommerce_rest_shop_webhook_invalid_topic",
                        "Webhook topic is required and must be valid.", 400)
    check_delivery_url(args.get("delivery_url"))
    status = args.get("status", "active")
    if status not in webhooks.WEBHOOK_STATUSES:
        raise invalid_params({"status": "status is not one of active, paused, and disabled."})
    webhook = Webhook(store.next_webhook_id(), str(args.get("name") or default_webhook_name()),
                      status, topic, str(args["delivery_url"]),
                      str(args.get("secret") or random_secret()), store.owner.user_id,
                      home_base=request.host_url.rstrip("/"))
    store.webhooks[webhook.id] = webhook
    base = rest_base(store)
    g.after_unlock.append(lambda: webhooks.deliver_ping(sandbox(), store.slug, webhook.id))
    return created(serializers.webhook_data(store, webhook, base),
                   f"{base}/wc/v3/webhooks/{webhook.id}")


@rest_route("/wc/v3/webhooks/<int:webhook_id>", EDITABLE, "edit")
def update_webhook(store: Store, webhook_id: int):
    """PUT webhooks/{id}: name, status, topic, delivery_url, secret (failure_count kept)."""
    webhook = get_webhook(store, webhook_id, 400, "ID is invalid.")
    args = params()
    if args.get("topic"):
        if not webhooks.is_valid_topic(str(args["topic"]).lower()):
            raise RestError("woocommerce_rest_shop_webhook_invalid_topic",
                            "Webhook topic must be valid.", 400)
        webhook.topic = str(args["topic"]).lower()
    url_changed = False
    if args.get("delivery_url"):
        check_delivery_url(args["delivery_url"])
        url_changed = args["delivery_url"] != webhook.delivery_url
        webhook.delivery_url = str(args["delivery_url"])
    if args.get("secret"):
        webhook.secret = str(args["secret"])
    if args.get("status"):
        if str(args["status"]).lower() not in webhooks.WEBHOOK_STATUSES:
            raise RestError("woocommerce_rest_shop_webhook_invalid_status",
                            "Webhook status must be valid.", 400)
        webhook.status = str(args["status"]).lower()
    if args.get("name"):
        webhook.name = str(args["name"])
    if webhooks.save_webhook(webhook, url_changed=url_changed):
        g.after_unlock.append(lambda: webhooks.deliver_ping(sandbox(), store.slug, webhook.id))
    return json_response(serializers.webhook_data(store, webhook, rest_base(store)))


@rest_route("/wc/v3/webhooks/<int:webhook_id>", ["DELETE"], "delete")
def remove_webhook(store: Store, webhook_id: int):
    """DELETE webhooks/{id}?force=true (webhooks cannot be trashed: 501 without force)."""
    if not truthy(params().get("force", False)):
        raise RestError("woocommerce_rest_trash_not_supported",
                        "Webhooks do not support trashing.", 501)
    webhook = get_webhook(store, webhook_id)
    data = serializers.webhook_data(store, webhook, rest_base(store))
    del store.webhooks[webhook_id]
    return json_response(data)


# ---------------------------------------------------------------- everything else

@rest_route("/", ["GET"], "public")
def rest_index(store: Store):
    """GET /wp-json/: WordPress's REST index (name, URLs, namespaces), public like WordPress.

    Apps probe it to check a site runs WooCommerce; the Shipment Tracking namespace is
    listed only while the extension is installed.
    """
    namespaces = ["oembed/1.0", "wc/v1", "wc/v2", "wc/v3", "wc-analytics", "wc/store/v1",
                  "wp/v2", "wp-site-health/v1"]
    if store.shipment_tracking:
        namespaces.insert(6, "wc-shipment-tracking/v3")
    home = rest_base(store).split("/wp-json", 1)[0]
    return json_response({
        "name": store.name, "description": "", "url": home, "home": home,
        "gmt_offset": store.utc_offset_minutes / 60, "timezone_string": store.timezone_string,
        "namespaces": namespaces, "authentication": [], "routes": {},
        "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]}})



@rest_route("/<path:unknown>", ALL_METHODS, None)
def unknown_route(store: Store, unknown: str):
    """Any other route (after authentication, like WordPress): rest_no_route."""
    raise no_route()
