"""Notices for a person: kept in the database, told once, emailed when wanted."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlite_utils

from .clock import to_db
from .db import one
from .errors import NotFound

KINDS = {
    "sudden_increase": "Sudden increase in submissions",
    "unknown_location": "Use from a new network",
    "off_hours": "Use outside your normal hours",
    "duplicates": "Repeated submissions of the same jobs",
    "expired": "A PAT expired",
    "expiry_reminder": "A PAT expires soon",
    "weekly_digest": "Weekly review",
    "rotated": "A PAT was rotated by its policy",
    "slot_request": "An answer to your request for more PATs",
    "slot_request_open": "A request for more PATs waits for an admin",
}


def settings(db: sqlite_utils.Database, user_id: int) -> dict:
    """The person's alert settings (defaults until they change them)."""
    row = one(db, "SELECT * FROM alert_settings WHERE user_id = ?", (user_id,))
    if row is None:
        db.conn.execute(
            "INSERT OR IGNORE INTO alert_settings (user_id) VALUES (?)", (user_id,)
        )
        row = one(db, "SELECT * FROM alert_settings WHERE user_id = ?", (user_id,))
    return row


def notify(
    db: sqlite_utils.Database,
    *,
    user_id: int,
    kind: str,
    title: str,
    body: str,
    dedupe_key: str,
    now: datetime,
    pat_id: int | None = None,
    email_enabled: bool = False,
) -> bool:
    """Record a notice unless one with the same dedupe key exists; queue its email
    when the person wants this kind by email. The caller holds a write transaction.

    :return: whether a new notice was made.
    """
    cursor = db.conn.execute(
        "INSERT OR IGNORE INTO notifications (user_id, pat_id, kind, title, body,"
        " dedupe_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, pat_id, kind, title, body, dedupe_key, to_db(now)),
    )
    if cursor.rowcount == 0:
        return False
    wanted = settings(db, user_id)["email_kinds"].split(",")
    if email_enabled and kind in wanted:
        email = db.conn.execute(
            "SELECT email FROM users WHERE id = ?", (user_id,)
        ).fetchone()[0]
        db.conn.execute(
            "INSERT INTO outbox (notification_id, to_address, subject, body, created_at,"
            " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                cursor.lastrowid,
                email,
                f"[PAT Manager] {title}",
                body,
                to_db(now),
                to_db(now),
            ),
        )
    return True


def unread_count(db: sqlite_utils.Database, user_id: int) -> int:
    return db.conn.execute(
        "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL",
        (user_id,),
    ).fetchone()[0]


def recent(db: sqlite_utils.Database, user_id: int, limit: int = 100) -> list[dict]:
    return list(
        db.query(
            "SELECT n.*, p.name AS pat_name, p.revoked_at AS pat_revoked_at"
            " FROM notifications n LEFT JOIN pats p ON p.id = n.pat_id"
            " WHERE n.user_id = ? ORDER BY n.id DESC LIMIT ?",
            (user_id, limit),
        )
    )


def get_owned(db: sqlite_utils.Database, user_id: int, notice_id) -> dict:
    """One of the person's notices, or NotFound (also for someone else's)."""
    row = one(
        db,
        "SELECT n.*, p.name AS pat_name, p.revoked_at AS pat_revoked_at"
        " FROM notifications n LEFT JOIN pats p ON p.id = n.pat_id"
        " WHERE n.id = ? AND n.user_id = ?",
        (notice_id, user_id),
    )
    if row is None:
        raise NotFound()
    return row


def mark_read(
    db: sqlite_utils.Database, user_id: int, now: datetime, notice_id=None
) -> int:
    """Mark one notice (or all) as read; returns how many changed."""
    sql = "UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL"
    params: list = [to_db(now), user_id]
    if notice_id is not None:
        sql += " AND id = ?"
        params.append(notice_id)
    return db.conn.execute(sql, params).rowcount


def prune(db: sqlite_utils.Database, now: datetime, days: int = 365) -> int:
    """Notices read over a year ago go; unread ones stay. Expiry notices stay while
    their PAT exists: their key is what stops the same news being told again."""
    return db.conn.execute(
        "DELETE FROM notifications WHERE read_at IS NOT NULL AND read_at < ?"
        " AND kind NOT IN ('expired', 'expiry_reminder')",
        (to_db(now - timedelta(days=days)),),
    ).rowcount


def update_settings(db: sqlite_utils.Database, user_id: int, form) -> dict:
    """Check and save the alert settings from the settings form.

    :raise ValidationError: with a message per field.
    """
    import ipaddress

    from .errors import ValidationError

    errors, values = {}, {}
    raw_multiplier = str(form.get("spike_multiplier", "")).strip()
    try:
        if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3})?", raw_multiplier):
            raise ValueError
        values["spike_multiplier"] = float(raw_multiplier)
        if not 1.5 <= values["spike_multiplier"] <= 50:
            raise ValueError
    except ValueError:
        errors["spike_multiplier"] = "Use a number from 1.5 to 50, such as 3."
    for field, low, high, message in [
        ("spike_floor", 1, 100_000, "Use a whole number of submissions, at least 1."),
        ("work_start_hour", 0, 23, "Choose an hour from 0 to 23."),
        ("work_end_hour", 1, 24, "Choose an hour from 1 to 24."),
    ]:
        raw = str(form.get(field, "")).strip()
        if re.fullmatch(r"[0-9]{1,6}", raw) and low <= int(raw) <= high:
            values[field] = int(raw)
        else:
            errors[field] = message
    start, end = values.get("work_start_hour"), values.get("work_end_hour")
    if start is not None and end is not None and start >= end:
        errors["work_end_hour"] = "The end of your day must come after its start."
    days = sorted(
        {d for d in form.getlist("work_days") if d in "0123456" and len(d) == 1}
    )
    if not days:
        errors["work_days"] = "Choose at least one working day."
    values["work_days"] = "".join(days)
    leads = sorted(
        {d.strip() for d in str(form.get("reminder_days", "")).split(",") if d.strip()}
    )
    if not leads or not all(
        d.isascii() and d.isdigit() and 1 <= int(d) <= 60 for d in leads
    ):
        errors["reminder_days"] = (
            "List days from 1 to 60, separated by commas, such as 7, 1."
        )
    values["reminder_days"] = ",".join(
        sorted(leads, key=lambda d: -int(d) if d.isdigit() else 0)
    )
    values["email_kinds"] = ",".join(
        k for k in form.getlist("email_kinds") if k in KINDS
    )
    networks = []
    lines = str(form.get("known_networks", "")).split()
    if len(lines) > 100:
        errors["known_networks"] = "List at most 100 networks."
        lines = []
    for line in lines:
        try:
            networks.append(str(ipaddress.ip_network(line, strict=False)))
        except ValueError:
            errors["known_networks"] = (
                f"“{line[:50]}” is not an address or network like 203.0.113.0/24."
            )
    values["known_networks"] = "\n".join(networks)
    if errors:
        raise ValidationError(errors)
    settings(db, user_id)
    db.conn.execute(
        "UPDATE alert_settings SET spike_multiplier = :spike_multiplier,"
        " spike_floor = :spike_floor, work_start_hour = :work_start_hour,"
        " work_end_hour = :work_end_hour, work_days = :work_days,"
        " reminder_days = :reminder_days, email_kinds = :email_kinds,"
        " known_networks = :known_networks WHERE user_id = :user_id",
        {**values, "user_id": user_id},
    )
    return settings(db, user_id)
