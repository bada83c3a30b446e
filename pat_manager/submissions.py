"""Job applications posted by the extension, and the history that lists them."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import sqlite_utils

from .clock import to_db
from .db import one, transaction
from .errors import ValidationError

URL_MAX = 2048
TEXT_MAX = 300
NOTES_MAX = 5000
PAGE_SIZE = 50


def _check_url(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("url is required: the address of the job posting.")
    if not isinstance(value, str):
        raise ValueError("url must be a string.")
    url = value.strip()
    if len(url) > URL_MAX:
        raise ValueError(f"url must be at most {URL_MAX} characters.")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ValueError("url must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError("url is not a valid address.") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise ValueError("url must be an absolute http:// or https:// address.")
    return url


def _check_text(name: str, value, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string.")
    value = value.strip()
    if len(value) > limit:
        raise ValueError(f"{name} must be at most {limit} characters.")
    return value or None


def validate(payload) -> dict:
    """Check a submission body and return its cleaned fields.

    :raise ValidationError: with one message per bad field.
    """
    if not isinstance(payload, dict):
        raise ValidationError({"body": "The body must be a JSON object."})
    cleaned, errors = {}, {}
    checks = {
        "url": lambda v: _check_url(v),
        "title": lambda v: _check_text("title", v, TEXT_MAX),
        "company": lambda v: _check_text("company", v, TEXT_MAX),
        "notes": lambda v: _check_text("notes", v, NOTES_MAX),
    }
    for field, check in checks.items():
        try:
            cleaned[field] = check(payload.get(field))
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def create(
    db: sqlite_utils.Database,
    *,
    user_id: int,
    pat_id: int,
    template: dict | None,
    fields: dict,
    now: datetime,
) -> dict:
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO submissions (user_id, pat_id, template_id, template_name, url,"
            " title, company, notes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                pat_id,
                template["id"] if template else None,
                template["name"] if template else None,
                fields["url"],
                fields["title"],
                fields["company"],
                fields["notes"],
                to_db(now),
            ),
        )
    return one(db, "SELECT * FROM submissions WHERE id = ?", (cursor.lastrowid,))


def page(
    db: sqlite_utils.Database, user_id: int, before_id: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[dict], int | None]:
    """One page of history, newest first, and the cursor for the next (older) page.

    Keyset paging on the id keeps each page cheap however long the history grows.
    """
    rows = list(
        db.query(
            "SELECT s.*, p.name AS pat_name FROM submissions s"
            " LEFT JOIN pats p ON p.id = s.pat_id"
            " WHERE s.user_id = :u AND (:before IS NULL OR s.id < :before)"
            " ORDER BY s.id DESC LIMIT :n",
            {"u": user_id, "before": before_id, "n": size + 1},
        )
    )
    older = rows[size - 1]["id"] if len(rows) > size else None
    return rows[:size], older


def count(db: sqlite_utils.Database, user_id: int) -> int:
    return one(db, "SELECT COUNT(*) AS n FROM submissions WHERE user_id = ?", (user_id,))["n"]
