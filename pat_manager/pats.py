"""Personal Access Tokens: creation rules, limits, status, reveal, revoke and API auth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlite_utils

from . import access_rules, audit, tokens
from .accounts import User
from .clock import end_of_day, from_db, local_today, to_db, zone
from .db import one, transaction
from .errors import NotFound, PatLimitReached, TemplateNotFound, ValidationError
from .text import clean_line, parse_id, parse_whole

NAME_MAX = 80
EXPIRY_CHOICES = ("30", "90", "custom", "never")
DEFAULT_EXPIRY = "90"
MAX_CUSTOM_DAYS = 365
EXPIRY_WARNING_DAYS = 7
TEMPLATE_CHOICES = ("default", "custom", "none")
# The guide's examples of descriptive names, offered as suggestions in the form.
NAME_SUGGESTIONS = [
    "PM Job Search 2025",
    "Sarah's Tech Applications",
    "Summer Internships",
    "Coach Access - Sarah",
    "Q1 2025 Applications",
]

ACTIVE, PAUSED, EXPIRED, REVOKED = "active", "paused", "expired", "revoked"
# Active and paused PATs each take a slot; expired and revoked ones free theirs.
HOLDS_SLOT = (ACTIVE, PAUSED)


def status(pat: dict, now: datetime) -> str:
    if pat["revoked_at"] is not None:
        return REVOKED
    expires_at = from_db(pat["expires_at"])
    if expires_at is not None and expires_at <= now:
        return EXPIRED
    if pat.get("paused_at") is not None:
        return PAUSED
    return ACTIVE


def pat_limit(user: User, free_tier_limit: int) -> int:
    return free_tier_limit + user.extra_pat_slots


def slot_holders(db: sqlite_utils.Database, user_id: int, now: datetime) -> list[dict]:
    """The PATs that take a slot: active and paused ones."""
    rows = db.query(
        "SELECT * FROM pats WHERE user_id = ? AND revoked_at IS NULL", (user_id,)
    )
    return [row for row in rows if status(row, now) in HOLDS_SLOT]


def active_count(db: sqlite_utils.Database, user_id: int, now: datetime) -> int:
    """Slots in use (paused PATs included)."""
    return len(slot_holders(db, user_id, now))


def check_name_free(
    db: sqlite_utils.Database, user_id: int, name: str, now: datetime, except_id=None
) -> None:
    """Names are unique among the PATs that hold a slot, so the list stays readable.

    :raise ValidationError: another active or paused PAT has this name.
    """
    for other in slot_holders(db, user_id, now):
        if other["id"] != except_id and other["name"].casefold() == name.casefold():
            raise ValidationError(
                {
                    "name": f"You already have an active PAT named “{name}”. Pick another name."
                }
            )


def clean_name(name: str | None) -> str:
    try:
        name = clean_line(name or "", "The name", NAME_MAX)
    except ValueError as exc:
        raise ValidationError({"name": str(exc)}) from None
    if not name:
        raise ValidationError({"name": "Give the PAT a name that says what it is for."})
    return name


def resolve_expiry(
    choice: str | None, custom_date: str | None, now: datetime, tz_name: str | None
) -> datetime | None:
    """Turn the form's expiry choice into an instant (None: never expires)."""
    choice = choice or DEFAULT_EXPIRY
    if choice not in EXPIRY_CHOICES:
        raise ValidationError(
            {"expiry": "Choose 30 days, 90 days, a date, or no expiration."}
        )
    if choice == "never":
        return None
    if choice in ("30", "90"):
        return now + timedelta(days=int(choice))
    if not (custom_date or "").strip():
        raise ValidationError({"expires_on": "Pick the date this PAT should expire."})
    try:
        day = date.fromisoformat((custom_date or "").strip())
        if len(custom_date.strip()) != 10:
            raise ValueError("not YYYY-MM-DD")
    except ValueError:
        raise ValidationError(
            {"expires_on": "Enter the expiry date as YYYY-MM-DD."}
        ) from None
    today = local_today(now, tz_name)
    if day <= today:
        raise ValidationError({"expires_on": "Choose a date after today."})
    if day > today + timedelta(days=MAX_CUSTOM_DAYS):
        raise ValidationError(
            {"expires_on": "Choose a date at most one year from today."}
        )
    return end_of_day(day, tz_name)


