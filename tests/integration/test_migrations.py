"""The models and the Alembic revisions describe the same schema, on every backend."""
import pytest
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


@pytest.mark.parametrize("back_to", [
    "6e1b9d4c2a73",  # before the fulfillment numbers
    "8f3b6d2e9a41",  # before b7e3c1d9a4f6, which rebuilds channels and inventory_items
])
def test_fulfillment_numbers_backfilled_per_order_in_creation_order(tmp_path, back_to):
    """a7c3e9f1d2b4 numbers the fulfillments that exist: 1, 2, ... within each order, by id
    (the rows made at head, the column dropped by the downgrade, then numbered again)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select

    from app.fulfillment import cancel_fulfillment, create_fulfillment
    from app.models import Fulfillment
    from tests.conftest import make_test_app
    from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                          make_order, stock)

    app = make_test_app(f"sqlite:///{tmp_path / 'backfill.sqlite3'}")
    with app.app_context():
        upgrade()
        merchant = make_merchant()
        location, item = make_location(merchant), make_item(merchant)
        stock(location, item, 100)
        channel = make_channel(merchant)
        first, second = make_order(channel, [(item, 5)]), make_order(channel, [(item, 5)])
        made = []
        for order in (first, second, first, first, second):
            line = order.lines[0]
            made.append(create_fulfillment(order.id, {line.id: 1}, location.id,
                                           merchant_id=merchant.id).id)
        cancel_fulfillment(made[2], merchant_id=merchant.id)
        db.session.commit()
        names = {f.id: f.name for f in db.session.scalars(select(Fulfillment))}
        children = _counts()
        assert [names[i] for i in made] == [f"{first.name}-F1", f"{second.name}-F1",
                                            f"{first.name}-F2", f"{first.name}-F3",
                                            f"{second.name}-F2"]
        db.session.remove()
        downgrade(revision=back_to)
        upgrade()
        db.session.remove()
        again = {f.id: f.name for f in db.session.scalars(select(Fulfillment))}
        assert again == names
        # Nothing lost on the way (a SQLite table rebuild would have cascaded deletes).
        assert _counts() == children and children["fulfillment_lines"] == 5
        db.engine.dispose()


def _counts() -> dict[str, int]:
    from sqlalchemy import func, select

    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_packed_at_backfilled_for_fulfillments_that_left(tmp_path):
    """c9e5a3f7b1d2 marks the Shipped and Delivered fulfillments packed when they shipped
    (when they were made, for one without a shipped_at); Pending and Canceled ones stay
    unpacked (the rows made at head, the column dropped by the downgrade, then backfilled)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, text

    from app.fulfillment import (cancel_fulfillment, create_fulfillment, mark_delivered,
                                 mark_shipped)
    from app.models import Fulfillment
    from tests.conftest import make_test_app
    from tests.fixtures.factories import (make_channel, make_item, make_location, make_merchant,
                                          make_order, stock)

    app = make_test_app(f"sqlite:///{tmp_path / 'packed.sqlite3'}")
    with app.app_context():
        upgrade()
        merchant = make_merchant()
        location, item = make_location(merchant), make_item(merchant)
        stock(location, item, 100)
        order = make_order(make_channel(merchant), [(item, 10)])
        made = {}
        for how in ("pending", "shipped", "delivered", "canceled", "no_shipped_at"):
            made[how] = create_fulfillment(order.id, {order.lines[0].id: 1}, location.id,
                                           merchant_id=merchant.id).id
        for how in ("shipped", "no_shipped_at"):
            mark_shipped(made[how], merchant_id=merchant.id)
        mark_delivered(made["delivered"], merchant_id=merchant.id)  # from Pending: not packed
        cancel_fulfillment(made["canceled"], merchant_id=merchant.id)
        db.session.commit()
        db.session.remove()
        downgrade(revision="b8d4f0a2e3c6")
        db.session.execute(text("UPDATE fulfillments SET shipped_at = NULL WHERE id = :id"),
                           {"id": made["no_shipped_at"]})
        db.session.commit()
        db.session.remove()
        upgrade()
        got = {f.id: f for f in db.session.scalars(select(Fulfillment))}
        packed = {how: got[fid].packed_at for how, fid in made.items()}
        assert packed["pending"] is None and packed["canceled"] is None
        assert packed["shipped"] == got[made["shipped"]].shipped_at is not None
        assert packed["delivered"] == got[made["delivered"]].shipped_at is not None
        assert packed["no_shipped_at"] == got[made["no_shipped_at"]].created_at
        db.session.remove()
        db.engine.dispose()
