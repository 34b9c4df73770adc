"""Whether the app is still installed on a shop, asked of Shopify before anything destructive.

A webhook's HMAC proves only that its body was signed with the client secret, which also
signs what every merchant holds (session tokens, install links), and its topic and shop are
unsigned headers. So app/uninstalled and shop/redact are believed only when Shopify itself
agrees: the shop's own access token is refused (401, and a refresh refused too), which only
Shopify can make happen and only an uninstall does.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelStatus
from app.platforms.shopify.client import (ShopifyAccessDenied, ShopifyClient, ShopifyQueryError,
                                          ShopifyThrottled, ShopifyUnauthorized,
                                          ShopifyUnavailable)
from app.platforms.shopify.sync import settings
from app.platforms.shopify.tokens import (TokenRefused, TokenRequestError, access_token_for,
                                          mark_uninstalled)
from app.sync.errors import Deferred, PermanentError, Rejected, RetryableError, Throttled
from app.sync.transactions import end_read


@dataclass(frozen=True)
class Installation:
    """Shopify's answer, and the stored credentials it is about (compare before acting: a
    reinstall meanwhile stores new ones)."""

    installed: bool
    credentials: bytes | None


def _stored_credentials(channel_id: int) -> bytes | None:
    blob = db.session.scalar(select(Channel.credentials_encrypted).where(
        Channel.id == channel_id))
    end_read()
    return blob


def _ask(shop: str, token: str) -> bool:
    """AppInstallation with this token: True answered, False 401; raises when Shopify can't
    say (network, 5xx, throttled): never destroy on doubt."""
    try:
        ShopifyClient(settings(), shop, token).execute("AppInstallation", expected_cost=1)
    except ShopifyUnauthorized:
        return False
    except ShopifyAccessDenied:
        return True  # the token was accepted: only a scope is missing
    except ShopifyThrottled as exc:
        raise Throttled(str(exc), retry_after=exc.retry_after) from None
    except ShopifyUnavailable as exc:
        raise RetryableError(f"could not ask Shopify whether the app is installed: {exc}",
                             retry_after=exc.retry_after) from None
    except ShopifyQueryError as exc:
        raise PermanentError(str(exc)) from None
    return True


def check_installation(channel_id: int) -> Installation:
    """Ask Shopify, with the channel's token, whether the app is still installed. Commits.

    No stored token (deleted by an uninstall already confirmed): not installed, nothing to
    ask. A 401 may be an expired token: it is refreshed once and asked again; a refresh
    Shopify refuses means uninstalled. Any doubt raises RetryableError / Throttled.
    """
    channel = db.session.get(Channel, channel_id, populate_existing=True)
    shop, blob = channel.domain, channel.credentials_encrypted
    end_read()  # no transaction held across the calls to Shopify
    if blob is None:
        return Installation(False, None)
    for force_refresh in (False, True):
        try:
            token = access_token_for(settings(), channel_id, force_refresh=force_refresh)
        except TokenRefused:
            return Installation(False, _stored_credentials(channel_id))
        except TokenRequestError as exc:
            raise RetryableError(f"Shopify token: {exc}") from None
        if _ask(shop, token):
            return Installation(True, _stored_credentials(channel_id))
    return Installation(False, _stored_credentials(channel_id))


def confirm_uninstalled(channel_id: int) -> tuple[Channel, bool]:
    """The channel, row-locked, once Shopify has confirmed the app is uninstalled; it is
    marked uninstalled (token deleted) now if it was not yet. Returns (channel, marked now).

    Raises Rejected while Shopify answers the shop's token (still installed, or installed
    again), and Deferred when the stored token changed while Shopify was asked (a reinstall
    or a refresh meanwhile): the job asks again with the token stored now, so a reinstall
    racing a late delivery is never undone.
    """
    answer = check_installation(channel_id)
    if answer.installed:
        raise Rejected("Shopify says the app is still installed on this shop (its access "
                       "token works): nothing was changed")
    channel = db.session.get(Channel, channel_id, with_for_update=True, populate_existing=True)
    if channel.credentials_encrypted != answer.credentials:
        raise Deferred("the shop's token changed while Shopify was asked (a reinstall?)")
    if channel.status == ChannelStatus.UNINSTALLED:
        return channel, False
    if answer.credentials is None:
        raise Rejected("the shop has no access token to ask Shopify with: nothing was changed")
    mark_uninstalled(channel)
    return channel, True
