import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pat_manager import clock as clock_module
from pat_manager.db import connect, transaction
from pat_manager.migrations import LATEST, MIGRATIONS, migrate, schema_version


def test_migrations_record_version_and_are_idempotent(tmp_path):
    db = connect(tmp_path / "m.sqlite3")
    assert migrate(db) == [m[0] for m in MIGRATIONS]
    assert schema_version(db) == LATEST
    assert migrate(db) == []
    rows = list(db.query("SELECT version FROM schema_migrations"))
    assert [r["version"] for r in rows] == [m[0] for m in MIGRATIONS]


def test_database_is_wal_with_foreign_keys_and_busy_timeout(app, db):
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO cv_templates (user_id, name, created_at, updated_at) VALUES (999, 'x', '', '')"
        )


def test_newer_schema_than_code_is_refused(tmp_path):
    db = connect(tmp_path / "m.sqlite3")
    migrate(db)
    db.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(RuntimeError, match="newer than this code"):
        migrate(db)


def test_transaction_rolls_back_on_error(app, db):
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.execute(
                "INSERT INTO users (email, password_hash, created_at) VALUES ('a@b.co', 'x', 'now')"
            )
            raise RuntimeError("boom")
    assert db.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0


def test_transaction_takes_write_lock_up_front(app):
    first, second = connect(app.config["DATABASE"]), connect(app.config["DATABASE"])
    second.conn.execute("PRAGMA busy_timeout = 50")
    with transaction(first):
        # A second writer cannot even begin while the first holds the lock.
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            second.conn.execute("BEGIN IMMEDIATE")
    first.close()
    second.close()


def test_concurrent_migrations_apply_once(tmp_path):
    path = tmp_path / "race.sqlite3"
    errors = []

    def run():
        try:
            db = connect(path)
            migrate(db)
            db.close()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = connect(path)
    assert db.conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[
        0
    ] == len(MIGRATIONS)


def test_times_are_stored_in_one_utc_form_and_round_trip():
    paris = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 2, 13, 0, 0, 123456, tzinfo=paris)
    text = clock_module.to_db(moment)
    assert text == "2026-03-02T12:00:00.123456Z"
    assert clock_module.from_db(text) == moment
    with pytest.raises(ValueError):
        clock_module.to_db(datetime(2026, 3, 2))


def test_end_of_day_is_next_local_midnight_in_utc():
    end = clock_module.end_of_day(datetime(2026, 7, 1).date(), "Europe/Paris")
    assert end == datetime(2026, 7, 1, 22, 0, tzinfo=UTC)
    assert clock_module.end_of_day(datetime(2026, 7, 1).date(), None) == datetime(
        2026, 7, 2, tzinfo=UTC
    )
