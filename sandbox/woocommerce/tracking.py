"""The Shipment Tracking extension's REST API (wc-shipment-tracking/v3), present only when installed."""
from __future__ import annotations

from sandbox.woocommerce import actions, serializers
from sandbox.woocommerce.api import rest_base, rest_route
from sandbox.woocommerce.rest import RestError, json_response, no_route, params
from sandbox.woocommerce.state import Order, Store

BASE = "/wc-shipment-tracking/v3/orders/<int:order_id>/shipment-trackings"


def tracking_order(store: Store, order_id: int) -> Order:
    """The order, after checking the extension is installed (else the route does not exist)."""
    if not store.shipment_tracking:
        raise no_route()
    order = store.orders.get(order_id)
    if order is None:
        raise RestError("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
    return order


@rest_route(BASE, ["GET"], "list")
def list_trackings(store: Store, order_id: int):
    """GET orders/{id}/shipment-trackings."""
    order = tracking_order(store, order_id)
    return json_response([serializers.tracking_data(store, order, t, rest_base(store))
                          for t in order.trackings])


@rest_route(BASE, ["POST"], "create")
def create_tracking(store: Store, order_id: int):
    """POST: tracking_number plus tracking_provider or custom_tracking_provider/link."""
    order = tracking_order(store, order_id)
    args = params()
    if not args.get("tracking_number"):
        raise RestError("rest_missing_callback_param", "Missing parameter(s): tracking_number",
                        400, params=["tracking_number"])
    try:
        tracking = actions.add_tracking(
            store, order, tracking_number=str(args["tracking_number"]),
            tracking_provider=str(args.get("tracking_provider") or ""),
            custom_tracking_provider=str(args.get("custom_tracking_provider") or ""),
            custom_tracking_link=str(args.get("custom_tracking_link") or ""),
            date_shipped=args.get("date_shipped"))
    except actions.ActionError as error:
        raise RestError("rest_invalid_param", str(error), 400) from None
    base = rest_base(store)
    data = serializers.tracking_data(store, order, tracking, base)
    return json_response(data, 201, {"Location": data["_links"]["self"][0]["href"]})


def find_tracking(store: Store, order_id: int, tracking_id: str):
    """(order, tracking) or the extension's 404."""
    order = tracking_order(store, order_id)
    tracking = next((t for t in order.trackings if t.tracking_id == tracking_id), None)
    if tracking is None:
        raise RestError("woocommerce_rest_order_invalid_id", "Invalid tracking ID.", 404)
    return order, tracking


@rest_route(BASE + "/<tracking_id>", ["GET"], "view")
def read_tracking(store: Store, order_id: int, tracking_id: str):
    """GET one tracking item."""
    order, tracking = find_tracking(store, order_id, tracking_id)
    return json_response(serializers.tracking_data(store, order, tracking, rest_base(store)))


@rest_route(BASE + "/<tracking_id>", ["DELETE"], "delete")
def remove_tracking(store: Store, order_id: int, tracking_id: str):
    """DELETE one tracking item; answers with the deleted item."""
    order, tracking = find_tracking(store, order_id, tracking_id)
    data = serializers.tracking_data(store, order, tracking, rest_base(store))
    order.trackings.remove(tracking)
    return json_response(data)


@rest_route("/wc-shipment-tracking/v3/shipment-trackings/providers", ["GET"], "public")
def list_providers(store: Store):
    """GET shipment-trackings/providers (public; grouped by region)."""
    if not store.shipment_tracking:
        raise no_route()
    return json_response(actions.PROVIDERS)
