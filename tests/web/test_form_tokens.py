"""Used form tokens are pruned by the scheduler once no token that old can be presented."""
import datetime as dt

from sqlalchemy import select

from app.extensions import db
from app.models import FormSubmission
from app.models._common import utcnow
from app.sync.schedule import Scheduler
from app.web.form_tokens import DEFAULT_MAX_AGE_SECONDS
from tests.fixtures.factories import make_merchant


def test_prune_form_submissions_drops_rows_older_than_a_token_lifetime(app):
    merchant = make_merchant()
    db.session.flush()
    lifetime = dt.timedelta(seconds=DEFAULT_MAX_AGE_SECONDS)
    for nonce, age in (("old", lifetime + dt.timedelta(minutes=1)),
                       ("recent", lifetime - dt.timedelta(minutes=1))):
        db.session.add(FormSubmission(merchant_id=merchant.id, purpose="/locations", nonce=nonce,
                                      created_at=utcnow() - age))
    db.session.commit()
    Scheduler().tick(force=True)  # the worker's tick runs it with the other periodic tasks
    db.session.expire_all()
    assert db.session.scalars(select(FormSubmission.nonce)).all() == ["recent"]
