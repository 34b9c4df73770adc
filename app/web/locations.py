"""Locations: the merchant's stock locations and the platform-location mapping."""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.errors import DomainError
from app.extensions import db, htmx
from app.stock.locations import create_location, map_channel_location, update_location
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.form_tokens import FIELD, AlreadySubmitted, consume_form_token
from app.web.forms import checkbox, optional_int
from app.web.read_models import common
from app.web.rendering import redirect_after_post, render, with_toast

FRAGMENTS = {"locations": "web/locations/_locations.html",
             "location-mappings": "web/locations/_mappings.html"}


def _page(status: int = 200, **extra):
    context = {"locations": common.stock_locations(g.merchant_id),
               "mappings": common.channel_locations(g.merchant_id),
               "channels": common.channels(g.merchant_id), "errors": {}, "form": {}, **extra}
    return render("web/locations/index.html", FRAGMENTS, status=status, **context)


@bp.get("/locations")
@login_required
def list_locations():
    """Stock locations, and per channel the platform locations mapped onto them."""
    return _page()


@bp.post("/locations")
@login_required
def create_stock_location():
    """Add a stock location (once per rendered form: a repeat answers like the first)."""
    try:
        submission = consume_form_token(g.merchant_id, request.path, request.form.get(FIELD))
        location = create_location(g.merchant_id, request.form.get("name", ""),
                                   allow_negative_stock=checkbox(request.form, "allow_negative_stock"))
        submission.outcome = f"{location.name} added."
        db.session.commit()
    except AlreadySubmitted as repeat:
        db.session.rollback()
        return _done(repeat.message)
    except DomainError as error:
        db.session.rollback()
        return _page(http_status(error), errors={"new-name": error.message}, form=request.form)
    return _done(submission.outcome)


@bp.post("/locations/<int:location_id>")
@login_required
def update_stock_location(location_id: int):
    """Rename, (de)activate or allow negative stock: whichever fields the form sends."""
    form = request.form
    try:
        update_location(g.merchant_id, location_id,
                        name=form.get("name") if "name" in form else None,
                        active=form.get("active") == "1" if "active" in form else None,
                        allow_negative_stock=(form.get("allow_negative_stock") == "1"
                                              if "allow_negative_stock" in form else None))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _page(http_status(error), errors={f"name-{location_id}": error.message}, form=form)
    return _done("Location saved.")


@bp.post("/channel-locations/<int:channel_location_id>")
@login_required
def map_platform_location(channel_location_id: int):
    """Map a platform location onto a stock location (empty choice: unmapped)."""
    try:
        map_channel_location(g.merchant_id, channel_location_id,
                             optional_int(request.form.get("stock_location_id")))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _page(http_status(error), errors={f"map-{channel_location_id}": error.message})
    return _done("Mapping saved.")


def _done(message: str):
    if not htmx:
        return redirect_after_post(url_for("web.list_locations"), message)
    return with_toast(_page(), message)
