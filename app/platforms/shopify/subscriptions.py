"""Webhook subscriptions: the toml's topics made to exist on a shop, idempotently.

Shopify's recommended way (and the default here, ``SHOPIFY_WEBHOOKS_VIA=toml``) is
app-specific subscriptions: the ``[[webhooks.subscriptions]]`` of shopify.app.toml,
deployed with ``shopify app deploy``, which Shopify delivers for every shop the app is
installed on; the Admin API does not list them. The app then creates nothing, and only
removes shop-specific subscriptions of its own that duplicate a toml topic at the same
address (left by an older version; they would deliver every event twice).

With ``SHOPIFY_WEBHOOKS_VIA=api`` (a deployment without the CLI), the app creates a
shop-specific subscription for each toml topic that has none, and deletes its own
subscriptions to our address whose topic left the toml. Compliance topics can only be
declared in the toml, so they are never created here.
"""
from __future__ import annotations

from app.platforms.shopify.settings import ShopifySettings
from app.sync.errors import PermanentError


def topic_enum(topic: str) -> str:
    """"orders/create" -> "ORDERS_CREATE" (WebhookSubscriptionTopic)."""
    return topic.replace("/", "_").upper()


def _existing(call) -> list[dict]:
    nodes, after = [], None
    while True:
        page = call("WebhookSubscriptions", {"after": after})["webhookSubscriptions"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def ensure_webhook_subscriptions(call, settings: ShopifySettings) -> tuple[int, int]:
    """Bring the shop's subscriptions in line with the toml; returns (created, deleted)."""
    wanted = {topic_enum(t): uri for t, uri in settings.webhook_topics.items()
              if t not in settings.compliance_topics}
    ours = set(settings.webhook_topics.values())
    created = deleted = 0
    have: set[tuple[str, str]] = set()
    for sub in _existing(call):
        key = (sub["topic"], sub["uri"])
        if sub["uri"] not in ours:
            continue  # someone else's address (another integration of this app): leave it
        duplicate = settings.webhooks_via == "toml" and wanted.get(sub["topic"]) == sub["uri"]
        stale = sub["topic"] not in wanted or key in have
        if duplicate or stale:
            result = call("WebhookSubscriptionDelete", {"id": sub["id"]})
            _check(result["webhookSubscriptionDelete"], "Deleting a webhook subscription")
            deleted += 1
        else:
            have.add(key)
    if settings.webhooks_via == "api":
        for topic, uri in sorted(wanted.items()):
            if (topic, uri) in have:
                continue
            result = call("WebhookSubscriptionCreate", {"topic": topic, "uri": uri})
            _check(result["webhookSubscriptionCreate"], f"Subscribing to {topic}")
            created += 1
    return created, deleted


def _check(payload: dict, what: str) -> None:
    errors = payload.get("userErrors") or []
    if errors:
        raise PermanentError(f"{what} failed on Shopify: "
                             + "; ".join(e.get("message", "") for e in errors))
