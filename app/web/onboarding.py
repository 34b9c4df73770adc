"""Onboarding: from an empty account to stores whose catalog and opening stock are confirmed.

The steps (templates/web/onboarding/_steps.html) read their state from the merchant's
rows (app/web/onboarding_state.py); the actions call one catalog function each:
seed_catalog_from_channel, confirm_opening_stock, or queue ``catalog.refresh_requested``.
Every POST carries a single-use form token; a repeat answers like the first one.
"""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.catalog import comparison, confirm_opening_stock, seed_catalog_from_channel
from app.catalog.opening import TRUTHS, require_channel_location
from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.models import Channel, ChannelStatus, OutboxEvent
from app.web import onboarding_state as state
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import optional_int
from app.web.rendering import redirect_after_post, render

STEPS = {"onboarding-steps": "web/onboarding/_steps.html"}
PER_PAGE = 50


def _steps_page(status: int = 200, errors: dict | None = None):
    return render("web/onboarding/index.html", STEPS, status=status,
                  onboarding=state.onboarding(g.merchant_id), errors=errors or {})


@bp.get("/onboarding")
@login_required
def show_onboarding():
    """Every step with its live state; the steps poll themselves while an import runs."""
    return _steps_page()


@bp.post("/onboarding/catalog")
@login_required
def seed_catalog():
    """The merchant's choice: this store's catalog becomes Stockroom's items."""
    try:
        channel_id = optional_int(request.form.get("channel_id"))
        if channel_id is None:
            raise InvalidInput("Choose the store whose catalog Stockroom starts from.",
                               field="catalog")
        submission = consume_form_token(g.merchant_id, request.path, request.form.get(FIELD))
        result = seed_catalog_from_channel(g.merchant_id, channel_id)
        submission.outcome = (f"{len(result['created'])} items created, "
                              f"{len(result['skipped'])} listings need a decision.")
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return _done(url_for("web.show_onboarding"), repeat.message)
    except DomainError as error:
        db.session.rollback()
        return _steps_page(http_status(error), errors={"catalog": error.message})
    return _done(url_for("web.show_onboarding"), submission.outcome)


@bp.post("/onboarding/channels/<int:channel_id>/refresh")
@login_required
def refresh_channel_catalog(channel_id: int):
    """Queue a new read of the store's listings and quantities (its platform's handler)."""
    back = request.form.get("next") or url_for("web.show_onboarding")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("web.show_onboarding")
    try:
        channel = _active_channel(channel_id)
        submission = consume_form_token(g.merchant_id, request.path, request.form.get(FIELD))
        if not state.refresh_pending(g.merchant_id, channel.id):
            db.session.add(OutboxEvent(merchant_id=g.merchant_id, channel_id=channel.id,
                                       topic=state.REFRESH_TOPIC, payload={}))
        submission.outcome = f"Reading {channel.name or channel.domain}'s quantities again."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return _done(back, repeat.message)
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _steps_page(http_status(error), errors={f"refresh-{channel_id}": error.message})
    return _done(back, submission.outcome)


def _active_channel(channel_id: int) -> Channel:
    channel = db.session.scalar(db.select(Channel).where(Channel.merchant_id == g.merchant_id,
                                                         Channel.id == channel_id))
    if channel is None:
        raise NotFound("That store is not connected.")
    if channel.status != ChannelStatus.ACTIVE:
        raise InvalidInput(f"{channel.name or channel.domain} is not connected any more: "
                           "connect it again first.", field="channel")
    return channel


def _comparison_args():
    return {"q": (request.args.get("q") or "").strip()[:100],
            "only_differing": request.args.get("only") == "differing",
            "page": optional_int(request.args.get("page")) or 1}


def _opening_page(channel_location_id: int, status: int = 200, **extra):
    args = _comparison_args()
    cl = require_channel_location(g.merchant_id, channel_location_id)
    try:
        view = comparison(g.merchant_id, cl.id, per_page=PER_PAGE, **args)
    except InvalidInput as error:
        return render("web/onboarding/opening.html", status=422, cl=cl, view=None,
                      error=error.message, args=args, last_read=None, refresh_queued=False)
    return render("web/onboarding/opening.html", {"opening-rows": "web/onboarding/_rows.html"},
                  status=status, cl=cl, view=view, args=args, error=extra.pop("error", None),
                  last_read=state.last_read_at(g.merchant_id, cl.id),
                  refresh_queued=state.refresh_pending(g.merchant_id, cl.channel_id), **extra)


@bp.get("/onboarding/locations/<int:channel_location_id>")
@login_required
def show_opening_stock(channel_location_id: int):
    """Stockroom's and the platform's counts side by side (search, only differing, pages),
    and the two choices."""
    return _opening_page(channel_location_id)


def _confirm_page(channel_location_id: int, truth: str, status: int = 200,
                  error: str | None = None):
    cl = require_channel_location(g.merchant_id, channel_location_id)
    if truth not in TRUTHS:
        return _opening_page(cl.id, 422, error="Choose whose quantities are right today: "
                                                "the platform's or Stockroom's.")
    try:
        view = comparison(g.merchant_id, cl.id, per_page=10 ** 9)
    except InvalidInput as error_:
        return _opening_page(cl.id, 422, error=error_.message)
    return render("web/onboarding/confirm.html", status=status, cl=cl, truth=truth,
                  view=view, preview=state.preview(view, truth), error=error)


@bp.get("/onboarding/locations/<int:channel_location_id>/confirm")
@login_required
def review_opening_stock(channel_location_id: int):
    """The confirm step: exactly what the choice will change, before it is made."""
    return _confirm_page(channel_location_id, request.args.get("truth", ""))


@bp.post("/onboarding/locations/<int:channel_location_id>/confirm")
@login_required
def confirm_location_stock(channel_location_id: int):
    """Confirm the opening stock: the platform's counts or Stockroom's become the truth."""
    truth = request.form.get("truth", "")
    try:
        cl = require_channel_location(g.merchant_id, channel_location_id)
        submission = consume_form_token(g.merchant_id, request.path, request.form.get(FIELD))
        result = confirm_opening_stock(g.merchant_id, cl.id, truth)
        submission.outcome = _outcome(cl, result)
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return _done(url_for("web.show_opening_stock", channel_location_id=channel_location_id),
                     repeat.message)
    except NotFound:
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        return _confirm_page(channel_location_id, truth if truth in TRUTHS else "",
                             http_status(error), error.message)
    return _done(url_for("web.show_opening_stock", channel_location_id=cl.id),
                 submission.outcome)


def _outcome(cl, result: dict) -> str:
    where = cl.name or "this location"
    if result["truth"] == "platform":
        kept = len(result["kept"])
        return (f"Opening stock confirmed at {where}: {result['changed']} levels set from the "
                f"platform's counts, {kept} kept as they were. Pushes to it are on.")
    return f"Opening stock confirmed at {where}: Stockroom's counts are being pushed to it."


#: POST/redirect/GET, for plain forms and htmx alike; the message is flashed or toasted.
_done = redirect_after_post
