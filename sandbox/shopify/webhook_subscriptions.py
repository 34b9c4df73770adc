"""GraphQL webhook subscription management: webhookSubscriptions, Create, Delete."""
from __future__ import annotations

from urllib.parse import urlparse

from .errors import user_errors
from .operations import UserError
from .resolvers import connection, mutation, query
from .state import WebhookSubscription, parse_gid
from .webhooks import may_receive, subscription_node, topic_from_enum

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_uri(uri: str | None) -> None:
    """HTTPS endpoints (plain HTTP allowed on loopback only, for the sandbox); Pub/Sub and ARN."""
    if not uri:
        raise UserError("Address can't be blank", ["webhookSubscription", "uri"])
    if uri.startswith(("pubsub://", "arn:aws:events:")):
        return
    parsed = urlparse(uri)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK:
        return
    raise UserError("Address protocol http:// is not supported", ["webhookSubscription", "uri"])


@query("webhookSubscriptions")
def resolve_webhook_subscriptions(ctx, info, **args):
    """QueryRoot.webhookSubscriptions (this app's, made through the API)."""
    topics = {topic_from_enum(t) for t in args.get("topics") or []}
    subs = [s for s in ctx.store.subscriptions.values()
            if s.client_id == ctx.app.client_id and s.shop == ctx.shop.domain
            and (not topics or s.topic in topics)
            and (not args.get("uri") or s.uri == args["uri"])]
    return connection(subs, args, subscription_node)


@query("webhookSubscription")
def resolve_webhook_subscription(ctx, info, id):
    """QueryRoot.webhookSubscription."""
    sub = ctx.store.subscriptions.get(parse_gid(id, "WebhookSubscription"))
    if sub is None or sub.client_id != ctx.app.client_id or sub.shop != ctx.shop.domain:
        return None
    return subscription_node(sub)


@mutation("webhookSubscriptionCreate")
def webhook_subscription_create(ctx, info, topic, webhookSubscription):
    """webhookSubscriptionCreate."""
    w = webhookSubscription
    uri = w.get("uri") or w.get("callbackUrl")
    rest_topic = topic_from_enum(topic)
    try:
        _check_uri(uri)
        if not may_receive(ctx.config.schema_dir, ctx.token.scopes, rest_topic):
            raise UserError(f"You do not have permission to create or update webhooks with "
                            f"{rest_topic} topic.", ["topic"])
        for s in ctx.store.subscriptions.values():
            if (s.client_id, s.shop, s.topic, s.uri) == (ctx.app.client_id, ctx.shop.domain,
                                                          rest_topic, uri):
                raise UserError("Address for this topic has already been taken",
                                ["webhookSubscription", "callbackUrl"])
    except UserError as err:
        return {"webhookSubscription": None, "userErrors": user_errors(info, [err])}
    now = ctx.store.now()
    sub = WebhookSubscription(id=ctx.store.next_id("WebhookSubscription"),
                              client_id=ctx.app.client_id, shop=ctx.shop.domain, topic=rest_topic,
                              uri=uri, created_at=now, updated_at=now,
                              include_fields=list(w.get("includeFields") or []),
                              filter=w.get("filter"), api_version=ctx.config.api_version)
    ctx.store.subscriptions[sub.id] = sub
    return {"webhookSubscription": subscription_node(sub), "userErrors": []}


@mutation("webhookSubscriptionDelete")
def webhook_subscription_delete(ctx, info, id):
    """webhookSubscriptionDelete."""
    sub = ctx.store.subscriptions.get(parse_gid(id, "WebhookSubscription"))
    if sub is None or sub.client_id != ctx.app.client_id or sub.shop != ctx.shop.domain:
        err = UserError("Webhook subscription does not exist", ["id"])
        return {"deletedWebhookSubscriptionId": None, "userErrors": user_errors(info, [err])}
    del ctx.store.subscriptions[sub.id]
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}

