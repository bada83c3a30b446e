"""Login, CSRF, security headers and error responses for pages, htmx and the API."""

from __future__ import annotations

import logging

from flask import jsonify, make_response, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, InternalServerError

from .accounts import load_session_user
from .db import get_db
from .errors import NotFound
from .tokens import redact
from .web import is_htmx

log = logging.getLogger(__name__)

login_manager = LoginManager()
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def is_api_request() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


@login_manager.user_loader
def _load_user(login_id: str):
    return load_session_user(get_db(), login_id)


def _login_redirect():
    """Send an anonymous visitor to the login page.

    htmx requests get HX-Redirect so the browser navigates, instead of the login
    page being swapped into a table row.
    """
    target = url_for(
        "auth.login",
        next=request.full_path.rstrip("?") if request.method == "GET" else None,
    )
    if is_htmx():
        response = jsonify(error="login_required")
        response.status_code = 401
        response.headers["HX-Redirect"] = url_for("auth.login")
        return response
    return redirect(target)


@login_manager.unauthorized_handler
def _unauthorized():
    return _login_redirect()


def _error_response(status: int, title: str, message: str, code: str):
    if is_api_request():
        response = jsonify(error=code, message=message)
        response.status_code = status
        return response
    template = "errors/_message.html" if is_htmx() else "errors/error.html"
    page = render_template(template, status=status, title=title, message=message)
    response = make_response(page, status)
    response.vary.add("HX-Request")
    return response


_HTTP_ERRORS = {
    400: ("bad_request", "Bad request", "The request could not be understood."),
    404: (
        "not_found",
        "Not found",
        "There is nothing here, or it is not yours to see.",
    ),
    405: (
        "method_not_allowed",
        "Method not allowed",
        "This address does not accept that method.",
    ),
    413: ("payload_too_large", "Too large", "The request body is too large."),
    415: (
        "unsupported_media_type",
        "Unsupported type",
        "Send the body as application/json.",
    ),
}


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    csrf.init_app(app)

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        # An htmx action from a page whose session expired carries a stale CSRF
        # token: that is a login problem, so the browser is sent to log in.
        if not current_user.is_authenticated and is_htmx():
            return _login_redirect()
        log.warning(
            "CSRF check failed: %s %s (%s)",
            request.method,
            request.path,
            error.description,
        )
        return _error_response(
            400,
            "Form expired",
            "This form has expired or was not sent from this site. Reload the page and try again.",
            "csrf_failed",
        )

    @app.errorhandler(NotFound)
    def _not_found(_error):
        # A service found the object missing (or someone else's), perhaps because
        # it was deleted while this request ran: the same answer as a bad URL.
        code, title, message = _HTTP_ERRORS[404]
        return _error_response(404, title, message, code)

    @app.errorhandler(HTTPException)
    def _http_error(error):
        code, title, message = _HTTP_ERRORS.get(
            error.code, ("http_error", error.name, error.description)
        )
        response = _error_response(error.code, title, message, code)
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error):
        if isinstance(error, HTTPException):
            return _http_error(error)
        log.exception("unhandled error on %s %s", request.method, redact(request.path))
        return _error_response(
            500,
            "Something went wrong",
            "The server hit an error. Your data is safe; try again in a moment.",
            "internal_error",
        )

    # Keep Flask's InternalServerError in the same shape.
    app.register_error_handler(InternalServerError, _unexpected)
