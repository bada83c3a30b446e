import csv
import io
import json
from datetime import UTC

import pytest

from pat_manager import dashboard, usage
from pat_manager.accounts import get_user
from tests.conftest import bearer


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def pat(user_web, db):
    pat_id, token = user_web.new_token()
    return {"id": pat_id, "token": token}


def submit(api, token, url="https://jobs.example.com/1", **extra):
    body = {"url": url, "company": "Acme", **extra}
    return api.post(
        "/api/v1/submissions",
        json=body,
        headers={**bearer(token), "User-Agent": "ext/1.0"},
    )


def events(db):
    cursor = db.conn.execute(
        "SELECT outcome, status, method, path, ip, user_agent, job_url,"
        " submission_id FROM usage_events ORDER BY id"
    )
    return cursor.fetchall()


def test_each_kind_of_request_is_logged_with_its_outcome(api, pat, user_web, db, clock):
    token = pat["token"]
    headers = bearer(token)
    assert submit(api, token).status_code == 201
    api.get("/api/v1/token", headers=headers)
    api.post("/api/v1/submissions", json={"url": "nope"}, headers=headers)
    api.post(
        "/api/v1/submissions",
        data="{",
        headers={**headers, "Content-Type": "application/json"},
    )
    api.post(
        "/api/v1/submissions",
        data="x",
        headers={**headers, "Content-Type": "text/plain"},
    )
    api.post(
        "/api/v1/submissions",
        data=json.dumps({"url": "https://x.example", "notes": "n" * 70000}),
        headers={**headers, "Content-Type": "application/json"},
    )
    user_web.post("/templates/default", {"template_id": ""})
    submit(api, token)
    user_web.post(f"/pats/{pat['id']}/revoke")
    submit(api, token)
    rows = events(db)
    assert [r[0] for r in rows] == [
        "submission",
        "ok",
        "validation_error",
        "malformed_json",
        "unsupported_media_type",
        "payload_too_large",
        "template_not_found",
        "revoked",
    ]
    first = rows[0]
    assert first[1:4] == (201, "POST", "/api/v1/submissions")
    assert first[4] == "127.0.0.1" and first[5] == "ext/1.0"
    assert first[6] == "https://jobs.example.com/1" and first[7] is not None
    assert [r[1] for r in rows] == [201, 200, 422, 400, 415, 413, 422, 401]


def test_expired_pat_use_is_logged_as_expired(api, user_web, db, clock):
    _, token = user_web.new_token("Short", expiry="30")
    clock.advance(days=31)
    submit(api, token)
    assert events(db)[-1][0] == "expired"


