"""Job applications posted by the extension, and the history that lists them."""

from __future__ import annotations

import base64
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

import sqlite_utils

from .clock import end_of_day, to_db, zone
from .db import one, transaction
from .errors import NotFound, TemplateNotFound, ValidationError
from .text import clean_block, clean_line, parse_day, parse_id, parse_selection
from .tokens import redact
from .urls import normalise

URL_MAX = 2048
TEXT_MAX = 300
NOTES_MAX = 5000
PAGE_SIZE = 50
MAX_ASSIGN = 500


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _check_url(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("url is required: the address of the job posting.")
    if not isinstance(value, str):
        raise ValueError("url must be a string.")
    url = value.strip()
    if _has_surrogate(url):
        raise ValueError("url must be valid Unicode text.")
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


def _check_text(name: str, value, limit: int, multiline: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string.")
    clean = clean_block if multiline else clean_line
    return clean(value, name, limit) or None


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
        "notes": lambda v: _check_text("notes", v, NOTES_MAX, multiline=True),
    }
    for field, check in checks.items():
        try:
            cleaned[field] = check(payload.get(field))
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    # A token pasted into a posting's URL or notes (a misconfigured extension)
    # must not end up stored in plain text.
    cleaned = {k: redact(v) if isinstance(v, str) else v for k, v in cleaned.items()}
    try:
        normalise(cleaned["url"])
    except ValueError:
        raise ValidationError(
            {"url": "url must not contain an access token (cvf_…) in its host."}
        ) from None
    return cleaned


def job_host(url: str) -> str | None:
    """The job site a URL belongs to, as the analytics group it ("www." dropped)."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    return host.removeprefix("www.") or None


def insert(
    db: sqlite_utils.Database,
    *,
    user_id: int,
    pat_id: int,
    template: dict | None,
    fields: dict,
    now: datetime,
) -> dict:
    """Store a submission and bump the site and company tallies, inside the
    caller's write transaction (with its usage record); returns the row.

    :raise TemplateNotFound: the template was deleted since it was resolved.
    """
    row = {
        "user_id": user_id,
        "pat_id": pat_id,
        "template_id": template["id"] if template else None,
        "template_name": template["name"] if template else None,
        "url": fields["url"],
        "job_host": job_host(fields["url"]),
        "title": fields["title"],
        "company": fields["company"],
        "notes": fields["notes"],
        "created_at": to_db(now),
        "normalized_url": normalise(fields["url"]),
    }
    row["duplicate_of"] = duplicate_of(db, user_id, row["normalized_url"], now)
    try:
        cursor = db.conn.execute(
            "INSERT INTO submissions (user_id, pat_id, template_id, template_name, url,"
            " job_host, title, company, notes, created_at, normalized_url, duplicate_of)"
            " VALUES (:user_id, :pat_id, :template_id, :template_name, :url, :job_host,"
            " :title, :company, :notes, :created_at, :normalized_url, :duplicate_of)",
            row,
        )
    except sqlite3.IntegrityError:
        # The one reference that can fail is the template, deleted meanwhile.
        raise TemplateNotFound() from None
    for kind, value in (("host", row["job_host"]), ("company", row["company"])):
        if value:
            db.conn.execute(
                "INSERT INTO submission_tallies (user_id, kind, value, count)"
                " VALUES (?, ?, ?, 1) ON CONFLICT DO UPDATE SET count = count + 1",
                (user_id, kind, value),
            )
    return {"id": cursor.lastrowid, **row}


DUPLICATE_WINDOW = timedelta(days=30)


def duplicate_of(
    db: sqlite_utils.Database, user_id: int, normalized_url: str, now: datetime
) -> int | None:
    """The account's latest submission of the same job within 30 days, if any."""
    row = db.conn.execute(
        # Without the hint SQLite scans every submission of the last 30 days (by
        # date) and sorts them; this walks the job's own submissions, newest first.
        "SELECT id FROM submissions INDEXED BY submissions_user_normalized"
        " WHERE user_id = ? AND normalized_url = ? AND created_at >= ?"
        " ORDER BY id DESC LIMIT 1",
        (user_id, normalized_url, to_db(now - DUPLICATE_WINDOW)),
    ).fetchone()
    return row[0] if row else None


def last_submission_of(db: sqlite_utils.Database, user_id: int, url: str) -> dict:
    """What the account already did with this job: how often, and the latest time
    and PAT (for the extension to warn before it posts again)."""
    normalized = normalise(url)
    count, last_id = db.conn.execute(
        "SELECT COUNT(*), MAX(id) FROM submissions WHERE user_id = ? AND normalized_url = ?",
        (user_id, normalized),
    ).fetchone()
    last = None
    if last_id is not None:
        last = one(
            db,
            "SELECT s.id, s.created_at, s.pat_id, p.name AS pat_name FROM submissions s"
            " LEFT JOIN pats p ON p.id = s.pat_id WHERE s.id = ?",
            (last_id,),
        )
    return {"normalized_url": normalized, "count": count, "last": last}


@dataclass(frozen=True)
class HistoryFilter:
    pat_id: int | None = None
    template: str | None = None  # a template id, or "none" for submissions without one
    start: date | None = None
    end: date | None = None

    def as_args(self) -> dict:
        args = {
            "pat": self.pat_id,
            "template": self.template,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }
        return {k: v for k, v in args.items() if v}


def parse_filter(args) -> HistoryFilter:
    """Read history filters from query arguments.

    :raise ValidationError: a value is malformed or the date range is backwards.
    """
    errors, values = {}, {}
    for key, label in (("from", "start"), ("to", "end")):
        try:
            values[label] = parse_day(args.get(key), key)
        except ValueError as exc:
            errors[key] = str(exc)
    pat_raw = (args.get("pat") or "").strip()
    pat_id = parse_id(pat_raw)
    if pat_raw and pat_id is None:
        errors["pat"] = "Choose a PAT from the list."
    template = (args.get("template") or "").strip() or None
    if template and template != "none":
        template = str(parse_id(template) or "")
        if not template:
            errors["template"] = "Choose a template from the list."
    if (
        not errors
        and values["start"]
        and values["end"]
        and values["start"] > values["end"]
    ):
        errors["to"] = "The end date is before the start date."
    if errors:
        raise ValidationError(errors)
    return HistoryFilter(
        pat_id=pat_id,
        template=template,
        start=values["start"],
        end=values["end"],
    )


def _where(user_id: int, flt: HistoryFilter, tz_name: str | None) -> tuple[str, list]:
    clauses, params = ["s.user_id = ?"], [user_id]
    if flt.pat_id is not None:
        clauses.append("s.pat_id = ?")
        params.append(flt.pat_id)
    if flt.template == "none":
        clauses.append("s.template_name IS NULL")
    elif flt.template:
        clauses.append("s.template_id = ?")
        params.append(int(flt.template))
    # Bounds are written by to_db, the same fixed-width UTC form as the column,
    # so the text comparison orders exactly as the times do.
    if flt.start:
        clauses.append("s.created_at >= ?")
        params.append(to_db(datetime.combine(flt.start, time(0), tzinfo=zone(tz_name))))
    if flt.end:
        clauses.append("s.created_at < ?")
        params.append(to_db(end_of_day(flt.end, tz_name)))
    return " AND ".join(clauses), params


def page(
    db: sqlite_utils.Database,
    user_id: int,
    before_id: int | None = None,
    size: int = PAGE_SIZE,
    flt: HistoryFilter | None = None,
    tz_name: str | None = None,
) -> tuple[list[dict], int | None]:
    """One page of history, newest first, and the cursor for the next (older) page.

    Keyset paging on the id keeps each page cheap however long the history grows.
    """
    where, params = _where(user_id, flt or HistoryFilter(), tz_name)
    if before_id is not None:
        where += " AND s.id < ?"
        params.append(before_id)
    rows = list(
        db.query(
            "SELECT s.*, p.name AS pat_name FROM submissions s"
            f" LEFT JOIN pats p ON p.id = s.pat_id WHERE {where}"
            " ORDER BY s.id DESC LIMIT ?",
            [*params, size + 1],
        )
    )
    older = rows[size - 1]["id"] if len(rows) > size else None
    return rows[:size], older


def iter_filtered(db: sqlite_utils.Database, user_id: int, flt: HistoryFilter, tz_name):
    """Every submission matching the filter, newest first, for export."""
    where, params = _where(user_id, flt, tz_name)
    cursor = db.conn.execute(
        "SELECT s.*, p.name AS pat_name FROM submissions s"
        f" LEFT JOIN pats p ON p.id = s.pat_id WHERE {where} ORDER BY s.id DESC",
        params,
    )
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def encode_cursor(before_id: int) -> str:
    """An opaque page cursor (clients must not build their own)."""
    return base64.urlsafe_b64encode(f"before:{before_id}".encode()).decode().rstrip("=")


def decode_cursor(text: str) -> int | None:
    """The id a cursor pages before, or None when it is not one of ours."""
    text = (text or "").strip()
    if not 0 < len(text) <= 40:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    prefix, _, number = raw.partition(":")
    return parse_id(number) if prefix == "before" else None


def needing_template(db: sqlite_utils.Database, user_id: int) -> int:
    """How many submissions were made with no template."""
    return one(
        db,
        "SELECT COUNT(*) AS n FROM submissions WHERE user_id = ? AND template_name IS NULL",
        (user_id,),
    )["n"]


def assign_template(
    db: sqlite_utils.Database, user_id: int, ids, template_id
) -> tuple[dict, int, int]:
    """Give submissions made with no template the chosen template.

    Returns the template, how many changed and how many already had a template.

    :raise NotFound: a submission or the template is not this user's.
    :raise ValidationError: nothing selected or no template chosen.
    """
    chosen = parse_id(template_id)
    if chosen is None:
        raise ValidationError({"template_id": "Choose the template to give them."})
    wanted = parse_selection(ids, "submission", MAX_ASSIGN)
    marks = ",".join("?" * len(wanted))
    with transaction(db):
        template = one(
            db,
            "SELECT id, name FROM cv_templates WHERE id = ? AND user_id = ?",
            (chosen, user_id),
        )
        if template is None:
            raise NotFound()
        found = db.execute(
            f"SELECT COUNT(*) FROM submissions WHERE user_id = ? AND id IN ({marks})",
            [user_id, *wanted],
        ).fetchone()[0]
        if found != len(wanted):
            raise NotFound()
        changed = db.execute(
            "UPDATE submissions SET template_id = ?, template_name = ?"
            f" WHERE user_id = ? AND template_name IS NULL AND id IN ({marks})",
            [template["id"], template["name"], user_id, *wanted],
        ).rowcount
    return template, changed, len(wanted) - changed


def count(db: sqlite_utils.Database, user_id: int) -> int:
    """All of the account's submissions, from the per-PAT counters (no table scan)."""
    row = one(
        db,
        "SELECT COALESCE(SUM(submission_count), 0) AS n FROM pats WHERE user_id = ?",
        (user_id,),
    )
    return row["n"]
