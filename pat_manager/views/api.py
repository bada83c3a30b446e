"""The extension's JSON API under /api/v1, authenticated by PAT only."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import access_rules, idempotency, pats, ratelimit, submissions, usage
from ..clock import from_db, to_api
from ..db import get_db, transaction
from ..errors import TemplateNotFound, ValidationError
from ..openapi import SPEC
from ..security import csrf
from ..text import parse_whole
from ..web import client_ip, now, token_key

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
EXPIRY_HEADER = "X-PAT-Expires-At"
INVALID_TOKEN = "Invalid PAT token"
_AUTH_SCHEMES = ("bearer", "token")
# Served without a PAT and left out of the usage record.
PUBLIC_ENDPOINTS = {"api.openapi"}


def error(status: int, code: str, message: str, **extra):
    response = jsonify(error=code, message=message, **extra)
    response.status_code = status
    return response


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in _AUTH_SCHEMES:
        return None
    return value.strip() or None


@bp.before_request
def _authenticate():
    """Every API call needs a working PAT; cookies never count.

    CORS preflights carry no credentials, so they are answered here, before auth.
    """
    if request.method == "OPTIONS":
        response = current_app.response_class(status=204)
        del response.headers["Content-Type"]
        return response
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    db, moment, ip = get_db(), now(), client_ip()
    result = pats.authenticate_token(db, _bearer_token(), token_key(), moment)
    # A genuine PAT is logged against its owner even when it is revoked or expired.
    g.usage_pat = result.pat
    if result.pat is None:
        # Only requests without a genuine token count towards, and are stopped by,
        # the per-address limit: a guesser on a shared network does not lock out
        # the people there whose PATs work.
        guessing = ratelimit.check(db, ratelimit.BAD_TOKEN_PER_IP, ip, moment)
        if not guessing.allowed:
            g.rate_limited_ip = True
            return _too_many(
                guessing, "Too many requests with invalid tokens from your address."
            )
        ratelimit.hit(db, ratelimit.BAD_TOKEN_PER_IP, ip, moment)
    if not result.ok:
        extra = {"reason": result.reason} if result.reason else {}
        response = error(401, "invalid_token", INVALID_TOKEN, **extra)
        response.headers["WWW-Authenticate"] = 'Bearer realm="pat-manager"'
        return response

    # Only read here: the request is counted with its usage record, in the same
    # write transaction (a few requests in flight at once can overshoot by as many).
    limit = _api_limit()
    decision = ratelimit.check(db, limit, result.pat["id"], moment)
    if not decision.allowed:
        g.pat_over_limit = True
        return _too_many(
            decision, f"Too many requests for this PAT (limit: {limit.describe()})."
        )
    g.pat, g.pat_user = result.pat, result.user
    g.old_secret = result.old_secret
    return _refuse_outside_limits(result.pat, ip)


# Which scopes let a PAT call each endpoint (any one of them is enough); the
# duplicate check is part of saving a job, so a write-only PAT may ask it.
REQUIRED_SCOPES = {
    "api.create_submission": {access_rules.WRITE},
    "api.check_submission": {access_rules.WRITE, access_rules.READ},
    "api.list_submissions": {access_rules.READ},
}


def _refuse_outside_limits(pat: dict, ip: str | None):
    """The PAT works, but may be limited to networks, one extension and scopes."""
    if not access_rules.network_allows(pat, ip):
        log.warning(
            "API: PAT used from a network it does not allow: pat_id=%s ip=%s",
            pat["id"],
            ip,
        )
        return error(
            403,
            "ip_not_allowed",
            f"This PAT may not be used from your address ({ip or 'unknown'}). Its owner"
            " can add your network to the PAT's allowed networks.",
            ip=ip,
        )
    origin = request.headers.get("Origin")
    if not access_rules.origin_allows(pat, origin):
        # The caller's own origin is echoed only when it is an extension's: a web
        # page's origin says nothing the caller does not know, but is not ours to
        # repeat into a JSON body it can read.
        shown = origin if access_rules.EXTENSION_ORIGIN.fullmatch(origin) else None
        return error(
            403,
            "origin_not_allowed",
            "This PAT is limited to another browser extension. Its owner can change"
            " the allowed extension in the PAT's settings.",
            origin=shown,
        )
    needed = REQUIRED_SCOPES.get(request.endpoint)
    if needed and not needed & access_rules.scopes_of(pat):
        wanted = " or ".join(sorted(needed))
        return error(
            403,
            "insufficient_scope",
            f"This PAT lacks the scope this call needs ({wanted}). Its owner can add"
            " it in the PAT's settings.",
            required_scopes=sorted(needed),
        )
    return None


def _api_limit() -> ratelimit.Limit:
    return ratelimit.api_limit(current_app.config["API_RATE_LIMIT"])


def _too_many(decision, message: str):
    response = error(
        429, "rate_limited", f"{message} Retry after {decision.retry_after} seconds."
    )
    response.headers["Retry-After"] = str(decision.retry_after)
    return response


def _outcome(response) -> str:
    if response.status_code < 400:
        return "submission" if g.get("submission") else "ok"
    if response.status_code >= 500:
        return "error"
    body = response.get_json(silent=True) or {}
    return body.get("reason") or body.get("error") or f"http_{response.status_code}"


def _record_usage_within(db, status: int, outcome: str, submission=None) -> None:
    """Inside the caller's write transaction: the usage record and, for a working
    PAT, its rate-limit count. Under a savepoint, so a failure here never undoes
    the caller's own writes (such as the submission) nor fails the request."""
    at = now()
    db.conn.execute("SAVEPOINT usage_record")
    try:
        usage.record_within(
            db,
            pat=g.usage_pat,
            at=at,
            ip=client_ip(),
            user_agent=request.headers.get("User-Agent"),
            method=request.method,
            path=request.path,
            status=status,
            outcome=outcome,
            job_url=submission["url"] if submission else None,
            submission_id=submission["id"] if submission else None,
            keep_event=not g.get("pat_over_limit"),
            old_secret=bool(g.get("old_secret")),
        )
        if g.get("pat") is not None:
            ratelimit.count(db, _api_limit(), g.pat["id"], at)
        db.conn.execute("RELEASE usage_record")
    except Exception:
        db.conn.execute("ROLLBACK TO usage_record")
        db.conn.execute("RELEASE usage_record")
        log.exception("could not record API usage for %s", request.method)
    g.usage_recorded = True


