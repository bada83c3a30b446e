"""Jinja filters and globals: times in the viewer's timezone, PAT display helpers."""

from __future__ import annotations

from datetime import datetime

from flask_login import current_user

from . import access_rules, charts, notifications, pats, rotation, tokens
from .clock import from_db, zone
from .db import get_db
from .web import now


def _viewer_zone():
    tz_name = getattr(current_user, "timezone", None) if current_user else None
    return zone(tz_name)


def localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored or aware time shown in the viewer's timezone."""
    if value is None:
        return ""
    moment = from_db(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return ""
    local = moment.astimezone(_viewer_zone())
    return local.strftime(fmt)


def localdate(value) -> str:
    return localtime(value, "%Y-%m-%d")


def init_app(app) -> None:
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.globals["sparkline"] = charts.sparkline

    @app.context_processor
    def _globals():
        return {
            "pat_status": lambda pat: pats.status(pat, now()),
            "pat_expiry": lambda pat: pats.expiry_summary(pat, now()),
            "pat_template": pats.template_label,
            "token_hint": tokens.display_hint,
            "pat_limits": access_rules.describe,
            "pat_overlap": lambda pat: rotation.overlap_left(pat, now()),
            "pat_rotation_due": rotation.due_at,
            "timezone_name": getattr(current_user, "timezone", "UTC") or "UTC",
            "unread_alerts": lambda: notifications.unread_count(
                get_db(), current_user.id
            ),
        }
