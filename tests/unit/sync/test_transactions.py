"""A job's transactions: only the units of work commit, a job ends a read or commits a step."""
import ast
import logging
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import Merchant
from app.sync.transactions import WroteInRead, commit_step, end_read, wrote
from tests.fixtures.factories import make_merchant

APP = Path(__file__).resolve().parents[3] / "app"
#: The units of work: blueprint views, the CLI, the worker and its queue, the scheduler,
#: the database setup, and the two job-transaction helpers themselves.
UNITS_OF_WORK = ("web/*.py", "platforms/*/views.py", "cli.py", "database.py",
                 "sync/worker.py", "sync/queue.py", "sync/schedule.py", "sync/transactions.py")


def commits_in(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit" and not node.args]


def test_only_the_units_of_work_commit():
    allowed = {p for pattern in UNITS_OF_WORK for p in APP.glob(pattern)}
    found = {str(p.relative_to(APP)): lines for p in sorted(APP.rglob("*.py"))
             if p not in allowed and (lines := commits_in(p))}
    assert found == {}, ("commit() outside a unit of work: a job ends a transaction with "
                         "app.sync.transactions end_read() or commit_step()")
    assert commits_in(APP / "sync" / "worker.py")  # the scan does see a commit


def test_end_read_ends_a_read(app):
    merchant_id = make_merchant().id
    commit_step()
    assert db.session.scalar(select(Merchant.name).where(Merchant.id == merchant_id))
    assert not wrote()
    end_read()
    assert not db.session().in_transaction()


@pytest.mark.parametrize("write", ["pending", "flushed", "statement"])
def test_end_read_refuses_a_transaction_that_wrote(app, write):
    merchant = make_merchant()  # flushed
    commit_step()
    if write == "pending":
        merchant.name = "Renamed"
    elif write == "flushed":
        merchant.name = "Renamed"
        db.session.flush()
    else:
        db.session.execute(update(Merchant).where(Merchant.id == merchant.id)
                           .values(name="Renamed"))
    assert wrote()
    with pytest.raises(WroteInRead):
        end_read()
    db.session.rollback()
    assert not wrote()
    assert db.session.get(Merchant, merchant.id).name != "Renamed"


def test_end_read_in_production_logs_and_commits(app, caplog):
    app.config["STRICT_UNIT_OF_WORK"] = False
    merchant_id = make_merchant().id
    with caplog.at_level(logging.ERROR, logger="app.sync.transactions"):
        end_read()
    assert not db.session().in_transaction()  # committed, not left open
    assert "end_read() on a transaction that wrote" in caplog.text
    db.session.expunge_all()
    assert db.session.get(Merchant, merchant_id) is not None
    assert not wrote()
