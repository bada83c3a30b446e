"""Rules for text and ids that people type or send: one place for all of them."""

from __future__ import annotations

import unicodedata
from datetime import date

from .errors import ValidationError

MAX_ID = 2**63 - 1
# Invisible characters that would let two names look identical.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Bidirectional overrides can make text display in another order than it reads.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


MIN_YEAR, MAX_YEAR = 1970, 2200


def parse_id(value) -> int | None:
    """A row id from a form or query value, or None when it is not a valid one."""
    text = str(value or "").strip()
    # isascii: str.isdigit also accepts digits such as "²" that int() refuses;
    # the length check comes first, as int() refuses thousands of digits.
    if (
        len(text) > len(str(MAX_ID))
        or not (text.isascii() and text.isdigit())
        or not 0 < int(text) <= MAX_ID
    ):
        return None
    return int(text)


def parse_day(value, label: str):
    """A YYYY-MM-DD date within sensible years, None when empty.

    :raise ValueError: malformed or out of range, with a message naming `label`.
    """
    text = str(value or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Enter the {label} date as YYYY-MM-DD.") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(f"Choose a {label} date between {MIN_YEAR} and {MAX_YEAR}.")
    return day


def _bad_char(text: str, allowed: str = "") -> str | None:
    for ch in text:
        if ch in allowed:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            return ch
    return None


def clean_line(value, label: str, max_len: int) -> str:
    """A single line of text (a name or title): normalised, spaces collapsed,
    invisible characters dropped.

    :raise ValueError: control characters, direction overrides, or too long.
    """
    if not isinstance(value, str):
        raise ValueError(f"{label} must be text.")
    text = unicodedata.normalize("NFC", value).translate(_INVISIBLE)
    if _bad_char(text, allowed="\t\n\r"):
        raise ValueError(
            f"{label} must not contain control characters, text-direction marks or invalid Unicode."
        )
    text = " ".join(text.split())
    if len(text) > max_len:
        raise ValueError(f"{label} must be at most {max_len} characters.")
    return text


def clean_block(value, label: str, max_len: int) -> str:
    """Multi-line text (notes, template content): line breaks and tabs kept.

    :raise ValueError: other control characters, or too long.
    """
    if not isinstance(value, str):
        raise ValueError(f"{label} must be text.")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    if _bad_char(text, allowed="\t\n"):
        raise ValueError(
            f"{label} must not contain control characters, text-direction marks or invalid Unicode."
        )
    text = text.strip()
    if len(text) > max_len:
        raise ValueError(f"{label} must be at most {max_len} characters.")
    return text


def parse_whole(value) -> int | None:
    """A whole number typed into a form or query, or None when it is not one."""
    text = str(value).strip() if value is not None else ""
    # ASCII only: int() would also read other scripts' digits.
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 12:
        return None
    return int(text)


def parse_selection(values, noun: str, most: int) -> list[int]:
    """Ticked ids from a form, in order, once each (also for history's rows).

    :raise ValidationError: nothing selected, a malformed id, or too many.
    """
    values = list(values or ())
    # Counted before anything else, so a huge list costs nothing to refuse.
    if len(values) > most:
        raise ValidationError({"ids": f"Select at most {most} {noun}s at once."})
    ids = [parse_id(raw) for raw in values]
    if None in ids:
        raise ValidationError(
            {"ids": f"The selection holds something that is not a {noun}."}
        )
    if not ids:
        raise ValidationError({"ids": f"Select at least one {noun} first."})
    return list(dict.fromkeys(ids))
