"""Warehouse test setup: a merchant with two locations and two items, 5 mugs at Main."""
import pytest

from app.extensions import db
from tests.fixtures.factories import make_item, make_location, make_merchant, stock


@pytest.fixture
def setup(app):
    """(merchant, Main, Shop, MUG-1, TOTE-1), committed."""
    merchant = make_merchant()
    main, shop = make_location(merchant, "Main"), make_location(merchant, "Shop")
    mug, tote = make_item(merchant, "MUG-1"), make_item(merchant, "TOTE-1")
    stock(main, mug, 5)
    db.session.commit()
    return merchant, main, shop, mug, tote
