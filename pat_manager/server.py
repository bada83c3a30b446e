"""Serve the app with gunicorn, configured the same way for `make run` and tests."""

from __future__ import annotations

import logging

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from .db import close, connect
from .tokens import redact

log = logging.getLogger(__name__)


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


class RedactingLogger(Logger):
    """gunicorn's logger, with token-shaped strings blanked out of its lines.

    The access format already leaves out query strings and the Basic-auth user;
    this catches a token pasted into a URL path, and the error log's quotes of
    malformed requests (a token in a method or header name).
    """

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(_Redact())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def checkpoint_on_exit(database: str):
    """A gunicorn on_exit hook: fold the WAL back into the database file, so a
    stopped server leaves one self-contained file behind."""

    def on_exit(_server):
        db = connect(database)
        try:
            busy, log_pages, done = db.conn.execute(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).fetchone()
            log.info(
                "shutdown: WAL checkpoint %s (%s of %s pages)",
                "complete" if not busy else "partial",
                done,
                log_pages,
            )
        except Exception:
            log.exception("shutdown: WAL checkpoint failed")
        finally:
            close(db)

    return on_exit


def _start_scheduler(_server, worker) -> None:
    """Each worker runs a scheduler thread; a lease lets only one run jobs. A
    scheduler that cannot start is logged, never a reason not to serve."""
    from .scheduler import start_in_worker

    try:
        start_in_worker(worker.app.wsgi())
    except Exception:
        log.exception("the scheduler did not start in worker %s", worker.pid)


def gunicorn_options(host: str, port: int, workers: int, database: str) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        # The app (and its migrations) is built once in the master, then forked.
        "preload_app": True,
        "accesslog": "-",
        # Path without the query string and no Referer: a token pasted into a URL
        # must not reach the log.
        "access_log_format": '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"',
        "errorlog": "-",
        "graceful_timeout": 10,
        # gunicorn's control socket defaults to one path per user, shared by
        # every instance; we have no use for it.
        "control_socket_disable": True,
        "on_exit": checkpoint_on_exit(database),
        "post_fork": _start_scheduler,
        "logger_class": RedactingLogger,
    }


def serve(app, host: str = "127.0.0.1", port: int = 8000, workers: int = 2) -> None:
    options = gunicorn_options(host, port, workers, app.config["DATABASE"])
    _Gunicorn(app, options).run()
