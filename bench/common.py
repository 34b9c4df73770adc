"""Shared bench plumbing: throwaway databases, the app under test, percentiles, machine facts."""
from __future__ import annotations

import contextlib
import gc
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("postgresql", "sqlite")
SECRET = "shpss_bench_secret_0123456789abcdef"


def pg_available() -> bool:
    """PostgreSQL answers on the admin URL's host."""
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN)
    try:
        socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=1).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def database(backend: str, label: str = "bench"):
    """A freshly migrated database of ``backend``; its URL. Dropped (or deleted) afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix=f"stockroom-{label}-")
        url = f"sqlite:///{folder}/bench.sqlite3"
        try:
            migrate(url)
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"stockroom_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_app(url: str, **overrides):
    """Stockroom configured like production (not TESTING), on ``url``."""
    from app import create_app

    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
              "STOCKROOM_SECURE_COOKIES": False}
    config.update(overrides)
    app = create_app(config)
    gc.freeze()  # as wsgi.py does after start-up
    return app


def migrate(url: str) -> None:
    """Run the Alembic revisions on ``url``."""
    from flask_migrate import upgrade

    from app.extensions import db

    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: list[float]) -> float:
    """The median, NaN when empty."""
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM (peak resident set) of a live process, in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def machine() -> dict[str, str]:
    """What this ran on, for the results header."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    pg = "not reachable"
    with contextlib.suppress(Exception):
        pg = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc",
                             "show server_version"], capture_output=True, text=True,
                            timeout=5).stdout.strip() or pg
    import sqlite3

    return {"cpu": f"{cpu} x {os.cpu_count()}", "memory": mem,
            "os": f"{platform.system()} {platform.release()}",
            "python": sys.version.split()[0], "postgresql": pg,
            "sqlite": sqlite3.sqlite_version}
