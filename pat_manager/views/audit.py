"""The audit log page: every change to the person's PATs, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from .. import audit
from ..db import get_db
from ..pats import get_owned
from ..web import arg_id, arg_object_id, owned

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.before_request
@login_required
def _require_login():
    """Each person sees their own log only."""


@bp.get("/")
def index():
    """`before` pages to older entries; `pat` narrows to one PAT."""
    pat_id = arg_object_id("pat")
    pat = owned(get_owned, current_user.id, pat_id) if pat_id else None
    before = arg_id("before")
    rows, older = audit.page(get_db(), current_user.id, before=before, pat_id=pat_id)
    return render_template(
        "audit/index.html",
        rows=rows,
        older=older,
        paged=before is not None,
        pat=pat,
        labels=audit.ACTIONS,
    )
