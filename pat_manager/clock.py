"""Time in one place: an injectable clock and the single stored form of a time.

Every time inside the app is an aware UTC datetime. The database holds them as
fixed-width ISO 8601 text (`2026-12-04T15:27:35.123456Z`); code parses them back
before comparing, so comparisons are between times, not strings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = UTC
_DB_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class SystemClock:
    """The real clock; tests swap in one they can move."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must carry a timezone")
    return moment.astimezone(UTC).strftime(_DB_FORMAT)


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    # fromisoformat reads the stored form (with its "Z") many times faster than
    # strptime, and this runs on every API request.
    return datetime.fromisoformat(text)


def to_api(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC, second precision, as the extension reads it."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone(name: str | None) -> ZoneInfo | timezone:
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def end_of_day(day: date, tz_name: str | None) -> datetime:
    """The instant a calendar day ends in the given timezone (next midnight), in UTC."""
    next_midnight = datetime.combine(
        day + timedelta(days=1), time(0), tzinfo=zone(tz_name)
    )
    return next_midnight.astimezone(UTC)


def local_today(now: datetime, tz_name: str | None) -> date:
    return now.astimezone(zone(tz_name)).date()
