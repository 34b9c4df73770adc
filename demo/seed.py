"""The demo merchant: three stock locations and a 3PL (its items come from the demo shop's
catalog, through onboarding: demo/data.py); its sign-in."""
from __future__ import annotations

import random

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Merchant, StockLocation, User
from app.auth import DEMO_EMAIL

__all__ = ["DEMO_EMAIL", "seed_demo_merchant", "seed_demo_user"]
LOCATIONS = ("Main warehouse", "Downtown shop", "East coast depot", "ShipFast 3PL")
PRODUCTS = ("Canvas tote", "Enamel mug", "Linen apron", "Wool beanie", "Field notebook",
            "Brass pen", "Cotton tee", "Leather wallet", "Travel bottle", "Desk lamp")
VARIANTS = ("Small", "Medium", "Large", "Black", "Olive", "Sand")


def seed_demo_merchant() -> tuple[Merchant, bool]:
    """Create the demo merchant with its stock locations; returns (merchant, created).

    No items: like every merchant, the demo's come from a store's catalog (the demo shop,
    seeded by demo/data.py through the import and the onboarding choices).
    """
    existing = db.session.scalar(select(Merchant).where(Merchant.email == DEMO_EMAIL))
    if existing is not None:
        return existing, False
    merchant = Merchant(name="Juniper & Co. (demo)", email=DEMO_EMAIL)
    db.session.add(merchant)
    db.session.flush()
    db.session.add_all([StockLocation(merchant_id=merchant.id, name=name) for name in LOCATIONS])
    db.session.flush()
    return merchant, True


def catalog(*, seed: int = 7) -> list[dict]:
    """The demo shop's products: 10 products x 6 variants (SKU JC-pp-vv, some with a barcode),
    each variant's on-hand count per demo location (deterministic per ``seed``)."""
    rng = random.Random(seed)
    products = []
    for p, product in enumerate(PRODUCTS, 1):
        variants = []
        for v, variant in enumerate(VARIANTS, 1):
            variants.append({"title": variant, "sku": f"JC-{p:02d}-{v:02d}",
                             "barcode": f"0{p:05d}{v:06d}" if v % 2 else "",
                             "on_hand": {name: rng.randint(0, 40) for name in LOCATIONS}})
        products.append({"title": product, "variants": variants})
    return products


def seed_demo_user(merchant: Merchant, password: str) -> User:
    """The demo merchant's standalone sign-in (``DEMO_EMAIL`` + ``password``); idempotent."""
    user = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        user = User(merchant_id=merchant.id, email=DEMO_EMAIL,
                    password_hash=generate_password_hash(password, method="scrypt"))
        db.session.add(user)
        db.session.flush()
    return user
