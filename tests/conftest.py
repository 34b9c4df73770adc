"""Test fixtures: every database test runs on SQLite and on a throwaway PostgreSQL database."""
from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db

TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


def _postgres_admin_url() -> str | None:
    """TEST_DATABASE_URL, or the local server when it answers on 127.0.0.1:5432."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return None
    return PG_DEFAULT


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests (marked `postgres`) are not collected for the SQLite run."""
    keep, drop = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("database_url")
        (drop if backend == "sqlite" and item.get_closest_marker("postgres") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    """A migrated database per backend for the whole run (PostgreSQL: created, then dropped)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        _migrate(url)
        yield url
        return
    admin_url = _postgres_admin_url()
    if admin_url is None:
        if os.environ.get("STOCKROOM_REQUIRE_POSTGRES"):
            pytest.fail("STOCKROOM_REQUIRE_POSTGRES is set but PostgreSQL does not answer")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432 and TEST_DATABASE_URL unset")
    name = f"stockroom_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def make_test_app(database_url: str, **overrides):
    """A Stockroom app on the given test database (for tests that need a second one)."""
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test",
              "ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY]}
    if database_url.startswith("postgresql"):
        # The concurrency tests run 40 threads; let each have a connection.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 45, "max_overflow": 5}
    config.update(overrides)
    return create_app(config)


def truncate_all() -> None:
    """Empty every table (faster than migrating again for each test)."""
    # The session's open transaction would block the truncate (SQLite: it holds the
    # write lock; PostgreSQL: its row locks conflict with TRUNCATE).
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def app(database_url):
    """The app on one backend, inside an app context; tables emptied afterwards."""
    app = make_test_app(database_url)
    with app.app_context():
        yield app
        db.session.remove()
        truncate_all()
        db.engine.dispose()


@pytest.fixture
def backend(database_url) -> str:
    """"sqlite" or "postgresql": the backend the current test runs on."""
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def repo_root() -> Path:
    """The repository's root folder."""
    return Path(__file__).resolve().parent.parent
