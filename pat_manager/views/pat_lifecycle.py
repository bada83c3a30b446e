"""PAT changes that keep the token: edit, pause and resume; and rotation, which
gives a new one. Inline through htmx, or as plain forms without JavaScript."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from .. import access_rules, lifecycle, pats, rotation
from ..db import get_db
from ..errors import ValidationError
from ..web import client_ip, is_htmx, no_store, now, owned, page_or_fragment, token_key
from .pats import _form_context, check_typed_password, password_is_fresh, render_row

bp = Blueprint("lifecycle", __name__, url_prefix="/pats")
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def _require_login():
    """Only the owner changes a PAT."""


def _back_to(pat_id):
    return redirect(url_for("pats.index", _anchor=f"pat-{pat_id}"))


def _edit_values(pat: dict) -> dict:
    return {
        "name": pat["name"],
        "template_choice": pat["template_choice"],
        "template_id": pat["template_id"] or "",
        "expiry": lifecycle.KEEP,
        "scopes": access_rules.scopes_of(pat),
        "allowed_networks": "\n".join(filter(None, pat["allowed_networks"].split(","))),
        "allowed_origin": pat["allowed_origin"] or "",
        "rotation_days": pat["rotation_days"] or "",
        "rotation_overlap_hours": pat["rotation_overlap_hours"],
    }


@bp.route("/<id:pat_id>/edit", methods=["GET", "POST"])
def edit(pat_id):
    """Rename, change the template, expiry, scopes, networks, extension and
    rotation policy; the token stays the same."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    try:
        lifecycle.refuse_unless_holds_slot(pat, now())
    except ValidationError as exc:
        # Nothing to fill in: say so before the form, and offer the way forward.
        flash(exc.fields["pat"], "info")
        return _back_to(pat_id)
    values, errors = _edit_values(pat), {}
    if request.method == "POST":
        values = request.form.to_dict()
        values["scopes"] = set(request.form.getlist("scopes"))
        try:
            changes = lifecycle.edit(
                get_db(), current_user, pat_id, values, now=now(), ip=client_ip()
            )
        except ValidationError as exc:
            errors = exc.fields
        else:
            if changes:
                log.info("PAT edited: user_id=%s pat_id=%s", current_user.id, pat_id)
                flash(f"“{pat['name']}” saved: {'; '.join(changes)}.", "success")
            else:
                flash(f"Nothing changed on “{pat['name']}”.", "info")
            return _back_to(pat_id)
    context = _form_context(**values)
    context["errors"] = errors
    return render_template("pats/edit.html", pat=pat, **context), 422 if errors else 200


def _set_paused(pat_id, paused: bool):
    pat = owned(pats.get_listed, current_user.id, pat_id)
    try:
        lifecycle.set_paused(
            get_db(), current_user.id, pat_id, paused, now=now(), ip=client_ip()
        )
    except ValidationError as exc:
        return _refuse(pat_id, exc.fields["pat"])
    log.info(
        "PAT %s: user_id=%s pat_id=%s",
        "paused" if paused else "resumed",
        current_user.id,
        pat_id,
    )
    message = (
        f"“{pat['name']}” is paused: requests with it are refused until you resume it."
        if paused
        else f"“{pat['name']}” works again."
    )
    if is_htmx():
        return render_row(pat_id, oob_flash=message)
    flash(message, "success")
    return _back_to(pat_id)


@bp.post("/<id:pat_id>/pause")
def pause(pat_id):
    """Refuse the PAT (reason "paused") without losing its secret or settings."""
    return _set_paused(pat_id, True)


@bp.post("/<id:pat_id>/resume")
def resume(pat_id):
    return _set_paused(pat_id, False)


def _refuse(pat_id, message: str):
    """A refused action: the card with the reason (htmx), or the list with it."""
    if is_htmx():
        return render_row(pat_id, message=message, status=422)
    flash(message, "error")
    return _back_to(pat_id)


@bp.route("/<id:pat_id>/rotate", methods=["GET", "POST"])
def rotate(pat_id):
    """Ask for the overlap (and the password when it is not fresh), then give the
    PAT a new secret and show it inline."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    if request.method == "POST" and request.form.get("version") != rotation.version(
        pat
    ):
        # Told before any password step: a form from before another rotation
        # (a second click, another tab, a reload) must not rotate again.
        return _refuse(
            pat_id,
            "This PAT was rotated a moment ago (a second click, another tab or a"
            " reloaded page). Use Reveal to see its current token."
            if request.form.get("version")
            else "The form was incomplete. Reload the page and rotate again.",
        )
    errors, refusal = check_typed_password(pat_id, "rotate")
    if refusal is not None:
        return refusal
    overlap = request.form.get("overlap", str(pat["rotation_overlap_hours"]))
    if request.method == "POST" and not errors and not password_is_fresh():
        errors["password"] = "Enter your password: rotating shows the new token."
    if request.method != "POST" or errors:
        context = {
            "pat": pat,
            "state": "confirm-rotate",
            "errors": errors,
            "needs_password": not password_is_fresh(),
            "overlap_choice": overlap,
            "overlap_choices": pats.OVERLAP_CHOICES,
            "version": rotation.version(pat),
        }
        status = 422 if errors else 200
        return page_or_fragment("pats/rotate.html", "pats/_pat.html", status, **context)
    try:
        _, token = rotation.rotate(
            get_db(),
            current_user.id,
            pat_id,
            overlap,
            now=now(),
            ip=client_ip(),
            token_key=token_key(),
            expected_version=request.form["version"],
        )
    except ValidationError as exc:
        return _refuse(pat_id, next(iter(exc.fields.values())))
    log.info(
        "PAT rotated: user_id=%s pat_id=%s overlap_hours=%s",
        current_user.id,
        pat_id,
        overlap,
    )
    if is_htmx():
        return no_store(render_row(pat_id, "revealed", token=token, rotated=True))
    pat = pats.get_listed(get_db(), current_user.id, pat_id)
    page = render_template("pats/reveal.html", pat=pat, token=token, rotated=True)
    return no_store(make_response(page))


@bp.post("/<id:pat_id>/end-overlap")
def end_overlap(pat_id):
    """Stop the old token now, once the extension uses the new one."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    stopped = rotation.end_overlap(
        get_db(), current_user.id, pat_id, now=now(), ip=client_ip()
    )
    message = (
        f"The old token of “{pat['name']}” no longer works."
        if stopped
        else f"“{pat['name']}” has no old token that still works."
    )
    if is_htmx():
        return render_row(pat_id, oob_flash=message)
    flash(message, "success")
    return _back_to(pat_id)
