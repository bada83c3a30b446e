"""Consistent copies of the live database, made with SQLite's online backup API."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class BackupError(Exception):
    """The backup could not be written; the message says why."""


def backup(database: str | Path, target: str | Path) -> int:
    """Copy the database to `target` while the app keeps serving; return its size.

    The copy is written beside the target and renamed into place only once it is
    complete and passes an integrity check, so a failed run leaves nothing behind.
    """
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(Path(database).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        copy = sqlite3.connect(partial)
        try:
            # In one step: a step-by-step copy starts over whenever the app writes
            # in between, and under steady load never finishes. In WAL mode this
            # reader holds a snapshot and writers carry on meanwhile.
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode = DELETE")
            status = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
        if status != "ok":
            raise BackupError(f"The copy failed its integrity check: {status}")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not make the backup: {exc}") from None
    finally:
        source.close()
        partial.unlink(missing_ok=True)
    return target.stat().st_size
