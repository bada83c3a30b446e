"""Account settings: the timezone every page and daily count uses."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import accounts
from ..db import get_db
from ..errors import ValidationError

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """Show and change the timezone."""
    errors, value = {}, current_user.timezone
    if request.method == "POST":
        value = request.form.get("timezone", "")
        try:
            accounts.set_timezone(get_db(), current_user.id, value)
        except ValidationError as exc:
            errors = exc.fields
        else:
            flash(f"Times are now shown in {value}.", "success")
            return redirect(url_for("settings.index"))
    page = render_template(
        "settings/index.html",
        timezones=accounts.timezone_names(),
        value=value,
        errors=errors,
    )
    return page, 422 if errors else 200
