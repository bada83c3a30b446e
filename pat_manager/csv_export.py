"""CSV downloads, streamed, with spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
import io

from flask import Response, current_app

from .clock import from_db
from .db import close, connect


def _cell(value):
    # A cell starting with = + - @ runs as a formula in spreadsheet apps; user
    # text (job titles, user agents) must stay text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def local_time(value: str | None, tz) -> str:
    moment = from_db(value)
    return moment.astimezone(tz).isoformat(timespec="seconds") if moment else ""


def response(filename: str, header: list[str], rows) -> Response:
    """Stream a header and `rows(db)`, so a large export never sits in memory whole.

    The rows are read after the view has returned, so the generator opens its
    own connection instead of borrowing the request's (closed by then).
    """
    database = current_app.config["DATABASE"]

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        yield buffer.getvalue()
        db = connect(database)
        try:
            for row in rows(db):
                buffer.seek(0)
                buffer.truncate()
                writer.writerow([_cell(v) for v in row])
                yield buffer.getvalue()
        finally:
            close(db)

    result = Response(generate(), mimetype="text/csv")
    result.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    result.headers["Cache-Control"] = "no-store"
    return result
