"""Numbered schema migrations, applied in order at start-up.

Each migration runs inside one write transaction together with the bump of
`PRAGMA user_version`, so a crash leaves the file at the old or the new version,
never between. Re-running is a no-op. Applied migrations are also listed, with
their time, in `schema_migrations` for operators.
"""

from __future__ import annotations

import logging

import sqlite_utils

from .clock import SystemClock, to_db
from .db import enable_wal, transaction

log = logging.getLogger(__name__)

_0001_foundation = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    extra_pat_slots INTEGER NOT NULL DEFAULT 0,
    default_template_id INTEGER REFERENCES cv_templates(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE cv_templates (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX cv_templates_user_name ON cv_templates(user_id, name COLLATE NOCASE);

-- template_choice: 'default' (the account's default template), 'custom'
-- (template_id; NULL after that template was deleted, which makes the PAT
-- broken until fixed) or 'none'.
CREATE TABLE pats (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    public_id TEXT NOT NULL UNIQUE,
    secret_seed TEXT NOT NULL,
    name TEXT NOT NULL,
    template_choice TEXT NOT NULL CHECK (template_choice IN ('default', 'custom', 'none')),
    template_id INTEGER REFERENCES cv_templates(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    last_used_at TEXT,
    last_used_ip TEXT
);
CREATE INDEX pats_user ON pats(user_id);

CREATE TABLE pat_reveals (
    id INTEGER PRIMARY KEY,
    pat_id INTEGER NOT NULL REFERENCES pats(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    revealed_at TEXT NOT NULL,
    ip TEXT
);
CREATE INDEX pat_reveals_pat ON pat_reveals(pat_id);

CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    pat_id INTEGER REFERENCES pats(id) ON DELETE SET NULL,
    template_id INTEGER REFERENCES cv_templates(id) ON DELETE SET NULL,
    template_name TEXT,
    url TEXT NOT NULL,
    title TEXT,
    company TEXT,
    notes TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX submissions_user ON submissions(user_id, id);
"""

_0002_usage = """
-- Server-side record of each login, so logging out ends that session and its
-- remember-me cookie for good (cookies alone could be replayed).
CREATE TABLE user_sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    ip TEXT,
    ended_at TEXT
);
CREATE INDEX user_sessions_user ON user_sessions(user_id);

ALTER TABLE submissions ADD COLUMN job_host TEXT;
CREATE INDEX submissions_user_created ON submissions(user_id, created_at);
CREATE INDEX submissions_user_pat ON submissions(user_id, pat_id, id);
ALTER TABLE pats ADD COLUMN reviewed_at TEXT;
-- Set when the new-token page has shown the token, so it is shown only once.
ALTER TABLE pats ADD COLUMN token_shown_at TEXT;
-- All-time count of submissions made with the PAT, bumped with each one.
ALTER TABLE pats ADD COLUMN submission_count INTEGER NOT NULL DEFAULT 0;

-- One row per API request made with a genuine PAT (valid, revoked or expired).
-- The path is stored without its query string, so a token pasted into a URL
-- never lands here.
CREATE TABLE usage_events (
    id INTEGER PRIMARY KEY,
    pat_id INTEGER NOT NULL REFERENCES pats(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    job_url TEXT,
    submission_id INTEGER
);
CREATE INDEX usage_events_pat ON usage_events(pat_id, id);
CREATE INDEX usage_events_at ON usage_events(at);

-- Counts per PAT, 15-minute UTC slot and outcome, kept up to date on every
-- request. A day in any timezone (all offsets are whole quarter hours) is a
-- sum of whole slots. bucket: UTC epoch seconds at the start of the slot.
CREATE TABLE usage_rollups (
    pat_id INTEGER NOT NULL REFERENCES pats(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    bucket INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (pat_id, bucket, outcome)
) WITHOUT ROWID;
CREATE INDEX usage_rollups_user ON usage_rollups(user_id, bucket);

-- The same counts per calendar day in the owner's timezone, which is what the
-- dashboard reads. Rebuilt from usage_rollups when the owner changes timezone.
CREATE TABLE usage_daily (
    pat_id INTEGER NOT NULL REFERENCES pats(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    outcome TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (pat_id, day, outcome)
) WITHOUT ROWID;
CREATE INDEX usage_daily_user ON usage_daily(user_id, day);

-- Requests whose token names no PAT, counted per client IP and UTC day.
CREATE TABLE unknown_token_attempts (
    day TEXT NOT NULL,
    ip TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    user_agent TEXT,
    PRIMARY KEY (day, ip)
) WITHOUT ROWID;

-- All-time submission counts per job site and company, for the analytics.
CREATE TABLE submission_tallies (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('host', 'company')),
    value TEXT NOT NULL COLLATE NOCASE,
    count INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, value)
) WITHOUT ROWID;
"""


_0003_rate_limits = """
-- Rate-limit counters in fixed windows, shared by every worker.
CREATE TABLE rate_limits (
    key TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) WITHOUT ROWID;
"""


_0004_usage_filters = """
-- The per-PAT usage log filters by date and by outcome; these keep a filtered
-- page as quick as an unfiltered one on a long history.
CREATE INDEX usage_events_pat_at ON usage_events(pat_id, at);
CREATE INDEX usage_events_pat_outcome ON usage_events(pat_id, outcome, id);
"""


_0005_duplicates_and_idempotency = """
-- The job URL in comparable form (see urls.normalise), and the earlier
-- submission of the same job within 30 days, if any.
ALTER TABLE submissions ADD COLUMN normalized_url TEXT;
ALTER TABLE submissions ADD COLUMN duplicate_of INTEGER REFERENCES submissions(id) ON DELETE SET NULL;
CREATE INDEX submissions_user_normalized ON submissions(user_id, normalized_url, id);

-- Idempotency-Key replays: the first answer, kept 24 hours.
CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
"""


def _0005_backfill(db: sqlite_utils.Database) -> None:
    """Normalise the URLs of submissions stored before duplicates were tracked."""
    from .urls import normalise

    rows = db.conn.execute("SELECT id, url FROM submissions").fetchall()
    for sub_id, url in rows:
        try:
            normalized = normalise(url)
        except ValueError:
            normalized = None
        db.conn.execute(
            "UPDATE submissions SET normalized_url = ? WHERE id = ?",
            (normalized, sub_id),
        )


_0006_alerts = """
-- What each person wants watched, and how.
CREATE TABLE alert_settings (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    spike_multiplier REAL NOT NULL DEFAULT 3,
    spike_floor INTEGER NOT NULL DEFAULT 10,
    work_start_hour INTEGER NOT NULL DEFAULT 7,
    work_end_hour INTEGER NOT NULL DEFAULT 22,
    work_days TEXT NOT NULL DEFAULT '0123456',
    reminder_days TEXT NOT NULL DEFAULT '7,1',
    email_kinds TEXT NOT NULL DEFAULT 'expired,expiry_reminder,sudden_increase,unknown_location',
    known_networks TEXT NOT NULL DEFAULT ''
);

-- Every notice, told once: dedupe_key names the event it is about.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    pat_id INTEGER REFERENCES pats(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT,
    UNIQUE (user_id, dedupe_key)
);
CREATE INDEX notifications_user ON notifications(user_id, id);

-- Email to send; a row is claimed before sending and marked once sent.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    notification_id INTEGER NOT NULL UNIQUE REFERENCES notifications(id) ON DELETE CASCADE,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_until TEXT,
    sent_at TEXT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox(sent_at, next_attempt_at);

-- Networks (IPv4 /24, IPv6 /48) each PAT has been used from.
CREATE TABLE pat_networks (
    pat_id INTEGER NOT NULL REFERENCES pats(id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (pat_id, network)
) WITHOUT ROWID;

-- The scheduler: one lease for the whole deployment, and each job's last run.
CREATE TABLE scheduler_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE job_runs (
    name TEXT PRIMARY KEY,
    last_started_at TEXT,
    last_finished_at TEXT,
    last_error TEXT,
    cursor INTEGER NOT NULL DEFAULT 0
);
"""


_0007_detector_start = """
-- Detectors watch usage from the day they arrive: history stored before this
-- upgrade is not news, and must not come out as a flood of notices and email.
INSERT OR IGNORE INTO job_runs (name, cursor)
    VALUES ('detect', (SELECT COALESCE(MAX(id), 0) FROM usage_events));
"""


_0008_lifecycle = """
-- Pause keeps the secret and the settings; a paused PAT still takes a slot.
ALTER TABLE pats ADD COLUMN paused_at TEXT;
-- Space-separated scopes; every PAT made before scopes existed could submit.
ALTER TABLE pats ADD COLUMN scopes TEXT NOT NULL DEFAULT 'submissions:write';
-- Comma-separated CIDR networks the PAT may be used from ('' means anywhere).
ALTER TABLE pats ADD COLUMN allowed_networks TEXT NOT NULL DEFAULT '';
-- One browser extension origin (chrome-extension://<id>), or NULL for any.
ALTER TABLE pats ADD COLUMN allowed_origin TEXT;
-- Rotation policy: a new secret every N days, the old one kept for the overlap.
ALTER TABLE pats ADD COLUMN rotation_days INTEGER;
ALTER TABLE pats ADD COLUMN rotation_overlap_hours INTEGER NOT NULL DEFAULT 24;
-- When the secret last changed (NULL: never rotated, the creation time counts).
ALTER TABLE pats ADD COLUMN rotated_at TEXT;

-- Secrets a rotation replaced. Each keeps working until valid_until (the
-- overlap), then is refused with reason 'rotated'.
CREATE TABLE pat_retired_secrets (
    public_id TEXT PRIMARY KEY,
    pat_id INTEGER NOT NULL REFERENCES pats(id) ON DELETE CASCADE,
    secret_seed TEXT NOT NULL,
    retired_at TEXT NOT NULL,
    valid_until TEXT NOT NULL
);
CREATE INDEX pat_retired_secrets_pat ON pat_retired_secrets(pat_id, valid_until);

-- 1 when the request used a secret that a rotation replaced (during its overlap).
ALTER TABLE usage_events ADD COLUMN old_secret INTEGER NOT NULL DEFAULT 0;

-- Every change to a PAT, for the audit log page.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    pat_id INTEGER REFERENCES pats(id) ON DELETE SET NULL,
    pat_name TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    ip TEXT,
    at TEXT NOT NULL
);
CREATE INDEX audit_events_user ON audit_events(user_id, id);

-- Requests for more PAT slots, answered by an admin.
CREATE TABLE slot_requests (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    slots INTEGER NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'declined')),
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    granted INTEGER,
    answer TEXT
);
CREATE INDEX slot_requests_status ON slot_requests(status, id);
CREATE UNIQUE INDEX slot_requests_one_open ON slot_requests(user_id) WHERE status = 'open';
"""


def _0008_backfill(db: sqlite_utils.Database) -> None:
    """Start the audit log from what the database already knows: creations,
    reveals and revocations."""
    db.execute(
        "INSERT INTO audit_events (user_id, pat_id, pat_name, action, at)"
        " SELECT user_id, id, name, 'create', created_at FROM pats"
    )
    db.execute(
        "INSERT INTO audit_events (user_id, pat_id, pat_name, action, ip, at)"
        " SELECT r.user_id, r.pat_id, p.name, 'reveal', r.ip, r.revealed_at"
        " FROM pat_reveals r JOIN pats p ON p.id = r.pat_id"
    )
    db.execute(
        "INSERT INTO audit_events (user_id, pat_id, pat_name, action, at)"
        " SELECT user_id, id, name, 'revoke', revoked_at FROM pats"
        " WHERE revoked_at IS NOT NULL"
    )


def _0002_backfill(db: sqlite_utils.Database) -> None:
    """Give existing submissions their job host, tallies and rollup counts."""
    from .usage import backfill_submissions

    backfill_submissions(db)


MIGRATIONS: list[tuple[int, str, str, object]] = [
    (
        1,
        "foundation: users, CV templates, PATs, reveals, submissions",
        _0001_foundation,
        None,
    ),
    (
        2,
        "sessions, usage log, rollups, unknown-token attempts, submission tallies",
        _0002_usage,
        _0002_backfill,
    ),
    (3, "rate-limit counters", _0003_rate_limits, None),
    (4, "indexes for usage log filters", _0004_usage_filters, None),
    (
        5,
        "duplicate submissions and idempotency keys",
        _0005_duplicates_and_idempotency,
        _0005_backfill,
    ),
    (
        6,
        "notifications, email outbox, alert settings and the scheduler",
        _0006_alerts,
        None,
    ),
    (7, "detectors start after the history already stored", _0007_detector_start, None),
    (
        8,
        "PAT lifecycle: pause, scopes, networks, rotation, audit log, slot requests",
        _0008_lifecycle,
        _0008_backfill,
    ),
]

LATEST = MIGRATIONS[-1][0]


def schema_version(db: sqlite_utils.Database) -> int:
    return db.conn.execute("PRAGMA user_version").fetchone()[0]


def _statements(script: str):
    """Split a migration script into statements.

    Whole-line `--` comments are dropped first; our scripts keep no ';' inside
    string literals, so a plain split is exact.
    """
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    for chunk in "\n".join(lines).split(";"):
        if chunk.strip():
            yield chunk.strip()


def migrate(db: sqlite_utils.Database, clock=None) -> list[int]:
    """Bring the database to the latest schema; return the versions applied."""
    clock = clock or SystemClock()
    enable_wal(db)
    applied = []
    with transaction(db):
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    for version, name, script, backfill in MIGRATIONS:
        # The version is re-read under the write lock, so two processes starting
        # together cannot both apply the same migration.
        with transaction(db):
            if schema_version(db) >= version:
                continue
            for sql in _statements(script):
                db.execute(sql)
            if backfill is not None:
                backfill(db)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, to_db(clock.now())),
            )
            db.execute(f"PRAGMA user_version = {int(version)}")
        log.info("applied migration %04d: %s", version, name)
        applied.append(version)
    if schema_version(db) > LATEST:
        raise RuntimeError(
            f"the database is at schema version {schema_version(db)}, newer than this "
            f"code knows ({LATEST}); upgrade pat-manager"
        )
    return applied
