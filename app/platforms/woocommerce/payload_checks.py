"""WooCommerce webhook payload checks: the order or product a delivery names is a well-formed id.

Unlike Shopify's, a WooCommerce delivery is signed with a secret of its own channel (made
when Stockroom created the webhook on that store) and arrives at that channel's URL, so a
body signed for one store can't be replayed as another's. ``X-WC-Webhook-Source`` (the
store's ``home_url('/')``) is unsigned and is not compared with the connected store URL: a
WordPress whose home URL differs from the URL the merchant connected (www, a sub-folder
install) would have every real delivery refused, for a check the secret already makes.
"""
from __future__ import annotations

from app.models import Platform
from app.sync.errors import Rejected
from app.sync.handlers import Delivery


def check_order(delivery: Delivery) -> None:
    """An order resource (``order.deleted``: just ``{"id": N}``) with a positive integer id."""
    order_id = delivery.payload.get("id")
    if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id <= 0:
        shown = repr(order_id)[:80]
        raise Rejected(f"the body's id is {shown}, not a WooCommerce order id")


def check_product(delivery: Delivery) -> None:
    """A product resource (a variation's own hooks send the variation in product shape;
    ``product.deleted``: just ``{"id": N}``) with a positive integer id."""
    product_id = delivery.payload.get("id")
    if isinstance(product_id, bool) or not isinstance(product_id, int) or product_id <= 0:
        shown = repr(product_id)[:80]
        raise Rejected(f"the body's id is {shown}, not a WooCommerce product id")
