"""Helpers shared by the page blueprints: htmx detection, page-or-fragment
rendering, owner-only lookups, the clock and the client address."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from functools import lru_cache

from flask import abort, current_app, make_response, render_template, request
from werkzeug.routing import BaseConverter
from werkzeug.routing import ValidationError as NoRouteMatch

from .db import get_db
from .errors import NotFound
from .text import MAX_ID, parse_id


class IdConverter(BaseConverter):
    """Row ids in URLs: positive and within SQLite's integer range, else 404."""

    regex = r"[1-9][0-9]{0,18}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise NoRouteMatch()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def arg_id(name: str) -> int | None:
    """An id from the query string, or None when absent or not a valid id."""
    return parse_id(request.args.get(name))


def arg_object_id(name: str) -> int | None:
    """An object id from the query string (None when absent); one that cannot
    name any object is answered 404, like an object that is not the viewer's."""
    if request.args.get(name) is None:
        return None
    object_id = parse_id(request.args.get(name))
    if object_id is None:
        abort(404)
    return object_id


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def filter_args(keys) -> dict:
    """The named query arguments that are present, for rebuilding a filter URL."""
    return {key: value for key in keys if (value := request.args.get(key))}


def is_htmx() -> bool:
    """True for an htmx request that wants a fragment.

    History restores and boosted navigation need whole pages, so they count as
    ordinary requests.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and headers.get("HX-Boosted") != "true"
    )


def page_or_fragment(page: str, fragment: str, status: int = 200, **context):
    """Render the fragment for htmx and the full page otherwise (Vary: HX-Request)."""
    template = fragment if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def no_store(response):
    """For responses that carry a token: never cached, never leaked by Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def owned(lookup, *args):
    """Call a service lookup and turn NotFound (missing or someone else's) into 404."""
    try:
        return lookup(get_db(), *args)
    except NotFound:
        abort(404)


def now() -> datetime:
    return current_app.config["CLOCK"].now()


def token_key() -> bytes:
    return current_app.extensions["pat_manager.token_key"]


def client_ip() -> str | None:
    """The client's address, normalised; None when it is not an IP address
    (possible only when a trusted proxy forwards junk in X-Forwarded-For)."""
    return _normalised_ip(request.remote_addr or "")


@lru_cache(maxsize=4096)
def _normalised_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def too_many(decision, message: str):
    """A 429 page (or htmx fragment) saying when to try again."""
    minutes = max(1, round(decision.retry_after / 60))
    when = f"{minutes} minute{'s' if minutes != 1 else ''}"
    text = f"{message} Try again in {when}."
    template = "errors/_message.html" if is_htmx() else "errors/error.html"
    page = render_template(
        template, status=429, title="Too many attempts", message=text
    )
    response = make_response(page, 429)
    response.headers["Retry-After"] = str(decision.retry_after)
    response.vary.add("HX-Request")
    return response
