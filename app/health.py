"""Health endpoints for load balancers and orchestrators: /healthz (up), /readyz (can serve)."""
from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def show_health():
    """The process is up (liveness): no database call, so a database outage never gets
    healthy web processes restarted."""
    return {"status": "ok"}


@bp.get("/readyz")
def show_readiness():
    """Readiness: 503 when the database does not answer; otherwise 200 with the worker lag.

    The lag (seconds the oldest due job has waited) is reported, not judged: taking web
    processes out of rotation because workers lag would make webhook intake fail too.
    Set SYNC_READY_MAX_LAG_SECONDS to answer 503 above a lag (e.g. for a worker's probe).
    """
    from app.sync.queue import worker_lag_seconds

    try:
        db.session.execute(text("SELECT 1"))
        lag = worker_lag_seconds()
        db.session.rollback()
    except Exception:  # noqa: BLE001 - any failure means not ready
        db.session.rollback()
        return {"status": "database unreachable"}, 503
    limit = current_app.config.get("SYNC_READY_MAX_LAG_SECONDS")
    body = {"status": "ready", "database": "ok", "worker_lag_seconds": round(lag, 1)}
    if limit and lag > float(limit):
        return {**body, "status": "worker lagging"}, 503
    return body
