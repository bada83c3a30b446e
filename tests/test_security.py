import logging
import re
from pathlib import Path

import pytest

from pat_manager import tokens
from tests.conftest import PASSWORD, SECRET_KEY, bearer


def test_state_changing_requests_need_csrf(user_web, db):
    pat_id, _ = user_web.new_token()
    template_id = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    for url, data in [
        ("/pats/", {"name": "No csrf", "expiry": "90"}),
        (f"/pats/{pat_id}/revoke", {}),
        (f"/pats/{pat_id}/reveal", {"password": PASSWORD}),
        ("/templates/", {"name": "No csrf"}),
        (f"/templates/{template_id}/delete", {}),
        ("/templates/default", {"template_id": ""}),
        ("/logout", {}),
    ]:
        for htmx in (False, True):
            response = user_web.post(url, data, htmx=htmx, csrf=False)
            assert response.status_code == 400, (url, htmx)
            assert "expired" in response.get_data(as_text=True)
    for url in [
        f"/pats/{pat_id}/revoke",
        f"/pats/{pat_id}/reveal",
        f"/templates/{template_id}/delete",
        f"/pats/{pat_id}/created",
    ]:
        assert user_web.client.head(url).status_code in (200, 302), (
            url
        )  # HEAD acts like GET
    assert db.execute("SELECT COUNT(*) FROM pats").fetchone()[0] == 1
    assert db.execute("SELECT revoked_at FROM pats").fetchone()[0] is None
    assert db.execute("SELECT COUNT(*) FROM cv_templates").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM pat_reveals").fetchone()[0] == 0
    assert user_web.get("/pats/").status_code == 200  # still logged in


def test_htmx_csrf_header_is_accepted(user_web):
    pat_id, _ = user_web.new_token()
    token = user_web.csrf_token()
    response = user_web.client.post(
        f"/pats/{pat_id}/revoke", headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert response.status_code == 200 and "badge--revoked" in response.get_data(
        as_text=True
    )


def test_login_and_register_forms_need_csrf(web):
    assert (
        web.post(
            "/register", {"email": "a@example.com", "password": PASSWORD}, csrf=False
        ).status_code
        == 400
    )
    web.register()
    web.logout()
    assert (
        web.post(
            "/login", {"email": "ada@example.com", "password": PASSWORD}, csrf=False
        ).status_code
        == 400
    )
    assert web.get("/pats/").status_code == 302


def test_security_headers_on_pages(web):
    response = web.get("/login")
    headers = response.headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_in_pages(user_web):
    user_web.new_token()
    for url in ["/pats/", "/pats/new", "/templates/", "/history/", "/login"]:
        html = user_web.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert " on" + "click=" not in html


def test_user_content_is_escaped(user_web, app):
    evil = '<script>alert("x")</script>'
    user_web.create_template(evil, default=False)
    _, token = user_web.new_token(evil[:80], template_choice="none")
    client = app.test_client()
    posted = client.post(
        "/api/v1/submissions",
        json={
            "url": 'https://x.example/"><img/src=x/onerror=alert(1)>',
            "title": evil,
            "company": evil,
        },
        headers=bearer(token),
    )
    assert posted.status_code == 201
    for url in ["/templates/", "/pats/", "/history/"]:
        html = user_web.get(url).get_data(as_text=True)
        assert evil not in html, url
        assert "&lt;script&gt;" in html, url
        assert "<img/src=x" not in html


def test_javascript_urls_are_refused(user_web, app):
    _, token = user_web.new_token()
    response = app.test_client().post(
        "/api/v1/submissions",
        json={"url": "javascript:alert(1)"},
        headers=bearer(token),
    )
    assert response.status_code == 422


def test_database_file_holds_no_usable_token(user_web, app, db):
    pat_id, token = user_web.new_token()
    user_web.post(f"/pats/{pat_id}/reveal", htmx=True)
    app.test_client().post(
        "/api/v1/submissions", json={"url": "https://x.example"}, headers=bearer(token)
    )
    parsed = tokens.parse(token)
    db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    instance = Path(app.config["DATABASE"]).parent
    for path in instance.glob("test.sqlite3*"):
        raw = path.read_bytes()
        assert token.encode() not in raw, path
        assert parsed.secret.encode() not in raw, path
    # What the database does hold (public id and seed) is not enough without the server key.
    public_id, seed = db.execute("SELECT public_id, secret_seed FROM pats").fetchone()
    for guess in ["", "pat-manager", "secret", public_id, seed]:
        assert tokens.assemble(tokens.derive_token_key(guess), public_id, seed) != token
    assert (
        tokens.assemble(tokens.derive_token_key(SECRET_KEY), public_id, seed) == token
    )


def test_token_never_in_logs(user_web, app, caplog, clock):
    caplog.set_level(logging.DEBUG)
    pat_id, token = user_web.new_token()
    client = app.test_client()
    user_web.post(f"/pats/{pat_id}/reveal", htmx=True)
    client.post(
        "/api/v1/submissions", json={"url": "https://x.example"}, headers=bearer(token)
    )
    client.post(
        "/api/v1/submissions",
        data="{bad",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    user_web.post(f"/pats/{pat_id}/revoke")
    client.post(
        "/api/v1/submissions", json={"url": "https://x.example"}, headers=bearer(token)
    )
    client.get("/api/v1/token", headers=bearer(token[:-1] + "x"))
    assert caplog.records, "expected security events in the log"
    assert "PAT revealed" in caplog.text and "PAT revoked" in caplog.text
    assert token not in caplog.text
    assert tokens.parse(token).secret not in caplog.text


def test_error_pages_do_not_echo_tokens(app, user_web):
    _, token = user_web.new_token()
    client = app.test_client()
    response = client.get(
        f"/api/v1/token?token={token}",
        headers={"Authorization": "Bearer " + token[:-2]},
    )
    assert token not in response.get_data(as_text=True)
    page = client.get(f"/nope/{token}")
    assert page.status_code == 404 and token not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    ["/pats/abc/reveal", "/pats/999999/row", "/templates/0", "/history/?before=zzz"],
)
def test_odd_paths_never_500(user_web, path):
    assert user_web.get(path).status_code in (200, 404)
