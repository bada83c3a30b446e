"""Requests for more PAT slots, and the admin's answers to them."""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from . import notifications
from .accounts import User
from .clock import to_db
from .db import one, transaction
from .errors import NotFound, ValidationError
from .text import clean_block, parse_id, parse_whole

MAX_SLOTS_PER_REQUEST = 10
REASON_MIN, REASON_MAX = 10, 1000
ANSWER_MAX = 500


def clean_slots(value, field: str = "slots") -> int:
    slots = parse_whole(value) or 0
    if not 1 <= slots <= MAX_SLOTS_PER_REQUEST:
        raise ValidationError(
            {field: f"Enter a number of PATs from 1 to {MAX_SLOTS_PER_REQUEST}."}
        )
    return slots


def open_request(db: sqlite_utils.Database, user_id: int) -> dict | None:
    return one(
        db,
        "SELECT * FROM slot_requests WHERE user_id = ? AND status = 'open'",
        (user_id,),
    )


def latest_answer(db: sqlite_utils.Database, user_id: int) -> dict | None:
    return one(
        db,
        "SELECT * FROM slot_requests WHERE user_id = ? AND status != 'open'"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )


def request_more(
    db: sqlite_utils.Database,
    user: User,
    slots,
    reason: str | None,
    now: datetime,
    email_enabled: bool = False,
) -> dict:
    """Ask the admins for more slots; one open request at a time.

    :raise ValidationError: a bad field, or a request is already open.
    """
    errors = {}
    try:
        slots = clean_slots(slots)
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        reason = clean_block(reason or "", "The reason", REASON_MAX)
        if len(reason) < REASON_MIN:
            raise ValueError(
                "Say in a sentence what the extra PATs are for, so an admin can decide."
            )
    except ValueError as exc:
        errors["reason"] = str(exc)
    if errors:
        raise ValidationError(errors)
    with transaction(db):
        if open_request(db, user.id):
            raise ValidationError(
                {"reason": "You already have a request waiting for an admin."}
            )
        cursor = db.execute(
            "INSERT INTO slot_requests (user_id, slots, reason, created_at)"
            " VALUES (?, ?, ?, ?)",
            (user.id, slots, reason, to_db(now)),
        )
        admins = db.execute("SELECT id FROM users WHERE is_admin = 1").fetchall()
        for (admin_id,) in admins:
            notifications.notify(
                db,
                user_id=admin_id,
                kind="slot_request_open",
                title=f"{user.email} asks for {slots} more PAT{'s' if slots != 1 else ''}",
                body=f"Their reason: {reason} Answer it on the Admin page.",
                dedupe_key=f"slot_request_open:{cursor.lastrowid}",
                now=now,
                email_enabled=email_enabled,
            )
    return one(db, "SELECT * FROM slot_requests WHERE id = ?", (cursor.lastrowid,))


def open_requests(db: sqlite_utils.Database) -> list[dict]:
    return list(
        db.query(
            "SELECT r.*, u.email, u.extra_pat_slots FROM slot_requests r"
            " JOIN users u ON u.id = r.user_id WHERE r.status = 'open' ORDER BY r.id"
        )
    )


def decide(
    db: sqlite_utils.Database,
    admin: User,
    request_id,
    *,
    approve: bool,
    granted=None,
    answer: str | None = "",
    now: datetime,
    email_enabled: bool = False,
) -> dict:
    """Approve (raising the account's limit by `granted`) or decline, and tell
    the person.

    :raise NotFound: no such open request.
    :raise ValidationError: a bad number or answer.
    """
    request_id = parse_id(request_id)
    granted = clean_slots(granted, "granted") if approve else None
    try:
        answer = clean_block(answer or "", "The answer", ANSWER_MAX)
    except ValueError as exc:
        raise ValidationError({"answer": str(exc)}) from None
    with transaction(db):
        row = one(db, "SELECT * FROM slot_requests WHERE id = ?", (request_id,))
        if row is None:
            raise NotFound()
        if row["status"] != "open":
            # Another admin (or a second click) answered first.
            raise ValidationError(
                {"decision": f"This request was already {row['status']}."}
            )
        db.execute(
            "UPDATE slot_requests SET status = ?, decided_at = ?, decided_by = ?,"
            " granted = ?, answer = ? WHERE id = ?",
            (
                "approved" if approve else "declined",
                to_db(now),
                admin.id,
                granted,
                answer,
                row["id"],
            ),
        )
        if approve:
            db.execute(
                "UPDATE users SET extra_pat_slots = extra_pat_slots + ? WHERE id = ?",
                (granted, row["user_id"]),
            )
            title = f"You can now have {granted} more PAT{'s' if granted != 1 else ''}"
            body = f"An admin approved your request for more PATs (+{granted})."
        else:
            title = "Your request for more PATs was declined"
            body = "An admin declined your request for more PATs."
        if answer:
            body += f" Their note: {answer}"
        notifications.notify(
            db,
            user_id=row["user_id"],
            kind="slot_request",
            title=title,
            body=body,
            dedupe_key=f"slot_request:{row['id']}",
            now=now,
            email_enabled=email_enabled,
        )
    return one(db, "SELECT * FROM slot_requests WHERE id = ?", (row["id"],))


def accounts_overview(
    db: sqlite_utils.Database, now: datetime, free_tier_limit: int
) -> list[dict]:
    """Every account with the slots it uses and its limit, fullest first."""
    return list(
        db.query(
            "SELECT u.id, u.email, u.is_admin, u.created_at, u.extra_pat_slots,"
            " :free + u.extra_pat_slots AS pat_limit,"
            " (SELECT COUNT(*) FROM pats p WHERE p.user_id = u.id"
            "  AND p.revoked_at IS NULL AND (p.expires_at IS NULL OR p.expires_at > :now))"
            "  AS slots_used,"
            " (SELECT COUNT(*) FROM pats p WHERE p.user_id = u.id) AS pats_ever,"
            " (SELECT COUNT(*) FROM slot_requests r WHERE r.user_id = u.id"
            "  AND r.status = 'open') AS open_requests"
            " FROM users u ORDER BY slots_used * 1.0 / (:free + u.extra_pat_slots) DESC,"
            " u.email",
            {"free": free_tier_limit, "now": to_db(now)},
        )
    )
