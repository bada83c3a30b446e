"""Notices for a person: kept in the database, told once, emailed when wanted."""

from __future__ import annotations

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
    """Read notices older than a year go; unread ones stay until read."""
    return db.conn.execute(
        "DELETE FROM notifications WHERE read_at IS NOT NULL AND created_at < ?",
        (to_db(now - timedelta(days=days)),),
    ).rowcount
