"""The money filter: the shop's currency as a merchant reads it."""
import datetime as dt

import pytest

from app.web.filters import format_money


@pytest.mark.parametrize("amount, currency, expected", [
    ("41.00", "USD", "$41.00"),
    ("41", "usd", "$41.00"),
    ("1234.5", "EUR", "\u20ac1,234.50"),
    ("19.99", "GBP", "\u00a319.99"),
    ("5000", "JPY", "\u00a55,000"),
    ("12.00", "CAD", "CA$12.00"),
    ("41.00", "CHF", "CHF 41.00"),
    ("-3.50", "USD", "-$3.50"),
    (None, "USD", "$0.00"),
])
def test_format_money_symbol_grouping_and_places(amount, currency, expected):
    assert format_money(amount, currency) == expected


@pytest.mark.parametrize("amount", ["n/a", "NaN", "Infinity"])
def test_format_money_not_a_number_is_shown_as_given(amount):
    assert format_money(amount, "USD") == f"{amount} USD"


@pytest.mark.parametrize("zone, expected", [
    ("UTC", "Nov 23, 2026, 12:45 UTC"),
    ("America/Toronto", "Nov 23, 2026, 07:45 EST"),
    ("Europe/Berlin", "Nov 23, 2026, 13:45 CET"),
    ("Asia/Kolkata", "Nov 23, 2026, 18:15 IST"),
    ("America/Sao_Paulo", "Nov 23, 2026, 09:45 UTC-03:00"),  # no lettered abbreviation
    ("Asia/Kathmandu", "Nov 23, 2026, 18:30 UTC+05:45"),
    ("No/Such_Zone", "Nov 23, 2026, 12:45 UTC"),  # an unknown name: UTC, not an error
])
def test_format_datetime_in_a_zone(zone, expected):
    from app.merchants.timezones import zone as zone_named
    from app.web.filters import format_datetime

    when = dt.datetime(2026, 11, 23, 12, 45, tzinfo=dt.UTC)
    assert format_datetime(when, zone_named(zone)) == expected


def test_format_datetime_summer_time_follows_the_date():
    from app.merchants.timezones import zone as zone_named
    from app.web.filters import format_datetime

    july = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
    assert format_datetime(july, zone_named("America/Toronto")) == "Jul 1, 2026, 08:00 EDT"
