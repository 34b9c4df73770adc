"""The models and the Alembic revisions describe the same schema, on every backend."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.database import in_models
from app.extensions import db


def test_migrations_match_models(app):
    with db.engine.connect() as conn:
        # Search indexes live in their migrations alone (app.database.in_models).
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": in_models})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_migrations_single_head(repo_root):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(repo_root / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
