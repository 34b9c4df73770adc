"""Shopify webhook payload checks: the body agrees with where it was delivered, ids well-formed.

The HMAC proves only that the body was signed with the app's client secret, and that secret
also signs things every merchant holds (session tokens, install links, other shops'
deliveries). The topic and shop come from unsigned headers. So before any handler acts, the
worker runs the one check of the topic's payload kind (registered here): a body that names
another shop, or ids that are not Shopify's, is rejected and never applied.

Ids: Shopify sends REST ids as JSON integers and the same resource's GraphQL id beside them
(``admin_graphql_api_id``). Shopify's published example payloads were scraped through
JavaScript, so their large integers lost precision (``"id": 820982911946154500`` beside
``gid://shopify/Order/820982911946154508``). The gid is what the handlers use; the integer
must be positive and agree with the gid's number to double precision, which accepts those
examples (and every exact real delivery) and still refuses an id of another resource.
"""
from __future__ import annotations

import re

from app.models import Platform
from app.sync.errors import Rejected
from app.sync.handlers import Delivery

SHOPIFY = Platform.SHOPIFY
_GID = re.compile(r"gid://shopify/(?P<kind>[A-Za-z]+)/(?P<number>[1-9][0-9]{0,19})")


def _show(value) -> str:
    """A payload value as the reason shows it (short; the page escapes it)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _same_shop(named, delivery: Delivery, field: str) -> None:
    if not isinstance(named, str) or named.strip().lower() != delivery.channel_domain.lower():
        raise Rejected(f"the body's {field} is {_show(named)}, but it was delivered for "
                       f"{delivery.channel_domain} (X-Shopify-Shop-Domain)")


def _positive_int(payload: dict, field: str) -> int:
    value = payload.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Rejected(f"the body's {field} is {_show(value)}, not a Shopify id")
    return value


def _gid_number(value, kind: str, field: str) -> int:
    match = _GID.fullmatch(value) if isinstance(value, str) else None
    if match is None or match["kind"] != kind:
        raise Rejected(f"the body's {field} is {_show(value)}, not gid://shopify/{kind}/<id>")
    return int(match["number"])


def _objects(payload: dict, field: str, not_an_object: str, *, required: bool = False,
             a_list: str = "a list") -> list[dict]:
    """The objects listed in ``payload[field]`` (none when it is absent, unless
    ``required``: then absent or empty is refused too). ``not_an_object`` is the reason
    given for an entry that isn't one, with ``{}`` where the entry is shown."""
    items = payload.get(field)
    if items is None and not required:
        return []
    if not isinstance(items, list) or (required and not items):
        raise Rejected(f"the body's {field} is {_show(items)}, not {a_list}")
    for item in items:
        if not isinstance(item, dict):
            raise Rejected(not_an_object.format(_show(item)))
    return items


def _fulfillment_order_ref(ref, field: str) -> None:
    """A fulfillment order the payload names: a FulfillmentOrder gid (an older payload's
    positive integer id is accepted too)."""
    if not isinstance(ref, dict):
        raise Rejected(f"the body's {field} is {_show(ref)}, not a fulfillment order")
    if isinstance(ref.get("id"), int) and not isinstance(ref["id"], bool):
        _positive_int(ref, "id")
    else:
        _gid_number(ref.get("id"), "FulfillmentOrder", f"{field}.id")


def _resource_ids(payload: dict, kind: str) -> None:
    """``id`` a positive integer; ``admin_graphql_api_id`` (when sent) that resource's gid,
    with the same number (to double precision: see the module's docstring)."""
    number = _positive_int(payload, "id")
    if payload.get("admin_graphql_api_id") is None:
        return
    from_gid = _gid_number(payload["admin_graphql_api_id"], kind, "admin_graphql_api_id")
    if float(from_gid) != float(number):
        raise Rejected(f"the body's id {number} and admin_graphql_api_id "
                       f"{_show(payload['admin_graphql_api_id'])} name different {kind}s")


def check_shop(delivery: Delivery) -> None:
    """The REST Shop resource: its ``myshopify_domain`` is the shop delivered for.

    ``domain`` is the shop's primary domain, often the merchant's own (shop.example.com), so
    it is compared only when it is a myshopify.com domain. Shopify's example payload has
    both null: a body that does not name the shop is left to the confirmation with Shopify
    (inbound.apply_uninstalled), which a body cannot fake.
    """
    payload = delivery.payload
    if payload.get("myshopify_domain") is not None:
        _same_shop(payload["myshopify_domain"], delivery, "myshopify_domain")
    domain = payload.get("domain")
    if isinstance(domain, str) and domain.strip().lower().endswith(".myshopify.com"):
        _same_shop(domain, delivery, "domain")
    elif domain is not None and not isinstance(domain, str):
        raise Rejected(f"the body's domain is {_show(domain)}, not a domain")


def check_compliance(delivery: Delivery) -> None:
    """Compliance payloads name their shop in ``shop_domain``; order ids are integers."""
    payload = delivery.payload
    _same_shop(payload.get("shop_domain"), delivery, "shop_domain")
    for field in ("orders_to_redact", "orders_requested"):
        ids = payload.get(field)
        if ids is None:
            continue
        if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int)
                                            or i <= 0 for i in ids):
            raise Rejected(f"the body's {field} is {_show(ids)}, not a list of order ids")
    customer = payload.get("customer")
    if customer is not None and not isinstance(customer, dict):
        raise Rejected(f"the body's customer is {_show(customer)}, not a customer")


def check_order(delivery: Delivery) -> None:
    """The REST Order resource: ``id`` and ``admin_graphql_api_id`` name one order."""
    _resource_ids(delivery.payload, "Order")


def check_fulfillment(delivery: Delivery) -> None:
    """The REST Fulfillment resource: its ids, and the ``order_id`` it belongs to."""
    _resource_ids(delivery.payload, "Fulfillment")
    _positive_int(delivery.payload, "order_id")


def check_fulfillment_orders(delivery: Delivery) -> None:
    """Every ``*fulfillment_order`` object the payload names has a FulfillmentOrder gid."""
    for key, ref in delivery.payload.items():
        if key.endswith("fulfillment_order") and ref is not None:
            _fulfillment_order_ref(ref, key)


def check_product(delivery: Delivery) -> None:
    """The REST Product resource: its ids, and every variant's ids, name this product's."""
    payload = delivery.payload
    _resource_ids(payload, "Product")
    for variant in _objects(payload, "variants", "the body's variant {} is not a variant"):
        _resource_ids(variant, "ProductVariant")
        product_id = variant.get("product_id")
        if product_id is not None and (isinstance(product_id, bool)
                                       or not isinstance(product_id, int)
                                       or float(product_id) != float(payload["id"])):
            raise Rejected(f"the body's variant {variant['id']} names product "
                           f"{_show(variant['product_id'])}, not {payload['id']}")


def check_product_deleted(delivery: Delivery) -> None:
    """products/delete carries only the product's REST ``id``."""
    _positive_int(delivery.payload, "id")
