"""Standalone sign-up, sign-in and sign-out (WooCommerce owners; Shopify uses session tokens)."""
from __future__ import annotations

from flask import current_app, redirect, request, url_for

from app.auth import (authenticate, login_required, safe_next, sign_in_session,
                          sign_out_session)
from app.errors import InvalidInput
from app.extensions import db
from app.web.accounts import (BadCredentials, TooManyAttempts, check_sign_up_allowed,
                              create_account, verify_sign_in)
from app.web.blueprint import bp
from app.web.errors import http_status
from app.web.rendering import redirect_after_post, render


def _signed_in() -> bool:
    """Already signed in with a password (a GET of these pages goes on to the orders)."""
    identity = authenticate()
    return request.method == "GET" and identity is not None and identity.method == "session"


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up():
    """Create a merchant account (business name, email, password) and sign in."""
    if _signed_in():
        return redirect(url_for("web.list_orders"))
    form, errors, status = request.form, {}, 200
    if request.method == "POST":
        config = current_app.config
        try:
            check_sign_up_allowed(request.remote_addr or "", window_seconds=config["LOGIN_WINDOW_SECONDS"],
                                  max_per_ip=config["LOGIN_MAX_FAILURES_PER_IP"])
            db.session.commit()  # the attempt counts even if the form is refused below
            user = create_account(form.get("email", ""), form.get("password", ""),
                                  form.get("business_name", ""))
            db.session.commit()
        except (InvalidInput, TooManyAttempts) as error:
            db.session.rollback()
            errors[getattr(error, "field", None) or "form"] = error.message
            status = http_status(error)
        else:
            sign_in_session(user.id)
            return redirect_after_post(url_for("web.list_connections"),
                                       "Welcome to Stockroom! Connect your store to start.")
    return render("web/sessions/sign_up.html", {"sign-up-form": "web/sessions/_sign_up_form.html"},
                  status=status, form=form, errors=errors)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in with email + password; failures are counted and throttled (see accounts)."""
    if _signed_in():
        return redirect(safe_next(request.args.get("next"), url_for("web.list_orders")))
    form, error, status = request.form, None, 200
    if request.method == "POST":
        config = current_app.config
        try:
            user = verify_sign_in(
                form.get("email", ""), form.get("password", ""), ip=request.remote_addr or "",
                max_failures=config["LOGIN_MAX_FAILURES"],
                max_failures_per_ip=config["LOGIN_MAX_FAILURES_PER_IP"],
                window_seconds=config["LOGIN_WINDOW_SECONDS"])
        except (BadCredentials, TooManyAttempts) as failure:
            db.session.commit()  # the failed attempt counts, across every process
            error, status = failure.message, http_status(failure)
        else:
            db.session.commit()
            sign_in_session(user.id)
            return redirect_after_post(safe_next(request.args.get("next"), url_for("web.list_orders")))
    response = render("web/sessions/sign_in.html", {"sign-in-form": "web/sessions/_sign_in_form.html"},
                      status=status, form=form, error=error)
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


@bp.post("/sign-out")
@login_required
def sign_out():
    """End the session."""
    sign_out_session()
    return redirect_after_post(url_for("web.sign_in"), "You are signed out.")