def _record_usage(response) -> None:
    """Log the request, unless it was logged with its submission already; a
    failure here must never fail the request itself."""
    if g.get("usage_recorded"):
        return
    try:
        db = get_db()
        if g.get("usage_pat") is None:
            if not g.get("rate_limited_ip"):
                usage.record_unknown(
                    db,
                    at=now(),
                    ip=client_ip(),
                    user_agent=request.headers.get("User-Agent"),
                )
            return
        with transaction(db):
            _record_usage_within(db, response.status_code, _outcome(response))
    except Exception:
        log.exception("could not record API usage for %s", request.method)


@bp.after_app_request
def _record_unrouted(response):
    """Log requests under /api/v1 that matched no route (wrong path or method).

    The blueprint's own hooks never run for them, yet a PAT that calls a wrong
    address is part of its usage record too.
    """
    if (
        request.url_rule is None
        and request.path.startswith(bp.url_prefix + "/")
        and request.method != "OPTIONS"
        and "Authorization" in request.headers
    ):
        try:
            db, moment = get_db(), now()
            result = pats.authenticate_token(db, _bearer_token(), token_key(), moment)
            g.usage_pat = result.pat
            if result.ok:
                # Counted against the PAT's limit like any call; past it, no log rows.
                g.pat = result.pat
                g.pat_over_limit = not ratelimit.check(
                    db, _api_limit(), result.pat["id"], moment
                ).allowed
        except Exception:
            log.exception("could not check the token of an unrouted API request")
            return response
        _record_usage(response)
    return response


