"""The usage record: one event per API request made with a genuine PAT, rollup
counts kept up to date as requests arrive, per-IP counts for unknown tokens,
filters for the per-PAT log, and pruning of old events."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlite_utils

from .clock import UTC, end_of_day, to_db, zone
from .db import one, transaction
from .errors import ValidationError
from .text import parse_day
from .tokens import redact

SLOT_SECONDS = 15 * 60
USER_AGENT_MAX = 200
UNKNOWN_IPS_PER_DAY = 10_000
OVERFLOW_IP = "(other)"
DEFAULT_RETENTION_DAYS = 90
PAGE_SIZE = 50

SUCCESS_OUTCOMES = ("submission", "ok")
# Every outcome the API records, with how the log names it.
OUTCOME_LABELS = {
    "submission": "Submission saved",
    "ok": "OK",
    "revoked": "Refused: revoked",
    "expired": "Refused: expired",
    "paused": "Refused: paused",
    "rotated": "Refused: replaced by rotation",
    "ip_not_allowed": "Refused: network not allowed",
    "origin_not_allowed": "Refused: extension not allowed",
    "insufficient_scope": "Refused: missing scope",
    "validation_error": "Invalid fields",
    "template_not_found": "CV template not found",
    "malformed_json": "Malformed JSON",
    "payload_too_large": "Body too large",
    "unsupported_media_type": "Not JSON",
    "rate_limited": "Rate limited",
    "idempotency_conflict": "Idempotency-Key reused",
    "not_found": "No such API address",
    "method_not_allowed": "Wrong method",
    "error": "Server error",
}


def bucket_of(moment: datetime) -> int:
    seconds = int(moment.timestamp())
    return seconds - seconds % SLOT_SECONDS


def local_day(moment: datetime, tz_name: str | None) -> str:
    return moment.astimezone(zone(tz_name)).date().isoformat()


_ROLLUP_SQL = (
    "INSERT INTO usage_rollups (pat_id, user_id, bucket, outcome, count) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (pat_id, bucket, outcome) DO UPDATE SET count = count + excluded.count"
)
_DAILY_SQL = (
    "INSERT INTO usage_daily (pat_id, user_id, day, outcome, count) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (pat_id, day, outcome) DO UPDATE SET count = count + excluded.count"
)


def add_counts(db: sqlite_utils.Database, rollups, daily) -> None:
    """Add (pat, user, bucket or day, outcome, n) rows to the two rollup tables.

    Callers hold a write transaction.
    """
    db.conn.executemany(_ROLLUP_SQL, rollups)
    db.conn.executemany(_DAILY_SQL, daily)


def rebuild_daily(db: sqlite_utils.Database, user_id: int, tz_name: str | None) -> None:
    """Recount an account's per-day rows in a new timezone from the 15-minute rollups.

    Every UTC offset is a whole number of quarter hours, so each slot falls inside
    exactly one local day. Callers hold a write transaction.
    """
    tz, days = zone(tz_name), {}
    cursor = db.conn.execute(
        "SELECT pat_id, bucket, outcome, count FROM usage_rollups WHERE user_id = ?",
        (user_id,),
    )
    day_of = {}
    for pat_id, bucket, outcome, count in cursor:
        day = day_of.get(bucket)
        if day is None:
            day = day_of[bucket] = datetime.fromtimestamp(bucket, tz).date().isoformat()
        key = (pat_id, day, outcome)
        days[key] = days.get(key, 0) + count
    db.conn.execute("DELETE FROM usage_daily WHERE user_id = ?", (user_id,))
    db.conn.executemany(
        "INSERT INTO usage_daily (pat_id, user_id, day, outcome, count) VALUES (?, ?, ?, ?, ?)",
        [
            (pat_id, user_id, day, outcome, n)
            for (pat_id, day, outcome), n in days.items()
        ],
    )


def is_failure(outcome: str) -> bool:
    return outcome not in SUCCESS_OUTCOMES


def record_within(
    db: sqlite_utils.Database,
    *,
    pat: dict,
    at: datetime,
    ip: str | None,
    user_agent: str | None,
    method: str,
    path: str,
    status: int,
    outcome: str,
    job_url: str | None = None,
    submission_id: int | None = None,
    keep_event: bool = True,
    old_secret: bool = False,
) -> None:
    """Log one request made with a PAT, bump its rollups, and on success its last use.

    The caller holds a write transaction (so a submission and its usage record can
    commit together). The owner's timezone decides the day the request counts in;
    read under the write lock, a timezone change (which recounts the days) cannot
    slip in between and leave this request on a day of the old timezone.

    keep_event=False (for a client hammering past its rate limit) still counts the
    request in the rollups, which do not grow, but adds no row to the log.
    """
    stamp = to_db(at)
    tz_name = owner_timezone(db, pat["user_id"])
    if keep_event:
        db.conn.execute(
            "INSERT INTO usage_events (pat_id, user_id, at, ip, user_agent, method, path,"
            " status, outcome, job_url, submission_id, old_secret)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                pat["id"],
                pat["user_id"],
                stamp,
                ip,
                redact(user_agent or "")[:USER_AGENT_MAX] or None,
                method,
                redact(path)[:500],
                status,
                outcome,
                job_url,
                submission_id,
                int(old_secret),
            ),
        )
    add_counts(
        db,
        [(pat["id"], pat["user_id"], bucket_of(at), outcome, 1)],
        [(pat["id"], pat["user_id"], local_day(at, tz_name), outcome, 1)],
    )
    if not is_failure(outcome):
        db.conn.execute(
            "UPDATE pats SET last_used_at = ?, last_used_ip = ?,"
            " submission_count = submission_count + ? WHERE id = ?",
            (stamp, ip, int(outcome == "submission"), pat["id"]),
        )


def record_unknown(
    db: sqlite_utils.Database, *, at: datetime, ip: str | None, user_agent: str | None
) -> None:
    """Count a request whose token names no PAT, per IP and UTC day.

    Past UNKNOWN_IPS_PER_DAY distinct addresses in a day, further ones share one
    row, so a flood from many addresses cannot fill the disk.
    """
    day, stamp, ip = at.astimezone(UTC).date().isoformat(), to_db(at), ip or "unknown"
    agent = (user_agent or "")[:USER_AGENT_MAX] or None
    with transaction(db):
        seen = db.conn.execute(
            "SELECT 1 FROM unknown_token_attempts WHERE day = ? AND ip = ?", (day, ip)
        ).fetchone()
        if not seen:
            distinct = db.conn.execute(
                "SELECT COUNT(*) FROM unknown_token_attempts WHERE day = ?", (day,)
            ).fetchone()[0]
            if distinct >= UNKNOWN_IPS_PER_DAY:
                ip = OVERFLOW_IP
        db.conn.execute(
            "INSERT INTO unknown_token_attempts (day, ip, count, first_at, last_at, user_agent)"
            " VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (day, ip) DO UPDATE SET"
            " count = count + 1, last_at = excluded.last_at, user_agent = excluded.user_agent",
            (day, ip, stamp, stamp, agent),
        )


@dataclass(frozen=True)
class LogFilter:
    start: date | None = None
    end: date | None = None
    outcome: str | None = None  # "success", "failure" or one of OUTCOME_LABELS
    ip: str | None = None

    def as_args(self) -> dict:
        """The filter as query-string arguments (for links and the CSV export)."""
        args = {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "outcome": self.outcome,
            "ip": self.ip,
        }
        return {k: v for k, v in args.items() if v}


def _parse_day(value: str | None, label: str) -> date | None:
    try:
        return parse_day(value, label)
    except ValueError as exc:
        raise ValidationError({label: str(exc)}) from None


def parse_filter(args) -> LogFilter:
    """Read filters from query arguments.

    :raise ValidationError: a date is malformed, the range is backwards, or the
        outcome is unknown.
    """
    start, end = _parse_day(args.get("from"), "from"), _parse_day(args.get("to"), "to")
    if start and end and start > end:
        raise ValidationError({"to": "The end date is before the start date."})
    outcome = (args.get("outcome") or "").strip() or None
    if outcome and outcome not in ("success", "failure", *OUTCOME_LABELS):
        raise ValidationError({"outcome": "Choose an outcome from the list."})
    ip = (args.get("ip") or "").strip() or None
    if ip is not None:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise ValidationError(
                {"ip": "Enter one IP address, like 203.0.113.7 or 2001:db8::1."}
            ) from None
    return LogFilter(start=start, end=end, outcome=outcome, ip=ip)


def _where(pat_id: int, flt: LogFilter, tz_name: str | None) -> tuple[str, list]:
    clauses, params = ["pat_id = ?"], [pat_id]
    if flt.start:
        local_start = datetime.combine(flt.start, time(0), tzinfo=zone(tz_name))
        clauses.append("at >= ?")
        params.append(to_db(local_start))
    if flt.end:
        clauses.append("at < ?")
        params.append(to_db(end_of_day(flt.end, tz_name)))
    if flt.outcome == "success":
        clauses.append("outcome IN ('submission', 'ok')")
    elif flt.outcome == "failure":
        clauses.append("outcome NOT IN ('submission', 'ok')")
    elif flt.outcome:
        clauses.append("outcome = ?")
        params.append(flt.outcome)
    if flt.ip:
        clauses.append("ip = ?")
        params.append(flt.ip)
    return " AND ".join(clauses), params


def events_page(
    db: sqlite_utils.Database,
    pat_id: int,
    flt: LogFilter,
    tz_name: str | None,
    before_id: int | None = None,
    size: int = PAGE_SIZE,
) -> tuple[list[dict], int | None]:
    """Newest-first events matching the filter, and the cursor for the next page."""
    where, params = _where(pat_id, flt, tz_name)
    if before_id is not None:
        where += " AND id < ?"
        params.append(before_id)
    rows = list(
        db.query(
            f"SELECT * FROM usage_events WHERE {where} ORDER BY id DESC LIMIT ?",
            [*params, size + 1],
        )
    )
    more = rows[size - 1]["id"] if len(rows) > size else None
    return rows[:size], more


def iter_events(
    db: sqlite_utils.Database, pat_id: int, flt: LogFilter, tz_name: str | None
):
    """Every event matching the filter, newest first, for export."""
    where, params = _where(pat_id, flt, tz_name)
    cursor = db.conn.execute(
        f"SELECT * FROM usage_events WHERE {where} ORDER BY id DESC", params
    )
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def prune(db: sqlite_utils.Database, now: datetime, retention_days: int) -> int:
    """Delete raw events older than the retention period; rollups stay."""
    cutoff = to_db(now - timedelta(days=retention_days))
    deleted = 0
    while True:
        # Small batches keep each write transaction short while the app serves.
        with transaction(db):
            cursor = db.conn.execute(
                "DELETE FROM usage_events WHERE id IN"
                " (SELECT id FROM usage_events WHERE at < ? LIMIT 5000)",
                (cutoff,),
            )
        deleted += cursor.rowcount
        if cursor.rowcount < 5000:
            return deleted


def backfill_submissions(db: sqlite_utils.Database) -> None:
    """Derive hosts, tallies and 'submission' rollups for submissions stored before
    usage tracking existed (called by migration 2 inside its transaction)."""
    from .clock import from_db
    from .submissions import job_host

    rows = db.conn.execute(
        "SELECT s.id, s.user_id, s.pat_id, s.url, s.company, s.created_at, u.timezone"
        " FROM submissions s JOIN users u ON u.id = s.user_id"
    ).fetchall()
    for sub_id, user_id, pat_id, url, company, created_at, tz_name in rows:
        host = job_host(url)
        db.conn.execute(
            "UPDATE submissions SET job_host = ? WHERE id = ?", (host, sub_id)
        )
        for kind, value in (("host", host), ("company", company)):
            if value:
                db.conn.execute(
                    "INSERT INTO submission_tallies (user_id, kind, value, count) VALUES (?,?,?,1)"
                    " ON CONFLICT DO UPDATE SET count = count + 1",
                    (user_id, kind, value),
                )
        if pat_id is not None:
            db.conn.execute(
                "UPDATE pats SET submission_count = submission_count + 1 WHERE id = ?",
                (pat_id,),
            )
            at = from_db(created_at)
            add_counts(
                db,
                [(pat_id, user_id, bucket_of(at), "submission", 1)],
                [(pat_id, user_id, local_day(at, tz_name), "submission", 1)],
            )


def owner_timezone(db: sqlite_utils.Database, user_id: int) -> str:
    return one(db, "SELECT timezone FROM users WHERE id = ?", (user_id,))["timezone"]
