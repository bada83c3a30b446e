"""Settings read from PAT_MANAGER_* environment variables, validated in one place."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PREFIX = "PAT_MANAGER_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"


class ConfigError(Exception):
    """A setting has a value we cannot use; the message says which and how to fix it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


# The README's configuration table is checked against this list by a test.
SETTINGS = [
    Setting(
        "INSTANCE_PATH", "<repo>/instance", "Folder for the database and secret key."
    ),
    Setting("DATABASE", "<instance>/pat_manager.sqlite3", "SQLite database file."),
    Setting(
        "SECRET_KEY",
        "generated into <instance>/secret_key",
        "Signs sessions and derives PAT secrets. Changing it invalidates every PAT.",
    ),
    Setting("FREE_TIER_PAT_LIMIT", "3", "Active PATs allowed per account."),
    Setting(
        "REGISTRATION", "open", "`open` or `closed` (closed: only the CLI adds users)."
    ),
    Setting(
        "SECURE_COOKIES", "false", "`true` behind HTTPS: cookies get the Secure flag."
    ),
    Setting("REAUTH_MINUTES", "10", "How long a password entry allows reveals."),
    Setting("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR."),
    Setting(
        "TRUSTED_PROXIES",
        "0",
        "How many reverse proxies sit in front; only then is X-Forwarded-For believed.",
    ),
    Setting(
        "USAGE_RETENTION_DAYS",
        "90",
        "Raw usage log rows older than this can be pruned.",
    ),
    Setting("API_RATE_LIMIT", "120", "API requests allowed per PAT per minute."),
    Setting("SCHEDULER", "1", "`0` switches the in-process job scheduler off."),
    Setting(
        "SCHEDULER_TICK_SECONDS", "15", "How often the scheduler looks for due jobs."
    ),
    Setting(
        "SMTP_URL",
        "(unset: no email)",
        "smtp://user:pass@host:587?starttls=true&from=addr",
    ),
]


def _env(environ, name: str) -> str | None:
    value = environ.get(PREFIX + name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _int(environ, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = _env(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"{PREFIX}{name} must be a whole number, got {raw!r}."
        ) from None
    if not minimum <= value <= maximum:
        raise ConfigError(
            f"{PREFIX}{name} must be between {minimum} and {maximum}, got {value}."
        )
    return value


def _choice(environ, name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _env(environ, name)
    if raw is None:
        return default
    value = raw.lower()
    if value not in choices:
        raise ConfigError(
            f"{PREFIX}{name} must be one of {', '.join(choices)}; got {raw!r}."
        )
    return value


def _bool(environ, name: str, default: bool) -> bool:
    raw = _env(environ, name)
    if raw is None:
        return default
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{PREFIX}{name} must be true or false, got {raw!r}.")


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only, unless it exists already.

    SQLite gives its -wal and -shm files the database file's permissions, so
    creating the database this way keeps all three private.
    """
    if path.exists():
        return
    if not path.parent.is_dir():
        raise ConfigError(
            f"The folder for {PREFIX}DATABASE does not exist: {path.parent}"
        )
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _smtp_url(environ) -> str | None:
    raw = _env(environ, "SMTP_URL")
    if raw is None:
        return None
    from .mailer import parse_smtp_url

    try:
        parse_smtp_url(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}SMTP_URL {exc}.") from None
    return raw


def load_secret_key(instance_path: Path) -> str:
    """Read the instance secret key, creating it (mode 0600) on first run.

    The key is written to a private temporary file and hard-linked into place, so
    several workers starting at once all end up reading the same complete key.
    """
    path = instance_path / SECRET_KEY_FILE
    if not path.exists():
        tmp = instance_path / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
        )
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError(
            f"{path} holds a key shorter than 32 characters; delete it to regenerate."
        )
    return key


def from_environ(environ=None) -> dict:
    """Build the Flask config mapping from the environment."""
    environ = os.environ if environ is None else environ
    instance = Path(_env(environ, "INSTANCE_PATH") or PROJECT_ROOT / "instance")
    database = _env(environ, "DATABASE") or str(instance / "pat_manager.sqlite3")
    log_level = _choice(
        environ, "LOG_LEVEL", "info", ("debug", "info", "warning", "error")
    ).upper()
    secure = _bool(environ, "SECURE_COOKIES", False)
    return {
        "INSTANCE_PATH": str(instance),
        "DATABASE": database,
        "SECRET_KEY": _env(environ, "SECRET_KEY"),
        "FREE_TIER_PAT_LIMIT": _int(environ, "FREE_TIER_PAT_LIMIT", 3, 0, 1000),
        "REGISTRATION": _choice(environ, "REGISTRATION", "open", ("open", "closed")),
        "REAUTH_MINUTES": _int(environ, "REAUTH_MINUTES", 10, 1, 24 * 60),
        "LOG_LEVEL": log_level,
        "TRUSTED_PROXIES": _int(environ, "TRUSTED_PROXIES", 0, 0, 10),
        "USAGE_RETENTION_DAYS": _int(environ, "USAGE_RETENTION_DAYS", 90, 1, 3650),
        "API_RATE_LIMIT": _int(environ, "API_RATE_LIMIT", 120, 1, 1_000_000),
        "SCHEDULER": _bool(environ, "SCHEDULER", True),
        "SCHEDULER_TICK_SECONDS": _int(environ, "SCHEDULER_TICK_SECONDS", 15, 1, 3600),
        "SMTP_URL": _smtp_url(environ),
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
    }
