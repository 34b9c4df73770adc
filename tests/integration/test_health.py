"""/healthz and /readyz: liveness without the database, readiness with it and the worker lag."""
import datetime as dt

from app.extensions import db
from app.models import OutboxEvent
from app.models._common import utcnow
from tests.conftest import make_test_app
from tests.fixtures.factories import make_merchant


def test_readyz_reports_worker_lag(app):
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    merchant = make_merchant()
    db.session.add(OutboxEvent(merchant_id=merchant.id, topic="test.waiting", payload={},
                               next_attempt_at=utcnow() - dt.timedelta(seconds=120)))
    db.session.commit()
    body = client.get("/readyz").json
    assert body["status"] == "ready" and body["worker_lag_seconds"] >= 119
    app.config["SYNC_READY_MAX_LAG_SECONDS"] = 60
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["status"] == "worker lagging"


def test_readyz_503_when_database_unreachable_healthz_still_ok():
    app = make_test_app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json == {"status": "database unreachable"}
