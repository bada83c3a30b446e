"""Errors the services raise; views turn them into pages, fragments or JSON."""

from __future__ import annotations


class ValidationError(Exception):
    """Input that cannot be accepted, with one message per field."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


class NotFound(Exception):
    """The object does not exist or belongs to someone else (the caller cannot tell)."""


class PatLimitReached(Exception):
    def __init__(self, limit: int):
        super().__init__(
            f"PAT limit reached: this account may have {limit} active PATs. "
            "Revoke a PAT you no longer use, or ask for more slots."
        )
        self.limit = limit


class TemplateNotFound(Exception):
    """The PAT's template was deleted, or it follows an account default that is unset."""

    message = "CV template not found"
