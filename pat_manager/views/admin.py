"""The admin page: open requests for more PAT slots, and every account's use."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
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
from ..errors import NotFound, ValidationError
from ..web import now

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def _require_admin():
    """Other accounts are told the page does not exist."""
    if not current_user.is_admin:
        abort(404)


def _page(errors=None, status=200, failed_id=None):
    db = get_db()
    return render_template(
        "admin/index.html",
        requests=slots.open_requests(db),
        accounts=slots.accounts_overview(
            db, now(), current_app.config["FREE_TIER_PAT_LIMIT"]
        ),
        errors=errors or {},
        failed_id=failed_id,
        max_slots=slots.MAX_SLOTS_PER_REQUEST,
    ), status


@bp.get("/")
def index():
    return _page()


@bp.post("/requests/<id:request_id>")
def decide(request_id):
    """Approve (raising the limit by the number given) or decline a request."""
    decision = request.form.get("decision")
    if decision not in ("approve", "decline"):
        return _page({"decision": "Choose Approve or Decline."}, 422, request_id)
    try:
        row = slots.decide(
            get_db(),
            current_user,
            request_id,
            approve=decision == "approve",
            granted=request.form.get("granted"),
            answer=request.form.get("answer"),
            now=now(),
            email_enabled=bool(current_app.config.get("SMTP_URL")),
        )
    except NotFound:
        abort(404)
    except ValidationError as exc:
        return _page(exc.fields, 422, request_id)
    log.info(
        "slot request %s: request_id=%s admin_id=%s granted=%s",
        row["status"],
        row["id"],
        current_user.id,
        row["granted"],
    )
    flash(
        f"Request {row['status']}"
        + (f": +{row['granted']} PATs." if row["granted"] else ".")
        + " The person has been told.",
        "success",
    )
    return redirect(url_for("admin.index"))
