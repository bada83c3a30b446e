"""The PAT pages: list, create, show once, reveal and revoke (htmx or plain forms)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required

from .. import (
    access_rules,
    accounts,
    bulk,
    cv_templates,
    lifecycle,
    pats,
    ratelimit,
    tokens,
)
from ..clock import from_db, local_today
from ..db import get_db
from ..errors import PatLimitReached, ValidationError
from ..web import (
    arg_object_id,
    client_ip,
    is_htmx,
    no_store,
    now,
    owned,
    page_or_fragment,
    token_key,
    too_many,
)
from .auth import mark_password_entered

bp = Blueprint("pats", __name__, url_prefix="/pats")
log = logging.getLogger(__name__)


@bp.before_request
@login_required
def _require_login():
    """Every PAT page needs a signed-in owner."""


def limit_state():
    db = get_db()
    limit = pats.pat_limit(current_user, current_app.config["FREE_TIER_PAT_LIMIT"])
    return pats.active_count(db, current_user.id, now()), limit


def render_row(pat_id, state: str = "normal", status: int = 200, **extra):
    """One PAT card in a given state; htmx gets the card, others the whole list."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    if is_htmx():
        if extra.get("oob_slots"):
            extra["active_count"], extra["limit"] = limit_state()
        response = make_response(
            render_template("pats/_pat.html", pat=pat, state=state, **extra), status
        )
        response.vary.add("HX-Request")
        return response
    return redirect(url_for("pats.index", _anchor=f"pat-{pat['id']}"))


@bp.get("/")
def index():
    """All of the account's PATs, active first."""
    context = _form_context()
    return render_template(
        "pats/index.html",
        pats=pats.list_for_user(get_db(), current_user.id),
        # Without JavaScript, "Select all" is a link that ticks every box.
        select_all=request.args.get("select") == "all",
        bulk_actions=bulk.ACTIONS,
        **{
            key: context[key]
            for key in (
                "active_count",
                "limit",
                "templates",
                "default_template",
                "min_custom_date",
                "max_custom_date",
            )
        },
    )


def _form_context(**values):
    db = get_db()
    active, limit = limit_state()
    templates = cv_templates.list_templates(db, current_user.id)
    today = local_today(now(), current_user.timezone)
    return {
        "templates": templates,
        "default_template": (
            owned(
                cv_templates.get_owned,
                current_user.id,
                current_user.default_template_id,
            )
            if current_user.default_template_id
            else None
        ),
        "suggestions": pats.NAME_SUGGESTIONS,
        "active_count": active,
        "limit": limit,
        "max_custom_date": (today + timedelta(days=pats.MAX_CUSTOM_DAYS)).isoformat(),
        "min_custom_date": (today + timedelta(days=1)).isoformat(),
        "form": {
            "expiry": pats.DEFAULT_EXPIRY,
            "template_choice": pats.suggested_template_choice(current_user, templates),
            "scopes": {access_rules.DEFAULT_SCOPES},
            "rotation_overlap_hours": pats.DEFAULT_OVERLAP_HOURS,
            **values,
        },
        "scope_choices": access_rules.SCOPES,
        "rotation_choices": pats.ROTATION_CHOICES,
        "overlap_choices": pats.OVERLAP_CHOICES,
        "errors": {},
        "limit_error": None,
    }


@bp.get("/new")
def new():
    """The create form; `?from=<id>` fills it with a revoked or expired PAT's
    settings ("create a new PAT with the same settings")."""
    source_id = arg_object_id("from")
    if source_id is None:
        return render_template("pats/new.html", **_form_context())
    source = owned(pats.get_listed, current_user.id, source_id)
    if not lifecycle.can_recreate(source, now()):
        flash(f"“{source['name']}” still works; edit it instead.", "info")
        return redirect(url_for("pats.index", _anchor=f"pat-{source_id}"))
    values = lifecycle.recreate_form(source, now(), current_user.timezone)
    return render_template("pats/new.html", source=source, **_form_context(**values))


def _posted_form() -> dict:
    """The create form as posted, with its multi-valued scopes kept whole."""
    values = request.form.to_dict()
    values["scopes"] = set(request.form.getlist("scopes"))
    return values


@bp.post("/")
def create():
    """Create a PAT and show its token once."""
    form = request.form
    try:
        created = pats.create(
            get_db(),
            current_user,
            name=form.get("name"),
            template_choice=form.get("template_choice"),
            template_id=form.get("template_id"),
            expiry=form.get("expiry"),
            expires_on=form.get("expires_on"),
            now=now(),
            free_tier_limit=current_app.config["FREE_TIER_PAT_LIMIT"],
            token_key=token_key(),
            # Unticking every scope is an error; a form without the scope
            # boxes at all (an older page) keeps the default.
            scopes=form.getlist("scopes")
            if "scopes_sent" in form
            else (access_rules.DEFAULT_SCOPES,),
            allowed_networks=form.get("allowed_networks"),
            allowed_origin=form.get("allowed_origin"),
            rotation_days=form.get("rotation_days"),
            rotation_overlap_hours=form.get("rotation_overlap_hours"),
            ip=client_ip(),
        )
    except ValidationError as exc:
        context = _form_context(**_posted_form())
        context["errors"] = exc.fields
        return render_template("pats/new.html", **context), 422
    except PatLimitReached as exc:
        context = _form_context(**_posted_form())
        context["limit_error"] = str(exc)
        return render_template("pats/new.html", **context), 409

    log.info("PAT created: user_id=%s pat_id=%s", current_user.id, created.pat["id"])
    session["show_token_once"] = created.pat["id"]
    return redirect(url_for("pats.created", pat_id=created.pat["id"]))