ROTATION_CHOICES = (30, 60, 90)
# How long a replaced token keeps working: none, 1 hour, 24 hours, 7 days.
OVERLAP_CHOICES = {
    0: "Stop the old token at once",
    1: "1 hour",
    24: "24 hours",
    168: "7 days",
}
DEFAULT_OVERLAP_HOURS = 24


def clean_overlap(value) -> int:
    hours = parse_whole(value)
    if hours not in OVERLAP_CHOICES:
        raise ValidationError(
            {
                "overlap": "Choose how long the old token keeps working: none, 1 hour, 24 hours or 7 days."
            }
        )
    return hours


def clean_rotation_days(value) -> int | None:
    """The rotation policy: a new secret every 30, 60 or 90 days, or None (off)."""
    if value in (None, "", "0", 0, "off"):
        return None
    days = parse_whole(value)
    if days not in ROTATION_CHOICES:
        raise ValidationError(
            {
                "rotation_days": "Choose rotation every 30, 60 or 90 days, or no rotation."
            }
        )
    return days


def describe_settings(pat: dict, tz_name: str | None) -> str:
    """The PAT's settings in one line, for the audit log."""
    parts = [
        f"template: {pat['template_choice']}",
        f"works until: {last_day(pat['expires_at'], tz_name)}",
        f"scopes: {pat['scopes']}",
    ]
    if pat["allowed_networks"]:
        parts.append(f"networks: {pat['allowed_networks']}")
    if pat["allowed_origin"]:
        parts.append(f"origin: {pat['allowed_origin']}")
    if pat["rotation_days"]:
        parts.append(f"rotate every {pat['rotation_days']} days")
    return "; ".join(parts)


def last_day(expires_at: str | None, tz_name: str | None) -> str:
    """The last calendar day a PAT works, in the owner's timezone ("never").

    A date expiry is stored as the midnight that ends the chosen day, which is
    the next day's date; people chose, and should read, the day itself.
    """
    moment = from_db(expires_at)
    if moment is None:
        return "never"
    return (
        (moment - timedelta(microseconds=1))
        .astimezone(zone(tz_name))
        .date()
        .isoformat()
    )


def template_text(db: sqlite_utils.Database, choice: str, template_id) -> str:
    """A template choice in words, for audit entries and bulk results."""
    if choice == "none":
        return "no template"
    if choice == "default":
        return "the account default"
    row = one(db, "SELECT name FROM cv_templates WHERE id = ?", (template_id,))
    return f"“{row['name']}”" if row else "a deleted template"


def suggested_template_choice(user: User, templates: list[dict]) -> str:
    """The form's preselected choice: never one that would fail every submission."""
    if user.default_template_id is not None:
        return "default"
    return "custom" if templates else "none"


def resolve_template_choice(
    db: sqlite_utils.Database, user_id: int, choice: str | None, template_id
) -> tuple[str, int | None]:
    choice = choice or "default"
    if choice not in TEMPLATE_CHOICES:
        raise ValidationError(
            {"template": "Choose the default template, a template, or none."}
        )
    if choice != "custom":
        return choice, None
    template_id = parse_id(template_id)
    if template_id is None:
        raise ValidationError({"template": "Choose which template this PAT uses."})
    if not one(
        db,
        "SELECT 1 AS x FROM cv_templates WHERE id = ? AND user_id = ?",
        (template_id, user_id),
    ):
        raise ValidationError({"template": "That template does not exist any more."})
    return choice, template_id


@dataclass(frozen=True)
class NewPat:
    pat: dict
    token: str


