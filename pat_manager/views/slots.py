"""Asking for more PAT slots when the account is at its limit."""

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

from .. import slots
from ..db import get_db
from ..errors import ValidationError
from ..web import now
from .pats import limit_state

bp = Blueprint("slots", __name__, url_prefix="/pats/slots")
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def _require_login():
    """A request is made by a signed-in person, for their own account."""


@bp.route("/", methods=["GET", "POST"])
def request_more():
    """The request form, or the open request and the last answer."""
    db = get_db()
    form, errors = {"slots": "1", "reason": ""}, {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            made = slots.request_more(
                db,
                current_user,
                form.get("slots"),
                form.get("reason"),
                now(),
                email_enabled=bool(current_app.config.get("SMTP_URL")),
            )
        except ValidationError as exc:
            errors = exc.fields
        else:
            log.info(
                "slot request: user_id=%s request_id=%s slots=%s",
                current_user.id,
                made["id"],
                made["slots"],
            )
            flash("Request sent. You will see the answer under Alerts.", "success")
            return redirect(url_for("slots.request_more"))
    active, limit = limit_state()
    return render_template(
        "pats/slots.html",
        form=form,
        errors=errors,
        pending=slots.open_request(db, current_user.id),
        answered=slots.latest_answer(db, current_user.id),
        active_count=active,
        limit=limit,
        max_slots=slots.MAX_SLOTS_PER_REQUEST,
    ), 422 if errors else 200
