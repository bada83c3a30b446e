"""Email from the outbox over SMTP: claimed before sending, marked once sent,
retried with backoff when the server fails."""

from __future__ import annotations

import logging
import re
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import sqlite_utils

from .clock import to_db
from .db import transaction

log = logging.getLogger(__name__)
CLAIM = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpSettings:
    """`smtp://user:pass@host:587?starttls=true&from=pats@example.org` (or smtps://).

    :raise ValueError: with what to fix.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("needs a host, as in smtp://mail.example.org:587")
    try:
        port = (
            parts.port
            if parts.port is not None
            else (465 if parts.scheme == "smtps" else 25)
        )
        if not 1 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    sender = query.get("from", "")
    if not plain_address(sender):
        raise ValueError("needs one plain from address, as in ?from=pats@example.org")
    starttls_text = query.get("starttls", "false").lower()
    if starttls_text not in ("1", "true", "yes", "0", "false", "no"):
        raise ValueError(
            "has starttls=" + starttls_text[:20] + "; use starttls=true or false"
        )
    starttls = starttls_text in ("1", "true", "yes")
    if starttls and parts.scheme == "smtps":
        raise ValueError(
            "uses smtps:// (TLS from the start) and starttls together; pick one"
        )
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        sender=sender,
        starttls=starttls,
        ssl=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _send(smtp: SmtpSettings, row: dict) -> None:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    # A stable Message-ID lets mail systems drop a copy if a crash between
    # sending and marking ever makes us send the same notice again.
    message["Message-ID"] = f"<pat-manager-notice-{row['notification_id']}@{smtp.host}>"
    message.set_content(row["body"])
    client_class = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
    with client_class(smtp.host, smtp.port, timeout=20) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        client.send_message(message)


def backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(minutes=2 ** max(attempts - 1, 0)))


MAX_RUN = timedelta(seconds=30)
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
)


def plain_address(text: str) -> bool:
    """One bare address, nothing a mail header could read as more recipients."""
    return bool(_ADDRESS.fullmatch(text or ""))


def flush(
    db: sqlite_utils.Database, smtp: SmtpSettings, now: datetime, limit: int = 50
) -> int:
    """Send due mail; return how many went out. Safe to run from several processes:
    a row is claimed in a write transaction before it is sent. A run stops after
    MAX_RUN, far inside the claim, and each claim counts from the moment it is made,
    so a slow server can never let a claim lapse while its sender still works."""
    started = time.monotonic()
    sent = 0
    due = db.conn.execute(
        "SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ?"
        " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?",
        (to_db(now), to_db(now), limit),
    ).fetchall()
    for (outbox_id,) in due:
        elapsed = timedelta(seconds=time.monotonic() - started)
        if elapsed > MAX_RUN:
            break
        moment = now + elapsed
        with transaction(db):
            claimed = db.conn.execute(
                "UPDATE outbox SET claimed_until = ? WHERE id = ? AND sent_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until < ?)",
                (to_db(moment + CLAIM), outbox_id, to_db(moment)),
            ).rowcount
        if not claimed:
            continue
        cursor = db.conn.execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,))
        row = dict(
            zip([d[0] for d in cursor.description], cursor.fetchone(), strict=True)
        )
        try:
            if not plain_address(row["to_address"]):
                raise smtplib.SMTPRecipientsRefused(
                    {row["to_address"]: (550, b"not one plain address")}
                )
            _send(smtp, row)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            attempts = row["attempts"] + 1
            with transaction(db):
                db.conn.execute(
                    "UPDATE outbox SET attempts = ?, next_attempt_at = ?, claimed_until = NULL,"
                    " last_error = ? WHERE id = ?",
                    (
                        attempts,
                        to_db(now + backoff(attempts)),
                        str(exc)[:300],
                        outbox_id,
                    ),
                )
            log.warning("email %s not sent (attempt %s): %s", outbox_id, attempts, exc)
            continue
        with transaction(db):
            db.conn.execute(
                "UPDATE outbox SET sent_at = ?, claimed_until = NULL, last_error = NULL"
                " WHERE id = ?",
                (to_db(now), outbox_id),
            )
        sent += 1
    return sent