@bp.after_request
def _decorate(response):
    if request.method != "OPTIONS" and request.endpoint not in PUBLIC_ENDPOINTS:
        _record_usage(response)
    pat = g.get("pat")
    if pat is not None:
        response.headers[EXPIRY_HEADER] = to_api(from_db(pat["expires_at"])) or "none"
    origin = request.headers.get("Origin", "")
    if access_rules.EXTENSION_ORIGIN.fullmatch(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, Content-Type, Idempotency-Key"
        )
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Expose-Headers"] = (
            f"{EXPIRY_HEADER}, Retry-After, Idempotent-Replayed"
        )
        response.headers["Access-Control-Max-Age"] = "600"
    response.vary.add("Origin")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi():
    """The API's OpenAPI description (public: it holds no secrets)."""
    return jsonify(SPEC)


def _template_json(template: dict | None):
    return {"id": template["id"], "name": template["name"]} if template else None


@bp.get("/token")
def token_info():
    """What the presented PAT is, so the extension can check its set-up."""
    pat, user = g.pat, g.pat_user
    try:
        template, template_status = pats.resolve_template(get_db(), pat, user), "ok"
    except TemplateNotFound:
        template, template_status = None, "not_found"
    return jsonify(
        pat={
            "id": pat["id"],
            "name": pat["name"],
            "expires_at": to_api(from_db(pat["expires_at"])),
            "template": _template_json(template),
            "template_choice": pat["template_choice"],
            "template_status": template_status,
            "scopes": sorted(access_rules.scopes_of(pat)),
            "allowed_networks": [n for n in pat["allowed_networks"].split(",") if n],
            "allowed_origin": pat["allowed_origin"],
            "rotation_days": pat["rotation_days"],
            # True when this request used a token a rotation replaced: switch
            # to the new one before the overlap ends.
            "old_token": bool(g.get("old_secret")),
        },
        account={"email": user.email},
    )


def _json_body():
    """The parsed body, or an error response saying what is wrong with it."""
    if request.mimetype != "application/json":
        return None, error(
            415,
            "unsupported_media_type",
            "Send the body as JSON with Content-Type: application/json.",
        )

    def too_large():
        return error(
            413, "payload_too_large", f"The body must be at most {MAX_BODY} bytes."
        )

    if request.content_length is not None and request.content_length > MAX_BODY:
        return None, too_large()
    try:
        # One byte past the limit tells a too-large chunked body (no length) apart.
        raw = request.stream.read(MAX_BODY + 1)
    except RequestEntityTooLarge:
        return None, too_large()
    except Exception:
        # A broken chunked encoding or a client that went away mid-body.
        return None, error(400, "bad_request", "The request body could not be read.")
    if len(raw) > MAX_BODY:
        return None, too_large()
    try:
        return json.loads(raw.decode("utf-8")), None
    except (UnicodeDecodeError, ValueError) as exc:
        return None, error(400, "malformed_json", f"The body is not valid JSON: {exc}.")
    except RecursionError:
        return None, error(
            400, "malformed_json", "The body is not valid JSON: nested too deeply."
        )


def _submission_json(row: dict, template: dict | None, pat: dict) -> dict:
    return {
        "id": row["id"],
        "url": row["url"],
        "title": row["title"],
        "company": row["company"],
        "notes": row["notes"],
        "template": _template_json(template),
        "pat": {"id": pat["id"], "name": pat["name"]} if pat else None,
        "created_at": to_api(from_db(row["created_at"])),
        "duplicate_of": row["duplicate_of"],
    }


def _json_response(status: int, text: str):
    return current_app.response_class(text, status=status, mimetype="application/json")


