"""One scheduler per deployment, however many gunicorn workers run.

Every worker starts an APScheduler thread that ticks every few seconds. On each
tick a worker tries to take or renew a lease row in SQLite; only the holder runs
due jobs. If the holder dies, its lease lapses within LEASE and the next tick of
another worker takes over.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from . import jobs
from .clock import to_db
from .db import close, connect, transaction

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=45)


def acquire_lease(db, holder: str, now) -> bool:
    """Take the lease if it is free or lapsed, or renew it if it is ours."""
    with transaction(db):
        db.conn.execute(
            "INSERT OR IGNORE INTO scheduler_lease (id, holder, expires_at) VALUES (1, ?, ?)",
            (holder, to_db(now + LEASE)),
        )
        taken = db.conn.execute(
            "UPDATE scheduler_lease SET holder = ?, expires_at = ?"
            " WHERE id = 1 AND (holder = ? OR expires_at < ?)",
            (holder, to_db(now + LEASE), holder, to_db(now)),
        ).rowcount
    return bool(taken)


class Scheduler:
    def __init__(self, app):
        self.app = app
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading = False
        self._scheduler = BackgroundScheduler(daemon=True, timezone="UTC")

    def tick(self) -> None:
        config = self.app.config
        db = connect(config["DATABASE"])
        try:
            now = config["CLOCK"].now()
            leading = acquire_lease(db, self.holder, now)
            if leading != self.leading:
                log.info(
                    "scheduler %s %s the lease",
                    self.holder,
                    "took" if leading else "lost",
                )
                self.leading = leading
            if leading:
                jobs.run_due(
                    db,
                    now,
                    config,
                    still_leading=lambda: acquire_lease(
                        db, self.holder, config["CLOCK"].now()
                    ),
                )
        except Exception:
            log.exception("scheduler tick failed")
        finally:
            close(db)

    def start(self) -> None:
        seconds = self.app.config["SCHEDULER_TICK_SECONDS"]
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=seconds,
            max_instances=1,
            coalesce=True,
            id="tick",
            next_run_time=None,
        )
        self._scheduler.start()
        self._scheduler.modify_job("tick", next_run_time=self.app.config["CLOCK"].now())
        log.info("scheduler started in %s (tick every %ss)", self.holder, seconds)

    def stop(self) -> None:
        self._scheduler.shutdown(wait=False)


def start_in_worker(app) -> Scheduler | None:
    """Called in each gunicorn worker after fork (threads do not survive a fork)."""
    if not app.config.get("SCHEDULER"):
        return None
    scheduler = Scheduler(app)
    scheduler.start()
    return scheduler
