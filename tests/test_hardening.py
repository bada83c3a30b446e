"""Regressions for what an outside attack on the foundation found."""

import io
import json
import threading

import pytest

from pat_manager import cv_templates, errors
from pat_manager.db import transaction
from tests.conftest import PASSWORD, Web, bearer


def test_logout_ends_the_session_even_for_a_replayed_cookie(user_web, app):
    session_cookie = user_web.client.get_cookie("session").value
    user_web.logout()
    replay = app.test_client()
    replay.set_cookie("session", session_cookie)
    response = replay.get("/pats/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_remember_me_for_good(web, app):
    web.register()
    web.logout()
    web.login(remember=True)
    remember = web.client.get_cookie("remember_token").value
    assert app.test_client().get("/pats/").status_code == 302
    restored = app.test_client()
    restored.set_cookie("remember_token", remember)
    assert (
        restored.get("/pats/").status_code == 200
    )  # remember-me works while logged in
    web.logout()
    replay = app.test_client()
    replay.set_cookie("remember_token", remember)
    assert replay.get("/pats/").status_code == 302


def test_new_token_page_cannot_be_replayed_with_an_old_cookie(user_web, app):
    response = user_web.create_pat("Replay me")
    created_url = response.headers["Location"]
    old_cookie = user_web.client.get_cookie("session").value
    assert "cvf_" in user_web.get(created_url).get_data(as_text=True)
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    again = replay.get(created_url)
    assert again.status_code == 302


def test_new_token_page_expires_after_a_few_minutes(user_web, clock):
    response = user_web.create_pat("Late look")
    clock.advance(minutes=11)
    assert user_web.get(response.headers["Location"]).status_code == 302


@pytest.mark.parametrize(
    "path",
    [
        "/pats/99999999999999999999/row",
        "/pats/9223372036854775808/reveal",
        "/templates/99999999999999999999",
        "/pats/0/row",
        "/pats/-1/row",
    ],
)
def test_out_of_range_ids_are_404(user_web, path):
    assert user_web.get(path).status_code == 404
    assert user_web.post(path).status_code in (404, 405)


def test_out_of_range_ids_in_forms_and_queries(user_web):
    response = user_web.create_pat(
        "Big id", template_choice="custom", template_id="99999999999999999999"
    )
    assert response.status_code == 422
    assert user_web.get("/history/?before=99999999999999999999").status_code == 200
    assert (
        user_web.post(
            "/templates/default", {"template_id": "99999999999999999999"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "body",
    [
        '{"url": "https://x.example/1", "title": "\\ud800"}',
        '{"url": "https://x.example/\\udfff"}',
        '{"url": "https://x.example/1", "notes": "a\\u0000b"}',
        '{"url": "https://x.example/1", "title": "\\u202eevil"}',
    ],
)
def test_invalid_unicode_and_control_characters_are_422(app, user_web, body):
    _, token = user_web.new_token()
    response = app.test_client().post(
        "/api/v1/submissions",
        data=body,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["error"] == "validation_error"


@pytest.mark.parametrize(
    "body",
    [
        '{"url": "https://x.example/1", "title": ' + "[" * 30000 + "]" * 30000 + "}",
        '{"url": "https://x.example/1", "title": ' + "9" * 5000 + "}",
    ],
)
def test_pathological_json_is_400(app, user_web, body):
    _, token = user_web.new_token()
    response = app.test_client().post(
        "/api/v1/submissions",
        data=body,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert (
        response.status_code == 400 and response.get_json()["error"] == "malformed_json"
    )


def test_chunked_body_over_the_limit_is_413(app, user_web, db):
    _, token = user_web.new_token()
    body = json.dumps({"url": "https://x.example/1"}) + " " * (70 * 1024)

    # Like gunicorn with a chunked body: no Content-Length, input marked terminated.
    response = app.test_client().post(
        "/api/v1/submissions",
        input_stream=io.BytesIO(body.encode()),
        environ_base={"wsgi.input_terminated": True},
        headers={
            **bearer(token),
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
    )
    assert response.status_code == 413
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_wrong_password_never_reveals_even_inside_the_window(user_web):
    pat_id, token = user_web.new_token()
    for htmx in (True, False):
        response = user_web.post(
            f"/pats/{pat_id}/reveal", {"password": "wrong!"}, htmx=htmx
        )
        assert response.status_code == 422
        assert token not in response.get_data(as_text=True)


def test_names_with_control_or_invisible_characters(user_web, db):
    assert user_web.create_pat("bad\x00name").status_code == 422
    assert user_web.create_pat("\u202eevil").status_code == 422
    user_web.new_token("Twin")
    twin = user_web.create_pat("Tw\u200bin")
    assert twin.status_code == 422 and "already have an active PAT" in twin.get_data(
        as_text=True
    )
    assert user_web.create_template("nul\x00name").status_code == 422
    assert (
        user_web.post(
            "/register", {"email": "a\x00b@example.com", "password": PASSWORD}
        ).status_code
        == 422
    )


def test_change_a_broken_pats_template(user_web, app, db):
    template_id = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    pat_id, token = user_web.new_token(
        "Fix me", template_choice="custom", template_id=str(template_id)
    )
    user_web.post(f"/templates/{template_id}/delete")
    api = app.test_client()
    assert (
        api.post(
            "/api/v1/submissions",
            json={"url": "https://x.example"},
            headers=bearer(token),
        ).status_code
        == 422
    )
    assert "Fix</a>" in user_web.get("/pats/").get_data(as_text=True)
    user_web.create_template("Leadership", default=False)
    new_id = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    form = user_web.get(f"/pats/{pat_id}/template")
    assert form.status_code == 200 and "Leadership" in form.get_data(as_text=True)
    saved = user_web.post(
        f"/pats/{pat_id}/template",
        {"template_choice": "custom", "template_id": str(new_id)},
    )
    assert saved.status_code == 302
    response = api.post(
        "/api/v1/submissions", json={"url": "https://x.example"}, headers=bearer(token)
    )
    assert (
        response.status_code == 201
        and response.get_json()["template"]["name"] == "Leadership"
    )
    assert (
        user_web.post(
            f"/pats/{pat_id}/template", {"template_choice": "weird"}
        ).status_code
        == 422
    )


def test_change_template_is_owner_only(user_web, other_web):
    pat_id, _ = user_web.new_token()
    other_web.register("bob@example.com")
    assert other_web.get(f"/pats/{pat_id}/template").status_code == 404
    assert (
        other_web.post(
            f"/pats/{pat_id}/template", {"template_choice": "none"}
        ).status_code
        == 404
    )


def test_htmx_revoke_refreshes_slot_counter_and_says_so(user_web):
    pat_id, _ = user_web.new_token()
    response = user_web.post(f"/pats/{pat_id}/revoke", htmx=True)
    body = response.get_data(as_text=True)
    assert 'id="slots"' in body and 'hx-swap-oob="true"' in body
    assert "0 of 3" in body and "is revoked" in body


def test_form_preselects_a_template_choice_that_works(web):
    web.register()
    assert 'value="none" checked' in web.get("/pats/new").get_data(as_text=True)
    web.create_template("Only one", default=False)
    assert 'value="custom" checked' in web.get("/pats/new").get_data(as_text=True)


def test_concurrent_template_delete_and_use_never_500(user_web, db, app):
    failures = []
    for _ in range(15):
        user_web.create_template("Racy", default=False)
        template_id = db.execute(
            "SELECT id FROM cv_templates WHERE name = 'Racy'"
        ).fetchone()[0]
        a, b = Web(app.test_client()), user_web
        a.login()
        tokens = (a.csrf_token(), b.csrf_token())

        requests = [
            (a.client, f"/templates/{template_id}/delete", {"csrf_token": tokens[0]}),
            (
                b.client,
                "/templates/default",
                {"csrf_token": tokens[1], "template_id": template_id},
            ),
        ]

        def send(client, url, data):
            status = client.post(url, data=data).status_code
            if status >= 500:
                failures.append(status)

        threads = [threading.Thread(target=send, args=request) for request in requests]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert failures == []


def test_set_default_on_a_deleted_template_is_not_found(user_web, db, clock):
    template_id = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    cv_templates.delete(db, 1, template_id, now=clock.now())
    with pytest.raises(errors.NotFound):
        cv_templates.set_default(db, 1, template_id)
    with pytest.raises(errors.NotFound):
        cv_templates.update(db, 1, template_id, "x", "y", clock.now())


def test_double_slash_api_path_is_json_404_not_redirect(app):
    response = app.test_client().post("/api/v1//submissions", json={})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_preflight_has_no_body_type(app):
    response = app.test_client().options(
        "/api/v1/token", headers={"Origin": "chrome-extension://abc"}
    )
    assert response.status_code == 204 and "Content-Type" not in response.headers


# Second round: usage, filters, logs.


def test_usage_day_follows_the_timezone_at_write_time(user_web, app, db, clock):
    """The timezone is read under the write lock, not from the request's user."""
    from datetime import UTC, datetime

    from pat_manager import usage

    _, token = user_web.new_token()
    pat = db.execute("SELECT id, user_id FROM pats").fetchone()
    db.execute("UPDATE users SET timezone = 'Pacific/Kiritimati'")  # UTC+14
    with transaction(db):
        usage.record_within(
            db,
            pat={"id": pat[0], "user_id": pat[1]},
            at=datetime(2026, 3, 2, 12, tzinfo=UTC),
            ip=None,
            user_agent=None,
            method="GET",
            path="/api/v1/token",
            status=200,
            outcome="ok",
        )
    assert db.execute("SELECT day FROM usage_daily").fetchone()[0] == "2026-03-03"


def test_submission_racing_a_template_delete_is_template_not_found(user_web, db, clock):
    import pytest

    from pat_manager import submissions
    from pat_manager.errors import TemplateNotFound

    template = {"id": 999_999, "name": "Gone"}
    with pytest.raises(TemplateNotFound), transaction(db):
        submissions.insert(
            db,
            user_id=1,
            pat_id=None,
            template=template,
            fields={
                "url": "https://x.example",
                "title": None,
                "company": None,
                "notes": None,
            },
            now=clock.now(),
        )
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


@pytest.mark.parametrize(
    "query",
    [
        "before=²",
        "pat=²",
        "template=²",
        "pat=99999999999999999999999",
        "template=99999999999999999999999",
        "to=9999-12-31",
        "from=0001-01-01",
        "from=2026-3-1",
    ],
)
def test_odd_history_filters_never_500(user_web, query):
    assert user_web.get(f"/history/?{query}").status_code in (200, 422)
    export = user_web.get(f"/history/export.csv?{query}")
    assert export.status_code in (200, 302)


@pytest.mark.parametrize(
    "query",
    ["before=²", "to=9999-12-31", "from=0001-01-01", "from=bad&pat_id=2&_method=POST"],
)
def test_odd_usage_filters_never_500(user_web, query):
    user_web.post("/settings/", {"timezone": "Asia/Tokyo"})
    pat_id, _ = user_web.new_token()
    assert user_web.get(f"/pats/{pat_id}/usage?{query}").status_code in (200, 422)
    assert user_web.get(f"/pats/{pat_id}/usage.csv?{query}").status_code in (200, 302)


def test_superscript_ids_in_forms(user_web):
    assert user_web.post("/templates/default", {"template_id": "²"}).status_code == 404
    assert (
        user_web.create_pat(
            "Sup", template_choice="custom", template_id="²"
        ).status_code
        == 422
    )


def test_load_more_with_a_bad_filter_is_an_error_fragment(user_web):
    pat_id, _ = user_web.new_token()
    response = user_web.get(f"/pats/{pat_id}/usage?before=5&from=junk", htmx=True)
    assert response.status_code == 422 and "<html" not in response.get_data(
        as_text=True
    )


def test_csv_exports_are_not_cached(user_web):
    pat_id, _ = user_web.new_token()
    for url in ["/history/export.csv", f"/pats/{pat_id}/usage.csv"]:
        assert user_web.get(url).headers["Cache-Control"] == "no-store"


def test_wrong_api_address_with_a_genuine_token_is_logged(user_web, app, db):
    _, token = user_web.new_token()
    api = app.test_client()
    api.post("/api/v1/token", headers=bearer(token))
    api.get("/api/v1/nothing", headers=bearer(token))
    rows = db.execute(
        "SELECT method, path, status, outcome FROM usage_events ORDER BY id"
    ).fetchall()
    assert rows == [
        ("POST", "/api/v1/token", 405, "method_not_allowed"),
        ("GET", "/api/v1/nothing", 404, "not_found"),
    ]


def test_junk_forwarded_addresses_are_not_stored(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    web = Web(app.test_client())
    web.register()
    web.create_template()
    _, token = web.new_token()
    app.test_client().get(
        "/api/v1/token",
        headers={**bearer(token), "X-Forwarded-For": "=cmd|x" + "A" * 7000},
    )
    from pat_manager.db import connect

    assert (
        connect(app.config["DATABASE"])
        .execute("SELECT ip FROM usage_events")
        .fetchone()[0]
        is None
    )


def test_token_shapes_are_redacted_from_log_text():
    from pat_manager import tokens

    token = tokens.assemble(
        tokens.derive_token_key("k" * 40), "AAAAAAAAAAAA", "00" * 32
    )
    line = f'127.0.0.1 "GET /api/v1/token/{token} HTTP/1.1" 404'
    assert token not in tokens.redact(line) and "cvf_[redacted]" in tokens.redact(line)


def test_seed_demo_respects_broken_templates_and_creation_times(
    user_web, app, db, clock
):
    from pat_manager import demo
    from pat_manager.accounts import get_user
    from pat_manager.tokens import derive_token_key

    user_web.post(
        "/templates/default", {"template_id": ""}
    )  # "default" PATs are now broken
    user = get_user(db, 1)
    result = demo.seed(
        db,
        user,
        events=2000,
        days=10,
        now=clock.now(),
        free_tier_limit=3,
        token_key=derive_token_key("x" * 40),
    )
    broken = db.execute(
        "SELECT id FROM pats WHERE template_choice = 'default'"
    ).fetchall()
    assert broken
    for (pat_id,) in broken:
        assert (
            db.execute(
                "SELECT COUNT(*) FROM submissions WHERE pat_id = ?", (pat_id,)
            ).fetchone()[0]
            == 0
        )
    early = db.execute(
        "SELECT COUNT(*) FROM usage_events e JOIN pats p ON p.id = e.pat_id"
        " WHERE e.at < p.created_at"
    ).fetchone()[0]
    assert early == 0
    assert db.execute("SELECT SUM(count) FROM usage_daily").fetchone()[0] == 2000
    assert (
        db.execute("SELECT SUM(submission_count) FROM pats").fetchone()[0]
        == result["submissions"]
    )


def test_head_requests_change_nothing(user_web, db, clock):
    pat_id, token = user_web.new_token()
    template_id = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    response = user_web.create_pat("Fresh one")
    created = response.headers["Location"]
    for url in [
        f"/pats/{pat_id}/revoke",
        f"/pats/{pat_id}/reveal",
        created,
        f"/templates/{template_id}/delete",
        f"/pats/{pat_id}/template",
    ]:
        user_web.client.head(url)
    assert (
        db.execute("SELECT COUNT(*) FROM pats WHERE revoked_at IS NOT NULL").fetchone()[
            0
        ]
        == 0
    )
    assert db.execute("SELECT COUNT(*) FROM pat_reveals").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM cv_templates").fetchone()[0] == 1
    assert "cvf_" in user_web.get(created).get_data(as_text=True)  # still shown once


def test_a_stolen_session_cannot_block_the_owner_from_changing_the_password(
    user_web, app, clock
):
    from pat_manager import ratelimit

    thief = Web(app.test_client())
    thief.login()
    pat_id, _ = user_web.new_token()
    clock.advance(minutes=11)
    for _ in range(ratelimit.REVEAL_PASSWORD.max + 1):
        thief.post(f"/pats/{pat_id}/reveal", {"password": "guess"})
    changed = user_web.post(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "a brand new secret"},
    )
    assert changed.status_code == 302
    assert thief.get("/pats/").status_code == 302  # the thief's session has ended


def test_login_limit_keys_store_no_typed_text(web, db):
    long_email = "x" * 5000 + "@example.com"
    web.login(long_email, "wrong password")
    keys = [r[0] for r in db.execute("SELECT key FROM rate_limits")]
    assert keys and all(len(k) < 80 for k in keys)


def test_backup_of_a_path_with_odd_characters(tmp_path, clock):
    from pat_manager import backup, create_app
    from tests.conftest import SECRET_KEY

    folder = tmp_path / "odd?dir#x %y"
    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE": str(folder / "db.sqlite3"),
            "SECRET_KEY": SECRET_KEY,
            "CLOCK": clock,
        }
    )
    Web(app.test_client()).register()
    target = tmp_path / "copy.sqlite3"
    backup.backup(folder / "db.sqlite3", target)
    import sqlite3

    assert (
        sqlite3.connect(target).execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1
    )
    assert not (tmp_path / "odd").exists()


def test_tokens_in_user_agents_are_redacted(user_web, app, db):
    _, token = user_web.new_token()
    app.test_client().get(
        "/api/v1/token", headers={**bearer(token), "User-Agent": f"ext {token}"}
    )
    agent = db.execute("SELECT user_agent FROM usage_events").fetchone()[0]
    assert token not in agent and "cvf_[redacted]" in agent
