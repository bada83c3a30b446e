"""Changing a PAT without a new secret: edit its settings, pause and resume it,
and the settings a revoked or expired PAT hands on to its replacement."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlite_utils

from . import access_rules, audit
from .accounts import User
from .clock import from_db, local_today, to_db
from .db import transaction
from .errors import ValidationError
from .pats import (
    EXPIRED,
    HOLDS_SLOT,
    MAX_CUSTOM_DAYS,
    OVERLAP_CHOICES,
    PAUSED,
    REVOKED,
    check_name_free,
    clean_name,
    clean_overlap,
    clean_rotation_days,
    get_owned,
    last_day,
    require_template,
    resolve_expiry,
    resolve_template_choice,
    status,
    template_text,
)

KEEP = "keep"


def refuse_unless_holds_slot(pat: dict, now: datetime, field: str = "pat") -> None:
    """Only active and paused PATs can change; the others are history.

    :raise ValidationError: the PAT is revoked or expired.
    """
    state = status(pat, now)
    if state == REVOKED:
        raise ValidationError(
            {
                field: "This PAT is revoked. Create a new PAT with the same settings instead."
            }
        )
    if state == EXPIRED:
        raise ValidationError(
            {
                field: "This PAT has expired. Create a new PAT with the same settings instead."
            }
        )


def edit(
    db: sqlite_utils.Database,
    user: User,
    pat_id,
    form: dict,
    *,
    now: datetime,
    ip: str | None,
) -> list[str]:
    """Apply the edit form; the token stays the same. Returns what changed.

    Fields left out of the form keep their value; expiry "keep" keeps the date.

    :raise NotFound: not this user's PAT.
    :raise ValidationError: a field is wrong, or the PAT is revoked or expired.
    """
    pat = get_owned(db, user.id, pat_id)
    refuse_unless_holds_slot(pat, now)
    errors: dict[str, str] = {}
    updates: dict[str, object] = {}
    changes: list[str] = []

    def check(fn):
        try:
            return fn()
        except ValidationError as exc:
            errors.update(exc.fields)
            return None

    if "name" in form:
        name = check(lambda: clean_name(form.get("name")))
        if name is not None and name != pat["name"]:
            updates["name"] = name
            changes.append(f"name “{pat['name']}” → “{name}”")
    if "template_choice" in form:
        chosen = check(
            lambda: resolve_template_choice(
                db, user.id, form.get("template_choice"), form.get("template_id")
            ),
        )
        if chosen is not None and chosen != (
            pat["template_choice"],
            pat["template_id"],
        ):
            updates["template_choice"], updates["template_id"] = chosen
            changes.append(
                f"template {template_text(db, pat['template_choice'], pat['template_id'])}"
                f" → {template_text(db, *chosen)}"
            )
    expiry = form.get("expiry") or KEEP
    if expiry != KEEP:
        moment = check(
            lambda: resolve_expiry(expiry, form.get("expires_on"), now, user.timezone),
        )
        if "expiry" not in errors and "expires_on" not in errors:
            stored = to_db(moment) if moment else None
            if stored != pat["expires_at"]:
                updates["expires_at"] = stored
                changes.append(
                    f"works until {last_day(stored, user.timezone)}"
                    if stored
                    else "never expires"
                )
    # The access limits and rotation policy: one column each, cleaned the same way.
    simple = (
        (
            "scopes_sent",
            "scopes",
            lambda: access_rules.clean_scopes(form.get("scopes")),
            lambda value: f"scopes: {value}",
        ),
        (
            "allowed_networks",
            "allowed_networks",
            lambda: access_rules.clean_networks(form.get("allowed_networks")),
            lambda value: f"networks: {value or 'anywhere'}",
        ),
        (
            "allowed_origin",
            "allowed_origin",
            lambda: access_rules.clean_origin(form.get("allowed_origin")),
            lambda value: f"extension: {value or 'any'}",
        ),
        (
            "rotation_days",
            "rotation_days",
            lambda: clean_rotation_days(form.get("rotation_days")),
            lambda value: f"rotate every {value} days" if value else "rotation off",
        ),
        (
            "rotation_overlap_hours",
            "rotation_overlap_hours",
            lambda: clean_overlap(form.get("rotation_overlap_hours")),
            lambda value: f"rotation overlap {OVERLAP_CHOICES[value]}",
        ),
    )
    for sent, column, clean, describe in simple:
        if sent not in form:
            continue
        try:
            value = clean()
        except ValidationError as exc:
            errors.update(exc.fields)
            continue
        if value != pat[column]:
            updates[column] = value
            changes.append(describe(value))
    if errors:
        raise ValidationError(errors)
    if not updates:
        return []

    with transaction(db):
        current = get_owned(db, user.id, pat_id)
        refuse_unless_holds_slot(current, now)
        if "name" in updates:
            check_name_free(db, user.id, updates["name"], now, except_id=pat["id"])
        require_template(db, user.id, updates.get("template_id"))
        assignments = ", ".join(f"{column} = ?" for column in updates)
        db.execute(
            f"UPDATE pats SET {assignments} WHERE id = ?",
            [*updates.values(), pat["id"]],
        )
        audit.record(
            db,
            user_id=user.id,
            pat=current,
            action="edit",
            now=now,
            ip=ip,
            detail="; ".join(changes),
        )
    return changes


def set_paused(
    db: sqlite_utils.Database,
    user_id: int,
    pat_id,
    paused: bool,
    *,
    now: datetime,
    ip: str | None,
    detail: str = "",
) -> dict:
    """Pause (refused with reason 'paused', secret kept) or resume a PAT.

    :raise NotFound: not this user's PAT.
    :raise ValidationError: revoked or expired, or already in that state.
    """
    pat = get_owned(db, user_id, pat_id)
    with transaction(db):
        pat = get_owned(db, user_id, pat_id)
        set_paused_within(db, pat, paused, now=now, ip=ip, detail=detail)
    return get_owned(db, user_id, pat_id)


def set_paused_within(
    db: sqlite_utils.Database,
    pat: dict,
    paused: bool,
    *,
    now: datetime,
    ip: str | None,
    detail: str = "",
) -> None:
    """Inside the caller's transaction (bulk actions share one)."""
    refuse_unless_holds_slot(pat, now)
    state = status(pat, now)
    if paused and state == PAUSED:
        raise ValidationError({"pat": "This PAT is already paused."})
    if not paused and state != PAUSED:
        raise ValidationError({"pat": "This PAT is not paused."})
    db.execute(
        "UPDATE pats SET paused_at = ? WHERE id = ?",
        (to_db(now) if paused else None, pat["id"]),
    )
    audit.record(
        db,
        user_id=pat["user_id"],
        pat=pat,
        action="pause" if paused else "resume",
        now=now,
        ip=ip,
        detail=detail,
    )


