"""Idempotency-Key: a retried submission returns the first answer and stores
nothing new; the same key with another body is a conflict."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from .clock import to_db
from .tokens import redact

WINDOW = timedelta(hours=24)
KEY_MAX = 255


def clean_key(raw: str) -> str:
    """The key as sent, checked.

    :raise ValueError: empty, too long, or not printable ASCII.
    """
    key = raw.strip()
    if not key:
        raise ValueError("Idempotency-Key must not be empty.")
    if len(key) > KEY_MAX:
        raise ValueError(f"Idempotency-Key must be at most {KEY_MAX} characters.")
    if not (key.isascii() and key.isprintable()):
        raise ValueError("Idempotency-Key must be printable ASCII, such as a UUID.")
    if redact(key) != key:
        # Keys are stored as sent; a token must never be one.
        raise ValueError("Idempotency-Key must not contain a PAT; use a random UUID.")
    return key


def body_hash(payload) -> str:
    """The same JSON body, whatever its key order or spacing, hashes the same."""
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Earlier:
    body_hash: str
    status: int
    response: str


def find(
    db: sqlite_utils.Database, user_id: int, key: str, now: datetime
) -> Earlier | None:
    """The first answer given for this key in the last 24 hours (caller holds the
    write transaction, so a concurrent twin waits and then sees it)."""
    row = db.conn.execute(
        "SELECT body_hash, status, response FROM idempotency_keys"
        " WHERE user_id = ? AND key = ? AND created_at >= ?",
        (user_id, key, to_db(now - WINDOW)),
    ).fetchone()
    return Earlier(*row) if row else None


def remember(
    db: sqlite_utils.Database,
    user_id: int,
    key: str,
    digest: str,
    status: int,
    response: str,
    now: datetime,
) -> None:
    db.conn.execute(
        "INSERT OR REPLACE INTO idempotency_keys"
        " (user_id, key, body_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, key, digest, status, response, to_db(now)),
    )


def prune(db: sqlite_utils.Database, now: datetime) -> int:
    return db.conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < ?", (to_db(now - WINDOW),)
    ).rowcount