def create(
    db: sqlite_utils.Database,
    user: User,
    *,
    name: str,
    template_choice: str | None,
    template_id=None,
    expiry: str | None,
    expires_on: str | None = None,
    now: datetime,
    free_tier_limit: int,
    token_key: bytes,
    scopes=(access_rules.DEFAULT_SCOPES,),
    allowed_networks: str | None = "",
    allowed_origin: str | None = None,
    rotation_days=None,
    rotation_overlap_hours=None,
    ip: str | None = None,
) -> NewPat:
    """Create a PAT and return it with its token.

    :raise ValidationError: a field is wrong.
    :raise PatLimitReached: the account already has its maximum of active PATs.
    """
    errors = {}
    fields = {}
    for key, check in (
        ("name", lambda: clean_name(name)),
        (
            "template",
            lambda: resolve_template_choice(db, user.id, template_choice, template_id),
        ),
        ("expiry", lambda: resolve_expiry(expiry, expires_on, now, user.timezone)),
        ("scopes", lambda: access_rules.clean_scopes(scopes)),
        ("allowed_networks", lambda: access_rules.clean_networks(allowed_networks)),
        ("allowed_origin", lambda: access_rules.clean_origin(allowed_origin)),
        ("rotation_days", lambda: clean_rotation_days(rotation_days)),
        (
            "overlap",
            lambda: (
                DEFAULT_OVERLAP_HOURS
                if rotation_overlap_hours in (None, "")
                else clean_overlap(rotation_overlap_hours)
            ),
        ),
    ):
        try:
            fields[key] = check()
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    name = fields["name"]
    choice, chosen_template = fields["template"]
    public_id, seed = tokens.new_public_id(), tokens.new_seed()

    with transaction(db):
        limit = pat_limit(user, free_tier_limit)
        if active_count(db, user.id, now) >= limit:
            raise PatLimitReached(limit)
        check_name_free(db, user.id, name, now)
        # It may have been deleted between the form check and this transaction.
        require_template(db, user.id, chosen_template)
        cursor = db.execute(
            "INSERT INTO pats (user_id, public_id, secret_seed, name, template_choice,"
            " template_id, created_at, expires_at, scopes, allowed_networks,"
            " allowed_origin, rotation_days, rotation_overlap_hours)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user.id,
                public_id,
                seed,
                name,
                choice,
                chosen_template,
                to_db(now),
                to_db(fields["expiry"]) if fields["expiry"] else None,
                fields["scopes"],
                fields["allowed_networks"],
                fields["allowed_origin"],
                fields["rotation_days"],
                fields["overlap"],
            ),
        )
        pat = get_owned(db, user.id, cursor.lastrowid)
        audit.record(
            db,
            user_id=user.id,
            pat=pat,
            action="create",
            now=now,
            ip=ip,
            detail=describe_settings(pat, user.timezone),
        )
    return NewPat(pat=pat, token=tokens.assemble(token_key, public_id, seed))


NEW_TOKEN_WINDOW = timedelta(minutes=10)


def claim_new_token_display(
    db: sqlite_utils.Database, user_id: int, pat_id, now: datetime
) -> bool:
    """True once per PAT, within minutes of its creation: the one showing of a new
    token. Recorded in the database, so a replayed cookie cannot show it again."""
    pat = get_owned(db, user_id, pat_id)
    if (
        status(pat, now) != ACTIVE
        or now - from_db(pat["created_at"]) > NEW_TOKEN_WINDOW
    ):
        return False
    with transaction(db):
        cursor = db.execute(
            "UPDATE pats SET token_shown_at = ? WHERE id = ? AND token_shown_at IS NULL",
            (to_db(now), pat["id"]),
        )
    return cursor.rowcount == 1


def set_template(
    db: sqlite_utils.Database,
    user_id: int,
    pat_id,
    template_choice: str | None,
    template_id,
    now: datetime,
    ip: str | None = None,
) -> dict:
    """Change which template the PAT's future submissions use; the token stays.

    :raise NotFound: not this user's PAT.
    :raise ValidationError: a bad choice, or the PAT no longer works.
    """
    pat = get_owned(db, user_id, pat_id)
    if status(pat, now) == EXPIRED:
        raise ValidationError(
            {"template": "This PAT has expired; create a new PAT instead."}
        )
    choice, chosen = resolve_template_choice(db, user_id, template_choice, template_id)
    with transaction(db):
        pat = get_owned(db, user_id, pat_id)
        if pat["revoked_at"] is not None:
            raise ValidationError(
                {"template": "This PAT is revoked; create a new PAT instead."}
            )
        set_template_within(
            db,
            pat,
            choice,
            chosen,
            now,
            ip,
            f"{template_text(db, pat['template_choice'], pat['template_id'])}"
            f" → {template_text(db, choice, chosen)}",
        )
    return get_owned(db, user_id, pat_id)


def require_template(db: sqlite_utils.Database, user_id: int, template_id) -> None:
    """Inside a write transaction: the chosen template is still the owner's (ids
    are reused, so a deleted one's id may now name someone else's).

    :raise ValidationError: it was deleted meanwhile.
    """
    if template_id is not None and not one(
        db,
        "SELECT 1 AS x FROM cv_templates WHERE id = ? AND user_id = ?",
        (template_id, user_id),
    ):
        raise ValidationError({"template": "That template does not exist any more."})


