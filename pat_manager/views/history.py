"""Submission history: everything the extension posted, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from .. import submissions
from ..db import get_db

bp = Blueprint("history", __name__, url_prefix="/history")


@bp.get("/")
@login_required
def index():
    """One page of the account's submissions; `before` pages towards older ones."""
    before = request.args.get("before", type=int)
    db = get_db()
    rows, older = submissions.page(db, current_user.id, before)
    return render_template(
        "history/index.html",
        submissions=rows,
        older=older,
        paged=before is not None,
        total=submissions.count(db, current_user.id),
    )
