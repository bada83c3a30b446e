"""Rotation: a new secret for the same PAT, the old one kept for an overlap so
the extension can be updated without a gap, and the per-PAT rotation policy."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlite_utils

from . import audit, notifications, tokens
from .clock import from_db, to_db
from .db import transaction
from .errors import ValidationError
from .lifecycle import refuse_unless_holds_slot
from .pats import ACTIVE, OVERLAP_CHOICES, clean_overlap, get_owned, status

log = logging.getLogger(__name__)


def rotate(
    db: sqlite_utils.Database,
    user_id: int,
    pat_id,
    overlap_hours,
    *,
    now: datetime,
    ip: str | None,
    token_key: bytes,
    expected_version: str,
) -> tuple[dict, str]:
    """Give the PAT a new secret; return the PAT and its new token.

    expected_version is the `version` of the PAT the form was shown for: a second
    click, another tab or a reloaded page finds it changed and rotates nothing,
    instead of handing out a token that the next rotation already replaced.

    :raise NotFound: not this user's PAT.
    :raise ValidationError: a bad overlap, the PAT is not active, or it was
        rotated since the form was shown.
    """
    hours = clean_overlap(overlap_hours)
    with transaction(db):
        pat = get_owned(db, user_id, pat_id)
        _refuse_unless_active(pat, now)
        if expected_version != version(pat):
            raise ValidationError(
                {
                    "pat": "This PAT was rotated a moment ago (a second click, another"
                    " tab or a reloaded page). Use Reveal to see its current token."
                }
            )
        rotate_within(db, pat, hours, now=now, ip=ip)
    pat = get_owned(db, user_id, pat_id)
    return pat, tokens.assemble(token_key, pat["public_id"], pat["secret_seed"])


def version(pat: dict) -> str:
    """Which secret the PAT has now: it changes with every rotation."""
    return pat["rotated_at"] or "original"


def _refuse_unless_active(pat: dict, now: datetime) -> None:
    refuse_unless_holds_slot(pat, now)
    if status(pat, now) != ACTIVE:
        raise ValidationError({"pat": "Resume this PAT before rotating it."})


def rotate_within(
    db: sqlite_utils.Database,
    pat: dict,
    overlap_hours: int,
    *,
    now: datetime,
    ip: str | None,
    detail: str = "",
) -> datetime:
    """Inside the caller's transaction; returns when the old token stops."""
    until = now + timedelta(hours=overlap_hours)
    # The newest choice holds for every older token too: rotating "at once" after
    # a 7-day overlap also stops the token replaced a week ago.
    db.execute(
        "UPDATE pat_retired_secrets SET valid_until = ? WHERE pat_id = ?"
        " AND valid_until > ?",
        (to_db(until), pat["id"], to_db(until)),
    )
    db.execute(
        "INSERT INTO pat_retired_secrets (public_id, pat_id, secret_seed, retired_at,"
        " valid_until) VALUES (?, ?, ?, ?, ?)",
        (pat["public_id"], pat["id"], pat["secret_seed"], to_db(now), to_db(until)),
    )
    # A rotated token is shown inline, never on the once-only page of a new PAT,
    # so that page's one showing is used up here if it was not yet.
    db.execute(
        "UPDATE pats SET public_id = ?, secret_seed = ?, rotated_at = ?,"
        " token_shown_at = COALESCE(token_shown_at, ?) WHERE id = ?",
        (tokens.new_public_id(), tokens.new_seed(), to_db(now), to_db(now), pat["id"]),
    )
    overlap = (
        f"old token works until {to_db(until)[:16].replace('T', ' ')} UTC"
        if overlap_hours
        else "old token stopped at once"
    )
    audit.record(
        db,
        user_id=pat["user_id"],
        pat=pat,
        action="rotate",
        now=now,
        ip=ip,
        detail="; ".join(filter(None, [detail, overlap])),
    )
    return until


def end_overlap(
    db: sqlite_utils.Database, user_id: int, pat_id, *, now: datetime, ip: str | None
) -> int:
    """Stop every old token of the PAT now; returns how many were still working."""
    with transaction(db):
        pat = get_owned(db, user_id, pat_id)
        cursor = db.execute(
            "UPDATE pat_retired_secrets SET valid_until = ? WHERE pat_id = ?"
            " AND valid_until > ?",
            (to_db(now), pat["id"], to_db(now)),
        )
        if cursor.rowcount:
            audit.record(
                db, user_id=user_id, pat=pat, action="end_overlap", now=now, ip=ip
            )
    return cursor.rowcount


def overlap_left(pat: dict, now: datetime) -> str | None:
    """ "5 h 12 min" while the old token of a listed PAT still works, else None."""
    until = from_db(pat.get("old_token_until"))
    if until is None or until <= now:
        return None
    minutes = max(1, int((until - now).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def due_at(pat: dict) -> datetime | None:
    """When the policy next rotates this PAT (None: no policy)."""
    if not pat["rotation_days"]:
        return None
    since = from_db(pat["rotated_at"] or pat["created_at"])
    return since + timedelta(days=pat["rotation_days"])


def rotate_due(db: sqlite_utils.Database, now: datetime, config) -> str:
    """The scheduler's job: rotate each active PAT whose policy says so, keep its
    overlap, and tell the owner (the new token is shown with Reveal)."""
    rotated = 0
    candidates = db.conn.execute(
        "SELECT id, user_id FROM pats WHERE rotation_days IS NOT NULL"
        " AND revoked_at IS NULL AND paused_at IS NULL"
    ).fetchall()
    for pat_id, user_id in candidates:
        with transaction(db):
            # Re-read under the write lock: the owner may have just rotated it.
            pat = get_owned(db, user_id, pat_id)
            due = due_at(pat)
            if status(pat, now) != ACTIVE or due is None or due > now:
                continue
            hours = pat["rotation_overlap_hours"]
            until = rotate_within(
                db,
                pat,
                hours,
                now=now,
                ip=None,
                detail=f"rotation policy: every {pat['rotation_days']} days",
            )
            overlap = (
                f"The old token keeps working for {OVERLAP_CHOICES[hours]}, until"
                f" {to_db(until)[:16].replace('T', ' ')} UTC."
                if hours
                else "The old token stopped working at once."
            )
            notifications.notify(
                db,
                user_id=user_id,
                kind="rotated",
                title=f"“{pat['name']}” has a new token",
                body=(
                    f"Your rotation policy gave “{pat['name']}” a new token, as it does"
                    f" every {pat['rotation_days']} days. {overlap} Open your PATs,"
                    " choose Reveal, and paste the new token into your extension."
                ),
                dedupe_key=f"rotated:{pat_id}:{to_db(now)}",
                now=now,
                pat_id=pat_id,
                email_enabled=bool(config.get("SMTP_URL")),
            )
            rotated += 1
    return f"{rotated} PATs rotated"
