"""The minimal baseline: only the essential work of a submission.

Look the token up, verify it, insert one row, commit — with Flask, gunicorn and
SQLite configured like the real app, so the ratio between the two shows what the
real app's extra work (limits, templates, usage records) costs.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime

from flask import Flask, jsonify, request

from pat_manager import tokens

app = Flask(__name__)
DATABASE = os.environ["BASELINE_DATABASE"]
TOKEN_KEY = tokens.derive_token_key(os.environ["BASELINE_SECRET_KEY"])
_local = threading.local()


def _conn() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(DATABASE, timeout=10, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA synchronous = NORMAL")
        _local.conn = conn
    return conn


@app.post("/api/v1/submissions")
def submit():
    header = request.headers.get("Authorization", "")
    parsed = tokens.parse(header.partition(" ")[2].strip())
    if parsed is None:
        return jsonify(error="invalid_token"), 401
    conn = _conn()
    row = conn.execute(
        "SELECT id, user_id, secret_seed FROM pats WHERE public_id = ? AND revoked_at IS NULL",
        (parsed.public_id,),
    ).fetchone()
    if row is None or not tokens.secret_matches(TOKEN_KEY, parsed, row[2]):
        return jsonify(error="invalid_token"), 401
    url = (request.get_json(silent=True) or {}).get("url")
    if not isinstance(url, str):
        return jsonify(error="validation_error"), 422
    conn.execute("BEGIN IMMEDIATE")
    cursor = conn.execute(
        "INSERT INTO submissions (user_id, pat_id, url, created_at) VALUES (?, ?, ?, ?)",
        (row[1], row[0], url, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    )
    conn.execute("COMMIT")
    return jsonify(id=cursor.lastrowid), 201
