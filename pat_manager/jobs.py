"""Background jobs. Each is idempotent (notices are deduplicated, work is looked
up from state, not from when the job last ran), so a double run, an overlap or a
restart tells nothing twice, and after downtime a job catches up in one run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from . import detectors, idempotency, mailer, notifications, pats, rotation, usage
from .clock import from_db, to_db, zone
from .db import transaction

log = logging.getLogger(__name__)
DETECT_BATCHES_PER_RUN = 10


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable
    description: str


def _email_on(config) -> bool:
    return bool(config.get("SMTP_URL"))


def detect(db, now, config) -> str:
    """Batches of new usage, each in a short transaction of its own, so requests
    keep flowing between them; a larger backlog is finished by later runs."""
    for _ in range(DETECT_BATCHES_PER_RUN):
        with transaction(db):
            cursor = db.conn.execute(
                "SELECT cursor FROM job_runs WHERE name = 'detect'"
            ).fetchone()[0]
            new_cursor = detectors.run(db, now, cursor, _email_on(config))
            db.conn.execute(
                "UPDATE job_runs SET cursor = ? WHERE name = 'detect'", (new_cursor,)
            )
        if new_cursor == cursor:
            break
    return f"events up to {new_cursor}"


def expire_pats(db, now, config) -> str:
    """A notice for each PAT whose expiry has passed (its status follows the clock)."""
    told = 0
    with transaction(db):
        rows = db.conn.execute(
            "SELECT id, user_id, name, expires_at FROM pats WHERE revoked_at IS NULL"
            " AND expires_at IS NOT NULL AND expires_at <= ? AND expires_at > ?",
            (to_db(now), to_db(now - timedelta(days=30))),
        ).fetchall()
        for pat_id, user_id, name, expires_at in rows:
            told += notifications.notify(
                db,
                user_id=user_id,
                kind="expired",
                pat_id=pat_id,
                now=now,
                title=f"“{name}” has expired",
                body=f"“{name}” expired on {expires_at[:16].replace('T', ' ')} UTC. Extensions "
                "using it are refused with “Invalid PAT token”. Create a new PAT with the same "
                "settings and update your extension.",
                dedupe_key=f"expired:{pat_id}",
                email_enabled=_email_on(config),
            )
    return f"{told} expiry notices"


def expiry_reminders(db, now, config) -> str:
    told = 0
    with transaction(db):
        rows = db.conn.execute(
            "SELECT p.id, p.user_id, p.name, p.expires_at, u.timezone FROM pats p"
            " JOIN users u ON u.id = p.user_id WHERE p.revoked_at IS NULL"
            " AND p.expires_at IS NOT NULL AND p.expires_at > ?",
            (to_db(now),),
        ).fetchall()
        for pat_id, user_id, name, expires_text, tz in rows:
            expires_at = from_db(expires_text)
            leads = notifications.settings(db, user_id)["reminder_days"]
            for lead in sorted(
                {int(d) for d in leads.split(",") if d.strip().isdigit()}
            ):
                if now < expires_at - timedelta(days=lead):
                    continue
                told += notifications.notify(
                    db,
                    user_id=user_id,
                    kind="expiry_reminder",
                    pat_id=pat_id,
                    now=now,
                    title=f"“{name}” expires in {lead} day{'s' if lead != 1 else ''} or less",
                    body=f"“{name}” works until the end of {pats.last_day(expires_text, tz)}"
                    f" ({tz}). Extend it on the PATs page (Edit), or create its replacement"
                    " and update your extension, so no submission is refused.",
                    dedupe_key=f"reminder:{pat_id}:{lead}",
                    email_enabled=_email_on(config),
                )
    return f"{told} reminders"


def weekly_digest(db, now, config) -> str:
    """Monday from 08:00 in each person's timezone: last week's use of every PAT."""
    told = 0
    with transaction(db):
        users = db.conn.execute("SELECT id, timezone FROM users").fetchall()
        for user_id, tz in users:
            local = now.astimezone(zone(tz))
            if local.weekday() != 0 or local.hour < 8:
                continue
            week = local.strftime("%G-W%V")
            since = (local.date() - timedelta(days=7)).isoformat()
            lines = []
            for name, subs, failed in db.conn.execute(
                "SELECT p.name,"
                " COALESCE(SUM(CASE WHEN d.outcome = 'submission' THEN d.count END), 0),"
                " COALESCE(SUM(CASE WHEN d.outcome NOT IN ('submission', 'ok')"
                "  THEN d.count END), 0)"
                " FROM pats p LEFT JOIN usage_daily d ON d.pat_id = p.id AND d.day >= ?"
                "  AND d.day < ? WHERE p.user_id = ? AND p.revoked_at IS NULL"
                " GROUP BY p.id ORDER BY p.name",
                (since, local.date().isoformat(), user_id),
            ):
                lines.append(f"• {name}: {subs} submissions, {failed} failed requests")
            warnings = db.conn.execute(
                "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND created_at >= ?"
                " AND kind IN ('sudden_increase', 'unknown_location', 'off_hours', 'duplicates')",
                (user_id, to_db(now - timedelta(days=7))),
            ).fetchone()[0]
            body = "\n".join(lines or ["You have no active PATs."])
            body += (
                f"\n\nWarning signs this week: {warnings}. Review them under Alerts."
            )
            told += notifications.notify(
                db,
                user_id=user_id,
                kind="weekly_digest",
                now=now,
                title=f"Your weekly PAT review ({week})",
                body=body,
                dedupe_key=f"digest:{week}",
                email_enabled=_email_on(config),
            )
    return f"{told} digests"


def prune(db, now, config) -> str:
    events = usage.prune(db, now, config["USAGE_RETENTION_DAYS"])
    with transaction(db):
        keys = idempotency.prune(db, now)
        old = notifications.prune(db, now)
        db.conn.execute(
            "DELETE FROM rate_limits WHERE window_start < ?",
            (int((now - timedelta(days=1)).timestamp()),),
        )
    return f"{events} usage rows, {keys} idempotency keys, {old} old notices"


def flush_outbox(db, now, config) -> str:
    if not config.get("SMTP_URL"):
        return "email is off"
    sent = mailer.flush(db, mailer.parse_smtp_url(config["SMTP_URL"]), now)
    return f"{sent} sent"


JOBS = {
    job.name: job
    for job in [
        Job(
            "detect",
            timedelta(minutes=1),
            detect,
            "look for warning signs in new usage",
        ),
        Job(
            "expire_pats",
            timedelta(minutes=1),
            expire_pats,
            "tell owners of expired PATs",
        ),
        Job(
            "expiry_reminders",
            timedelta(minutes=10),
            expiry_reminders,
            "remind before PATs expire",
        ),
        Job(
            "weekly_digest",
            timedelta(minutes=10),
            weekly_digest,
            "Monday-morning review of each PAT",
        ),
        Job(
            "rotate_due",
            timedelta(minutes=10),
            rotation.rotate_due,
            "rotate PATs whose rotation policy is due",
        ),
        Job("flush_outbox", timedelta(seconds=30), flush_outbox, "send queued email"),
        Job(
            "prune", timedelta(days=1), prune, "prune old usage rows, keys and notices"
        ),
    ]
}


def run_job(db: sqlite_utils.Database, name: str, now: datetime, config) -> str:
    """Run one job now (the CLI's `jobs run`, and the scheduler), recording it."""
    job = JOBS[name]
    with transaction(db):
        db.conn.execute("INSERT OR IGNORE INTO job_runs (name) VALUES (?)", (name,))
        db.conn.execute(
            "UPDATE job_runs SET last_started_at = ? WHERE name = ?", (to_db(now), name)
        )
    try:
        result = job.run(db, now, config)
    except Exception as exc:
        log.exception("job %s failed", name)
        with transaction(db):
            db.conn.execute(
                "UPDATE job_runs SET last_error = ? WHERE name = ?",
                (str(exc)[:500], name),
            )
        raise
    with transaction(db):
        db.conn.execute(
            "UPDATE job_runs SET last_finished_at = ?, last_error = NULL WHERE name = ?",
            (to_db(now), name),
        )
    log.info("job %s: %s", name, result)
    return result


def run_due(
    db: sqlite_utils.Database, now: datetime, config, still_leading=None
) -> list[str]:
    """Run every job whose interval has passed since its last start.

    `still_leading` renews the scheduler's lease between jobs; if the lease was
    lost (a job ran long and another worker took over), the rest wait their turn
    there.
    """
    ran = []
    for name, job in JOBS.items():
        if ran and still_leading is not None and not still_leading():
            break
        row = db.conn.execute(
            "SELECT last_started_at FROM job_runs WHERE name = ?", (name,)
        ).fetchone()
        last = from_db(row[0]) if row and row[0] else None
        if last is not None and now - last < job.every:
            continue
        try:
            run_job(db, name, now, config)
        except Exception:
            continue  # logged; the next tick tries again
        ran.append(name)
    return ran
