"""SQLite connections: WAL, foreign keys, a busy timeout, and write transactions
that take the write lock up front."""

from __future__ import annotations

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
    return sqlite_utils.Database(conn, execute_plugins=False)


def enable_wal(db: sqlite_utils.Database) -> None:
    mode = db.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        raise RuntimeError(f"could not switch the database to WAL mode (got {mode})")


@contextmanager
def transaction(db: sqlite_utils.Database):
    """Run a block as one write transaction, holding the write lock from its start.

    BEGIN IMMEDIATE makes a read-then-write (such as "count active PATs, then
    insert one") atomic across processes: no other writer can slip in between.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def get_db() -> sqlite_utils.Database:
    """The request's (or CLI command's) connection, opened on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    return g.db


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def one(db: sqlite_utils.Database, sql: str, params=()) -> dict | None:
    """First row of a query as a dict, or None."""
    return next(iter(db.query(sql, params)), None)
