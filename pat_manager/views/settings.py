"""Account settings: the timezone every page and daily count uses, and the password."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from .. import accounts, notifications, ratelimit
from ..db import get_db, transaction
from ..errors import ValidationError
from ..web import now, too_many

bp = Blueprint("settings", __name__, url_prefix="/settings")
log = logging.getLogger(__name__)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """Show and change the timezone."""
    errors, value = {}, current_user.timezone
    if request.method == "POST":
        value = request.form.get("timezone", "")
        try:
            chosen = accounts.set_timezone(get_db(), current_user.id, value)
        except ValidationError as exc:
            errors = exc.fields
        else:
            flash(f"Times are now shown in {chosen}.", "success")
            return redirect(url_for("settings.index"))
    return _page(value, errors)


def _page(value, errors=None, password_errors=None, alert_errors=None, alert_form=None):
    db = get_db()
    page = render_template(
        "settings/index.html",
        alerts=alert_form or notifications.settings(db, current_user.id),
        alert_errors=alert_errors or {},
        kinds=notifications.KINDS,
        email_on=bool(current_app.config["SMTP_URL"]),
        timezones=accounts.timezone_names(),
        value=value,
        now_utc=now(),
        errors=errors or {},
        password_errors=password_errors or {},
    )
    return page, 422 if errors or password_errors or alert_errors else 200


@bp.post("/alerts")
@login_required
def alerts():
    """Save what to watch for, and which notices come by email."""
    db = get_db()
    try:
        with transaction(db):
            notifications.update_settings(db, current_user.id, request.form)
    except ValidationError as exc:
        form = {
            **request.form.to_dict(),
            "work_days": "".join(request.form.getlist("work_days")),
            "email_kinds": ",".join(request.form.getlist("email_kinds")),
        }
        return _page(current_user.timezone, alert_errors=exc.fields, alert_form=form)
    flash("Alert settings saved.", "success")
    return redirect(url_for("settings.index"))


@bp.post("/password")
@login_required
def change_password():
    """Change the password; every other session of the account ends."""
    db, moment = get_db(), now()
    limit, subject = ratelimit.REVEAL_PASSWORD, current_user.session_id
    decision = ratelimit.attempt(db, limit, subject, moment)
    if not decision.allowed:
        return too_many(decision, "Too many wrong passwords.")
    try:
        ended = accounts.change_password(
            db,
            current_user,
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
            moment,
        )
    except ValidationError as exc:
        if "current_password" not in exc.fields:
            ratelimit.forgive(db, limit, subject, moment)
        return _page(current_user.timezone, password_errors=exc.fields)
    ratelimit.forgive(db, limit, subject, moment)

    log.info(
        "password changed: user_id=%s, %s other session(s) ended",
        current_user.id,
        ended,
    )
    flash(
        "Your password is changed. Every other device has been logged out.", "success"
    )
    return redirect(url_for("settings.index"))