def set_template_within(
    db: sqlite_utils.Database,
    pat: dict,
    choice: str,
    template_id,
    now: datetime,
    ip: str | None,
    detail: str,
) -> None:
    """Inside the caller's transaction: the PAT's template choice, audited. Every
    path that changes it (the Fix page, bulk, a template's deletion) comes here."""
    require_template(db, pat["user_id"], template_id)
    db.execute(
        "UPDATE pats SET template_choice = ?, template_id = ? WHERE id = ?",
        (choice, template_id, pat["id"]),
    )
    audit.record(
        db,
        user_id=pat["user_id"],
        pat=pat,
        action="template",
        now=now,
        ip=ip,
        detail=detail,
    )


def get_owned(db: sqlite_utils.Database, user_id: int, pat_id) -> dict:
    """A PAT of this user, or NotFound (also for other people's PATs)."""
    row = one(db, "SELECT * FROM pats WHERE id = ? AND user_id = ?", (pat_id, user_id))
    if row is None:
        raise NotFound()
    return row


# A PAT with its template's name and the account default's, as lists show it.
_LISTED = (
    "SELECT p.*, t.name AS template_name, dt.name AS default_template_name,"
    " (SELECT MAX(valid_until) FROM pat_retired_secrets r WHERE r.pat_id = p.id)"
    " AS old_token_until"
    " FROM pats p JOIN users u ON u.id = p.user_id"
    " LEFT JOIN cv_templates t ON t.id = p.template_id"
    " LEFT JOIN cv_templates dt ON dt.id = u.default_template_id"
)


def list_for_user(db: sqlite_utils.Database, user_id: int) -> list[dict]:
    """Every PAT of the account with its template's name, active ones first."""
    return list(
        db.query(
            _LISTED + " WHERE p.user_id = ?"
            " ORDER BY p.revoked_at IS NOT NULL, p.created_at DESC, p.id DESC",
            (user_id,),
        )
    )


def get_listed(db: sqlite_utils.Database, user_id: int, pat_id) -> dict:
    """One PAT with the same joined fields as `list_for_user`, for re-rendering its row."""
    row = one(db, _LISTED + " WHERE p.id = ? AND p.user_id = ?", (pat_id, user_id))
    if row is None:
        raise NotFound()
    return row


def template_label(pat: dict) -> tuple[str, bool]:
    """How the PAT's template reads in the list, and whether it is broken."""
    choice = pat["template_choice"]
    if choice == "none":
        return "No template", False
    if choice == "custom":
        if pat.get("template_name") is None:
            return TemplateNotFound.message, True
        return pat["template_name"], False
    if pat.get("default_template_name") is None:
        return f"Account default — {TemplateNotFound.message}", True
    return f"Account default ({pat['default_template_name']})", False