@bp.get("/<id:pat_id>/created")
def created(pat_id):
    """The full token, once, right after creation."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    if request.method == "HEAD":
        # A link checker's HEAD must not use up the one showing of the token.
        return no_store(make_response("", 200))
    just_created = session.pop("show_token_once", None) == pat["id"]
    if not (
        just_created
        and pats.claim_new_token_display(get_db(), current_user.id, pat_id, now())
    ):
        flash("A new token is shown only once. Use “Reveal” to see it again.", "info")
        return redirect(url_for("pats.index", _anchor=f"pat-{pat_id}"))
    token = tokens.assemble(token_key(), pat["public_id"], pat["secret_seed"])
    return no_store(
        make_response(render_template("pats/created.html", pat=pat, token=token))
    )


@bp.get("/<id:pat_id>/row")
def row(pat_id):
    """The PAT card in its resting state (htmx 'Cancel' and 'Hide')."""
    return render_row(pat_id)


def password_is_fresh() -> bool:
    entered = from_db(session.get("password_entered_at"))
    window = timedelta(minutes=current_app.config["REAUTH_MINUTES"])
    return entered is not None and now() - entered < window


def check_typed_password(pat_id, action: str):
    """For actions that show a token: check a password typed into the form.

    Returns (errors, refusal); refusal is a 429 answer after too many wrong ones.
    """
    if request.method != "POST" or "password" not in request.form:
        return {}, None
    db, moment = get_db(), now()
    limit, subject = ratelimit.REVEAL_PASSWORD, current_user.session_id
    decision = ratelimit.attempt(db, limit, subject, moment)
    if not decision.allowed:
        log.warning(
            "%s refused, too many wrong passwords: user_id=%s", action, current_user.id
        )
        return {}, too_many(decision, "Too many wrong passwords.")
    if accounts.check_password(db, current_user.id, request.form["password"]):
        ratelimit.forgive(db, limit, subject, moment)
        mark_password_entered()
        return {}, None
    log.warning(
        "%s: wrong password user_id=%s pat_id=%s", action, current_user.id, pat_id
    )
    return {"password": "That password is not right. Try again."}, None


@bp.route("/<id:pat_id>/reveal", methods=["GET", "POST"])
def reveal(pat_id):
    """Show the token again; asks for the password when it is not fresh."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    errors, refusal = check_typed_password(pat_id, "reveal")
    if refusal is not None:
        return refusal

    # A wrong password is refused even inside the grace window: typing one is a
    # sign that someone else may be at the keyboard.
    if request.method != "POST" or errors or not password_is_fresh():
        context = {
            "pat": pat,
            "errors": errors,
            "needs_password": bool(errors) or not password_is_fresh(),
        }
        status = 422 if errors else 200
        if is_htmx():
            return render_row(pat_id, "reauth", status, errors=errors)
        return render_template("pats/reveal.html", **context), status

    try:
        token = pats.reveal(
            get_db(),
            current_user.id,
            pat_id,
            now=now(),
            ip=client_ip(),
            token_key=token_key(),
        )
    except ValidationError as exc:
        if is_htmx():
            return render_row(pat_id, message=exc.fields["pat"])
        flash(exc.fields["pat"], "error")
        return redirect(url_for("pats.index"))
    log.info(
        "PAT revealed: user_id=%s pat_id=%s ip=%s", current_user.id, pat_id, client_ip()
    )
    if is_htmx():
        return no_store(render_row(pat_id, "revealed", token=token))
    page = render_template("pats/reveal.html", pat=pat, token=token, errors={})
    return no_store(make_response(page))


@bp.route("/<id:pat_id>/revoke", methods=["GET", "POST"])
def revoke(pat_id):
    """Ask, then revoke: the token stops working on the very next request."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    if request.method != "POST":
        return page_or_fragment(
            "pats/revoke.html", "pats/_pat.html", pat=pat, state="confirm-revoke"
        )

    pats.revoke(get_db(), current_user.id, pat_id, now(), ip=client_ip())
    log.info("PAT revoked: user_id=%s pat_id=%s", current_user.id, pat_id)
    message = f"“{pat['name']}” is revoked. Any extension using it is now refused."
    if is_htmx():
        # The card swaps in place; the slot counter and message come out of band.
        return render_row(pat_id, oob_slots=True, oob_flash=message)
    flash(message, "success")
    return redirect(url_for("pats.index", _anchor=f"pat-{pat_id}"))


@bp.route("/<id:pat_id>/template", methods=["GET", "POST"])
def change_template(pat_id):
    """Choose another CV template for a PAT (the fix for "CV template not found")."""
    pat = owned(pats.get_listed, current_user.id, pat_id)
    form = {
        "template_choice": pat["template_choice"],
        "template_id": pat["template_id"],
    }
    errors = {}
    if request.method == "POST":
        form = request.form.to_dict()
        try:
            pats.set_template(
                get_db(),
                current_user.id,
                pat_id,
                form.get("template_choice"),
                form.get("template_id"),
                now(),
                ip=client_ip(),
            )
        except ValidationError as exc:
            errors = exc.fields
        else:
            label, _ = pats.template_label(
                pats.get_listed(get_db(), current_user.id, pat_id)
            )
            flash(f"“{pat['name']}” now uses: {label}.", "success")
            return redirect(url_for("pats.index", _anchor=f"pat-{pat_id}"))
    context = _form_context(**form)
    context["errors"] = errors
    return render_template(
        "pats/template.html", pat=pat, **context
    ), 422 if errors else 200
