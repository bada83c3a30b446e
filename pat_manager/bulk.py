"""Bulk actions on several PATs, and "Clean up" of unused ones.

A bulk action is planned first (what will change for each PAT and what is
refused and why), shown for confirmation, then applied in one transaction that
plans again under the write lock, so the result matches the PATs as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from . import audit, lifecycle
from .accounts import User
from .clock import to_db
from .db import transaction
from .errors import ValidationError
from .pats import (
    ACTIVE,
    EXPIRED,
    HOLDS_SLOT,
    PAUSED,
    REVOKED,
    get_listed,
    last_day,
    resolve_expiry,
    resolve_template_choice,
    revoke_within,
    set_template_within,
    status,
    template_label,
    template_text,
)
from .text import parse_selection, parse_whole

ACTIONS = {
    "revoke": "Revoke",
    "pause": "Pause",
    "resume": "Resume",
    "set_template": "Set template",
    "set_expiration": "Set expiration",
}
MAX_SELECTED = 500
CLEANUP_DAYS = (7, 30, 60, 90)
DEFAULT_CLEANUP_DAYS = 30
MAX_CLEANUP_DAYS = 3650


@dataclass
class Row:
    pat: dict
    change: str | None = None  # what will change (or changed)
    refused: str | None = None  # why nothing happens to this PAT

    @property
    def ok(self) -> bool:
        return self.refused is None


def parse_ids(values) -> list[int]:
    """The selected PAT ids, in order, once each.

    :raise ValidationError: nothing selected, a malformed id, or too many.
    """
    return parse_selection(values, "PAT", MAX_SELECTED)


@dataclass(frozen=True)
class Params:
    template: tuple[str, int | None] | None = None
    expires_at: str | None = None
    expiry_label: str = ""


def parse_params(
    db: sqlite_utils.Database, user: User, action: str, form, now: datetime
) -> Params:
    """The action's own fields (the template or the expiry to set).

    :raise ValidationError: an unknown action, or its field is wrong.
    """
    if action not in ACTIONS:
        raise ValidationError(
            {"action": "Choose what to do with the selected PATs (Revoke, Pause…)."}
        )
    if action == "set_template":
        # The list's one select names the default, no template, or a template id.
        pick = (form.get("template_pick") or "").strip()
        choice, template_id = (
            (pick, None) if pick in ("default", "none") else ("custom", pick)
        )
        return Params(
            template=resolve_template_choice(db, user.id, choice, template_id)
        )
    if action == "set_expiration":
        try:
            moment = resolve_expiry(
                form.get("expiry"), form.get("expires_on"), now, user.timezone
            )
        except ValidationError as exc:
            if (
                "expires_on" in exc.fields
                and not (form.get("expires_on") or "").strip()
            ):
                raise ValidationError(
                    {"expires_on": "Pick the date the selected PATs should expire."}
                ) from None
            raise
        stored = to_db(moment) if moment else None
        return Params(
            expires_at=stored,
            expiry_label=f"works until {last_day(stored, user.timezone)}"
            if stored
            else "never expires",
        )
    return Params()


def _decide(db, user: User, action: str, params: Params, pat: dict, now) -> Row:
    state = status(pat, now)
    if action == "resume":
        if state != PAUSED:
            return Row(pat, refused=f"Not paused (it is {state}).")
        return Row(pat, change="Resumed: works again")
    if state == REVOKED:
        return Row(pat, refused="Already revoked.")
    if state == EXPIRED:
        return Row(pat, refused="Expired; create a new PAT instead.")
    if action == "revoke":
        return Row(pat, change="Revoked: refused from its next request")
    if action == "pause":
        if state == PAUSED:
            return Row(pat, refused="Already paused.")
        return Row(pat, change="Paused: refused until resumed")
    if action == "set_template":
        choice, template_id = params.template
        if (choice, template_id) == (pat["template_choice"], pat["template_id"]):
            return Row(pat, refused="Already uses that template.")
        before, _ = template_label(pat)
        after = template_text(db, choice, template_id)
        return Row(pat, change=f"Template: {before} → {after}")
    if params.expires_at == pat["expires_at"]:
        return Row(pat, refused="Already has that expiry.")
    before = last_day(pat["expires_at"], user.timezone)
    return Row(pat, change=f"Works until: {before} → {params.expiry_label}")


def plan(
    db: sqlite_utils.Database,
    user: User,
    action: str,
    ids: list[int],
    params: Params,
    now: datetime,
) -> list[Row]:
    """What the action would do to each selected PAT.

    :raise NotFound: a selected id is not one of this user's PATs.
    """
    return [
        _decide(db, user, action, params, get_listed(db, user.id, pat_id), now)
        for pat_id in ids
    ]


def apply(
    db: sqlite_utils.Database,
    user: User,
    action: str,
    ids: list[int],
    params: Params,
    *,
    now: datetime,
    ip: str | None,
) -> list[Row]:
    """Do it: every allowed row changes, every refused one is left as it is."""
    detail = f"bulk {ACTIONS[action].lower()} of {len(ids)}"
    with transaction(db):
        rows = plan(db, user, action, ids, params, now)
        for row in rows:
            if row.ok:
                _apply_one(db, action, params, row.pat, now, ip, detail)
    # Re-read, so the caller renders each PAT as it is now.
    return [
        Row(get_listed(db, user.id, row.pat["id"]), row.change, row.refused)
        for row in rows
    ]


def _apply_one(db, action, params: Params, pat, now, ip, detail) -> None:
    if action == "revoke":
        revoke_within(db, pat, now, ip, detail)
    elif action in ("pause", "resume"):
        lifecycle.set_paused_within(
            db, pat, action == "pause", now=now, ip=ip, detail=detail
        )
    elif action == "set_template":
        choice, template_id = params.template
        to_text = template_text(db, choice, template_id)
        set_template_within(
            db, pat, choice, template_id, now, ip, f"{detail} → {to_text}"
        )
    else:
        db.execute(
            "UPDATE pats SET expires_at = ? WHERE id = ?",
            (params.expires_at, pat["id"]),
        )
        audit.record(
            db,
            user_id=pat["user_id"],
            pat=pat,
            action="edit",
            now=now,
            ip=ip,
            detail=f"{detail}: {params.expiry_label}",
        )


def clean_cleanup_days(value) -> int:
    """:raise ValidationError: not a whole number of days in range."""
    if value in (None, ""):
        return DEFAULT_CLEANUP_DAYS
    days = parse_whole(value) or 0
    if not 1 <= days <= MAX_CLEANUP_DAYS:
        raise ValidationError(
            {"days": f"Enter a number of days from 1 to {MAX_CLEANUP_DAYS}."}
        )
    return days


def unused_since(
    db: sqlite_utils.Database, user_id: int, days: int, now: datetime
) -> list[dict]:
    """Active and paused PATs not used for `days` days (never-used ones count
    from their creation), oldest use first."""
    cutoff = to_db(now - timedelta(days=days))
    rows = db.query(
        "SELECT id FROM pats WHERE user_id = ? AND revoked_at IS NULL"
        " AND COALESCE(last_used_at, created_at) < ?"
        " ORDER BY COALESCE(last_used_at, created_at), id",
        (user_id, cutoff),
    )
    found = [get_listed(db, user_id, row["id"]) for row in rows]
    return [pat for pat in found if status(pat, now) in HOLDS_SLOT]


def cleanup(
    db: sqlite_utils.Database,
    user: User,
    ids: list[int],
    days: int,
    *,
    now: datetime,
    ip: str | None,
) -> list[Row]:
    """Revoke the listed PATs that are still unused; any used since the list was
    shown is left alone and reported."""
    detail = f"clean up: unused for {days} days"
    with transaction(db):
        still_unused = {pat["id"] for pat in unused_since(db, user.id, days, now)}
        rows = []
        for pat_id in ids:
            pat = get_listed(db, user.id, pat_id)
            if pat_id not in still_unused:
                state = status(pat, now)
                why = (
                    "Used since the list was made; kept."
                    if state in (ACTIVE, PAUSED)
                    else f"Already {state}."
                )
                rows.append(Row(pat, refused=why))
                continue
            revoke_within(db, pat, now, ip, detail)
            rows.append(Row(pat, change="Revoked: unused"))
    return [
        Row(get_listed(db, user.id, row.pat["id"]), row.change, row.refused)
        for row in rows
    ]
