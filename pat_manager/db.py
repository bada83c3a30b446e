"""SQLite connections: WAL, foreign keys, a busy timeout, and write transactions
that take the write lock up front."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
from flask import current_app, g

BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database file with the pragmas every connection needs."""
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    # WAL with NORMAL survives a killed process without losing commits; only a
    # power cut can drop the last transactions before a checkpoint.
    conn.execute("PRAGMA synchronous = NORMAL")
    db = sqlite_utils.Database(conn, execute_plugins=False)
    # Each connection holds its own descriptor: flock locks belong to an open file
    # description, so threads of one process exclude each other as processes do.
    db.write_lock = os.open(f"{path}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
    return db


def close(db: sqlite_utils.Database) -> None:
    os.close(db.write_lock)
    db.close()


def enable_wal(db: sqlite_utils.Database) -> None:
    # Switching a new file to WAL needs it to itself, and SQLite answers "locked"
    # at once rather than waiting when another connection is busy in it; taking
    # the writers' flock first makes processes starting together take turns.
    fcntl.flock(db.write_lock, fcntl.LOCK_EX)
    try:
        mode = db.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    finally:
        fcntl.flock(db.write_lock, fcntl.LOCK_UN)
    if mode.lower() != "wal":
        raise RuntimeError(f"could not switch the database to WAL mode (got {mode})")


@contextmanager
def transaction(db: sqlite_utils.Database):
    """Run a block as one write transaction, holding the write lock from its start.

    BEGIN IMMEDIATE makes a read-then-write (such as "count active PATs, then
    insert one") atomic across processes: no other writer can slip in between.

    Writers first queue on an flock beside the database. SQLite alone would make
    a waiting writer sleep and retry (1, 2, 5 … 50 ms), which under load turns
    into long tail latencies; a blocked flock wakes the moment the lock is free.
    SQLite's own locking stays in force for anything that skips the flock.
    """
    fcntl.flock(db.write_lock, fcntl.LOCK_EX)
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")
    finally:
        fcntl.flock(db.write_lock, fcntl.LOCK_UN)


def get_db() -> sqlite_utils.Database:
    """This thread's connection for the app, opened on first use and kept.

    Opening a connection per request costs more than the request's own queries,
    and closing the last connection to a WAL database checkpoints it; gunicorn's
    threads live long, so each keeps one connection. Every statement outside an
    explicit transaction reads the latest committed data, so nothing goes stale.
    """
    if "db" not in g:
        local = current_app.extensions["pat_manager.connections"]
        db = getattr(local, "db", None)
        if db is None:
            db = local.db = connect(current_app.config["DATABASE"])
        g.db = db
    return g.db


def release_db(_exc=None) -> None:
    """End of request: never leave a transaction open on the kept connection."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def one(db: sqlite_utils.Database, sql: str, params=()) -> dict | None:
    """First row of a query as a dict, or None."""
    cursor = db.conn.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))
