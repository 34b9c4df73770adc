"""The time zone the dashboard shows dates in: the merchant's choice, or the first store's.

Times are stored in UTC; only display converts. A merchant who never chose a zone gets
the zone of the first store connected (Shopify's ``shop.ianaTimezone``, WordPress's
``timezone_string``); a later store never overrides it, and neither does a store whose
zone is not an IANA name (WordPress set to a bare "UTC+2" offset gives none).
"""
from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Merchant


@functools.cache
def timezone_choices() -> tuple[str, ...]:
    """Every IANA zone name this machine knows (system zoneinfo + the tzdata package),
    sorted; "UTC" included."""
    return tuple(sorted(n for n in zoneinfo.available_timezones()
                        if "/" in n or n == "UTC"))


def zone(name: str | None) -> dt.tzinfo:
    """The zone of that name; UTC for None, "" or a name this machine does not know."""
    if not name:
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def merchant_timezone(merchant_id: int) -> str | None:
    """The merchant's zone name, None while unset (dates then read in UTC)."""
    return db.session.scalar(db.select(Merchant.timezone).where(Merchant.id == merchant_id))


def set_timezone(merchant_id: int, name: str) -> str:
    """The merchant's choice; refuses a name that is no IANA zone. Flushes."""
    name = (name or "").strip()
    if name not in timezone_choices():
        raise InvalidInput("Choose a time zone from the list (e.g. America/Toronto).",
                           field="timezone")
    merchant = db.session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("That merchant does not exist.")
    merchant.timezone = name
    db.session.flush()
    return name


def adopt_store_timezone(merchant_id: int, name: str | None) -> bool:
    """A connected store's zone becomes the merchant's if the merchant has none yet and the
    name is an IANA zone; True when it was taken. Flushes."""
    name = (name or "").strip()
    if name not in timezone_choices():
        return False
    merchant = db.session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None or merchant.timezone:
        return False
    merchant.timezone = name
    db.session.flush()
    return True
