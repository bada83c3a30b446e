"""Serve the app with gunicorn, configured the same way for `make run` and tests."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


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


def gunicorn_options(host: str, port: int, workers: int) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        # The app (and its migrations) is built once in the master, then forked.
        "preload_app": True,
        "accesslog": "-",
        "errorlog": "-",
        "graceful_timeout": 10,
        # gunicorn's control socket defaults to one path per user, shared by
        # every instance; we have no use for it.
        "control_socket_disable": True,
    }


def serve(app, host: str = "127.0.0.1", port: int = 8000, workers: int = 2) -> None:
    _Gunicorn(app, gunicorn_options(host, port, workers)).run()