def expiry_summary(pat: dict, now: datetime) -> tuple[str, bool]:
    """'in N days' style text and whether it deserves a warning."""
    expires_at = from_db(pat["expires_at"])
    if expires_at is None:
        return "Never (not recommended)", True
    remaining = expires_at - now
    if remaining <= timedelta(0):
        return "Expired", False
    # Rounded to the nearest day: a new 90-day PAT reads "in 90 days", not 89.
    days = int((remaining + timedelta(hours=12)) // timedelta(days=1))
    if remaining < timedelta(days=1):
        hours = max(1, int(remaining.total_seconds() // 3600))
        text = f"in {hours} hour{'s' if hours != 1 else ''}"
    else:
        text = f"in {days} day{'s' if days != 1 else ''}"
    return text, remaining < timedelta(days=EXPIRY_WARNING_DAYS)


def revoke(
    db: sqlite_utils.Database,
    user_id: int,
    pat_id,
    now: datetime,
    ip: str | None = None,
    detail: str = "",
) -> dict:
    """Revoke a PAT; revoking an already revoked PAT changes nothing."""
    pat = get_owned(db, user_id, pat_id)
    with transaction(db):
        revoke_within(db, pat, now, ip, detail)
    return get_owned(db, user_id, pat_id)


def revoke_within(
    db: sqlite_utils.Database, pat: dict, now: datetime, ip: str | None, detail=""
) -> bool:
    """Inside the caller's transaction; also ends any rotation overlap at once."""
    cursor = db.execute(
        "UPDATE pats SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        (to_db(now), pat["id"]),
    )
    if cursor.rowcount == 0:
        return False
    db.execute(
        "UPDATE pat_retired_secrets SET valid_until = ? WHERE pat_id = ? AND valid_until > ?",
        (to_db(now), pat["id"], to_db(now)),
    )
    audit.record(
        db,
        user_id=pat["user_id"],
        pat=pat,
        action="revoke",
        now=now,
        ip=ip,
        detail=detail,
    )
    return True


def reveal(
    db: sqlite_utils.Database,
    user_id: int,
    pat_id,
    *,
    now: datetime,
    ip: str | None,
    token_key: bytes,
) -> str:
    """The PAT's token, recomputed from its seed; each reveal is audited.

    :raise NotFound: not this user's PAT.
    :raise ValidationError: the PAT is revoked or expired, so its token is useless.
    """
    pat = get_owned(db, user_id, pat_id)
    state = status(pat, now)
    if state not in HOLDS_SLOT:
        raise ValidationError(
            {
                "pat": f"This PAT is {state}; its token no longer works. Create a new PAT."
            }
        )
    with transaction(db):
        db.execute(
            "INSERT INTO pat_reveals (pat_id, user_id, revealed_at, ip) VALUES (?, ?, ?, ?)",
            (pat["id"], user_id, to_db(now), ip),
        )
        audit.record(db, user_id=user_id, pat=pat, action="reveal", now=now, ip=ip)
    return tokens.assemble(token_key, pat["public_id"], pat["secret_seed"])


@dataclass(frozen=True)
class AuthResult:
    pat: dict | None = None
    user: User | None = None
    # Set only when the caller proved they hold a genuine token that no longer works.
    reason: str | None = None
    # The token is one a rotation replaced, still inside its overlap.
    old_secret: bool = False

    @property
    def ok(self) -> bool:
        return self.pat is not None and self.reason is None


def authenticate_token(
    db: sqlite_utils.Database, raw: str | None, token_key: bytes, now: datetime
) -> AuthResult:
    """Check a presented token. Malformed tokens never reach the database."""
    parsed = tokens.parse(raw or "")
    if parsed is None:
        return AuthResult()
    # One query for the PAT and its owner: this runs on every API request.
    cursor = db.conn.execute(
        _PAT_AND_OWNER + " WHERE p.public_id = ?", (parsed.public_id,)
    )
    row = cursor.fetchone()
    if row is None:
        return _authenticate_retired(db, parsed, token_key, now)
    pat, user = _split_pat_and_owner(cursor, row)
    if not tokens.secret_matches(token_key, parsed, pat["secret_seed"]):
        return AuthResult()
    state = status(pat, now)
    if state != ACTIVE:
        return AuthResult(pat=pat, reason=state)
    return AuthResult(pat=pat, user=User(user))


_PAT_AND_OWNER = "SELECT p.*, u.* FROM pats p JOIN users u ON u.id = p.user_id"


def _split_pat_and_owner(cursor, row) -> tuple[dict, dict]:
    names = [d[0] for d in cursor.description]
    split = names.index("email") - 1  # the users columns start at users.id
    pat = dict(zip(names[:split], row[:split], strict=True))
    return pat, dict(zip(names[split:], row[split:], strict=True))


def _authenticate_retired(db, parsed, token_key: bytes, now: datetime) -> AuthResult:
    """A token a rotation replaced: it works during its overlap, then is refused
    with reason 'rotated' (the holder proved it was once genuine)."""
    retired = db.conn.execute(
        "SELECT pat_id, secret_seed, valid_until FROM pat_retired_secrets"
        " WHERE public_id = ?",
        (parsed.public_id,),
    ).fetchone()
    if retired is None or not tokens.secret_matches(token_key, parsed, retired[1]):
        return AuthResult()
    cursor = db.conn.execute(_PAT_AND_OWNER + " WHERE p.id = ?", (retired[0],))
    pat, user = _split_pat_and_owner(cursor, cursor.fetchone())
    state = status(pat, now)
    if state != ACTIVE:
        return AuthResult(pat=pat, reason=state)
    if from_db(retired[2]) <= now:
        return AuthResult(pat=pat, reason="rotated")
    return AuthResult(pat=pat, user=User(user), old_secret=True)


def resolve_template(db: sqlite_utils.Database, pat: dict, user: User) -> dict | None:
    """The template a submission made now with this PAT gets (None: no template).

    :raise TemplateNotFound: the chosen template is gone, or the default is unset.
    """
    choice = pat["template_choice"]
    if choice == "none":
        return None
    template_id = pat["template_id"] if choice == "custom" else user.default_template_id
    if template_id is None:
        raise TemplateNotFound()
    template = one(
        db,
        "SELECT id, name FROM cv_templates WHERE id = ? AND user_id = ?",
        (template_id, user.id),
    )
    if template is None:
        raise TemplateNotFound()
    return template
