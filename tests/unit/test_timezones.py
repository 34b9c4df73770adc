"""The merchant's time zone: chosen, or taken once from the first store that gives one."""
import pytest

from app.errors import InvalidInput
from app.extensions import db
from app.merchants import adopt_store_timezone, merchant_timezone, set_timezone
from app.platforms.woocommerce.urls import site_timezone
from tests.fixtures.factories import make_merchant


def test_first_store_zone_is_adopted_later_ones_never_override(app):
    merchant = make_merchant()
    db.session.commit()
    assert merchant_timezone(merchant.id) is None
    assert adopt_store_timezone(merchant.id, "Not/A_Zone") is False
    assert adopt_store_timezone(merchant.id, "") is False
    assert merchant_timezone(merchant.id) is None
    assert adopt_store_timezone(merchant.id, "America/Toronto") is True
    assert adopt_store_timezone(merchant.id, "Europe/Berlin") is False
    assert merchant_timezone(merchant.id) == "America/Toronto"


def test_the_merchants_choice_wins_and_bad_names_are_refused(app):
    merchant = make_merchant()
    db.session.commit()
    assert set_timezone(merchant.id, " Europe/Berlin ") == "Europe/Berlin"
    assert adopt_store_timezone(merchant.id, "Asia/Tokyo") is False
    for bad in ("", "Europe/Atlantis", "../../etc/passwd", "EST5EDT\n"):
        with pytest.raises(InvalidInput) as refused:
            set_timezone(merchant.id, bad)
        assert refused.value.field == "timezone"
    assert merchant_timezone(merchant.id) == "Europe/Berlin"


@pytest.mark.parametrize("index, expected", [
    ({"timezone_string": "Europe/Berlin", "gmt_offset": 1}, "Europe/Berlin"),
    ({"timezone_string": "", "gmt_offset": 2}, "Etc/GMT-2"),  # "UTC+2": POSIX sign inverted
    ({"timezone_string": "", "gmt_offset": "-5"}, "Etc/GMT+5"),
    ({"timezone_string": "", "gmt_offset": 5.5}, ""),  # fractional: no IANA zone
    ({"timezone_string": "", "gmt_offset": 0}, ""),  # WordPress's default: not a choice
    ({"gmt_offset": "soon"}, ""),
    ({"gmt_offset": True}, ""),
    ({"gmt_offset": 15}, ""),
    ({}, ""),
])
def test_wordpress_site_timezone_from_the_rest_index(index, expected):
    assert site_timezone(index) == expected
