"""pat-manager: manage the Personal Access Tokens a job-search extension uses."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from .clock import SystemClock
from .db import close, connect, release_db
from .migrations import migrate
from .tokens import derive_token_key
from .web import IdConverter

log = logging.getLogger("pat_manager")


def _configure_logging(level: str) -> None:
    """One handler for the package: time, level, logger and message.

    It writes to stderr, beside gunicorn's own log, so stdout stays clean for CLI
    output that scripts read (such as the token `create-pat` prints).
    """
    if not any(getattr(h, "_pat_manager", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s")
        )
        handler._pat_manager = True
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(level)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app from PAT_MANAGER_* settings, overridden by `test_config`.

    :raise config.ConfigError: a setting is unusable; the message says how to fix it.
    """
    settings = config_module.from_environ()
    settings.update(test_config or {})
    instance = Path(settings["INSTANCE_PATH"])
    # The instance folder holds the database and the key: private to this user.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        instance.chmod(0o700)  # a git checkout makes it 0755
    except PermissionError:
        log.warning("could not make %s private (chmod 700)", instance)
    config_module.create_private_file(Path(settings["DATABASE"]))
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = config_module.load_secret_key(instance)

    app = Flask(
        __name__,
        instance_path=str(instance.resolve()),
        template_folder=str(config_module.PROJECT_ROOT / "templates"),
        static_folder=str(config_module.PROJECT_ROOT / "static"),
    )
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=60 * 60 * 24 * 30,
        # CSRF tokens live as long as the session; an hour-old open page must still work.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=1024 * 1024,
        CLOCK=SystemClock(),
    )
    app.config.update(settings)
    app.url_map.converters["id"] = IdConverter
    # "/api/v1//token" must not become a redirect (an HTML body under /api).
    app.url_map.merge_slashes = False
    _configure_logging(app.config["LOG_LEVEL"])
    if app.config["TRUSTED_PROXIES"]:
        # Each trusted proxy appends one X-Forwarded-For entry; believe only those.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.extensions["pat_manager.token_key"] = derive_token_key(app.config["SECRET_KEY"])

    db = connect(app.config["DATABASE"])
    try:
        migrate(db, app.config["CLOCK"])
    finally:
        close(db)
    app.extensions["pat_manager.connections"] = threading.local()
    app.teardown_appcontext(release_db)

    from . import security, templating
    from .cli import register_commands
    from .views import (
        admin,
        alerts,
        api,
        audit,
        auth,
        bulk,
        cv_templates,
        health,
        history,
        pat_lifecycle,
        pats,
        settings,
        slots,
        usage,
    )

    security.init_app(app)
    templating.init_app(app)
    for blueprint in (
        auth.bp,
        pats.bp,
        pat_lifecycle.bp,
        bulk.bp,
        slots.bp,
        audit.bp,
        admin.bp,
        cv_templates.bp,
        history.bp,
        usage.bp,
        settings.bp,
        api.bp,
        health.bp,
        alerts.bp,
    ):
        app.register_blueprint(blueprint)
    register_commands(app)

    log.info(
        "pat-manager ready: database=%s free_tier_pat_limit=%s registration=%s "
        "secure_cookies=%s reauth_minutes=%s trusted_proxies=%s usage_retention_days=%s "
        "scheduler=%s email=%s",
        app.config["DATABASE"],
        app.config["FREE_TIER_PAT_LIMIT"],
        app.config["REGISTRATION"],
        app.config["SESSION_COOKIE_SECURE"],
        app.config["REAUTH_MINUTES"],
        app.config["TRUSTED_PROXIES"],
        app.config["USAGE_RETENTION_DAYS"],
        "on" if app.config["SCHEDULER"] else "off",
        "on" if app.config["SMTP_URL"] else "off",
    )
    return app
