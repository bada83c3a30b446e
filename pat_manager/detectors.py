"""Warning signs from the guide, read from new usage events: sudden increases,
new networks, use outside normal hours, and repeated submissions of one job.
Each finding becomes a notice saying what was seen, with the numbers."""

from __future__ import annotations

import ipaddress
import statistics
from datetime import datetime, time, timedelta

import sqlite_utils

from .clock import UTC, from_db, to_db, zone
from .notifications import notify, settings
from .usage import SUCCESS_OUTCOMES

BATCH = 5000
DUPLICATES_PER_HOUR = 3
DAY_NAMES = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
]


def network_of(ip: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _known(network: str, known_networks: str) -> bool:
    """Whether a listed network or address lies in (or covers) this network."""
    net = ipaddress.ip_network(network)
    for line in known_networks.split():
        try:
            if net.overlaps(ipaddress.ip_network(line, strict=False)):
                return True
        except (ValueError, TypeError):
            continue
    return False


def run(db: sqlite_utils.Database, now: datetime, cursor: int, email: bool) -> int:
    """Look at usage events after `cursor`; return the new cursor. The caller
    holds a write transaction; notices are deduplicated, so a rerun is harmless.

    Work is per PAT and per day, not per event (settings, known networks and
    told-today marks are kept for the batch), so the write lock is held briefly
    even when a busy extension has sent thousands of requests since the last run.
    """
    rows = db.conn.execute(
        "SELECT e.id, e.pat_id, e.user_id, e.at, e.ip, e.outcome, e.submission_id,"
        " p.name, u.timezone, s.duplicate_of FROM usage_events e"
        " JOIN pats p ON p.id = e.pat_id JOIN users u ON u.id = e.user_id"
        " LEFT JOIN submissions s ON s.id = e.submission_id"
        " WHERE e.id > ? ORDER BY e.id LIMIT ?",
        (cursor, BATCH),
    ).fetchall()
    prefs_of: dict[int, dict] = {}
    networks_of: dict[int, dict[str, str]] = {}
    told: set = set()
    # The latest submission of each PAT on each local day is where a spike shows.
    spike_checks: dict = {}
    # Likewise the latest repeated job of each account in each hour.
    duplicate_checks: dict = {}
    for (event_id, pat_id, user_id, at_text, ip, outcome, submission_id, name, tz,
         duplicate_of) in rows:  # fmt: skip
        cursor = event_id
        if outcome not in SUCCESS_OUTCOMES:
            continue
        at = from_db(at_text)
        prefs = prefs_of.get(user_id) or prefs_of.setdefault(
            user_id, settings(db, user_id)
        )
        context = {"db": db, "now": now, "user_id": user_id, "pat_id": pat_id,
                   "name": name, "email": email, "told": told}  # fmt: skip
        if pat_id not in networks_of:
            networks_of[pat_id] = dict(db.conn.execute(
                "SELECT network, first_seen FROM pat_networks WHERE pat_id = ?", (pat_id,)
            ).fetchall())  # fmt: skip
        _new_network(context, ip, at, tz, prefs, networks_of[pat_id])
        _off_hours(context, at, tz, prefs)
        if submission_id is not None:
            day = at.astimezone(zone(tz)).date().isoformat()
            spike_checks[(pat_id, day)] = (at, tz, context, prefs)
            if duplicate_of is not None:
                hour = at.astimezone(UTC).strftime("%Y-%m-%dT%H")
                duplicate_checks[(user_id, hour)] = (at, tz, context)
    for at, tz, context, prefs in spike_checks.values():
        _sudden_increase(context, at, tz, prefs)
    for at, tz, context in duplicate_checks.values():
        _duplicates(context, at, tz)
    return cursor


def _tell(
    context, kind: str, title: str, body: str, key: str, pat: bool = True
) -> None:
    if key in context["told"]:
        return
    context["told"].add(key)
    notify(
        context["db"],
        user_id=context["user_id"],
        kind=kind,
        title=title,
        body=body,
        dedupe_key=key,
        now=context["now"],
        pat_id=context["pat_id"] if pat else None,
        email_enabled=context["email"],
    )


def _new_network(context, ip, at: datetime, tz: str, prefs: dict, known: dict) -> None:
    network = network_of(ip)
    if network is None or network in known:
        return
    db, pat_id = context["db"], context["pat_id"]
    start_of_day = datetime.combine(
        at.astimezone(zone(tz)).date(), time(0), tzinfo=zone(tz)
    )
    had_history = any(from_db(seen) < start_of_day for seen in known.values())
    known[network] = to_db(at)
    db.conn.execute(
        "INSERT OR IGNORE INTO pat_networks (pat_id, network, first_seen) VALUES (?, ?, ?)",
        (pat_id, network, to_db(at)),
    )
    if had_history and not _known(network, prefs["known_networks"]):
        _tell(
            context,
            "unknown_location",
            f"“{context['name']}” was used from a new network",
            f"“{context['name']}” was used from {ip} (network {network}), which it has never "
            "been used from before. If that was not you or someone you share it with, "
            "revoke the PAT. If it was, add the network to your known networks in Settings.",
            f"network:{pat_id}:{network}",
        )


def _off_hours(context, at: datetime, tz: str, prefs: dict) -> None:
    local = at.astimezone(zone(tz))
    start, end = prefs["work_start_hour"], prefs["work_end_hour"]
    working_day = str(local.weekday()) in prefs["work_days"]
    if working_day and start <= local.hour < end:
        return
    when = f"{DAY_NAMES[local.weekday()]} {local:%H:%M}"
    _tell(
        context,
        "off_hours",
        f"“{context['name']}” was used outside your normal hours",
        f"“{context['name']}” was used on {when} ({tz}), outside your normal hours "
        f"({start:02d}:00–{end:02d}:00 on your working days). Use at odd hours can mean "
        "someone else has the token. Adjust your hours in Settings if this is normal.",
        f"offhours:{context['pat_id']}:{local.date().isoformat()}",
    )


def _sudden_increase(context, at: datetime, tz: str, prefs: dict) -> None:
    db, pat_id = context["db"], context["pat_id"]
    since = int((at - timedelta(hours=24)).timestamp())
    until = int(at.timestamp())
    last_day = db.conn.execute(
        "SELECT COALESCE(SUM(count), 0) FROM usage_rollups WHERE pat_id = ?"
        " AND outcome = 'submission' AND bucket >= ? AND bucket <= ?",
        (pat_id, since - since % 900, until),
    ).fetchone()[0]
    today = at.astimezone(zone(tz)).date()
    days = [(today - timedelta(days=n)).isoformat() for n in range(1, 15)]
    per_day = dict(
        db.conn.execute(
            "SELECT day, count FROM usage_daily WHERE pat_id = ? AND outcome = 'submission'"
            " AND day >= ? AND day <= ?",
            (pat_id, days[-1], days[0]),
        ).fetchall()
    )
    usual = statistics.median(per_day.get(day, 0) for day in days)
    threshold = max(prefs["spike_floor"], prefs["spike_multiplier"] * usual)
    if last_day <= threshold:
        return
    _tell(
        context,
        "sudden_increase",
        f"Sudden increase in submissions with “{context['name']}”",
        f"“{context['name']}” made {last_day} submissions in the last 24 hours; its usual "
        f"is {usual:g} a day (median of the previous 14 days), and you are alerted above "
        f"{threshold:g}. A sudden increase can mean the token is used by someone else.",
        f"spike:{pat_id}:{today.isoformat()}",
    )


def _duplicates(context, at: datetime, tz: str) -> None:
    db = context["db"]
    count = db.conn.execute(
        "SELECT COUNT(*) FROM submissions INDEXED BY submissions_user_created"
        " WHERE user_id = ? AND duplicate_of IS NOT NULL"
        " AND created_at > ? AND created_at <= ?",
        (context["user_id"], to_db(at - timedelta(hours=1)), to_db(at)),
    ).fetchone()[0]
    if count < DUPLICATES_PER_HOUR:
        return
    hour = at.astimezone(UTC).strftime("%Y-%m-%dT%H")
    _tell(
        context,
        "duplicates",
        "Several jobs were submitted again",
        f"{count} submissions in the last hour were jobs you had already submitted in the "
        "past 30 days. Repeated submissions to the same postings can mean a misbehaving "
        "extension or someone else using your PAT.",
        f"dups:{context['user_id']}:{hour}",
        pat=False,
    )
