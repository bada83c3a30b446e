"""Backups made while the app writes, restores, and upgrades from every old schema."""

import sqlite3
import threading

import pytest

from pat_manager import backup, create_app
from pat_manager.db import connect, transaction
from pat_manager.migrations import (
    LATEST,
    MIGRATIONS,
    _statements,
    migrate,
    schema_version,
)
from tests.conftest import SECRET_KEY, bearer


def test_backup_while_writing_then_restore(user_web, app, tmp_path, clock):
    _, token = user_web.new_token()
    stop = threading.Event()
    posted = []

    def writer():
        client = app.test_client()
        n = 0
        while not stop.is_set() and n < 400:
            r = client.post(
                "/api/v1/submissions",
                json={"url": f"https://x.example/{n}"},
                headers=bearer(token),
            )
            if r.status_code == 201:
                posted.append(r.get_json()["id"])
            n += 1

    app.config["API_RATE_LIMIT"] = 100_000
    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    for n in range(3):
        target = tmp_path / f"backup-{n}.sqlite3"
        backup.backup(app.config["DATABASE"], target)
        copies.append(target)
    stop.set()
    thread.join()

    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        conn.close()

    # Restore the last copy as a new instance with the same secret key: the PAT works.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    (restored_dir / "pat_manager.sqlite3").write_bytes(copies[-1].read_bytes())
    restored = create_app(
        {
            "INSTANCE_PATH": str(restored_dir),
            "DATABASE": str(restored_dir / "pat_manager.sqlite3"),
            "SECRET_KEY": SECRET_KEY,
            "CLOCK": clock,
        }
    )
    response = restored.test_client().get("/api/v1/token", headers=bearer(token))
    assert response.status_code == 200
    backed_up = {
        r[0]
        for r in connect(restored_dir / "pat_manager.sqlite3").conn.execute(
            "SELECT id FROM submissions"
        )
    }
    assert backed_up <= set(posted)


def test_backup_cli_refuses_bad_targets(app, tmp_path):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["backup", str(tmp_path / "b.sqlite3")])
    assert ok.exit_code == 0 and "Backed up" in ok.output and "secret_key" in ok.output
    again = runner.invoke(args=["backup", str(tmp_path / "b.sqlite3")])
    assert again.exit_code == 1 and "already exists" in again.output
    missing = runner.invoke(args=["backup", str(tmp_path / "nope" / "b.sqlite3")])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert not list(tmp_path.glob(".*partial"))


# Rows written at each schema version, in that version's own columns.
FILL = {
    1: [
        "INSERT INTO users (id, email, password_hash, timezone, created_at) VALUES"
        " (1, 'old@example.com', 'scrypt:x', 'Europe/Paris', '2026-01-01T00:00:00.000000Z')",
        "INSERT INTO cv_templates (id, user_id, name, content, created_at, updated_at) VALUES"
        " (1, 1, 'Tech', 'CV text', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
        "UPDATE users SET default_template_id = 1",
        "INSERT INTO pats (id, user_id, public_id, secret_seed, name, template_choice, template_id,"
        " created_at, expires_at) VALUES (1, 1, 'AAAAAAAAAAAA', 'seed', 'Old PAT', 'custom', 1,"
        " '2026-01-01T00:00:00.000000Z', '2026-04-01T00:00:00.000000Z')",
        "INSERT INTO pat_reveals (pat_id, user_id, revealed_at, ip) VALUES (1, 1, '2026-01-02T00:00:00.000000Z', '::1')",
        "INSERT INTO submissions (id, user_id, pat_id, template_id, template_name, url, title, company,"
        " notes, created_at) VALUES (1, 1, 1, 1, 'Tech', 'https://www.jobs.example/1', 'PM', 'Acme',"
        " 'n', '2026-01-03T23:30:00.000000Z')",
    ],
    2: [
        "INSERT INTO user_sessions (id, user_id, created_at) VALUES ('s1', 1, '2026-02-01T00:00:00.000000Z')",
        "INSERT INTO usage_events (pat_id, user_id, at, method, path, status, outcome) VALUES"
        " (1, 1, '2026-02-01T00:00:00.000000Z', 'GET', '/api/v1/token', 200, 'ok')",
        "INSERT INTO usage_rollups (pat_id, user_id, bucket, outcome, count) VALUES (1, 1, 1769904000, 'ok', 1)",
        "INSERT INTO usage_daily (pat_id, user_id, day, outcome, count) VALUES (1, 1, '2026-02-01', 'ok', 1)",
        "INSERT INTO unknown_token_attempts (day, ip, count, first_at, last_at) VALUES"
        " ('2026-02-01', '192.0.2.1', 3, '2026-02-01T00:00:00.000000Z', '2026-02-01T00:01:00.000000Z')",
    ],
    3: [
        "INSERT INTO rate_limits (key, window_start, count) VALUES ('login-ip:1', 1769904000, 2)",
    ],
    4: [],
    5: [
        "INSERT INTO idempotency_keys (user_id, key, body_hash, status, response, created_at)"
        " VALUES (1, 'k1', 'h', 201, '{}', '2026-02-01T00:00:00.000000Z')",
    ],
    6: [
        "INSERT INTO notifications (id, user_id, pat_id, kind, title, body, dedupe_key, created_at)"
        " VALUES (1, 1, 1, 'expired', 't', 'b', 'expired:1', '2026-02-01T00:00:00.000000Z')",
        "INSERT INTO alert_settings (user_id) VALUES (1)",
    ],
    7: [
        "INSERT INTO job_runs (name, cursor) VALUES ('expire_pats', 0)",
    ],
    8: [],
}


