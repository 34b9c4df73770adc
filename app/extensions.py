"""Flask extensions, created unbound here and bound to the app in create_app()."""
from flask_htmx import HTMX
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic can alter/drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every Stockroom model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _render_item(type_, obj, _autogen_context):
    """Write our column types into revisions as plain SQLAlchemy types."""
    from app.models._common import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


db = SQLAlchemy(model_class=Base)
# render_as_batch: SQLite can't ALTER most things; Alembic's batch mode copies the table.
migrate = Migrate(compare_type=True, render_as_batch=True, render_item=_render_item)
# Reads the request's HX-* headers (bool(htmx), htmx.target, ...): one place knows their names.
htmx = HTMX()
