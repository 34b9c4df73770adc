"""The demo merchant: three stock locations, a 3PL and ~60 SKUs in stock; its sign-in."""
from __future__ import annotations

import random

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import InventoryItem, Merchant, StockLocation, User
from app.stock.levels import apply_movements
from app.web.auth import DEMO_EMAIL

__all__ = ["DEMO_EMAIL", "seed_demo_merchant", "seed_demo_user"]
LOCATIONS = ("Main warehouse", "Downtown shop", "East coast depot", "ShipFast 3PL")
PRODUCTS = ("Canvas tote", "Enamel mug", "Linen apron", "Wool beanie", "Field notebook",
            "Brass pen", "Cotton tee", "Leather wallet", "Travel bottle", "Desk lamp")
VARIANTS = ("Small", "Medium", "Large", "Black", "Olive", "Sand")


def seed_demo_merchant(*, seed: int = 7) -> tuple[Merchant, bool]:
    """Create the demo merchant with locations, 60 SKUs and stock; returns (merchant, created)."""
    existing = db.session.scalar(select(Merchant).where(Merchant.email == DEMO_EMAIL))
    if existing is not None:
        return existing, False
    rng = random.Random(seed)
    merchant = Merchant(name="Juniper & Co. (demo)", email=DEMO_EMAIL)
    db.session.add(merchant)
    db.session.flush()
    locations = [StockLocation(merchant_id=merchant.id, name=name) for name in LOCATIONS]
    items = [InventoryItem(merchant_id=merchant.id, title=f"{product} — {variant}",
                           sku=f"JC-{p:02d}-{v:02d}")
             for p, product in enumerate(PRODUCTS, 1) for v, variant in enumerate(VARIANTS, 1)]
    db.session.add_all(locations + items)
    db.session.flush()
    for location in locations:
        received = {item.id: rng.randint(0, 40) for item in items}
        apply_movements(merchant.id, location, received, reason="received",
                        note="Opening stock (demo)")
    return merchant, True


def seed_demo_user(merchant: Merchant, password: str) -> User:
    """The demo merchant's standalone sign-in (``DEMO_EMAIL`` + ``password``); idempotent."""
    user = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = User(merchant_id=merchant.id, email=DEMO_EMAIL,
                    password_hash=generate_password_hash(password, method="scrypt"))
        db.session.add(user)
        db.session.flush()
    return user
