"""Shopify's per-shop rate-limit bucket as every process sees it (PostgreSQL deployments)."""
from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ShopifyRateBucket(db.Model):
    """Stockroom's estimate of one shop's GraphQL bucket, shared by every worker and web node.

    Shopify keeps one leaky bucket per app and shop; several processes calling the same shop
    each pacing on their own estimate would together spend it several times over. Each call
    takes its requested cost from this row before it is sent (waiting if the row goes below
    zero), gives back the refund Shopify reports, and lowers the estimate to Shopify's own
    ``currentlyAvailable`` when that is lower (app/platforms/shopify/rate_limit.py). ``stamp``
    is the database's clock (epoch seconds), so nodes with skewed clocks agree. Keyed by the
    shop's domain: the bucket belongs to the shop, not to a merchant's data.
    """

    __tablename__ = "shopify_rate_buckets"

    shop: Mapped[str] = mapped_column(String(255), primary_key=True)
    available: Mapped[float] = mapped_column(Float)
    maximum: Mapped[float] = mapped_column(Float)
    restore_rate: Mapped[float] = mapped_column(Float)
    stamp: Mapped[float] = mapped_column(Float)
