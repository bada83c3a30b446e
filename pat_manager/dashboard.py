"""Usage figures for the dashboard, read from the rollups (never the raw log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlite_utils

from . import pats as pats_service
from .clock import from_db, local_today

CHART_DAYS = 90
SPARK_DAYS = 30
UNUSED_DAYS = 30
TOP_N = 10


def recent_days(now: datetime, tz_name: str | None, days: int) -> list[date]:
    """The last `days` calendar days in the person's timezone, oldest first."""
    today = local_today(now, tz_name)
    return [today - timedelta(days=back) for back in range(days - 1, -1, -1)]


def daily_counts(
    db: sqlite_utils.Database, user_id: int, since: date
) -> dict[tuple[int, str], tuple[int, int]]:
    """(pat id, ISO day) -> (submissions, failed requests), from the daily rollup."""
    cursor = db.conn.execute(
        "SELECT pat_id, day,"
        "  SUM(CASE WHEN outcome = 'submission' THEN count ELSE 0 END),"
        "  SUM(CASE WHEN outcome IN ('submission', 'ok') THEN 0 ELSE count END)"
        " FROM usage_daily WHERE user_id = ? AND day >= ? GROUP BY pat_id, day",
        (user_id, since.isoformat()),
    )
    return {(pat_id, day): (subs, failed) for pat_id, day, subs, failed in cursor}


@dataclass
class PatUsage:
    pat: dict
    status: str
    today: int = 0
    week: int = 0
    month: int = 0
    total: int = 0
    failed_week: int = 0
    spark: list[int] = field(default_factory=list)
    unused: bool = False


def _unused(pat: dict, status: str, now: datetime) -> bool:
    """Active, and not used for UNUSED_DAYS (or never, by a PAT at least that old)."""
    if status != pats_service.ACTIVE:
        return False
    cutoff = now - timedelta(days=UNUSED_DAYS)
    last = from_db(pat["last_used_at"]) or from_db(pat["created_at"])
    return last <= cutoff


def overview(db: sqlite_utils.Database, user, now: datetime):
    """Per-PAT usage rows and the account's daily series for the chart."""
    days = recent_days(now, user.timezone, CHART_DAYS)
    counts = daily_counts(db, user.id, days[0])
    keys = [day.isoformat() for day in days]
    rows, series = [], []
    for pat in pats_service.list_for_user(db, user.id):
        per_day = [counts.get((pat["id"], key), (0, 0)) for key in keys]
        submissions = [subs for subs, _ in per_day]
        status = pats_service.status(pat, now)
        rows.append(
            PatUsage(
                pat=pat,
                status=status,
                today=submissions[-1],
                week=sum(submissions[-7:]),
                month=sum(submissions[-SPARK_DAYS:]),
                total=pat["submission_count"],
                failed_week=sum(failed for _, failed in per_day[-7:]),
                spark=submissions[-SPARK_DAYS:],
                unused=_unused(pat, status, now),
            )
        )
        if any(submissions):
            series.append((pat, submissions))
    return rows, days, series


def top_values(
    db: sqlite_utils.Database, user_id: int, kind: str, n: int = TOP_N
) -> list[dict]:
    return list(
        db.query(
            "SELECT value, count FROM submission_tallies WHERE user_id = ? AND kind = ?"
            " ORDER BY count DESC, value LIMIT ?",
            (user_id, kind, n),
        )
    )
