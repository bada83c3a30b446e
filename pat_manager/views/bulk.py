"""Bulk actions on the PAT list, and "Clean up" of unused PATs: each shows what
will change first, then reports per PAT what changed or why it was refused."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from .. import bulk
from ..db import get_db
from ..errors import NotFound, ValidationError
from ..web import client_ip, is_htmx, now, page_or_fragment, plural
from .pats import limit_state

bp = Blueprint("bulk", __name__, url_prefix="/pats")
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def _require_login():
    """Bulk actions change the owner's own PATs only."""


def _result(status: int = 200, **context):
    """The review or result: a page, or for htmx the panel (with the changed
    cards out of band, which only the fragment carries)."""
    return page_or_fragment(
        "pats/bulk.html",
        "pats/_bulk_result.html",
        status,
        is_fragment=is_htmx(),
        **context,
    )


def _error(message: str, status: int = 422):
    return _result(status, error=message, rows=[])


@bp.post("/bulk")
def run():
    """Without `confirm`: the list of what will change. With it: do it."""
    db, moment, form = get_db(), now(), request.form
    action = form.get("action", "")
    try:
        ids = bulk.parse_ids(form.getlist("ids"))
        params = bulk.parse_params(db, current_user, action, form, moment)
    except ValidationError as exc:
        return _error(" ".join(exc.fields.values()))
    try:
        if form.get("confirm") != "1":
            rows = bulk.plan(db, current_user, action, ids, params, moment)
            return _result(
                rows=rows,
                action=action,
                label=bulk.ACTIONS[action],
                form=form,
                confirming=True,
            )
        rows = bulk.apply(
            db, current_user, action, ids, params, now=moment, ip=client_ip()
        )
    except NotFound:
        abort(404)
    except ValidationError as exc:
        return _error(" ".join(exc.fields.values()))
    changed = sum(row.ok for row in rows)
    log.info(
        "bulk %s: user_id=%s selected=%s changed=%s",
        action,
        current_user.id,
        len(rows),
        changed,
    )
    active, limit = limit_state()
    return _result(
        rows=rows,
        action=action,
        label=bulk.ACTIONS[action],
        done=True,
        summary=f"{plural(changed, 'PAT')} changed, {len(rows) - changed} refused.",
        active_count=active,
        limit=limit,
    )


@bp.route("/cleanup", methods=["GET", "POST"])
def cleanup():
    """List the PATs unused for N days; revoking them takes a second click."""
    db, moment = get_db(), now()
    source = request.form if request.method == "POST" else request.args
    try:
        days = bulk.clean_cleanup_days(source.get("days"))
    except ValidationError as exc:
        return render_template(
            "pats/cleanup.html",
            days=source.get("days", ""),
            error=exc.fields["days"],
            candidates=[],
            choices=bulk.CLEANUP_DAYS,
        ), 422
    if request.method == "POST":
        try:
            ids = bulk.parse_ids(request.form.getlist("ids"))
            rows = bulk.cleanup(db, current_user, ids, days, now=moment, ip=client_ip())
        except NotFound:
            abort(404)
        except ValidationError as exc:
            return render_template(
                "pats/cleanup.html",
                days=days,
                error=exc.fields["ids"],
                candidates=bulk.unused_since(db, current_user.id, days, moment),
                choices=bulk.CLEANUP_DAYS,
            ), 422
        changed = sum(row.ok for row in rows)
        log.info(
            "clean up: user_id=%s days=%s revoked=%s", current_user.id, days, changed
        )
        return render_template(
            "pats/cleanup.html",
            days=days,
            rows=rows,
            done=True,
            summary=f"{plural(changed, 'unused PAT')} revoked.",
            choices=bulk.CLEANUP_DAYS,
        )
    return render_template(
        "pats/cleanup.html",
        days=days,
        candidates=bulk.unused_since(db, current_user.id, days, moment),
        choices=bulk.CLEANUP_DAYS,
    )
