"""Register, log in, log out."""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts, ratelimit
from ..clock import to_db
from ..db import get_db
from ..errors import ValidationError
from ..web import client_ip, now, too_many

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after login; anything else is dropped."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def mark_password_entered() -> None:
    """Remember when the password was last typed, for the reveal re-check."""
    session["password_entered_at"] = to_db(now())


def _start_session(user, remember: bool) -> None:
    # A fresh session on login: nothing planted before login carries over.
    session.clear()
    login_user(
        accounts.start_session(get_db(), user, now(), client_ip()), remember=remember
    )
    mark_password_entered()


@bp.get("/")
def home():
    """Signed-in people land on their PATs; everyone else on the login page."""
    if current_user.is_authenticated:
        return redirect(url_for("pats.index"))
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an account with email and password."""
    if current_app.config["REGISTRATION"] != "open":
        return render_template("auth/register_closed.html"), 403
    if request.method != "POST":
        return render_template("auth/register.html", errors={}, email="")

    email = request.form.get("email", "")
    try:
        user = accounts.create_user(
            get_db(), email, request.form.get("password", ""), now()
        )
    except ValidationError as exc:
        return render_template(
            "auth/register.html", errors=exc.fields, email=email
        ), 422

    log.info("account created: user_id=%s admin=%s", user.id, user.is_admin)
    _start_session(user, remember=False)
    flash(
        "Welcome! Start by creating a CV template, then a PAT for your extension.",
        "success",
    )
    return redirect(url_for("cv_templates.index"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in; the error never says whether the email has an account."""
    next_url = safe_next(request.values.get("next"))
    if request.method != "POST":
        if current_user.is_authenticated:
            return redirect(next_url or url_for("pats.index"))
        return render_template(
            "auth/login.html", error=None, email="", next_url=next_url
        )

    email = request.form.get("email", "")
    db, ip, moment = get_db(), client_ip(), now()
    # Hashed: the typed email (any length, or a pasted token) is never stored as is.
    account_key = hashlib.sha256(accounts.normalize_email(email).encode()).hexdigest()[
        :32
    ]
    # Each attempt is counted before the password is checked, so attempts made at
    # the same moment cannot all slip under the limits; a success is taken back.
    limits = ((ratelimit.LOGIN_PER_ACCOUNT, account_key), (ratelimit.LOGIN_PER_IP, ip))
    decisions = [ratelimit.attempt(db, lim, subj, moment) for lim, subj in limits]
    refused = [d for d in decisions if not d.allowed]
    if refused:
        for lim, subj in limits:
            ratelimit.forgive(db, lim, subj, moment)
        log.warning("login refused, too many failures from %s", ip)
        return too_many(
            max(refused, key=lambda d: d.retry_after),
            "Too many failed log-in attempts.",
        )

    user = accounts.authenticate(db, email, request.form.get("password", ""))
    if user is None:
        log.warning("login failed from %s", ip)
        error = "That email and password do not match an account."
        page = render_template(
            "auth/login.html", error=error, email=email, next_url=next_url
        )
        return page, 401

    for lim, subj in limits:
        ratelimit.forgive(db, lim, subj, moment)
    _start_session(user, remember=bool(request.form.get("remember")))
    log.info("login: user_id=%s from %s", user.id, client_ip())
    return redirect(next_url or url_for("pats.index"))


@bp.post("/logout")
@login_required
def logout():
    """End the session and the remember-me cookie."""
    log.info("logout: user_id=%s", current_user.id)
    accounts.end_session(get_db(), current_user, now())
    # Clear first: logout_user leaves a flag in the session that deletes the
    # remember-me cookie on the way out.
    session.clear()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
