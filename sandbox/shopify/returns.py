"""Returns as Shopify has them: Return, its reverse fulfillment order, returnCreate / returnProcess, the returns/* webhooks.

A return takes units of an order's fulfillment line items (at most what was fulfilled and not
already in another open or closed return). returnCreate makes it OPEN with one reverse
fulfillment order holding a line per fulfillment line item, and sends returns/approve (a
return whose status is OPEN); returnProcess disposes units of its lines (RESTOCKED at a
location puts them back in stock there, NOT_RESTOCKED and the others don't), sends
returns/process, and once nothing is left to process closes the return (returns/close).
Payloads follow the vendored examples (vendor/shopify/webhooks/2026-07/metadatas/returns);
returns/process's example is empty, so it is sent in the shape of returns/close.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError

from . import views
from .controls import _body, _id, _shop, bp, control
from .errors import user_errors
from .operations import UserError, adjust_level, item_id_of
from .resolvers import connection, mutation, query
from .state import Shop, Store, gid, iso, parse_gid

DISPOSITIONS = ("RESTOCKED", "NOT_RESTOCKED", "MISSING", "PROCESSING_REQUIRED")


@dataclass
class Disposition:
    id: int
    type: str
    quantity: int
    location_id: int | None
    created_at: float


@dataclass
class ReturnLine:
    id: int
    fulfillment_line_id: int
    quantity: int
    note: str = ""
    processed: int = 0


@dataclass
class RfoLine:
    id: int
    fulfillment_line_id: int
    total_quantity: int
    dispositions: list[Disposition] = field(default_factory=list)


@dataclass
class Return:
    id: int
    order_id: int
    name: str
    lines: list[ReturnLine]
    rfo_id: int
    rfo_lines: list[RfoLine]
    created_at: float
    status: str = "OPEN"
    closed_at: float | None = None


def _returns(shop: Shop) -> dict[int, Return]:
    return shop.returns


def _fulfillment_line(shop: Shop, order_id: int, fl_id: int | None):
    for f in shop.fulfillments.values():
        if f.order_id == order_id and f.status != "CANCELLED":
            for fl in f.lines:
                if fl.id == fl_id:
                    return f, fl
    return None, None


def _in_returns(shop: Shop, fl_id: int) -> int:
    return sum(rl.quantity for r in _returns(shop).values() if r.status in ("OPEN", "CLOSED")
               for rl in r.lines if rl.fulfillment_line_id == fl_id)


def create_return(store: Store, shop: Shop, order_id: int | None, items: list[dict]) -> Return:
    """returnCreate: ``items`` of {fulfillment_line_id, quantity, note}; sends returns/approve."""
    order = shop.orders.get(order_id)
    if order is None:
        raise UserError("Order does not exist.", ["returnInput", "orderId"], "NOT_FOUND")
    if not items:
        raise UserError("Return line items can't be blank.", ["returnInput", "returnLineItems"],
                        "BLANK")
    wanted: dict[int, int] = {}
    for n, item in enumerate(items):
        _, fl = _fulfillment_line(shop, order.id, item["fulfillment_line_id"])
        path = ["returnInput", "returnLineItems", str(n)]
        if fl is None:
            raise UserError("Fulfillment line item does not exist.",
                            [*path, "fulfillmentLineItemId"], "NOT_FOUND")
        if item["quantity"] <= 0:
            raise UserError("Quantity must be greater than 0.", [*path, "quantity"],
                            "GREATER_THAN")
        wanted[fl.id] = wanted.get(fl.id, 0) + item["quantity"]
        if wanted[fl.id] > fl.quantity - _in_returns(shop, fl.id):
            raise UserError("Quantity is not available for return.", [*path, "quantity"],
                            "INVALID")
    now = store.now()
    lines = [ReturnLine(store.next_id("ReturnLineItem"), item["fulfillment_line_id"],
                        item["quantity"], item.get("note") or "") for item in items]
    rfo_lines = [RfoLine(store.next_id("ReverseFulfillmentOrderLineItem"), fl_id, qty)
                 for fl_id, qty in wanted.items()]
    count = sum(1 for r in _returns(shop).values() if r.order_id == order.id)
    r = Return(store.next_id("Return"), order.id, f"{order.name}-R{count + 1}", lines,
               store.next_id("ReverseFulfillmentOrder"), rfo_lines, now)
    _returns(shop)[r.id] = r
    store.emit(shop.domain, "returns/approve", {
        "id": r.id, "admin_graphql_api_id": gid("Return", r.id), "status": "open",
        "order": {"id": order.id, "admin_graphql_api_id": gid("Order", order.id)},
        "total_return_line_items": len(r.lines), "name": r.name, "return_line_items": [],
        "return_shipping_fees": [], "exchange_line_items": [], "total_exchange_line_items": 0})
    return r


def process_return(store: Store, shop: Shop, return_id: int | None, items: list[dict]) -> Return:
    """returnProcess: ``items`` of {id, quantity, dispositions: [{rfo_line_id, quantity, type,
    location_id}]}; RESTOCKED units go back on hand at their location."""
    r = _returns(shop).get(return_id)
    if r is None:
        raise UserError("Return does not exist.", ["input", "returnId"], "NOT_FOUND")
    if r.status != "OPEN":
        raise UserError("Return is not open.", ["input", "returnId"], "INVALID_STATE")
    lines = {rl.id: rl for rl in r.lines}
    rfo_lines = {ln.id: ln for ln in r.rfo_lines}
    for n, item in enumerate(items):
        path = ["input", "returnLineItems", str(n)]
        rl = lines.get(item["id"])
        if rl is None:
            raise UserError("Return line item does not exist.", [*path, "id"], "NOT_FOUND")
        if not 0 < item["quantity"] <= rl.quantity - rl.processed:
            raise UserError("Quantity is not processable.", [*path, "quantity"], "INVALID")
        disposed = 0
        for d in item.get("dispositions") or []:
            ln = rfo_lines.get(d["rfo_line_id"])
            if ln is None or ln.fulfillment_line_id != rl.fulfillment_line_id:
                raise UserError("Reverse fulfillment order line item does not exist.",
                                [*path, "dispositions"], "NOT_FOUND")
            if d["type"] == "RESTOCKED" and d.get("location_id") not in shop.locations:
                raise UserError("Location is required to restock.",
                                [*path, "dispositions", "locationId"], "BLANK")
            disposed += d["quantity"]
        if item.get("dispositions") and disposed != item["quantity"]:
            raise UserError("Disposition quantities must equal the quantity processed.",
                            [*path, "dispositions"], "EQUAL_TO")
    order = shop.orders[r.order_id]
    for item in items:
        rl = lines[item["id"]]
        rl.processed += item["quantity"]
        for d in item.get("dispositions") or []:
            ln = rfo_lines[d["rfo_line_id"]]
            ln.dispositions.append(Disposition(store.next_id("ReverseFulfillmentOrderDisposition"),
                                               d["type"], d["quantity"], d.get("location_id"),
                                               store.now()))
            if d["type"] == "RESTOCKED":
                _, fl = _fulfillment_line(shop, order.id, ln.fulfillment_line_id)
                adjust_level(store, shop, item_id_of(shop, fl.line_item_id), d["location_id"],
                             on_hand=d["quantity"])
    payload = {"id": r.id, "admin_graphql_api_id": gid("Return", r.id), "order_id": order.id}
    store.emit(shop.domain, "returns/process", {**payload, "status": r.status.lower()})
    if all(rl.processed >= rl.quantity for rl in r.lines):
        r.status, r.closed_at = "CLOSED", store.now()
        store.emit(shop.domain, "returns/close", {**payload, "status": "closed"})
    return r


# --- GraphQL ---------------------------------------------------------------------------------

def _fl_node(ctx, order_id: int, fl_id: int) -> dict | None:
    _, fl = _fulfillment_line(ctx.shop, order_id, fl_id)
    if fl is None:
        return None
    li = next(li for li in ctx.shop.orders[order_id].line_items if li.id == fl.line_item_id)
    return {"__typename": "FulfillmentLineItem", "id": gid("FulfillmentLineItem", fl.id),
            "quantity": fl.quantity, "lineItem": lambda info, **a: views.line_item_node(ctx, li)}


def _rfo_node(ctx, r: Return) -> dict:
    shop = ctx.shop

    def line_node(ln: RfoLine) -> dict:
        return {"__typename": "ReverseFulfillmentOrderLineItem",
                "id": gid("ReverseFulfillmentOrderLineItem", ln.id),
                "totalQuantity": ln.total_quantity,
                "fulfillmentLineItem": lambda info, **a: _fl_node(ctx, r.order_id,
                                                                  ln.fulfillment_line_id),
                "dispositions": [{
                    "__typename": "ReverseFulfillmentOrderDisposition",
                    "id": gid("ReverseFulfillmentOrderDisposition", d.id), "type": d.type,
                    "quantity": d.quantity, "createdAt": iso(d.created_at),
                    "location": (views.location_node(ctx, shop.locations[d.location_id])
                                 if d.location_id in shop.locations else None)}
                    for d in ln.dispositions]}

    done = all(sum(d.quantity for d in ln.dispositions) >= ln.total_quantity
               for ln in r.rfo_lines)
    return {"__typename": "ReverseFulfillmentOrder", "id": gid("ReverseFulfillmentOrder", r.rfo_id),
            "status": "CLOSED" if done else "OPEN",
            "order": lambda info, **a: views.order_node(ctx, shop.orders[r.order_id]),
            "lineItems": lambda info, **a: connection(r.rfo_lines, a, line_node)}


def return_node(ctx, r: Return) -> dict:
    """Return with its lines and its reverse fulfillment order."""
    def line_node(rl: ReturnLine) -> dict:
        return {"__typename": "ReturnLineItem", "id": gid("ReturnLineItem", rl.id),
                "quantity": rl.quantity, "processedQuantity": rl.processed,
                "processableQuantity": rl.quantity - rl.processed,
                "unprocessedQuantity": rl.quantity - rl.processed,
                "returnReasonNote": rl.note, "customerNote": None,
                "fulfillmentLineItem": lambda info, **a: _fl_node(ctx, r.order_id,
                                                                  rl.fulfillment_line_id)}

    return {"__typename": "Return", "id": gid("Return", r.id), "name": r.name,
            "status": r.status, "createdAt": iso(r.created_at),
            "closedAt": iso(r.closed_at) if r.closed_at else None,
            "totalQuantity": sum(rl.quantity for rl in r.lines),
            "order": lambda info, **a: views.order_node(ctx, ctx.shop.orders[r.order_id]),
            "returnLineItems": lambda info, **a: connection(r.lines, a, line_node),
            "reverseFulfillmentOrders": lambda info, **a: connection([r], a, lambda x: _rfo_node(
                ctx, x), key=lambda x: x.rfo_id)}


def order_returns(ctx, order_id: int, args: dict) -> dict:
    """Order.returns."""
    if args.get("query"):
        raise GraphQLError("Order.returns(query:) is not emulated.")
    items = [r for r in _returns(ctx.shop).values() if r.order_id == order_id]
    return connection(items, args, lambda r: return_node(ctx, r))


@query("return")
def resolve_return(ctx, info, id):
    """QueryRoot.return."""
    r = _returns(ctx.shop).get(parse_gid(id, "Return"))
    return return_node(ctx, r) if r else None


@query("reverseFulfillmentOrder")
def resolve_reverse_fulfillment_order(ctx, info, id):
    """QueryRoot.reverseFulfillmentOrder."""
    num = parse_gid(id, "ReverseFulfillmentOrder")
    r = next((r for r in _returns(ctx.shop).values() if r.rfo_id == num), None)
    return _rfo_node(ctx, r) if r else None


@mutation("returnCreate")
def return_create(ctx, info, returnInput):
    """returnCreate (exchange lines, fees and unprocessed returns are not emulated)."""
    if returnInput.get("exchangeLineItems") or returnInput.get("returnShippingFee"):
        raise GraphQLError("returnCreate exchanges and shipping fees are not emulated.")
    items = [{"fulfillment_line_id": parse_gid(x["fulfillmentLineItemId"], "FulfillmentLineItem"),
              "quantity": x["quantity"], "note": x.get("returnReasonNote") or ""}
             for x in returnInput["returnLineItems"]]
    try:
        r = create_return(ctx.store, ctx.shop, parse_gid(returnInput["orderId"], "Order"), items)
    except UserError as err:
        return {"return": None, "userErrors": user_errors(info, [err])}
    return {"return": return_node(ctx, r), "userErrors": []}


@mutation("returnProcess")
def return_process(ctx, info, input):
    """returnProcess (financial transfers, exchanges and duties are not emulated)."""
    if input.get("financialTransfer") or input.get("exchangeLineItems"):
        raise GraphQLError("returnProcess refunds and exchanges are not emulated.")
    items = [{"id": parse_gid(x["id"], "ReturnLineItem"), "quantity": x["quantity"],
              "dispositions": [{
                  "rfo_line_id": parse_gid(d["reverseFulfillmentOrderLineItemId"],
                                           "ReverseFulfillmentOrderLineItem"),
                  "quantity": d["quantity"], "type": d["dispositionType"],
                  "location_id": parse_gid(d["locationId"], "Location") if d.get("locationId")
                  else None} for d in x.get("dispositions") or []]}
             for x in input.get("returnLineItems") or []]
    try:
        r = process_return(ctx.store, ctx.shop, parse_gid(input["returnId"], "Return"), items)
    except UserError as err:
        return {"return": None, "userErrors": user_errors(info, [err])}
    return {"return": return_node(ctx, r), "userErrors": []}


# --- the merchant's returns in the Shopify admin ------------------------------------------------

def _by_line_item(shop: Shop, order_id: int, line_item_id: int, quantity: int) -> list[dict]:
    items = []
    for f in sorted(shop.fulfillments.values(), key=lambda f: f.id):
        for fl in f.lines if f.order_id == order_id and f.status != "CANCELLED" else []:
            take = min(quantity, fl.quantity - _in_returns(shop, fl.id))
            if fl.line_item_id == line_item_id and take > 0:
                items.append({"fulfillment_line_id": fl.id, "quantity": take, "note": ""})
                quantity -= take
    if quantity:
        raise UserError("Quantity is not available for return.", ["returnLineItems"], "INVALID")
    return items


@bp.post("/shops/<shop>/orders/<order_id>/returns")
@control
def create_order_return(sandbox, shop, order_id):
    """The merchant creates a return in Shopify admin: ``{return_line_items:
    [{fulfillment_line_item_id | line_item_id, quantity}], restock_location_id?}``; with ``process: true``
    it is processed at once (RESTOCKED at restock_location_id, else NOT_RESTOCKED)."""
    s = _shop(sandbox, shop)
    body = _body()
    items = []
    for x in body.get("return_line_items") or []:
        if x.get("fulfillment_line_item_id") is not None:
            items.append({"fulfillment_line_id": _id(x["fulfillment_line_item_id"],
                                                     "FulfillmentLineItem"),
                          "quantity": int(x["quantity"]), "note": x.get("note") or ""})
        else:  # by order line item: from its fulfillments, oldest first (as the admin offers)
            items += _by_line_item(s, _id(order_id, "Order"), _id(x["line_item_id"], "LineItem"),
                                   int(x["quantity"]))
    r = create_return(sandbox.store, s, _id(order_id, "Order"), items)
    if body.get("process"):
        location = (_id(body["restock_location_id"], "Location")
                    if body.get("restock_location_id") else None)
        rfo = {ln.fulfillment_line_id: ln for ln in r.rfo_lines}
        process_return(sandbox.store, s, r.id, [
            {"id": rl.id, "quantity": rl.quantity, "dispositions": [{
                "rfo_line_id": rfo[rl.fulfillment_line_id].id, "quantity": rl.quantity,
                "type": "RESTOCKED" if location else "NOT_RESTOCKED", "location_id": location}]}
            for rl in r.lines])
    return {"id": r.id, "gid": gid("Return", r.id), "status": r.status}


@bp.get("/shops/<shop>/returns")
@control
def list_returns(sandbox, shop):
    """Inspection: every return of the shop with its lines and dispositions."""
    s = _shop(sandbox, shop)
    return {"returns": [{
        "id": r.id, "gid": gid("Return", r.id), "order_id": r.order_id, "name": r.name,
        "status": r.status,
        "lines": [{"id": rl.id, "fulfillment_line_item_id": rl.fulfillment_line_id,
                   "quantity": rl.quantity, "processed": rl.processed, "note": rl.note}
                  for rl in r.lines],
        "dispositions": [{"type": d.type, "quantity": d.quantity, "location_id": d.location_id}
                         for ln in r.rfo_lines for d in ln.dispositions]}
        for r in _returns(s).values()]}
