"""The money filter: the shop's currency as a merchant reads it."""
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
