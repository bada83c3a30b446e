"""The audit log: every change to a PAT, who made it from where, and when."""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from .clock import to_db

ACTIONS = {
    "create": "Created",
    "reveal": "Revealed",
    "edit": "Edited",
    "pause": "Paused",
    "resume": "Resumed",
    "rotate": "Rotated",
    "end_overlap": "Old token stopped",
    "revoke": "Revoked",
    "template": "Template changed",
}
PAGE_SIZE = 50


def record(
    db: sqlite_utils.Database,
    *,
    user_id: int,
    pat: dict | None,
    action: str,
    now: datetime,
    ip: str | None,
    detail: str = "",
) -> None:
    """One audit entry; the caller holds the write transaction of the change."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    db.conn.execute(
        "INSERT INTO audit_events (user_id, pat_id, pat_name, action, detail, ip, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            user_id,
            pat["id"] if pat else None,
            pat["name"] if pat else None,
            action,
            detail[:500],
            ip,
            to_db(now),
        ),
    )


def page(
    db: sqlite_utils.Database,
    user_id: int,
    *,
    before: int | None = None,
    pat_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[dict], int | None]:
    """Newest first; returns the rows and the id to continue before (or None)."""
    where, params = ["user_id = ?"], [user_id]
    if before is not None:
        where.append("id < ?")
        params.append(before)
    if pat_id is not None:
        where.append("pat_id = ?")
        params.append(pat_id)
    rows = list(
        db.query(
            f"SELECT * FROM audit_events WHERE {' AND '.join(where)}"
            " ORDER BY id DESC LIMIT ?",
            [*params, limit + 1],
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1]["id"] if more else None
