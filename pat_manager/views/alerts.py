"""The notification centre: notices, unread count, mark read."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from .. import notifications, pats
from ..db import get_db, transaction
from ..web import is_htmx, now, owned, page_or_fragment

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def _require_login():
    """Notices are their owner's only."""


@bp.get("/")
def index():
    """Newest notices first."""
    db = get_db()
    return render_template(
        "alerts/index.html",
        notices=notifications.recent(db, current_user.id),
        kinds=notifications.KINDS,
    )


@bp.get("/count")
def count():
    """The unread badge for the navigation bar (polled by htmx)."""
    response = make_response(
        render_template(
            "alerts/_count.html",
            unread=notifications.unread_count(get_db(), current_user.id),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<id:notice_id>/read")
def mark_read(notice_id):
    """Mark one notice as read (htmx swaps it in place)."""
    db = get_db()
    owned(notifications.get_owned, current_user.id, notice_id)
    with transaction(db):
        notifications.mark_read(db, current_user.id, now(), notice_id)
    if is_htmx():
        notice = notifications.get_owned(db, current_user.id, notice_id)
        return page_or_fragment(
            "alerts/index.html",
            "alerts/_notice.html",
            notice=notice,
            kinds=notifications.KINDS,
        )
    return redirect(url_for("alerts.index"))


@bp.route("/<id:notice_id>/revoke", methods=["GET", "POST"])
def revoke_pat(notice_id):
    """Revoke the PAT a notice is about, from the notice: ask, then revoke."""
    db = get_db()
    notice = owned(notifications.get_owned, current_user.id, notice_id)
    if notice["pat_id"] is None:
        abort(404)
    if request.method != "POST":
        return page_or_fragment(
            "alerts/revoke.html",
            "alerts/_notice.html",
            notice=notice,
            kinds=notifications.KINDS,
            confirm=True,
        )

    pats.revoke(db, current_user.id, notice["pat_id"], now())
    log.info(
        "PAT revoked from an alert: user_id=%s pat_id=%s",
        current_user.id,
        notice["pat_id"],
    )
    with transaction(db):
        notifications.mark_read(db, current_user.id, now(), notice_id)
    notice = notifications.get_owned(db, current_user.id, notice_id)
    if is_htmx():
        return page_or_fragment(
            "alerts/index.html",
            "alerts/_notice.html",
            notice=notice,
            kinds=notifications.KINDS,
            done=True,
        )
    flash(
        f"“{notice['pat_name']}” is revoked. Any extension using it is now refused.",
        "success",
    )
    return redirect(url_for("alerts.index"))


@bp.post("/read")
def mark_all_read():
    """Mark every notice as read."""
    db = get_db()
    with transaction(db):
        changed = notifications.mark_read(db, current_user.id, now())
    flash(f"Marked {changed} notice{'' if changed == 1 else 's'} as read.", "success")
    return redirect(url_for("alerts.index"))