def recreate_form(pat: dict, now: datetime, tz_name: str | None) -> dict:
    """The create form filled with a revoked or expired PAT's settings.

    The expiry keeps the old PAT's lifetime (30 or 90 days, a date as far
    ahead, or never), counted from today.
    """
    form = {
        "name": pat["name"],
        "template_choice": pat["template_choice"],
        "template_id": pat["template_id"] or "",
        "scopes": access_rules.scopes_of(pat),
        "allowed_networks": "\n".join(filter(None, pat["allowed_networks"].split(","))),
        "allowed_origin": pat["allowed_origin"] or "",
        "rotation_days": pat["rotation_days"] or "",
        "rotation_overlap_hours": pat["rotation_overlap_hours"],
        "from": pat["id"],
    }
    expires_at = from_db(pat["expires_at"])
    if expires_at is None:
        form["expiry"] = "never"
        return form
    lifetime = (expires_at - from_db(pat["created_at"]) + timedelta(hours=12)).days
    if lifetime in (30, 90):
        form["expiry"] = str(lifetime)
    else:
        today = local_today(now, tz_name)
        days = min(max(lifetime, 1), MAX_CUSTOM_DAYS)
        form["expiry"] = "custom"
        form["expires_on"] = (today + timedelta(days=days)).isoformat()
    return form


def can_recreate(pat: dict, now: datetime) -> bool:
    return status(pat, now) not in HOLDS_SLOT