def test_unknown_tokens_are_counted_per_ip_without_the_token(
    api, db, clock, monkeypatch
):
    bad = "cvf_" + "A" * 50
    api.get("/api/v1/token", headers=bearer(bad))
    api.get(
        "/api/v1/token",
        headers=bearer(bad),
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    api.get("/api/v1/token")
    rows = db.conn.execute(
        "SELECT day, ip, count FROM unknown_token_attempts ORDER BY ip"
    ).fetchall()
    assert rows == [("2026-03-02", "127.0.0.1", 2), ("2026-03-02", "198.51.100.9", 1)]
    assert db.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == 0
    monkeypatch.setattr(usage, "UNKNOWN_IPS_PER_DAY", 2)
    for n in range(5):
        api.get(
            "/api/v1/token",
            headers=bearer(bad),
            environ_base={"REMOTE_ADDR": f"192.0.2.{n}"},
        )
    rows = db.conn.execute(
        "SELECT ip, count FROM unknown_token_attempts ORDER BY ip"
    ).fetchall()
    assert len(rows) == 3 and ("(other)", 5) in rows


def test_token_is_never_stored_in_the_log(api, pat, app):
    api.get(f"/api/v1/token?access_token={pat['token']}", headers=bearer(pat["token"]))
    submit(api, pat["token"], url=f"https://x.example/?t={pat['token']}")
    raw = b"".join(
        p.read_bytes()
        for p in __import__("pathlib")
        .Path(app.config["DATABASE"])
        .parent.glob("test.sqlite3*")
    )
    paths = {
        r[3]
        for r in events(
            __import__("pat_manager.db", fromlist=["connect"]).connect(
                app.config["DATABASE"]
            )
        )
    }
    assert paths == {"/api/v1/token", "/api/v1/submissions"}
    # Even pasted into the job URL, it is stored redacted.
    assert pat["token"].encode() not in raw


def test_last_used_changes_only_on_success(api, pat, db, clock):
    api.post("/api/v1/submissions", json={"url": "bad"}, headers=bearer(pat["token"]))
    assert db.conn.execute("SELECT last_used_at FROM pats").fetchone()[0] is None
    clock.advance(minutes=5)
    submit(api, pat["token"])
    assert (
        db.conn.execute("SELECT last_used_at FROM pats").fetchone()[0]
        == "2026-03-02T12:05:00.000000Z"
    )
    clock.advance(minutes=5)
    api.post("/api/v1/submissions", json={"url": "bad"}, headers=bearer(pat["token"]))
    assert (
        db.conn.execute("SELECT last_used_at FROM pats").fetchone()[0]
        == "2026-03-02T12:05:00.000000Z"
    )


def test_failure_to_record_usage_never_fails_the_submission(api, pat, db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(usage, "record_within", broken)
    response = submit(api, pat["token"])
    assert response.status_code == 201
    assert db.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1


def test_forwarded_for_is_honoured_only_behind_trusted_proxies(make_app, tmp_path):
    from tests.conftest import Web

    for proxies, expected in [(0, "127.0.0.1"), (1, "203.0.113.5")]:
        app = make_app(
            TRUSTED_PROXIES=proxies, DATABASE=str(tmp_path / f"p{proxies}.sqlite3")
        )
        web = Web(app.test_client())
        web.register()
        web.create_template()
        _, token = web.new_token()
        app.test_client().get(
            "/api/v1/token",
            headers={**bearer(token), "X-Forwarded-For": "10.9.9.9, 203.0.113.5"},
        )
        from pat_manager.db import connect

        ip = (
            connect(app.config["DATABASE"])
            .conn.execute("SELECT ip FROM usage_events")
            .fetchone()[0]
        )
        assert ip == expected


def test_dashboard_counts_follow_the_persons_day_in_their_timezone(
    api, pat, user_web, db, clock, app
):
    assert (
        user_web.post("/settings/", {"timezone": "America/New_York"}).status_code == 302
    )
    from datetime import datetime

    clock.current = datetime(
        2026, 3, 3, 4, 30, tzinfo=UTC
    )  # 23:30 on Mar 2 in New York
    for _ in range(2):
        submit(api, pat["token"])
    clock.advance(hours=1)  # 00:30 on Mar 3 in New York, still Mar 3 in UTC
    for _ in range(3):
        submit(api, pat["token"])
    api.post("/api/v1/submissions", json={"url": "bad"}, headers=bearer(pat["token"]))
    user = get_user(db, 1)
    rows, days, series = dashboard.overview(db, user, clock.now())
    row = rows[0]
    assert (row.today, row.week, row.month, row.total, row.failed_week) == (
        3,
        5,
        5,
        5,
        1,
    )
    assert row.spark[-2:] == [2, 3]
    assert days[-1].isoformat() == "2026-03-03"
    page = user_web.get("/usage").get_data(as_text=True)
    assert 'data-label="Today" class="num">3<' in page
    assert "jobs.example.com" in page and "Acme" in page
    assert "<svg" in page and "Stacked bar chart: 5 submissions" in page


def test_changing_timezone_recounts_days_across_daylight_saving(
    api, pat, user_web, db, clock
):
    from datetime import datetime

    # 03:30 UTC on Mar 8 is Mar 7 in New York; 04:30 UTC on Mar 9 (after the DST
    # switch, UTC-4) is 00:30 on Mar 9 there, and 03:30 UTC on Mar 9 is 23:30 Mar 8.
    for moment in [
        datetime(2026, 3, 8, 3, 30),
        datetime(2026, 3, 9, 3, 30),
        datetime(2026, 3, 9, 4, 30),
    ]:
        clock.current = moment.replace(tzinfo=UTC)
        submit(api, pat["token"])

    def daily():
        return db.conn.execute(
            "SELECT day, count FROM usage_daily WHERE outcome = 'submission' ORDER BY day"
        ).fetchall()

    assert daily() == [("2026-03-08", 1), ("2026-03-09", 2)]
    user_web.post("/settings/", {"timezone": "America/New_York"})
    assert daily() == [("2026-03-07", 1), ("2026-03-08", 1), ("2026-03-09", 1)]
    submit(api, pat["token"])  # 04:30 UTC Mar 9 = 00:30 Mar 9 New York
    assert daily()[-1] == ("2026-03-09", 2)


def test_unused_flag_and_mark_reviewed(api, pat, user_web, db, clock):
    clock.advance(days=31)
    page = user_web.get("/usage").get_data(as_text=True)
    assert "consider revoking" in page
    response = user_web.post(f"/usage/{pat['id']}/reviewed", htmx=True)
    body = response.get_data(as_text=True)
    assert (
        response.status_code == 200
        and body.lstrip().startswith("<tr")
        and "2026-04-02" in body
    )
    submit(api, pat["token"])
    assert "consider revoking" not in user_web.get("/usage").get_data(as_text=True)
    assert user_web.post("/usage/reviewed").status_code == 302


def test_usage_log_filters_paging_and_csv(api, pat, user_web, clock):
    for n in range(60):
        submit(api, pat["token"], url=f"https://jobs.example.com/{n}")
        clock.advance(minutes=1)
    api.post(
        "/api/v1/submissions",
        json={"url": "bad"},
        headers=bearer(pat["token"]),
        environ_base={"REMOTE_ADDR": "198.51.100.77"},
    )
    page = user_web.get(f"/pats/{pat['id']}/usage").get_data(as_text=True)
    assert page.count("<tr class=") == 50 and "Load older requests" in page
    before = int(__import__("re").search(r"before=(\d+)", page).group(1))
    more = user_web.get(f"/pats/{pat['id']}/usage?before={before}", htmx=True).get_data(
        as_text=True
    )
    assert "<html" not in more and more.count("<tr class=") == 11

    failed = user_web.get(f"/pats/{pat['id']}/usage?outcome=failure").get_data(
        as_text=True
    )
    assert failed.count("<tr class=") == 1 and "198.51.100.77" in failed

    exported = user_web.get(
        f"/pats/{pat['id']}/usage.csv?outcome=submission&ip=127.0.0.1"
    )
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][0] == "time" and len(rows) == 61
    assert {r[1] for r in rows[1:]} == {"submission"}
    by_ip = user_web.get(f"/pats/{pat['id']}/usage.csv?ip=198.51.100.77").get_data(
        as_text=True
    )
    assert len(list(csv.reader(io.StringIO(by_ip)))) == 2
    today = user_web.get(f"/pats/{pat['id']}/usage.csv?from=2026-03-03").get_data(
        as_text=True
    )
    assert len(list(csv.reader(io.StringIO(today)))) == 1


def test_bad_filters_get_messages_not_errors(user_web, pat):
    for query in ["from=yesterday", "from=2026-03-05&to=2026-03-01", "outcome=bogus"]:
        response = user_web.get(f"/pats/{pat['id']}/usage?{query}")
        assert response.status_code == 422, query
        assert "alert--error" in response.get_data(as_text=True)


def test_one_account_never_sees_anothers_usage(api, pat, user_web, other_web, db):
    submit(api, pat["token"], company="SecretCo")
    other_web.register("bob@example.com")
    for url in [f"/pats/{pat['id']}/usage", f"/pats/{pat['id']}/usage.csv"]:
        assert other_web.get(url).status_code == 404
    assert other_web.post(f"/usage/{pat['id']}/reviewed").status_code == 404
    page = other_web.get("/usage").get_data(as_text=True)
    assert "SecretCo" not in page and "PM Job Search" not in page
    history = other_web.get("/history/export.csv").get_data(as_text=True)
    assert "SecretCo" not in history
    assert db.conn.execute("SELECT reviewed_at FROM pats").fetchone()[0] is None


def test_history_filters_and_csv(api, user_web, db, clock):
    _, first = user_web.new_token("First search")
    _, second = user_web.new_token("Second search", template_choice="none")
    submit(api, first, url="https://a.example/1", title='=HYPERLINK("x")')
    clock.advance(days=2)
    submit(api, second, url="https://b.example/2")
    second_id = db.conn.execute(
        "SELECT id FROM pats WHERE name = 'Second search'"
    ).fetchone()[0]
    page = user_web.get(f"/history/?pat={second_id}").get_data(as_text=True)
    assert "b.example" in page and "a.example" not in page
    page = user_web.get("/history/?template=none").get_data(as_text=True)
    assert "b.example" in page and "a.example" not in page
    page = user_web.get("/history/?to=2026-03-02").get_data(as_text=True)
    assert "a.example" in page and "b.example" not in page
    rows = list(
        csv.reader(
            io.StringIO(
                user_web.get(
                    "/history/export.csv?from=2026-03-01&to=2026-03-02"
                ).get_data(as_text=True)
            )
        )
    )
    assert len(rows) == 2 and rows[1][3] == "https://a.example/1"
    assert rows[1][4].startswith("'=")  # formulas neutralised
    assert user_web.get("/history/?pat=abc").status_code == 422


def test_prune_keeps_rollups(api, pat, app, db, clock):
    submit(api, pat["token"])
    clock.advance(days=100)
    submit(api, pat["token"])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["prune-usage"])
    assert result.exit_code == 0 and "Deleted 1 usage log rows" in result.output
    assert db.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == 1
    assert db.conn.execute("SELECT SUM(count) FROM usage_rollups").fetchone()[0] == 2


