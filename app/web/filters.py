"""Template filters and globals: dates, money, labels, status tones."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import Flask, g, has_request_context
from markupsafe import Markup

from app.merchants import merchant_timezone
from app.merchants.timezones import zone as zone_named
from app.orders import order_status

_TONES = {
    # fulfillment / order statuses
    "unfulfilled": "attention", "partially_fulfilled": "warning", "fulfilled": "success",
    "canceled": "neutral", "pending": "info", "shipped": "success", "delivered": "success",
    # sync states and job statuses
    "synced": "success", "failed": "critical", "dead": "critical", "done": "success",
    "ignored": "neutral", "discarded": "neutral", "rejected": "warning",
    # listings (app/catalog/)
    "unmatched": "attention", "matched": "success", "deleted": "neutral",
    # channels
    "active": "success", "uninstalled": "neutral",
}
_TONE_NAMES = {"success", "info", "attention", "warning", "critical", "neutral"}
_LABELS = {"app": "Stockroom", "platform": "Platform", "pending_sync": "Syncing",
           "shopify": "Shopify", "woocommerce": "WooCommerce"}


def format_datetime(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str:
    """"Nov 23, 2026, 07:45 EST": a stored (UTC) time in ``zone``, by default the signed-in
    merchant's (app/merchants/timezones.py; UTC while they have none). A zone without a
    lettered abbreviation reads as its offset: "Nov 23, 2026, 09:45 UTC-03:00"."""
    if value is None:
        return ""
    local = value.astimezone(zone or display_zone())
    abbreviation = local.tzname() or ""
    if not abbreviation.isalpha():
        offset = local.utcoffset() or dt.timedelta(0)
        sign, minutes = ("-" if offset < dt.timedelta(0) else "+"), abs(offset) // dt.timedelta(
            minutes=1)
        abbreviation = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}" if minutes else "UTC"
    return local.strftime("%b %-d, %Y, %H:%M ") + abbreviation


def display_zone() -> dt.tzinfo:
    """The signed-in merchant's zone, read once per request; UTC outside a request or
    for nobody signed in."""
    if not has_request_context():
        return dt.UTC
    if "display_zone" not in g:
        merchant_id = getattr(g, "merchant_id", None)
        g.display_zone = zone_named(merchant_timezone(merchant_id)) if merchant_id else dt.UTC
    return g.display_zone


#: Currency -> the symbol an English-reading merchant knows (Babel's en_US symbols).
_SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5", "CAD": "CA$",
            "AUD": "A$", "NZD": "NZ$", "INR": "\u20b9", "CNY": "CN\u00a5", "KRW": "\u20a9",
            "MXN": "MX$", "BRL": "R$", "HKD": "HK$", "ILS": "\u20aa", "VND": "\u20ab"}
#: ISO 4217 currencies without minor units that shops use.
_NO_DECIMALS = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX"}


def format_money(amount: str | Decimal | None, currency: str | None) -> str:
    """"$41.00", "\u20ac1,234.50", "\u00a55,000"; a currency without a known symbol reads
    "CHF 41.00"; an amount that is not a number is shown as given, beside its currency."""
    code = (currency or "").upper()
    try:
        value = Decimal(str(amount if amount is not None else "0"))
    except InvalidOperation:
        return f"{amount} {code}".strip()
    if not value.is_finite():
        return f"{amount} {code}".strip()
    places = 0 if code in _NO_DECIMALS else 2
    digits = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 else ""
    symbol = _SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{code} {digits}".strip()


def label(value: str | None) -> str:
    """Human label of an enum-like value: "partially_fulfilled" -> "Partially fulfilled"."""
    value = str(value or "")
    return _LABELS.get(value) or value.replace("_", " ").capitalize()


def tone(value: str | None) -> str:
    """Badge tone (Polaris names) for a status value; a tone name is its own tone."""
    value = str(value or "")
    if value in _TONE_NAMES:
        return value
    return _TONES.get(value, "neutral")


def fo_tone(status: str | None) -> str:
    """Badge tone of a Shopify fulfillment order status (OPEN, IN_PROGRESS, ON_HOLD, …)."""
    return {"OPEN": "attention", "IN_PROGRESS": "info", "SCHEDULED": "info",
            "ON_HOLD": "warning", "INCOMPLETE": "warning", "CLOSED": "success",
            "CANCELLED": "neutral"}.get(str(status or "").upper(), "neutral")


def barcode(text: str) -> Markup:
    """Code 128 SVG of ``text``; nothing for text it cannot encode (the number is printed anyway)."""
    from app.printing import code128

    try:
        return code128.svg(text)
    except code128.NotEncodable:
        return Markup("")


def register_filters(app: Flask) -> None:
    """Make the filters and globals available to every template."""
    app.jinja_env.filters.update(datetime=format_datetime, money=format_money, label=label,
                                 tone=tone)
    from app.web.stock_wording import cancel_warning

    from app.web.job_wording import webhook_words

    from app.web.polaris import icon

    app.jinja_env.globals.update(order_status=order_status, fo_tone=fo_tone, icon=icon,
                                 webhook_words=webhook_words,
                                 cancel_warning=cancel_warning, barcode=barcode)
