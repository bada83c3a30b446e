"""CV templates: each account's named templates and its default."""

from __future__ import annotations

import sqlite3

import sqlite_utils

from . import audit
from .clock import to_db
from .db import one, transaction
from .errors import NotFound, ValidationError
from .pats import set_template_within
from .text import clean_block, clean_line

NAME_MAX = 80
CONTENT_MAX = 100_000


def _clean_name(name: str | None) -> str:
    try:
        name = clean_line(name or "", "The name", NAME_MAX)
    except ValueError as exc:
        raise ValidationError({"name": str(exc)}) from None
    if not name:
        raise ValidationError({"name": "Give the template a name."})
    return name


def _clean_content(content: str | None) -> str:
    try:
        return clean_block(content or "", "The content", CONTENT_MAX)
    except ValueError as exc:
        raise ValidationError({"content": str(exc)}) from None


def list_templates(db: sqlite_utils.Database, user_id: int) -> list[dict]:
    return list(
        db.query(
            "SELECT t.*, (SELECT COUNT(*) FROM pats p WHERE p.template_id = t.id"
            " AND p.template_choice = 'custom' AND p.revoked_at IS NULL) AS pat_count,"
            " (SELECT COUNT(*) FROM pats p JOIN users u ON u.id = p.user_id"
            "  WHERE p.user_id = t.user_id AND p.template_choice = 'default'"
            "  AND p.revoked_at IS NULL AND u.default_template_id = t.id) AS default_count"
            " FROM cv_templates t WHERE t.user_id = ? ORDER BY t.name COLLATE NOCASE",
            (user_id,),
        )
    )


def get_owned(db: sqlite_utils.Database, user_id: int, template_id) -> dict:
    row = one(
        db,
        "SELECT * FROM cv_templates WHERE id = ? AND user_id = ?",
        (template_id, user_id),
    )
    if row is None:
        raise NotFound()
    return row


def find_by_name(db: sqlite_utils.Database, user_id: int, name: str) -> dict | None:
    return one(
        db,
        "SELECT * FROM cv_templates WHERE user_id = ? AND name = ? COLLATE NOCASE",
        (user_id, clean_line(name, "The name", NAME_MAX)),
    )


def _duplicate_name(name: str) -> ValidationError:
    return ValidationError({"name": f"You already have a template named “{name}”."})


def create(
    db: sqlite_utils.Database,
    user_id: int,
    name: str,
    content: str,
    now,
    make_default: bool = False,
) -> dict:
    name, content = _clean_name(name), _clean_content(content)
    try:
        with transaction(db):
            cursor = db.execute(
                "INSERT INTO cv_templates (user_id, name, content, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, name, content, to_db(now), to_db(now)),
            )
            if make_default:
                db.execute(
                    "UPDATE users SET default_template_id = ? WHERE id = ?",
                    (cursor.lastrowid, user_id),
                )
    except sqlite3.IntegrityError:
        raise _duplicate_name(name) from None
    return get_owned(db, user_id, cursor.lastrowid)


def update(
    db: sqlite_utils.Database, user_id: int, template_id, name: str, content: str, now
) -> dict:
    """:raise NotFound: the template is gone (or never was this user's)."""
    name, content = _clean_name(name), _clean_content(content)
    try:
        with transaction(db):
            cursor = db.execute(
                "UPDATE cv_templates SET name = ?, content = ?, updated_at = ?"
                " WHERE id = ? AND user_id = ?",
                (name, content, to_db(now), template_id, user_id),
            )
    except sqlite3.IntegrityError:
        raise _duplicate_name(name) from None
    if cursor.rowcount == 0:
        raise NotFound()
    return get_owned(db, user_id, template_id)


def set_default(db: sqlite_utils.Database, user_id: int, template_id) -> None:
    """Make a template the account default; None clears the default.

    :raise NotFound: the template is gone (or never was this user's).
    """
    with transaction(db):
        # Checked under the write lock, so a concurrent delete cannot slip between.
        if template_id is not None and not one(
            db,
            "SELECT 1 AS x FROM cv_templates WHERE id = ? AND user_id = ?",
            (template_id, user_id),
        ):
            raise NotFound()
        db.execute(
            "UPDATE users SET default_template_id = ? WHERE id = ?",
            (template_id, user_id),
        )


def pats_using(db: sqlite_utils.Database, user_id: int, template_id) -> list[dict]:
    """Active PATs that will break if this template goes (custom choice, or the default)."""
    return list(
        db.query(
            "SELECT p.id, p.user_id, p.name, p.template_choice FROM pats p"
            " JOIN users u ON u.id = p.user_id"
            " WHERE p.user_id = ? AND p.revoked_at IS NULL AND ("
            "  (p.template_choice = 'custom' AND p.template_id = :t)"
            "  OR (p.template_choice = 'default' AND u.default_template_id = :t))"
            " ORDER BY p.name COLLATE NOCASE".replace("?", ":u"),
            {"u": user_id, "t": template_id},
        )
    )


LEAVE = "leave"


def delete(
    db: sqlite_utils.Database,
    user_id: int,
    template_id,
    move_to=LEAVE,
    *,
    now,
    ip: str | None = None,
) -> tuple[dict, int]:
    """Delete a template, first moving the active PATs that use it.

    move_to is "default" (the account default), another template's id, or
    "leave": PATs left pointing at nothing answer "CV template not found" until
    their owner picks another template (allowed on purpose). Moving to another
    template also makes it the account default when this one was.

    :return: the deleted template and how many PATs were moved.
    :raise NotFound: not this user's template, or the target is not theirs.
    :raise ValidationError: the target cannot take the PATs.
    """
    template = get_owned(db, user_id, template_id)
    moved = 0
    with transaction(db):
        default_id = db.execute(
            "SELECT default_template_id FROM users WHERE id = ?", (user_id,)
        ).fetchone()[0]
        affected = pats_using(db, user_id, template_id)
        if move_to in (None, "", LEAVE) or not affected:
            target = None
            for pat in affected:
                audit.record(
                    db,
                    user_id=user_id,
                    pat=pat,
                    action="template",
                    now=now,
                    ip=ip,
                    detail=f"template “{template['name']}” deleted; left with none"
                    " (CV template not found)",
                )
        elif move_to == "default":
            if default_id in (None, template["id"]):
                raise ValidationError(
                    {
                        "move_to": "This template is the account default, so there is"
                        " no other default to move them to. Choose a template."
                    }
                )
            target = "default"
        else:
            target = get_owned(db, user_id, move_to)
            if target["id"] == template["id"]:
                raise ValidationError(
                    {"move_to": "Choose another template than the one you delete."}
                )
        if target is not None:
            to_text = (
                "the account default" if target == "default" else f"“{target['name']}”"
            )
            detail = f"template “{template['name']}” deleted; moved to {to_text}"
            for pat in affected:
                # PATs that follow the account default move with the default below.
                choice, target_id = pat["template_choice"], None
                if choice == "custom" and target == "default":
                    choice = "default"
                elif choice == "custom":
                    target_id = target["id"]
                set_template_within(db, pat, choice, target_id, now, ip, detail)
                moved += 1
            if target != "default" and default_id == template["id"]:
                db.execute(
                    "UPDATE users SET default_template_id = ? WHERE id = ?",
                    (target["id"], user_id),
                )
        # ON DELETE SET NULL clears pats.template_id, users.default_template_id and
        # submissions.template_id; submissions keep the name they were made with.
        db.execute(
            "DELETE FROM cv_templates WHERE id = ? AND user_id = ?",
            (template_id, user_id),
        )
    return template, moved
