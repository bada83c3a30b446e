"""A constant answer for load balancers and uptime checks."""

from flask import Blueprint, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Always {"status": "ok"} while the process serves; touches no database."""
    return jsonify(status="ok")
