"""Reading from Shopify into Stockroom: orders with their fulfillment orders, locations."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.merchants import adopt_store_timezone
from app.models import (Channel, ChannelLocation, FulfillmentOrder, FulfillmentOrderLine, Order,
                        OrderLine, RemoteStatus)
from app.orders.upsert import upsert_order
from app.stock.push import mark_dirty
from app.platforms.shopify.client import (ShopifyAccessDenied, ShopifyClient, ShopifyError,
                                          ShopifyQueryError, ShopifyThrottled,
                                          ShopifyUnauthorized, ShopifyUnavailable)
from app.platforms.shopify.mapping import order_data
from app.platforms.shopify.paging import read_order
from app.platforms.shopify.tokens import TokenRequestError, access_token_for
from app.sync.errors import PermanentError, RetryableError, Throttled
from app.sync.transactions import end_read


def settings():
    """The app's Shopify settings (the worker only runs Shopify jobs when configured)."""
    value = current_app.extensions.get("stockroom.shopify")
    if value is None:
        raise PermanentError("Shopify is not configured (SHOPIFY_API_SECRET unset)")
    return value


class ShopifyCall:
    """Runs GraphQL for a channel, refreshing the token once on 401, mapping errors for the worker."""

    def __init__(self, channel_id: int):
        self.channel_id = channel_id
        channel = db.session.get(Channel, channel_id)
        self.shop = channel.domain
        end_read()  # end the read before any network call
        self._client: ShopifyClient | None = None

    def _connect(self, *, force_refresh: bool = False) -> ShopifyClient:
        try:
            token = access_token_for(settings(), self.channel_id, force_refresh=force_refresh)
        except TokenRequestError as exc:
            raise RetryableError(f"Shopify token: {exc}") from None
        return ShopifyClient(settings(), self.shop, token)

    def __call__(self, operation: str, variables: dict | None = None, *,
                 idempotent: bool = True) -> dict:
        """Execute; a 401 refreshes the token and tries once more (Shopify ran nothing)."""
        try:
            self._client = self._client or self._connect()
            try:
                return self._client.execute(operation, variables, idempotent=idempotent)
            except ShopifyUnauthorized:
                self._client = self._connect(force_refresh=True)
                return self._client.execute(operation, variables, idempotent=idempotent)
        except ShopifyThrottled as exc:
            raise Throttled(str(exc), retry_after=exc.retry_after) from None
        except ShopifyUnavailable as exc:
            raise RetryableError(str(exc), retry_after=exc.retry_after) from None
        except (ShopifyAccessDenied, ShopifyQueryError) as exc:
            raise PermanentError(str(exc)) from None
        except ShopifyError as exc:
            raise RetryableError(str(exc)) from None


def pull_order(call: ShopifyCall, merchant_id: int, channel_id: int, order_gid: str
               ) -> Order | None:
    """Re-read an order from Shopify (every line, every fulfillment order: paging.py) and upsert
    it with its fulfillment-order mirror. Flushes."""
    node = read_order(call, order_gid)
    if node is None:
        return None
    order = upsert_order(merchant_id, channel_id, order_data(node))
    mirror_fulfillment_orders(order, node["fulfillmentOrders"]["nodes"])
    return order


def mirror_fulfillment_orders(order: Order, nodes: list[dict]) -> None:
    """Replace the order's fulfillment-order mirror with Shopify's current view. Flushes."""
    existing = {fo.remote_id: fo for fo in db.session.scalars(
        select(FulfillmentOrder).where(FulfillmentOrder.order_id == order.id))}
    seen = {mirror_fulfillment_order(order, node, existing).remote_id for node in nodes}
    for remote_id, stale in existing.items():
        if remote_id not in seen:
            db.session.delete(stale)
    db.session.flush()
    mark_order_stock_stale(order)


def mark_order_stock_stale(order: Order) -> None:
    """What Shopify holds committed for this order changed (a new view of its fulfillment
    orders, a move): its items' pushed quantities are stale, on this shop and on the
    merchant's other stores (which subtract what this shop holds at each stock location)."""
    item_ids = {line.inventory_item_id for line in order.lines if line.inventory_item_id}
    if item_ids:
        mark_dirty(order.merchant_id, item_ids=item_ids)


def mirror_fulfillment_order(order: Order, node: dict,
                             existing: dict[str, FulfillmentOrder] | None = None
                             ) -> FulfillmentOrder:
    """Create or update one mirrored fulfillment order from its GraphQL node. Flushes.

    ``existing`` (remote id -> row) saves a query per node when mirroring a whole order.
    """
    if existing is None:
        existing = {fo.remote_id: fo for fo in db.session.scalars(
            select(FulfillmentOrder).where(FulfillmentOrder.order_id == order.id,
                                           FulfillmentOrder.remote_id == node["id"]))}
    lines_by_remote = {line.remote_id: line.id for line in db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id))}
    fo = existing.get(node["id"])
    if fo is None:
        fo = FulfillmentOrder(merchant_id=order.merchant_id, channel_id=order.channel_id,
                              order_id=order.id, remote_id=node["id"])
        db.session.add(fo)
        existing[node["id"]] = fo
    assigned = node.get("assignedLocation") or {}
    fo.status = node["status"]
    fo.request_status = node.get("requestStatus") or "UNSUBMITTED"
    fo.assigned_location_remote_id = (assigned.get("location") or {}).get("id", "")
    fo.assigned_location_name = assigned.get("name", "")
    actions = node.get("supportedActions") or []
    fo.supported_actions = [a["action"] for a in actions]
    fo.external_url = next((a.get("externalUrl") or "" for a in actions
                            if a["action"] == "EXTERNAL"), "")
    fo.holds = [{"id": h["id"], "reason": h["reason"], "reasonNotes": h.get("reasonNotes") or ""}
                for h in node.get("fulfillmentHolds") or []]
    fo.lines.clear()
    db.session.flush()
    for li in node["lineItems"]["nodes"]:
        fo.lines.append(FulfillmentOrderLine(
            merchant_id=order.merchant_id, remote_id=li["id"],
            order_line_id=lines_by_remote.get(li["lineItem"]["id"]),
            total_quantity=li["totalQuantity"], remaining_quantity=li["remainingQuantity"]))
    db.session.flush()
    return fo


def import_locations(call: ShopifyCall, merchant_id: int, channel_id: int) -> int:
    """Upsert the shop's locations as ChannelLocations (mapping left to the merchant). Flushes."""
    after, count = None, 0
    while True:
        data = call("Locations", {"after": after})
        if after is None:
            adopt_store_timezone(merchant_id, (data.get("shop") or {}).get("ianaTimezone"))
        page = data["locations"]
        for node in page["nodes"]:
            location = db.session.scalar(select(ChannelLocation).where(
                ChannelLocation.channel_id == channel_id, ChannelLocation.remote_id == node["id"]))
            if location is None:
                location = ChannelLocation(merchant_id=merchant_id, channel_id=channel_id,
                                           remote_id=node["id"])
                db.session.add(location)
            location.name = node["name"]
            location.kind = "fulfillment_service" if node.get("fulfillmentService") \
                else "merchant_managed"
            # Listed (active) now: a deactivation whose reactivation webhook was missed ends.
            if location.remote_status == RemoteStatus.INACTIVE:
                location.remote_status = RemoteStatus.ACTIVE
            count += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    db.session.flush()
    return count
