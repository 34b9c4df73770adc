"""Sync: the outbox (what we push) and the webhook inbox (what platforms told us)."""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.catalog import unconfirmed_locations
from app.errors import DomainError
from app.extensions import db, htmx
from app.models import OutboxEvent, WebhookInbox
from app.sync.queue import job_counts
from app.web import attention, job_wording
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.read_models import sync
from app.web.rendering import redirect_after_post, render, with_toast

KINDS = {"outbox": OutboxEvent, "inbox": WebhookInbox}


def _only() -> str | None:
    """The filter asked for: ?failed=1 (failed or dead) or ?rejected=1 (not believed)."""
    return next((name for name in sync.SYNC_FILTERS if request.values.get(name) == "1"),
                None)


def _page(status: int = 200, error: str | None = None):
    kind = request.values.get("kind") if request.values.get("kind") in KINDS else "outbox"
    only = _only()
    jobs = sync.sync_jobs(g.merchant_id, KINDS[kind], only=only)
    context = sync.job_context(g.merchant_id, jobs)
    line = job_wording.outbox_line if kind == "outbox" else job_wording.inbox_line
    return render("web/sync/index.html", {"sync-jobs": "web/sync/_jobs.html"}, status=status,
                  unconfirmed=unconfirmed_locations(g.merchant_id), kind=kind, only=only,
                  filter_args={only: "1"} if only else {}, error=error,
                  jobs=[(job, line(job, context)) for job in jobs],
                  counts=sync.sync_counts(g.merchant_id), queue_counts=job_counts(g.merchant_id),
                  held_pushes=attention.held_pushes(g.merchant_id))


@bp.get("/sync")
@login_required
def show_sync():
    """Outbox events or inbox deliveries with status, attempts and last error (the reason
    of a rejected delivery); failed and rejected filters."""
    return _page()


@bp.post("/sync/<any(outbox, inbox):kind>/<int:job_id>/<any(retry, discard):action>")
@login_required
def change_sync_job(kind: str, job_id: int, action: str):
    """Retry a failed job now, or discard it (the button confirms first)."""
    from app.sync.queue import discard_job, retry_job

    try:
        (retry_job if action == "retry" else discard_job)(KINDS[kind], job_id,
                                                         merchant_id=g.merchant_id)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _page(http_status(error), error.message)
    message = "Queued again." if action == "retry" else "Discarded."
    if not htmx:
        only = _only()
        return redirect_after_post(url_for("web.show_sync", kind=kind,
                                           **({only: "1"} if only else {})), message)
    return with_toast(_page(), message)
