"""Settings read from the environment; SQLite under instance/ unless DATABASE_URL is set."""
from __future__ import annotations

import os
from pathlib import Path


def _sqlalchemy_url(url: str) -> str:
    """Normalize DATABASE_URL so PostgreSQL always goes through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the app's config dict from the environment, then apply ``overrides``."""
    env = os.environ
    default_sqlite = "sqlite:///" + str(Path(instance_path) / "stockroom.sqlite3")
    config = {
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(env.get("DATABASE_URL", default_sqlite)),
        # Fernet keys, comma-separated, newest first: older ones still decrypt (rotation).
        "ENCRYPTION_KEYS": [k.strip() for k in env.get("STOCKROOM_ENCRYPTION_KEYS", "").split(",")
                            if k.strip()],
        # "production": HSTS, Secure cookies, sandbox settings refused (app/security/production.py).
        "STOCKROOM_ENV": env.get("STOCKROOM_ENV", "development"),
        # Reverse proxies in front whose X-Forwarded-For/-Proto/-Host are believed; 0 = none.
        "STOCKROOM_TRUSTED_PROXIES": int(env.get("STOCKROOM_TRUSTED_PROXIES", "0")),
        # How long a SQLite writer waits for the write lock before giving up.
        "SQLITE_BUSY_TIMEOUT_MS": int(env.get("SQLITE_BUSY_TIMEOUT_MS", "30000")),
        # Sync worker: attempts before a job is dead-lettered, backoff, lease length.
        "SYNC_MAX_ATTEMPTS": int(env.get("SYNC_MAX_ATTEMPTS", "8")),
        "SYNC_BACKOFF_BASE_SECONDS": float(env.get("SYNC_BACKOFF_BASE_SECONDS", "2")),
        "SYNC_BACKOFF_CAP_SECONDS": float(env.get("SYNC_BACKOFF_CAP_SECONDS", "3600")),
        "SYNC_LEASE_SECONDS": float(env.get("SYNC_LEASE_SECONDS", "120")),
        # /readyz answers 503 above this worker lag (seconds); 0 = report the lag only.
        "SYNC_READY_MAX_LAG_SECONDS": float(env.get("SYNC_READY_MAX_LAG_SECONDS", "0")),
        # Request body limits in bytes (413 above), sized in README (Configuration): every form
        # (the largest is bulk fulfill's); and the webhook endpoints' (large orders).
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(2 * 1024 * 1024))),
        "WEBHOOK_MAX_CONTENT_LENGTH": int(env.get("WEBHOOK_MAX_CONTENT_LENGTH",
                                                  str(10 * 1024 * 1024))),
        # Email (the daily low-stock digest, off per merchant until turned on): no host, no email.
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": env.get("SMTP_STARTTLS", "0") == "1",
        "SMTP_FROM": env.get("SMTP_FROM", "Stockroom <stockroom@localhost>"),
        "SMTP_TIMEOUT_SECONDS": float(env.get("SMTP_TIMEOUT_SECONDS", "10")),
        # The digest is queued from this hour (UTC) on, once per merchant and day.
        "LOW_STOCK_DIGEST_HOUR": int(env.get("LOW_STOCK_DIGEST_HOUR", "7")),
    }
    if overrides:
        config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(config["SQLALCHEMY_DATABASE_URI"])
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    return config
