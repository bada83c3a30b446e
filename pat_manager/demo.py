"""Realistic demo data, fast: for exploring the dashboard and for benchmarks."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import sqlite_utils

from . import cv_templates, pats
from .accounts import User, get_user
from .clock import from_db, to_db
from .db import transaction
from .errors import TemplateNotFound
from .submissions import job_host
from .urls import normalise
from .usage import USER_AGENT_MAX, add_counts, bucket_of, local_day, owner_timezone

BATCH = 20_000
DEMO_PATS = [
    ("PM Job Search 2025", "default"),
    ("Coach Access - Sarah", "custom"),
    ("Summer Internships", "none"),
]
SITES = [
    ("https://www.linkedin.com/jobs/view/{n}", 30),
    ("https://boards.greenhouse.io/acme/jobs/{n}", 15),
    ("https://jobs.lever.co/globex/{n}", 12),
    ("https://www.indeed.com/viewjob?jk={n}", 20),
    ("https://careers.initech.com/job/{n}", 8),
    ("https://wellfound.com/jobs/{n}", 10),
    ("https://www.glassdoor.com/job-listing/{n}", 5),
]
COMPANIES = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Aperture",
]
TITLES = [
    "Product Manager",
    "Senior Product Manager",
    "Software Engineer",
    "Data Analyst",
    "UX Designer",
    "Engineering Manager",
    "Marketing Manager",
    "Summer Intern",
]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "cvforge-extension/1.4 (+chrome)",
]
IPS = [
    "203.0.113.7",
    "203.0.113.42",
    "198.51.100.23",
    "2001:db8:85a3::8a2e:370:7334",
    "192.0.2.144",
]
# (outcome, HTTP status, method, path, weight)
OUTCOMES = [
    ("submission", 201, "POST", "/api/v1/submissions", 76),
    ("ok", 200, "GET", "/api/v1/token", 14),
    ("validation_error", 422, "POST", "/api/v1/submissions", 4),
    ("template_not_found", 422, "POST", "/api/v1/submissions", 2),
    ("malformed_json", 400, "POST", "/api/v1/submissions", 2),
    ("unsupported_media_type", 415, "POST", "/api/v1/submissions", 2),
]


def _demo_pats(
    db, user: User, now, start, free_tier_limit: int, token_key: bytes
) -> list[dict]:
    """The account's active PATs, topped up with the guide's examples where slots
    allow. PATs made here are dated back to the start of the demo period."""
    if not cv_templates.list_templates(db, user.id):
        cv_templates.create(
            db, user.id, "Technical roles", "Demo CV", now, make_default=True
        )
        cv_templates.create(
            db, user.id, "Leadership", "Demo CV for management roles", now
        )
    templates = cv_templates.list_templates(db, user.id)
    active = [
        p for p in pats.list_for_user(db, user.id) if pats.status(p, now) == pats.ACTIVE
    ]
    names = {p["name"].casefold() for p in active}
    for name, choice in DEMO_PATS:
        if (
            len(active) >= pats.pat_limit(user, free_tier_limit)
            or name.casefold() in names
        ):
            continue
        created = pats.create(
            db,
            user,
            name=name,
            template_choice=choice,
            template_id=templates[0]["id"],
            expiry="90",
            now=now,
            free_tier_limit=free_tier_limit,
            token_key=token_key,
        )
        with transaction(db):
            db.conn.execute(
                "UPDATE pats SET created_at = ?, token_shown_at = ? WHERE id = ?",
                (to_db(start), to_db(start), created.pat["id"]),
            )
        active.append(pats.get_owned(db, user.id, created.pat["id"]))
    return active


def _template_for(db, pat: dict, user: User) -> dict | None | bool:
    """The template a live submission with this PAT would get; False if none would
    be accepted ("CV template not found")."""
    try:
        return pats.resolve_template(db, pat, user)
    except TemplateNotFound:
        return False


def seed(
    db: sqlite_utils.Database,
    user: User,
    *,
    events: int,
    days: int,
    now: datetime,
    free_tier_limit: int,
    token_key: bytes,
    rng: random.Random | None = None,
    progress=None,
) -> dict:
    """Add `events` API requests spread over the last `days` days, with their
    submissions, rollups, tallies and counters, as live traffic would leave them.

    Each batch is one transaction holding its rows and their counts, so an
    interrupted run leaves consistent data behind.
    """
    rng = rng or random.Random()
    start = now - timedelta(days=days)
    demo_pats = _demo_pats(db, user, now, start, free_tier_limit, token_key)
    if not demo_pats:
        raise ValueError("the account has no free PAT slot and no active PAT to fill")
    user = get_user(db, user.id)
    templates = {p["id"]: _template_for(db, p, user) for p in demo_pats}
    born = {p["id"]: from_db(p["created_at"]) for p in demo_pats}
    # No event before the oldest PAT existed.
    start = max(start, min(born.values()))
    span = (now - start).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(events))
    outcome_weights = [w for *_, w in OUTCOMES]
    site_weights = [w for _, w in SITES]
    pat_ips = {p["id"]: rng.sample(IPS, k=min(3, len(IPS))) for p in demo_pats}

    done = submitted = 0
    while done < events:
        chunk = offsets[done : done + BATCH]
        with transaction(db):
            submitted += _seed_batch(
                db,
                user,
                start,
                chunk,
                demo_pats,
                born,
                templates,
                pat_ips,
                rng,
                outcome_weights,
                site_weights,
            )
        done += len(chunk)
        if progress:
            progress(len(chunk))
    with transaction(db):
        # Invented history is not news: the detectors watch traffic from here on.
        db.conn.execute("INSERT OR IGNORE INTO job_runs (name) VALUES ('detect')")
        db.conn.execute(
            "UPDATE job_runs SET cursor = MAX(cursor,"
            " (SELECT COALESCE(MAX(id), 0) FROM usage_events)) WHERE name = 'detect'"
        )
    return {
        "events": events,
        "submissions": submitted,
        "pats": [p["name"] for p in demo_pats],
    }


def _seed_batch(
    db,
    user,
    start,
    chunk,
    demo_pats,
    born,
    templates,
    pat_ips,
    rng,
    outcome_weights,
    site_weights,
) -> int:
    """Insert one batch of events and everything they count towards; the caller
    holds the write transaction, so ids and the timezone cannot change under it."""
    tz_name = owner_timezone(db, user.id)
    next_submission = db.conn.execute(
        "SELECT COALESCE(MAX(id), 0) FROM submissions"
    ).fetchone()[0]
    event_rows, submission_rows = [], []
    rollups, daily, tallies = Counter(), Counter(), Counter()
    per_pat, last_success = Counter(), {}
    for offset in chunk:
        at = start + timedelta(seconds=offset)
        stamp = to_db(at)
        pat = rng.choice([p for p in demo_pats if born[p["id"]] <= at])
        outcome, status, method, path, _ = rng.choices(OUTCOMES, outcome_weights)[0]
        template = templates[pat["id"]]
        if outcome == "submission" and template is False:
            outcome, status = "template_not_found", 422
        ip = rng.choice(pat_ips[pat["id"]])
        agent = rng.choice(AGENTS)[:USER_AGENT_MAX]
        job_url = submission_id = None
        if outcome == "submission":
            next_submission += 1
            submission_id = next_submission
            site = rng.choices(SITES, site_weights)[0][0]
            job_url = site.format(n=rng.randrange(10**6, 10**7))
            company, title = rng.choice(COMPANIES), rng.choice(TITLES)
            submission_rows.append(
                (
                    submission_id,
                    user.id,
                    pat["id"],
                    template["id"] if template else None,
                    template["name"] if template else None,
                    job_url,
                    job_host(job_url),
                    title,
                    company,
                    None,
                    stamp,
                    normalise(job_url),
                )
            )
            tallies[("host", job_host(job_url))] += 1
            tallies[("company", company)] += 1
            per_pat[pat["id"]] += 1
        if outcome in ("submission", "ok"):
            last_success[pat["id"]] = (stamp, ip)
        event_rows.append(
            (
                pat["id"],
                user.id,
                stamp,
                ip,
                agent,
                method,
                path,
                status,
                outcome,
                job_url,
                submission_id,
            )
        )
        rollups[(pat["id"], bucket_of(at), outcome)] += 1
        daily[(pat["id"], local_day(at, tz_name), outcome)] += 1

    db.conn.executemany(
        "INSERT INTO submissions (id, user_id, pat_id, template_id, template_name, url,"
        " job_host, title, company, notes, created_at, normalized_url)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        submission_rows,
    )
    db.conn.executemany(
        "INSERT INTO usage_events (pat_id, user_id, at, ip, user_agent, method, path,"
        " status, outcome, job_url, submission_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        event_rows,
    )
    add_counts(
        db,
        [(pid, user.id, bucket, oc, n) for (pid, bucket, oc), n in rollups.items()],
        [(pid, user.id, day, oc, n) for (pid, day, oc), n in daily.items()],
    )
    db.conn.executemany(
        "INSERT INTO submission_tallies (user_id, kind, value, count) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO UPDATE SET count = count + excluded.count",
        [(user.id, kind, value, n) for (kind, value), n in tallies.items()],
    )
    for pat in demo_pats:
        stamp, ip = last_success.get(pat["id"], (None, None))
        db.conn.execute(
            "UPDATE pats SET submission_count = submission_count + ? WHERE id = ?",
            (per_pat[pat["id"]], pat["id"]),
        )
        if stamp is not None:
            db.conn.execute(
                "UPDATE pats SET last_used_at = ?, last_used_ip = ? WHERE id = ?"
                " AND (last_used_at IS NULL OR last_used_at < ?)",
                (stamp, ip, pat["id"], stamp),
            )
    return len(submission_rows)
