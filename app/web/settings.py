"""Settings: the time zone dates are shown in, and a way to the packing slip's look."""
from __future__ import annotations

from flask import g, request, url_for

from app.auth import login_required
from app.errors import DomainError
from app.extensions import db
from app.merchants import merchant_timezone, set_timezone, timezone_choices
from app.merchants.timezones import zone
from app.models._common import utcnow
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.filters import format_datetime
from app.web.rendering import redirect_after_post, render


def _settings_page(status: int = 200, **extra):
    current = merchant_timezone(g.merchant_id)
    context = {"timezone": current, "zones": timezone_choices(), "errors": {}, "form": {},
               "now_there": format_datetime(utcnow(), zone(current)),
               **extra}
    return render("web/settings/show.html", {"timezone-settings": "web/settings/_timezone.html"},
                  status=status, **context)


@bp.get("/settings")
@login_required
def show_settings():
    """The merchant's settings: time zone; the packing slip's look is one link away."""
    return _settings_page()


@bp.post("/settings/timezone")
@login_required
def save_timezone():
    """Save the time zone; a name that is no IANA zone is refused inline, nothing saved."""
    try:
        name = set_timezone(g.merchant_id, request.form.get("timezone", ""))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _settings_page(http_status(error), errors={
            getattr(error, "field", None) or "form": error.message}, form=request.form)
    g.pop("display_zone", None)  # this request's later dates read in the new zone
    return redirect_after_post(url_for("web.show_settings"),
                               f"Dates are now shown in {name} time.")