@bp.post("/submissions")
def create_submission():
    """Record a job application made with this PAT (Idempotency-Key aware)."""
    payload, problem = _json_body()
    if problem is not None:
        return problem
    try:
        fields = submissions.validate(payload)
        key = request.headers.get("Idempotency-Key")
        key = idempotency.clean_key(key) if key is not None else None
    except ValidationError as exc:
        return error(
            422, "validation_error", "Some fields are not valid.", fields=exc.fields
        )
    except ValueError as exc:
        return error(
            422,
            "validation_error",
            "Some fields are not valid.",
            fields={"Idempotency-Key": str(exc)},
        )

    db, pat, user, moment = get_db(), g.pat, g.pat_user, now()
    digest = idempotency.body_hash(payload)
    try:
        # The submission, its usage record and its idempotency key commit together:
        # one write per request, and a twin request waits for it and replays it.
        with transaction(db):
            earlier = key and idempotency.find(db, user.id, key, moment)
            if earlier and earlier.body_hash != digest:
                _record_usage_within(db, 409, "idempotency_conflict")
                return error(
                    409,
                    "idempotency_conflict",
                    "This Idempotency-Key was already used with a different body.",
                )
            if earlier:
                _record_usage_within(db, earlier.status, "ok")
                response = _json_response(earlier.status, earlier.response)
                response.headers["Idempotent-Replayed"] = "true"
                return response
            template = pats.resolve_template(db, pat, user)
            row = submissions.insert(
                db,
                user_id=user.id,
                pat_id=pat["id"],
                template=template,
                fields=fields,
                now=moment,
            )
            body = json.dumps(_submission_json(row, template, pat))
            if key:
                idempotency.remember(db, user.id, key, digest, 201, body, moment)
            _record_usage_within(db, 201, "submission", row)
    except TemplateNotFound:
        return error(422, "template_not_found", TemplateNotFound.message)
    g.submission = row
    return _json_response(201, body)


@bp.get("/submissions/check")
def check_submission():
    """Has the account already submitted this job? (Asked before posting.)"""
    try:
        url = submissions.validate({"url": request.args.get("url")})["url"]
    except ValidationError as exc:
        return error(
            422, "validation_error", "Some fields are not valid.", fields=exc.fields
        )
    found = submissions.last_submission_of(get_db(), g.pat_user.id, url)
    last = found["last"]
    return jsonify(
        submitted=found["count"] > 0,
        count=found["count"],
        normalized_url=found["normalized_url"],
        last=None
        if last is None
        else {
            "id": last["id"],
            "created_at": to_api(from_db(last["created_at"])),
            "pat": {"id": last["pat_id"], "name": last["pat_name"]}
            if last["pat_id"] is not None
            else None,
        },
    )


LIST_DEFAULT, LIST_MAX = 50, 100


def _page_args() -> tuple[int | None, int]:
    """The cursor and page size of a list call.

    :raise ValidationError: either is malformed.
    """
    errors = {}
    limit = parse_whole(request.args.get("limit", str(LIST_DEFAULT))) or 0
    if not 1 <= limit <= LIST_MAX:
        errors["limit"] = f"Give a whole number from 1 to {LIST_MAX}."
    before = None
    raw_cursor = request.args.get("cursor")
    if raw_cursor is not None:
        before = submissions.decode_cursor(raw_cursor)
        if before is None:
            errors["cursor"] = "Not a cursor from this API; pass next_cursor as given."
    if errors:
        raise ValidationError(errors)
    return before, limit


@bp.get("/submissions")
def list_submissions():
    """The account's submissions, newest first, a page at a time (submissions:read)."""
    try:
        before, limit = _page_args()
    except ValidationError as exc:
        return error(
            422, "validation_error", "Some fields are not valid.", fields=exc.fields
        )
    rows, older = submissions.page(get_db(), g.pat_user.id, before, size=limit)
    return jsonify(
        submissions=[
            {
                **_submission_json(
                    row,
                    {"id": row["template_id"], "name": row["template_name"]}
                    if row["template_name"] is not None
                    else None,
                    {"id": row["pat_id"], "name": row["pat_name"]}
                    if row["pat_id"] is not None
                    else None,
                ),
                "needs_template": row["template_name"] is None,
            }
            for row in rows
        ],
        next_cursor=submissions.encode_cursor(older) if older else None,
    )
