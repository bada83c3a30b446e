"""Rate limits, counted in SQLite so every gunicorn worker (and process on the
box) shares one count: fixed windows per key."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from .db import transaction


@dataclass(frozen=True)
class Limit:
    name: str
    max: int
    window: int  # seconds

    def describe(self) -> str:
        minutes = self.window // 60
        span = f"{minutes} minutes" if minutes > 1 else "minute"
        return f"{self.max} per {span}"


LOGIN_PER_ACCOUNT = Limit("login-account", 10, 15 * 60)
LOGIN_PER_IP = Limit("login-ip", 30, 15 * 60)
# Counted per login session, so a stolen session that burns its tries cannot stop
# the owner from re-entering their password (to change it and end that session).
REVEAL_PASSWORD = Limit("reveal-password", 5, 15 * 60)
BAD_TOKEN_PER_IP = Limit("bad-token-ip", 30, 60)


def api_limit(per_minute: int) -> Limit:
    return Limit("api-pat", per_minute, 60)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0


def _window(limit: Limit, now: datetime) -> tuple[int, int]:
    seconds = int(now.timestamp())
    start = seconds - seconds % limit.window
    return start, start + limit.window - seconds


def _key(limit: Limit, subject) -> str:
    return f"{limit.name}:{subject}"


def check(db: sqlite_utils.Database, limit: Limit, subject, now: datetime) -> Decision:
    """Whether `subject` is still under the limit, without counting this call."""
    start, remaining = _window(limit, now)
    row = db.conn.execute(
        "SELECT count FROM rate_limits WHERE key = ? AND window_start = ?",
        (_key(limit, subject), start),
    ).fetchone()
    if row and row[0] >= limit.max:
        return Decision(False, max(1, remaining))
    return Decision(True)


def count(db: sqlite_utils.Database, limit: Limit, subject, now: datetime) -> Decision:
    """Count one event for `subject` inside the caller's write transaction."""
    start, remaining = _window(limit, now)
    total = db.conn.execute(
        "INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)"
        " ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1"
        " RETURNING count",
        (_key(limit, subject), start),
    ).fetchone()[0]
    if total == 1 and random.random() < 0.02:
        # Now and then, drop windows that ended, so the table stays small.
        db.conn.execute(
            "DELETE FROM rate_limits WHERE window_start < ?", (start - 24 * 3600,)
        )
    if total > limit.max:
        return Decision(False, max(1, remaining))
    return Decision(True)


def hit(db: sqlite_utils.Database, limit: Limit, subject, now: datetime) -> Decision:
    """Count one event for `subject`; refused once the window's count passes the limit."""
    with transaction(db):
        return count(db, limit, subject, now)


def attempt(
    db: sqlite_utils.Database, limit: Limit, subject, now: datetime
) -> Decision:
    """Count a password attempt before checking it, so attempts made at the same
    moment cannot all pass the limit; `forgive` takes back one that succeeded,
    so only failures use up the budget."""
    return hit(db, limit, subject, now)


def forgive(db: sqlite_utils.Database, limit: Limit, subject, now: datetime) -> None:
    """Take back one `attempt` (pass the same `now`, so it is the same window)."""
    start, _ = _window(limit, now)
    with transaction(db):
        db.conn.execute(
            "UPDATE rate_limits SET count = count - 1"
            " WHERE key = ? AND window_start = ? AND count > 0",
            (_key(limit, subject), start),
        )
