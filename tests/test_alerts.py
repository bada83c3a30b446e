"""Warning signs, notices, email and the scheduler."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from pat_manager import jobs, mailer
from pat_manager.db import connect
from pat_manager.scheduler import acquire_lease
from tests.conftest import bearer
from tests.servers import CLI, Server, free_port


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def pat(user_web):
    pat_id, token = user_web.new_token()
    return {"id": pat_id, "token": token}


def submit(api, token, url="https://jobs.example.com/1", ip="127.0.0.1"):
    return api.post(
        "/api/v1/submissions",
        json={"url": url},
        headers=bearer(token),
        environ_base={"REMOTE_ADDR": ip},
    )


def detect(app, db, clock):
    return jobs.run_job(db, "detect", clock.now(), app.config)


def kinds(db):
    return [r[0] for r in db.execute("SELECT kind FROM notifications ORDER BY id")]


def test_sudden_increase_fires_above_three_times_the_usual_with_a_floor(
    app, api, pat, db, clock
):
    for _ in range(14):
        for n in range(2):
            submit(api, pat["token"], f"https://jobs.example.com/{clock.now().day}/{n}")
        clock.advance(days=1)
    clock.advance(hours=1)  # yesterday's two are now more than 24 hours ago
    for n in range(10):  # the floor (10) is not exceeded: no alert
        submit(api, pat["token"], f"https://jobs.example.com/burst/{n}")
    detect(app, db, clock)
    assert "sudden_increase" not in kinds(db)
    submit(api, pat["token"], "https://jobs.example.com/burst/eleven")
    detect(app, db, clock)
    assert kinds(db).count("sudden_increase") == 1
    body = db.execute(
        "SELECT body FROM notifications WHERE kind = 'sudden_increase'"
    ).fetchone()[0]
    assert "11 submissions in the last 24 hours" in body and "usual is 2 a day" in body


def test_sudden_increase_uses_the_multiplier_for_busy_pats(
    app, api, pat, db, clock, user_web
):
    db.execute(
        "INSERT OR REPLACE INTO alert_settings (user_id, spike_floor) VALUES (1, 1)"
    )
    for _ in range(14):
        for n in range(5):
            submit(api, pat["token"], f"https://jobs.example.com/{clock.now().day}/{n}")
        clock.advance(days=1)
    clock.advance(hours=1)
    detect(app, db, clock)  # with a floor of 1, the first days alerted: start afresh
    db.execute("DELETE FROM notifications")
    for n in range(15):  # 3 x 5 = 15: not above it
        submit(api, pat["token"], f"https://jobs.example.com/today/{n}")
    detect(app, db, clock)
    assert "sudden_increase" not in kinds(db)
    submit(api, pat["token"], "https://jobs.example.com/today/16")
    detect(app, db, clock)
    assert "sudden_increase" in kinds(db)


def test_new_network_alerts_once_the_pat_has_a_first_day(app, api, pat, db, clock):
    submit(api, pat["token"], ip="203.0.113.5")
    submit(api, pat["token"], ip="198.51.100.9")  # new, but still the PAT's first day
    detect(app, db, clock)
    assert "unknown_location" not in kinds(db)
    clock.advance(days=1)
    submit(api, pat["token"], ip="203.0.113.77")  # same /24 as day one
    submit(api, pat["token"], ip="192.0.2.10")
    submit(api, pat["token"], ip="2001:db8:1:2::5")
    submit(api, pat["token"], ip="2001:db8:1:ffff::9")  # same /48
    detect(app, db, clock)
    found = db.execute(
        "SELECT body FROM notifications WHERE kind = 'unknown_location'"
    ).fetchall()
    assert len(found) == 2
    assert "192.0.2.0/24" in found[0][0] and "2001:db8:1::/48" in found[1][0]


def test_known_networks_silence_new_network_alerts(app, api, pat, db, clock):
    db.execute(
        "INSERT OR REPLACE INTO alert_settings (user_id, known_networks) VALUES (1, '192.0.2.0/23')"
    )
    submit(api, pat["token"], ip="203.0.113.5")
    clock.advance(days=1)
    submit(api, pat["token"], ip="192.0.3.8")
    detect(app, db, clock)
    assert "unknown_location" not in kinds(db)


def test_off_hours_alerts_at_most_once_per_pat_per_day(
    app, api, pat, db, clock, user_web
):
    user_web.post("/settings/", {"timezone": "Europe/Paris"})
    clock.current = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)  # 10:00 Paris, a Wednesday
    submit(api, pat["token"])
    detect(app, db, clock)
    assert "off_hours" not in kinds(db)
    clock.current = datetime(2026, 3, 4, 22, 30, tzinfo=UTC)  # 23:30 Paris
    submit(api, pat["token"])
    clock.advance(minutes=20)  # 23:50, the same night
    submit(api, pat["token"])
    detect(app, db, clock)
    assert kinds(db).count("off_hours") == 1
    db.execute("UPDATE alert_settings SET work_days = '01234' WHERE user_id = 1")
    clock.current = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)  # Saturday 11:00 Paris
    submit(api, pat["token"])
    detect(app, db, clock)
    assert kinds(db).count("off_hours") == 2


def test_several_duplicates_in_an_hour_alert(app, api, pat, db, clock):
    for n in range(3):
        submit(api, pat["token"], f"https://jobs.example.com/{n}")
    submit(api, pat["token"], "https://jobs.example.com/0/")
    submit(api, pat["token"], "https://jobs.example.com/1?utm_source=x")
    detect(app, db, clock)
    assert "duplicates" not in kinds(db)
    submit(api, pat["token"], "https://JOBS.example.com/2")
    detect(app, db, clock)
    assert kinds(db) == ["duplicates"]


def test_detect_is_idempotent_and_failures_are_ignored(app, api, pat, db, clock):
    clock.current = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    api.post("/api/v1/submissions", json={"url": "bad"}, headers=bearer(pat["token"]))
    detect(app, db, clock)
    assert kinds(db) == []
    submit(api, pat["token"])
    detect(app, db, clock)
    db.execute("UPDATE job_runs SET cursor = 0 WHERE name = 'detect'")
    detect(app, db, clock)
    assert kinds(db) == ["off_hours"]


def test_expiry_notice_and_reminders_once_each(app, user_web, db, clock):
    user_web.new_token("Short", expiry="30")
    run = lambda name: jobs.run_job(db, name, clock.now(), app.config)  # noqa: E731
    clock.advance(days=22)
    run("expiry_reminders")
    assert kinds(db) == []
    clock.advance(days=1, hours=1)  # 6 days 23 hours left
    run("expiry_reminders")
    run("expiry_reminders")
    assert kinds(db) == ["expiry_reminder"]
    clock.advance(days=6)
    run("expiry_reminders")
    run("expire_pats")
    assert kinds(db) == ["expiry_reminder", "expiry_reminder"]
    clock.advance(days=1)
    run("expire_pats")
    run("expire_pats")
    assert kinds(db)[-1] == "expired" and kinds(db).count("expired") == 1


def test_weekly_digest_on_monday_morning_in_the_persons_timezone(
    app, api, pat, user_web, db, clock
):
    user_web.post("/settings/", {"timezone": "America/New_York"})
    submit(api, pat["token"])
    run = lambda: jobs.run_job(db, "weekly_digest", clock.now(), app.config)  # noqa: E731
    clock.current = datetime(
        2026, 3, 9, 11, 0, tzinfo=UTC
    )  # Monday 07:00 New York (EDT)
    run()
    assert kinds(db) == []
    clock.current = datetime(2026, 3, 9, 12, 30, tzinfo=UTC)  # 08:30
    run()
    run()
    assert kinds(db) == ["weekly_digest"]
    body = db.execute("SELECT body FROM notifications").fetchone()[0]
    assert "PM Job Search 2025: 1 submissions" in body


def test_alerts_page_badge_mark_read_and_revoke_link(
    app, api, pat, user_web, db, clock
):
    clock.current = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    submit(api, pat["token"])
    detect(app, db, clock)
    assert 'aria-label="1 unread"' in user_web.get("/pats/").get_data(as_text=True)
    count = user_web.get("/alerts/count", htmx=True).get_data(as_text=True)
    assert (
        "1 unread" in count
        and "<html" not in count
        and 'hx-trigger="every 30s"' in count
    )
    page = user_web.get("/alerts/").get_data(as_text=True)
    assert "outside your normal hours" in page and "Revoke this PAT" in page
    notice_id = db.execute("SELECT id FROM notifications").fetchone()[0]
    fragment = user_web.post(f"/alerts/{notice_id}/read", htmx=True)
    assert fragment.status_code == 200 and "notice--unread" not in fragment.get_data(
        as_text=True
    )
    assert "unread" not in user_web.get("/alerts/count", htmx=True).get_data(
        as_text=True
    )


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{controller.port}?from=pats@example.org"
    controller.stop()


def test_email_reminder_arrives_once_even_from_two_processes(tmp_path, smtp_server):
    inbox, url = smtp_server
    env_server = Server(
        tmp_path / "instance",
        tmp_path / "server.log",
        PAT_MANAGER_SCHEDULER="0",
        PAT_MANAGER_SMTP_URL=url,
    )
    env = env_server.env
    subprocess.run(
        [CLI, "create-user", "mail@example.com"],
        input="correct horse battery\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    subprocess.run(
        [
            CLI,
            "create-pat",
            "mail@example.com",
            "--name",
            "Soon",
            "--no-template",
            "--expires-in",
            "1",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    procs = [
        subprocess.Popen(
            [CLI, "jobs", "run", job],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for job in [
            "expiry_reminders",
            "expiry_reminders",
            "flush_outbox",
            "flush_outbox",
        ]
    ]
    for p in procs:
        p.wait(timeout=60)
    for job in ["flush_outbox", "flush_outbox"]:
        subprocess.run(
            [CLI, "jobs", "run", job], env=env, check=True, capture_output=True
        )
    subjects = [m.content.decode() for m in inbox.messages]
    assert len(subjects) == 1, subjects
    assert (
        "expires in 7 days or less" in subjects[0]
        and "create its replacem" in subjects[0]
    )
    assert inbox.messages[0].rcpt_tos == ["mail@example.com"]


def test_failed_sends_stay_queued_with_backoff_and_go_later(
    app, api, pat, db, clock, smtp_server
):
    inbox, good_url = smtp_server
    clock.current = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    submit(api, pat["token"])
    db.execute(
        "UPDATE alert_settings SET email_kinds = 'off_hours' WHERE user_id = 1"
    ) if db.execute("SELECT 1 FROM alert_settings").fetchone() else db.execute(
        "INSERT INTO alert_settings (user_id, email_kinds) VALUES (1, 'off_hours')"
    )
    app.config["SMTP_URL"] = (
        f"smtp://127.0.0.1:{free_port()}?from=pats@example.org"  # nobody there
    )
    detect(app, db, clock)
    jobs.run_job(db, "flush_outbox", clock.now(), app.config)
    row = db.execute(
        "SELECT attempts, sent_at, last_error, next_attempt_at FROM outbox"
    ).fetchone()
    assert row[0] == 1 and row[1] is None and row[2]
    app.config["SMTP_URL"] = good_url
    jobs.run_job(db, "flush_outbox", clock.now(), app.config)
    assert inbox.messages == []  # still backing off
    clock.advance(minutes=2)
    jobs.run_job(db, "flush_outbox", clock.now(), app.config)
    jobs.run_job(db, "flush_outbox", clock.now(), app.config)
    assert len(inbox.messages) == 1
    assert db.execute("SELECT sent_at IS NOT NULL FROM outbox").fetchone()[0] == 1


def test_only_wanted_kinds_are_emailed(app, api, pat, db, clock, smtp_server):
    _, url = smtp_server
    app.config["SMTP_URL"] = url
    clock.current = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    submit(api, pat["token"])
    detect(app, db, clock)  # off_hours is not emailed by default
    assert kinds(db) == ["off_hours"]
    assert db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0


def test_smtp_url_is_checked():
    assert (
        mailer.parse_smtp_url("smtps://u:p%40ss@mail.example.org?from=a@b.org").password
        == "p@ss"
    )
    for bad in [
        "http://x",
        "smtp://?from=a@b.org",
        "smtp://mail.example.org",
        "smtp://h:99999?from=a@b",
    ]:
        with pytest.raises(ValueError):
            mailer.parse_smtp_url(bad)


def test_lease_has_one_holder_until_it_lapses(app, db, clock):
    assert acquire_lease(db, "a", clock.now())
    assert not acquire_lease(db, "b", clock.now())
    clock.advance(seconds=30)
    assert acquire_lease(db, "a", clock.now())  # renewal
    clock.advance(seconds=46)
    assert acquire_lease(db, "b", clock.now())  # a died: b takes over
    assert not acquire_lease(db, "a", clock.now())


@pytest.mark.slow
def test_one_scheduler_under_gunicorn_with_several_workers(tmp_path):
    server = Server(
        tmp_path / "instance",
        tmp_path / "server.log",
        workers=3,
        PAT_MANAGER_SCHEDULER_TICK_SECONDS="1",
    )
    # Accounts and expired PATs first (the CLI works on the database directly).
    subprocess.run(
        [CLI, "create-user", "sched@example.com"],
        input="correct horse battery\n",
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
    )
    for n in range(3):
        subprocess.run(
            [
                CLI,
                "create-pat",
                "sched@example.com",
                "--name",
                f"P{n}",
                "--no-template",
            ],
            env=server.env,
            check=True,
            capture_output=True,
            text=True,
        )
    conn = sqlite3.connect(tmp_path / "instance" / "pat_manager.sqlite3")
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )
    conn.execute("UPDATE pats SET expires_at = ?", (an_hour_ago,))
    conn.commit()
    server.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if conn.execute("SELECT COUNT(*) FROM notifications").fetchone()[0] >= 3:
                break
            time.sleep(0.3)
        for _ in range(3):  # make every job due again: reruns must tell nothing twice
            conn.execute("UPDATE job_runs SET last_started_at = NULL")
            conn.commit()
            time.sleep(1.5)
        notices = conn.execute(
            "SELECT kind, COUNT(*) FROM notifications GROUP BY kind"
        ).fetchall()
        runs = conn.execute(
            "SELECT COUNT(*) FROM job_runs WHERE last_started_at IS NOT NULL"
        ).fetchone()[0]
    finally:
        conn.close()
        server.stop()
    assert notices == [("expired", 3)]
    assert runs == len(jobs.JOBS)
    log = server.log()
    assert log.count("scheduler started in") == 3
    assert log.count("took the lease") == 1


def test_alert_settings_are_validated_and_saved(user_web, db):
    good = {
        "spike_multiplier": "4",
        "spike_floor": "20",
        "work_start_hour": "8",
        "work_end_hour": "19",
        "work_days": ["0", "1", "2", "3", "4"],
        "reminder_days": "14, 3",
        "email_kinds": ["expired", "off_hours"],
        "known_networks": "203.0.113.0/24\n2001:db8::1",
    }
    assert user_web.post("/settings/alerts", good).status_code == 302
    row = db.execute(
        "SELECT spike_multiplier, spike_floor, work_days, reminder_days, email_kinds,"
        " known_networks FROM alert_settings"
    ).fetchone()
    assert row == (
        4.0,
        20,
        "01234",
        "14,3",
        "expired,off_hours",
        "203.0.113.0/24\n2001:db8::1/128",
    )
    bad = {
        **good,
        "spike_multiplier": "x",
        "work_start_hour": "20",
        "work_end_hour": "8",
        "work_days": [],
        "reminder_days": "0",
        "known_networks": "not-a-net",
    }
    response = user_web.post("/settings/alerts", bad)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in [
        "from 1.5 to 50",
        "after its start",
        "at least one working day",
        "List days from 1 to 60",
        "is not an address or network",
    ]:
        assert message in text, message
    assert db.execute("SELECT spike_floor FROM alert_settings").fetchone()[0] == 20


def test_revoke_the_pat_from_its_alert_inline(
    app, api, pat, user_web, other_web, db, clock
):
    clock.current = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    submit(api, pat["token"])
    detect(app, db, clock)
    notice_id = db.execute("SELECT id FROM notifications").fetchone()[0]
    confirm = user_web.get(f"/alerts/{notice_id}/revoke", htmx=True).get_data(
        as_text=True
    )
    assert (
        "<html" not in confirm and "Extensions using it are refused at once" in confirm
    )
    other_web.register("bob@example.com")
    assert other_web.post(f"/alerts/{notice_id}/revoke", htmx=True).status_code == 404
    assert db.execute("SELECT revoked_at FROM pats").fetchone()[0] is None
    done = user_web.post(f"/alerts/{notice_id}/revoke", htmx=True).get_data(
        as_text=True
    )
    assert "is revoked" in done and "Revoke this PAT" not in done
    assert db.execute("SELECT revoked_at FROM pats").fetchone()[0] is not None
    assert submit(api, pat["token"]).get_json()["reason"] == "revoked"
    page = user_web.get(f"/alerts/{notice_id}/revoke")  # without JavaScript: a page
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)


def test_off_hours_follow_daylight_saving_in_the_persons_timezone(
    app, api, pat, user_web, db, clock
):
    user_web.post("/settings/", {"timezone": "Europe/Paris"})
    clock.current = datetime(
        2026, 3, 30, 5, 30, tzinfo=UTC
    )  # 07:30 in Paris (CEST, UTC+2)
    submit(api, pat["token"])
    detect(app, db, clock)
    assert "off_hours" not in kinds(db)
    clock.current = datetime(
        2026, 3, 27, 5, 30, tzinfo=UTC
    )  # 06:30 in Paris (CET, UTC+1)
    submit(api, pat["token"])
    detect(app, db, clock)
    assert kinds(db) == ["off_hours"]
    assert "06:30" in db.execute("SELECT body FROM notifications").fetchone()[0]


class FailingInbox:
    """An SMTP server that is up but refuses mail for a while (451: try later)."""

    def __init__(self):
        self.refuse, self.messages = True, []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.refuse:
            return "451 Requested action aborted: local error, try again later"
        self.messages.append(envelope)
        return "250 OK"


def test_a_refusing_smtp_server_keeps_mail_queued_until_it_accepts(
    app, api, pat, db, clock
):
    inbox = FailingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config["SMTP_URL"] = (
            f"smtp://127.0.0.1:{controller.port}?from=pats@example.org"
        )
        db.execute(
            "INSERT OR REPLACE INTO alert_settings (user_id, email_kinds) VALUES (1, 'off_hours')"
        )
        clock.current = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
        submit(api, pat["token"])
        detect(app, db, clock)
        for minutes in (0, 1, 2):
            clock.advance(minutes=minutes)
            jobs.run_job(db, "flush_outbox", clock.now(), app.config)
        attempts, sent = db.execute("SELECT attempts, sent_at FROM outbox").fetchone()
        assert attempts == 3 and sent is None and inbox.messages == []
        inbox.refuse = False
        clock.advance(minutes=5)
        jobs.run_job(db, "flush_outbox", clock.now(), app.config)
        jobs.run_job(db, "flush_outbox", clock.now(), app.config)
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_a_worker_serves_even_when_its_scheduler_cannot_start(monkeypatch):
    from flask import Flask

    from pat_manager import scheduler, server

    class Worker:
        pid = 1

        class app:  # noqa: N801 - gunicorn's attribute name
            @staticmethod
            def wsgi():
                return Flask(
                    "other"
                )  # an app without our settings (the bench baseline)

    server._start_scheduler(None, Worker())  # no exception: not ours, nothing started

    def broken(app):
        raise RuntimeError("no scheduler today")

    monkeypatch.setattr(scheduler, "start_in_worker", broken)
    server._start_scheduler(None, Worker())  # logged, not raised


def test_fixes_from_the_alerts_attack(app, api, pat, user_web, db, clock, smtp_server):
    from pat_manager.detectors import _known, network_of

    # A token-shaped host is a clear 422, not a 500.
    host = "cvf_" + "A" * 46
    bad = api.post(
        "/api/v1/submissions",
        json={"url": f"https://{host}.example.com/x"},
        headers=bearer(pat["token"]),
    )
    assert bad.status_code == 422 and "access token" in bad.get_json()["fields"]["url"]
    # Oversized numbers in the settings form are a 422.
    form = {
        "spike_multiplier": "1_5",
        "spike_floor": "9" * 5000,
        "work_start_hour": "7",
        "work_end_hour": "22",
        "work_days": ["0"],
        "reminder_days": "007,7",
        "known_networks": "",
    }
    response = user_web.post("/settings/alerts", form)
    assert response.status_code == 422
    # A single known address silences its network; mapped IPv4 counts as IPv4.
    assert _known("192.0.2.0/24", "192.0.2.10")
    assert network_of("::ffff:192.0.2.1") == "192.0.2.0/24"
    # Emails that would read as several recipients are refused at registration.
    other = user_web.client.application.test_client()
    from tests.conftest import PASSWORD, Web

    assert (
        Web(other).register("postmaster,victim@corp.example", PASSWORD).status_code
        == 422
    )
    # Bad SMTP settings are caught at start-up.
    for url in [
        "smtp://h?from=a@b.org%0d%0aBcc:x@y.org",
        "smtp://h?from=a@b.org&starttls=maybe",
        "smtps://h?from=a@b.org&starttls=true",
        "smtp://h:0?from=a@b.org",
    ]:
        with pytest.raises(ValueError):
            mailer.parse_smtp_url(url)


def test_upgrades_do_not_turn_history_into_notices(tmp_path):
    from pat_manager.db import transaction
    from pat_manager.migrations import MIGRATIONS, _statements, migrate

    db = connect(tmp_path / "old.sqlite3")
    with transaction(db):
        for _number, _name, script, _backfill in MIGRATIONS[:6]:
            for sql in _statements(script):
                db.execute(sql)
        db.execute("PRAGMA user_version = 6")
        db.execute(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@b.co', 'x', '2026-01-01T00:00:00.000000Z')"
        )
        db.execute(
            "INSERT INTO pats (id, user_id, public_id, secret_seed, name, template_choice, created_at)"
            " VALUES (1, 1, 'p', 's', 'Old', 'none', '2026-01-01T00:00:00.000000Z')"
        )
        for n in range(5):
            db.execute(
                "INSERT INTO usage_events (pat_id, user_id, at, ip, method, path, status, outcome)"
                " VALUES (1, 1, '2026-01-02T03:00:00.000000Z', ?, 'GET', '/api/v1/token', 200, 'ok')",
                (f"198.51.100.{n}",),
            )
    migrate(db)
    jobs.run_job(db, "detect", datetime(2026, 3, 1, tzinfo=UTC), {"SMTP_URL": None})
    assert db.execute("SELECT COUNT(*) FROM notifications").fetchone()[0] == 0
