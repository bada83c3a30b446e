"""CV template pages: list, create, edit, choose the default, delete."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import cv_templates
from ..db import get_db
from ..errors import NotFound, ValidationError
from ..text import parse_id
from ..web import client_ip, now, owned, plural

bp = Blueprint("cv_templates", __name__, url_prefix="/templates")
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def _require_login():
    """Every template page needs a signed-in owner."""


def _index_page(errors=None, form=None, status=200):
    page = render_template(
        "cv_templates/index.html",
        templates=cv_templates.list_templates(get_db(), current_user.id),
        default_id=current_user.default_template_id,
        errors=errors or {},
        form=form or {},
    )
    return page, status


@bp.get("/")
def index():
    """The account's templates and a form to add one."""
    return _index_page()


@bp.post("/")
def create():
    """Add a template (optionally as the new default)."""
    form = request.form
    try:
        template = cv_templates.create(
            get_db(),
            current_user.id,
            form.get("name"),
            form.get("content"),
            now(),
            make_default=bool(form.get("make_default")),
        )
    except ValidationError as exc:
        return _index_page(exc.fields, form.to_dict(), 422)

    flash(f"Template “{template['name']}” created.", "success")
    return redirect(url_for("cv_templates.index"))


@bp.get("/<id:template_id>")
def edit(template_id):
    """Rename a template or change its content."""
    template = owned(cv_templates.get_owned, current_user.id, template_id)
    return render_template(
        "cv_templates/edit.html", template=template, form=template, errors={}
    )


@bp.post("/<id:template_id>")
def update(template_id):
    """Save a template's new name and content."""
    template = owned(cv_templates.get_owned, current_user.id, template_id)
    form = request.form
    try:
        cv_templates.update(
            get_db(),
            current_user.id,
            template_id,
            form.get("name"),
            form.get("content"),
            now(),
        )
    except ValidationError as exc:
        page = render_template(
            "cv_templates/edit.html",
            template=template,
            form=form.to_dict(),
            errors=exc.fields,
        )
        return page, 422

    flash("Template saved.", "success")
    return redirect(url_for("cv_templates.index"))


@bp.post("/default")
def set_default():
    """Choose the account default (an empty choice clears it)."""
    raw = request.form.get("template_id") or None
    template = None
    if raw is not None:
        template_id = parse_id(raw)
        if template_id is None:
            abort(404)
        template = owned(cv_templates.get_owned, current_user.id, template_id)
    template_id = template["id"] if template else None
    cv_templates.set_default(get_db(), current_user.id, template_id)
    flash(
        f"“{template['name']}” is now your default template."
        if template_id
        else "You have no default template now; PATs that use the default will be refused "
        "with “CV template not found” until you choose one.",
        "success" if template_id else "warning",
    )
    return redirect(url_for("cv_templates.index"))


@bp.route("/<id:template_id>/delete", methods=["GET", "POST"])
def delete(template_id):
    """Name the PATs that use it and offer to move them, then delete."""
    db = get_db()
    template = owned(cv_templates.get_owned, current_user.id, template_id)
    affected = cv_templates.pats_using(db, current_user.id, template_id)
    others = [
        t
        for t in cv_templates.list_templates(db, current_user.id)
        if t["id"] != template["id"]
    ]
    default_elsewhere = current_user.default_template_id not in (None, template["id"])
    move_to = request.form.get("move_to") or (
        str(others[0]["id"]) if others else cv_templates.LEAVE
    )
    errors = {}
    if move_to == "template":
        move_to = request.form.get("move_template_id", "").strip()
        if request.method == "POST" and not move_to:
            errors = {"move_to": "Choose the template to move them to."}
    if request.method == "POST" and not errors:
        try:
            _, moved = cv_templates.delete(
                db,
                current_user.id,
                template_id,
                move_to,
                now=now(),
                ip=client_ip(),
            )
        except NotFound:
            errors = {"move_to": "Choose a template from the list."}
        except ValidationError as exc:
            errors = exc.fields
        else:
            log.info(
                "template deleted: user_id=%s template_id=%s moved=%s",
                current_user.id,
                template_id,
                moved,
            )
            message = f"Template “{template['name']}” deleted."
            left = len(affected) - moved
            if moved:
                message += f" {plural(moved, 'PAT')} moved."
            if left:
                message += (
                    f" {plural(left, 'PAT')} now"
                    f" {'shows' if left == 1 else 'show'} “CV template not found” until you"
                    f" pick another template for {'it' if left == 1 else 'them'}."
                )
            flash(message, "warning" if left else "success")
            return redirect(url_for("cv_templates.index"))
    return render_template(
        "cv_templates/delete.html",
        template=template,
        affected=affected,
        others=others,
        default_elsewhere=default_elsewhere,
        move_to=move_to,
        errors=errors,
    ), 422 if errors else 200
