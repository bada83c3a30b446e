"""Accounts: registration, password checks and the flask-login user object."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from zoneinfo import available_timezones

import sqlite_utils
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from .clock import to_db
from .db import one, transaction
from .errors import ValidationError

PASSWORD_MIN = 8
PASSWORD_MAX = 1024
EMAIL_MAX = 254
# No commas, angle brackets, quotes or spaces: an address must stay one recipient
# when it goes into a mail header.
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
# Checked against when the email is unknown, so a failed login takes as long
# whether or not the account exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class User(UserMixin):
    def __init__(self, row: dict, session_id: str | None = None):
        self.row = row
        # The login this request belongs to; flask-login stores "user:session" in
        # the session and remember-me cookies, and both die with the session row.
        self.session_id = session_id
        self.id = row["id"]
        self.email = row["email"]
        self.is_admin = bool(row["is_admin"])
        self.timezone = row["timezone"]
        self.extra_pat_slots = row["extra_pat_slots"]
        self.default_template_id = row["default_template_id"]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_id}"


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def validate_email(email: str) -> str | None:
    if not email:
        return "Enter your email address."
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email) or not email.isprintable():
        return "Enter a valid email address, like name@example.com."
    return None


def validate_password(password: str | None) -> str | None:
    if not password or len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    return None


def get_user(db: sqlite_utils.Database, user_id) -> User | None:
    row = one(db, "SELECT * FROM users WHERE id = ?", (user_id,))
    return User(row) if row else None


def find_by_email(db: sqlite_utils.Database, email: str) -> User | None:
    row = one(db, "SELECT * FROM users WHERE email = ?", (normalize_email(email),))
    return User(row) if row else None


def create_user(
    db: sqlite_utils.Database, email: str, password: str, now, admin: bool = False
) -> User:
    """Create an account; the very first account becomes an admin.

    :raise ValidationError: bad email or password, or the email is taken.
    """
    email = normalize_email(email)
    errors = {}
    if message := validate_email(email):
        errors["email"] = message
    if message := validate_password(password):
        errors["password"] = message
    if errors:
        raise ValidationError(errors)
    password_hash = generate_password_hash(password)
    with transaction(db):
        if one(db, "SELECT id FROM users WHERE email = ?", (email,)):
            raise ValidationError(
                {"email": "An account with this email already exists. Log in instead."}
            )
        first = one(db, "SELECT COUNT(*) AS n FROM users")["n"] == 0
        cursor = db.execute(
            "INSERT INTO users (email, password_hash, is_admin, created_at)"
            " VALUES (?, ?, ?, ?)",
            (email, password_hash, int(admin or first), to_db(now)),
        )
    return get_user(db, cursor.lastrowid)


def authenticate(db: sqlite_utils.Database, email: str, password: str) -> User | None:
    """The user whose email and password match, or None (without saying which failed)."""
    row = one(db, "SELECT * FROM users WHERE email = ?", (normalize_email(email),))
    if row is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(row["password_hash"], password or ""):
        return None
    return User(row)


def start_session(db: sqlite_utils.Database, user: User, now, ip: str | None) -> User:
    """Record a new login and return the user bound to it."""
    session_id = secrets.token_urlsafe(24)
    with transaction(db):
        db.execute(
            "INSERT INTO user_sessions (id, user_id, created_at, ip) VALUES (?, ?, ?, ?)",
            (session_id, user.id, to_db(now), ip),
        )
    return User(user.row, session_id)


def load_session_user(db: sqlite_utils.Database, login_id: str | None) -> User | None:
    """The user for a "user:session" id, if that login has not ended."""
    user_id, _, session_id = (login_id or "").partition(":")
    if not (user_id.isascii() and user_id.isdigit()) or not session_id:
        return None
    row = one(
        db,
        "SELECT u.* FROM user_sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id = ? AND s.user_id = ? AND s.ended_at IS NULL",
        (session_id, int(user_id)),
    )
    return User(row, session_id) if row else None


def end_session(db: sqlite_utils.Database, user: User, now) -> None:
    with transaction(db):
        db.execute(
            "UPDATE user_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
            (to_db(now), user.session_id),
        )


def change_password(
    db: sqlite_utils.Database, user: User, current: str, new: str, now
) -> int:
    """Set a new password and end every other session of the account.

    :raise ValidationError: the current password is wrong or the new one too weak.
    :return: how many other sessions were ended.
    """
    if not check_password(db, user.id, current):
        raise ValidationError(
            {"current_password": "That is not your current password."}
        )
    if message := validate_password(new):
        raise ValidationError({"new_password": message})
    with transaction(db):
        db.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?",
            (generate_password_hash(new), user.id),
        )
        cursor = db.execute(
            "UPDATE user_sessions SET ended_at = ? WHERE user_id = ? AND id != ?"
            " AND ended_at IS NULL",
            (to_db(now), user.id, user.session_id),
        )
    return cursor.rowcount


def check_password(db: sqlite_utils.Database, user_id: int, password: str) -> bool:
    row = one(db, "SELECT password_hash FROM users WHERE id = ?", (user_id,))
    return bool(row) and check_password_hash(row["password_hash"], password or "")


def grant_slots(db: sqlite_utils.Database, email: str, slots: int) -> User:
    """Raise an account's active-PAT limit by `slots`."""
    if slots < 1:
        raise ValidationError({"slots": "Grant at least 1 slot."})
    with transaction(db):
        cursor = db.execute(
            "UPDATE users SET extra_pat_slots = extra_pat_slots + ? WHERE email = ?",
            (slots, normalize_email(email)),
        )
        if cursor.rowcount == 0:
            raise ValidationError({"email": f"No account with email {email}."})
    return find_by_email(db, email)


def set_admin(db: sqlite_utils.Database, email: str, admin: bool) -> User:
    """Give or take the administrator role."""
    with transaction(db):
        cursor = db.execute(
            "UPDATE users SET is_admin = ? WHERE email = ?",
            (int(admin), normalize_email(email)),
        )
        if cursor.rowcount == 0:
            raise ValidationError({"email": f"No account with email {email}."})
    return find_by_email(db, email)


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Every IANA timezone name this machine knows (from the tzdata package)."""
    return tuple(
        sorted(name for name in available_timezones() if "/" in name or name == "UTC")
    )


@lru_cache(maxsize=1)
def _canonical_timezones() -> dict[str, str]:
    return {name.casefold(): name for name in timezone_names()}


def set_timezone(db: sqlite_utils.Database, user_id: int, name: str | None) -> str:
    """Change the timezone pages and daily buckets use.

    :raise ValidationError: not an IANA timezone name.
    """
    name = _canonical_timezones().get((name or "").strip().casefold(), "")
    if not name:
        raise ValidationError(
            {
                "timezone": "Choose a timezone from the list, like Europe/Paris or America/New_York."
            }
        )
    from .usage import rebuild_daily

    with transaction(db):
        db.execute("UPDATE users SET timezone = ? WHERE id = ?", (name, user_id))
        rebuild_daily(db, user_id, name)
    return name
