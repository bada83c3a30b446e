"""Submission history: everything the extension posted, newest first."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from .. import csv_export, cv_templates, pats, submissions
from ..clock import zone
from ..db import get_db
from ..errors import NotFound, ValidationError
from ..web import arg_id, filter_args, plural

bp = Blueprint("history", __name__, url_prefix="/history")
log = logging.getLogger(__name__)
FILTER_KEYS = ("pat", "template", "from", "to")


@bp.before_request
@login_required
def _require_login():
    """History is visible to its owner only."""


def _filter():
    try:
        return submissions.parse_filter(request.args), {}
    except ValidationError as exc:
        return submissions.HistoryFilter(), exc.fields


@bp.get("/")
def index():
    """One page of the account's submissions, filtered; `before` pages to older ones."""
    flt, errors = _filter()
    before = arg_id("before")
    db = get_db()
    rows, older = submissions.page(
        db, current_user.id, before, flt=flt, tz_name=current_user.timezone
    )
    page = render_template(
        "history/index.html",
        submissions=rows,
        older=older,
        paged=before is not None,
        total=submissions.count(db, current_user.id),
        flt=flt,
        filtered=bool(flt.as_args()),
        errors=errors,
        pats=pats.list_for_user(db, current_user.id),
        templates=cv_templates.list_templates(db, current_user.id),
        needing=submissions.needing_template(db, current_user.id),
    )
    return page, 422 if errors else 200


@bp.post("/assign")
def assign():
    """Give submissions made with no template a template, one or many at once."""
    back = url_for("history.index", **filter_args(FILTER_KEYS))
    try:
        template, changed, skipped = submissions.assign_template(
            get_db(),
            current_user.id,
            request.form.getlist("ids"),
            request.form.get("template_id"),
        )
    except NotFound:
        abort(404)
    except ValidationError as exc:
        flash(" ".join(exc.fields.values()), "error")
        return redirect(back)
    log.info("history: template given user_id=%s changed=%s", current_user.id, changed)
    verb = "uses" if changed == 1 else "use"
    message = f"{plural(changed, 'submission')} now {verb} “{template['name']}”."
    if skipped:
        message += (
            f" {plural(skipped, 'submission')} already had a template and kept it."
        )
    flash(message, "success")
    return redirect(back)


@bp.get("/export.csv")
def export():
    """Exactly the filtered submissions, as CSV."""
    flt, errors = _filter()
    if errors:
        return redirect(url_for("history.index", **filter_args(FILTER_KEYS)))
    user_id, tz_name = current_user.id, current_user.timezone
    tz = zone(tz_name)

    def rows(db):
        for s in submissions.iter_filtered(db, user_id, flt, tz_name):
            yield [
                csv_export.local_time(s["created_at"], tz),
                s["pat_name"],
                s["template_name"],
                s["url"],
                s["title"],
                s["company"],
                s["notes"],
            ]

    header = ["time", "pat", "template", "url", "title", "company", "notes"]
    return csv_export.response("submissions.csv", header, rows)
