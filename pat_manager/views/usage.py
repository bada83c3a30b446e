"""The usage dashboard and each PAT's usage log, with CSV export."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import charts, csv_export, dashboard, pats, usage
from ..clock import to_db, zone
from ..db import get_db, transaction
from ..errors import ValidationError
from ..web import arg_id, filter_args, is_htmx, now, owned, page_or_fragment, plural

bp = Blueprint("usage", __name__)


@bp.before_request
@login_required
def _require_login():
    """Usage is visible to its owner only."""


@bp.get("/usage")
def index():
    """Every PAT's usage at once, then account-wide analytics."""
    db = get_db()
    rows, days, series = dashboard.overview(db, current_user, now())
    chart = charts.stacked_bars(days, [(pat["name"], values) for pat, values in series])
    return render_template(
        "usage/index.html",
        rows=rows,
        chart=chart,
        top_hosts=dashboard.top_values(db, current_user.id, "host"),
        top_companies=dashboard.top_values(db, current_user.id, "company"),
        unused_days=dashboard.UNUSED_DAYS,
    )


def _mark_reviewed(pat_ids) -> None:
    db = get_db()
    with transaction(db):
        for pat_id in pat_ids:
            db.execute(
                "UPDATE pats SET reviewed_at = ? WHERE id = ? AND user_id = ?",
                (to_db(now()), pat_id, current_user.id),
            )


@bp.post("/usage/reviewed")
def mark_all_reviewed():
    """The weekly review: mark every active PAT as reviewed now."""
    db = get_db()
    active = [
        p["id"]
        for p in pats.list_for_user(db, current_user.id)
        if pats.status(p, now()) == pats.ACTIVE
    ]
    _mark_reviewed(active)
    flash(f"Marked {plural(len(active), 'PAT')} as reviewed.", "success")
    return redirect(url_for("usage.index"))


@bp.post("/usage/<id:pat_id>/reviewed")
def mark_reviewed(pat_id):
    """Mark one PAT as reviewed (htmx swaps its row)."""
    owned(pats.get_owned, current_user.id, pat_id)
    _mark_reviewed([pat_id])
    if is_htmx():
        rows, _, _ = dashboard.overview(get_db(), current_user, now())
        row = next(r for r in rows if r.pat["id"] == pat_id)
        return page_or_fragment(
            "usage/index.html",
            "usage/_row.html",
            row=row,
            unused_days=dashboard.UNUSED_DAYS,
        )
    flash("Marked as reviewed.", "success")
    return redirect(url_for("usage.index"))


def _filter_or_errors():
    try:
        return usage.parse_filter(request.args), {}
    except ValidationError as exc:
        return usage.LogFilter(), exc.fields


@bp.get("/pats/<id:pat_id>/usage")
def pat_log(pat_id):
    """One PAT's requests, newest first, filtered; htmx loads more rows."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    flt, errors = _filter_or_errors()
    before = arg_id("before")
    if errors and is_htmx():
        message = " ".join(errors.values())
        return render_template("errors/_message.html", message=message), 422
    rows, more = usage.events_page(get_db(), pat_id, flt, current_user.timezone, before)
    context = dict(
        pat=pat,
        rows=rows,
        more=more,
        flt=flt,
        errors=errors,
        outcomes=usage.OUTCOME_LABELS,
        labels=usage.OUTCOME_LABELS,
    )
    if before is not None and is_htmx():
        return page_or_fragment("usage/log.html", "usage/_log_rows.html", **context)
    return render_template("usage/log.html", **context), 422 if errors else 200


@bp.get("/pats/<id:pat_id>/usage.csv")
def pat_log_csv(pat_id):
    """Exactly the filtered rows of the usage log, as CSV."""
    pat = owned(pats.get_owned, current_user.id, pat_id)
    flt, errors = _filter_or_errors()
    if errors:
        args = filter_args(("from", "to", "outcome", "ip"))
        return redirect(url_for("usage.pat_log", pat_id=pat_id, **args))
    tz_name = current_user.timezone
    tz = zone(tz_name)

    def rows(db):
        for e in usage.iter_events(db, pat["id"], flt, tz_name):
            yield [
                csv_export.local_time(e["at"], tz),
                e["outcome"],
                e["status"],
                e["method"],
                e["path"],
                e["ip"],
                e["user_agent"],
                e["job_url"],
                e["submission_id"],
            ]

    header = [
        "time",
        "outcome",
        "status",
        "method",
        "path",
        "ip",
        "user_agent",
        "job_url",
        "submission_id",
    ]
    return csv_export.response(f"pat-{pat_id}-usage.csv", header, rows)
