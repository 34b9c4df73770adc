"""Dashboard views. Until sign-in exists (dashboard issue), only the demo shows data."""
from __future__ import annotations

from flask import abort, current_app, render_template
from sqlalchemy import select, text

from app.extensions import db
from app.models import InventoryItem, InventoryLevel, Merchant, StockLocation
from app.web import bp


@bp.get("/healthz")
def show_health():
    """Process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def show_readiness():
    """Database reachable."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return {"status": "database unreachable"}, 503
    return {"status": "ready"}


@bp.get("/")
def show_overview():
    """Stock overview of the demo merchant (demo mode only: there is no sign-in yet)."""
    if not current_app.config.get("DEMO"):
        return render_template("web/welcome.html")
    merchant = db.session.scalar(select(Merchant).order_by(Merchant.id).limit(1))
    if merchant is None:
        abort(404)
    locations = db.session.scalars(select(StockLocation).where(
        StockLocation.merchant_id == merchant.id).order_by(StockLocation.id)).all()
    rows = db.session.execute(
        select(InventoryItem.sku, InventoryItem.title, InventoryLevel.location_id,
               InventoryLevel.on_hand)
        .join(InventoryLevel, InventoryLevel.item_id == InventoryItem.id)
        .where(InventoryItem.merchant_id == merchant.id)
        .order_by(InventoryItem.sku)).all()
    stock: dict[tuple[str, str], dict[int, int]] = {}
    for sku, title, location_id, on_hand in rows:
        stock.setdefault((sku, title), {})[location_id] = on_hand
    return render_template("web/overview.html", merchant=merchant, locations=locations,
                           stock=stock)