def test_seed_demo_fills_consistent_data(app, db, user_web, clock):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "seed-demo",
            "ada@example.com",
            "--events",
            "3000",
            "--days",
            "20",
            "--seed",
            "7",
        ]
    )
    assert result.exit_code == 0, result.output
    events_n = db.conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]
    subs = db.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    assert events_n == 3000 and 0 < subs < 3000
    assert db.conn.execute("SELECT SUM(count) FROM usage_rollups").fetchone()[0] == 3000
    assert (
        db.conn.execute("SELECT SUM(submission_count) FROM pats").fetchone()[0] == subs
    )
    rows, _, _ = dashboard.overview(db, get_user(db, 1), clock.now())
    assert sum(r.month for r in rows) == subs
    assert user_web.get("/usage").status_code == 200
    assert runner.invoke(args=["seed-demo", "ghost@example.com"]).exit_code == 1


def test_settings_timezone_validation(user_web, db):
    response = user_web.post("/settings/", {"timezone": "Mars/Olympus"})
    assert response.status_code == 422 and "Choose a timezone" in response.get_data(
        as_text=True
    )
    assert user_web.post("/settings/", {"timezone": "Asia/Kolkata"}).status_code == 302
    assert db.conn.execute("SELECT timezone FROM users").fetchone()[0] == "Asia/Kolkata"
    assert "times shown in Asia/Kolkata" in user_web.get("/pats/").get_data(
        as_text=True
    )