def _snapshot(db):
    tables = [
        r[0]
        for r in db.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'schema_migrations'"
        )
    ]
    snapshot = {}
    for table in tables:
        cursor = db.conn.execute(f"SELECT * FROM {table} ORDER BY 1")
        names = [d[0] for d in cursor.description]
        snapshot[table] = [dict(zip(names, row, strict=True)) for row in cursor]
    return snapshot


def test_every_older_schema_has_a_fill():
    assert set(FILL) == {m[0] for m in MIGRATIONS}


@pytest.mark.parametrize("version", [m[0] for m in MIGRATIONS if m[0] < LATEST])
def test_upgrade_from_every_older_version_keeps_every_row(tmp_path, version):
    db = connect(tmp_path / f"v{version}.sqlite3")
    for number, _name, script, backfill in MIGRATIONS[:version]:
        with transaction(db):
            for sql in _statements(script):
                db.execute(sql)
            if backfill:
                backfill(db)
            for sql in FILL[number]:
                db.execute(sql)
            db.execute(f"PRAGMA user_version = {number}")
    before = _snapshot(db)
    migrate(db)
    assert schema_version(db) == LATEST
    after = _snapshot(db)
    for table, rows in before.items():
        assert len(after[table]) >= len(rows), table
        for old, new in zip(rows, after[table], strict=False):
            assert {k: new[k] for k in old} == old, table
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    if version == 1:
        # The upgrade counted the old submission in the owner's timezone (Paris).
        assert db.conn.execute("SELECT day, count FROM usage_daily").fetchall() == [
            ("2026-01-04", 1)
        ]
        assert db.conn.execute("SELECT submission_count FROM pats").fetchone()[0] == 1
    if version < 8:
        # The audit log starts from the PAT's creation and its reveal.
        assert db.conn.execute(
            "SELECT action, pat_name, ip FROM audit_events ORDER BY at"
        ).fetchall() == [("create", "Old PAT", None), ("reveal", "Old PAT", "::1")]
        assert db.conn.execute("SELECT scopes, paused_at FROM pats").fetchall() == [
            ("submissions:write", None)
        ]


def test_backup_finishes_under_steady_writes_on_a_larger_database(
    app, user_web, db, tmp_path, clock
):
    """A step-by-step copy restarts on every write and never ends; ours is one step."""
    import time as _time

    from pat_manager import demo
    from pat_manager.accounts import get_user
    from pat_manager.tokens import derive_token_key

    demo.seed(
        db,
        get_user(db, 1),
        events=20_000,
        days=30,
        now=clock.now(),
        free_tier_limit=3,
        token_key=derive_token_key(SECRET_KEY),
    )
    stop = threading.Event()

    def writer():
        conn = connect(app.config["DATABASE"])
        n = 0
        while not stop.is_set():
            with transaction(conn):
                conn.execute(
                    "INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)",
                    (f"load-{n}", n),
                )
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while not db.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0]:
            _time.sleep(0.01)  # the writer is under way
        backup.backup(app.config["DATABASE"], tmp_path / "big.sqlite3")
        written_meanwhile = db.execute("SELECT COUNT(*) FROM rate_limits").fetchone()[0]
    finally:
        stop.set()
        thread.join()
    copy = sqlite3.connect(tmp_path / "big.sqlite3")
    assert copy.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == 20_000
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert written_meanwhile > 0