def test_migration_from_v1_backfills_usage(tmp_path):
    from pat_manager.db import connect, transaction
    from pat_manager.migrations import MIGRATIONS, _statements

    db = connect(tmp_path / "old.sqlite3")
    with transaction(db):
        for sql in _statements(MIGRATIONS[0][2]):
            db.execute(sql)
        db.execute("PRAGMA user_version = 1")
        db.execute(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (1, 'a@b.co', 'x', 'now')"
        )
        db.execute(
            "INSERT INTO pats (id, user_id, public_id, secret_seed, name, template_choice, created_at)"
            " VALUES (1, 1, 'pub', 'seed', 'Old PAT', 'none', '2026-01-01T00:00:00.000000Z')"
        )
        db.execute(
            "INSERT INTO submissions (user_id, pat_id, url, company, created_at) VALUES"
            " (1, 1, 'https://www.Example.com/x', 'Acme', '2026-01-02T10:00:00.000000Z')"
        )
    from pat_manager.migrations import migrate

    migrate(db)
    assert (
        db.conn.execute("SELECT job_host FROM submissions").fetchone()[0]
        == "example.com"
    )
    assert db.conn.execute("SELECT submission_count FROM pats").fetchone()[0] == 1
    assert db.conn.execute(
        "SELECT kind, value, count FROM submission_tallies ORDER BY kind"
    ).fetchall() == [("company", "Acme", 1), ("host", "example.com", 1)]
    assert db.conn.execute("SELECT outcome, count FROM usage_rollups").fetchall() == [
        ("submission", 1)
    ]


def test_chart_axis_is_round_and_close_to_the_peak():
    from pat_manager.charts import axis

    assert axis(206) == (50, 250)
    assert axis(11) == (5, 15)
    assert axis(0) == (1, 1)
    step, top = axis(1234)
    assert top >= 1234 and top < 1234 * 1.5 and top % step == 0


def test_timezone_names_are_case_insensitive(user_web, db):
    assert user_web.post("/settings/", {"timezone": "asia/shanghai"}).status_code == 302
    assert db.execute("SELECT timezone FROM users").fetchone()[0] == "Asia/Shanghai"


def test_ip_filter_must_be_an_address(user_web, pat):
    response = user_web.get(f"/pats/{pat['id']}/usage?ip=notanip")
    assert response.status_code == 422 and "Enter one IP address" in response.get_data(
        as_text=True
    )
    assert user_web.get(f"/pats/{pat['id']}/usage?ip=2001:DB8::1").status_code == 200


def test_template_list_counts_pats_using_the_default(user_web, pat):
    page = user_web.get("/templates/").get_data(as_text=True)
    assert "Used by 1 PAT (1 through the account default)" in page


def test_empty_history_shows_no_filters_or_export(web):
    web.register()
    page = web.get("/history/").get_data(as_text=True)
    assert (
        "Export CSV" not in page
        and 'class="filters' not in page
        and "No submissions yet" in page
    )
