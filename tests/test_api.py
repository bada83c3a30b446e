import json

import pytest

from tests.conftest import bearer


@pytest.fixture
def token(user_web):
    return user_web.new_token()[1]


@pytest.fixture
def api(app):
    return app.test_client()


def post_submission(api, token, body=None, **kwargs):
    body = (
        {"url": "https://jobs.example.com/123", "title": "PM", "company": "Acme"}
        if body is None
        else body
    )
    return api.post("/api/v1/submissions", json=body, headers=bearer(token), **kwargs)


def assert_error(response, status, code, message=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert data["error"] == code
    if message:
        assert data["message"] == message
    return data


def test_token_endpoint_describes_the_pat(api, token, clock):
    response = api.get("/api/v1/token", headers=bearer(token))
    assert response.status_code == 200
    data = response.get_json()
    assert data["pat"]["name"] == "PM Job Search 2025"
    assert data["pat"]["template"]["name"] == "Technical roles"
    assert data["pat"]["expires_at"] == "2026-05-31T12:00:00Z"
    assert data["account"] == {"email": "ada@example.com"}
    assert response.headers["X-PAT-Expires-At"] == "2026-05-31T12:00:00Z"


def test_token_scheme_is_case_insensitive_and_token_word_works(api, token):
    for header in [
        f"bearer {token}",
        f"BEARER {token}",
        f"token {token}",
        f"Token   {token}",
    ]:
        assert (
            api.get("/api/v1/token", headers={"Authorization": header}).status_code
            == 200
        ), header


def test_submission_created_with_template_and_listed_in_history(
    api, token, user_web, db
):
    response = post_submission(api, token)
    assert response.status_code == 201
    data = response.get_json()
    assert data["url"] == "https://jobs.example.com/123"
    assert data["template"]["name"] == "Technical roles"
    assert data["pat"]["name"] == "PM Job Search 2025"
    assert data["created_at"] == "2026-03-02T12:00:00Z"
    assert response.headers["X-PAT-Expires-At"]
    history = user_web.get("/history/").get_data(as_text=True)
    assert "https://jobs.example.com/123" in history and "Acme" in history
    assert 'rel="noopener noreferrer nofollow"' in history
    last_used = db.execute("SELECT last_used_at, last_used_ip FROM pats").fetchone()
    assert last_used == ("2026-03-02T12:00:00.000000Z", "127.0.0.1")


def test_no_expiry_header_value(api, user_web):
    _, token = user_web.new_token("Long term", expiry="never")
    response = api.get("/api/v1/token", headers=bearer(token))
    assert response.headers["X-PAT-Expires-At"] == "none"
    assert response.get_json()["pat"]["expires_at"] is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer cvf_short"},
        {"Authorization": "Bearer " + "cvf_" + "A" * 50},
    ],
)
def test_missing_or_malformed_token(api, headers):
    response = api.post(
        "/api/v1/submissions", json={"url": "https://x.example"}, headers=headers
    )
    data = assert_error(response, 401, "invalid_token", "Invalid PAT token")
    assert "reason" not in data
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_but_well_formed_token(api, token, app, db):
    db.execute("DELETE FROM pats")
    data = assert_error(
        post_submission(api, token), 401, "invalid_token", "Invalid PAT token"
    )
    assert "reason" not in data


def test_revoked_token_says_revoked(api, token, user_web, db):
    pat_id = db.execute("SELECT id FROM pats").fetchone()[0]
    assert post_submission(api, token).status_code == 201
    user_web.post(f"/pats/{pat_id}/revoke", htmx=True)
    data = assert_error(
        post_submission(api, token), 401, "invalid_token", "Invalid PAT token"
    )
    assert data["reason"] == "revoked"


def test_expired_token_says_expired(api, user_web, clock):
    _, token = user_web.new_token("Short", expiry="30")
    clock.advance(days=30)
    data = assert_error(
        post_submission(api, token), 401, "invalid_token", "Invalid PAT token"
    )
    assert data["reason"] == "expired"


def test_revoked_pat_with_forged_secret_gets_no_reason(api, token, user_web, db):
    from pat_manager import tokens

    pat = db.execute("SELECT id, public_id FROM pats").fetchone()
    user_web.post(f"/pats/{pat[0]}/revoke")
    forged = tokens.assemble(
        tokens.derive_token_key("other-key" * 5), pat[1], "00" * 32
    )
    data = assert_error(post_submission(api, forged), 401, "invalid_token")
    assert "reason" not in data


def test_cookies_never_authenticate_the_api(user_web):
    response = user_web.client.get("/api/v1/token")
    assert_error(response, 401, "invalid_token")


def test_template_not_found_when_custom_template_deleted(api, user_web, db):
    template_id = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    _, token = user_web.new_token(
        "Custom", template_choice="custom", template_id=str(template_id)
    )
    user_web.post(f"/templates/{template_id}/delete")
    assert_error(
        post_submission(api, token), 422, "template_not_found", "CV template not found"
    )
    info = api.get("/api/v1/token", headers=bearer(token)).get_json()
    assert (
        info["pat"]["template"] is None
        and info["pat"]["template_status"] == "not_found"
    )
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_template_not_found_when_default_is_unset(api, user_web, token):
    user_web.post("/templates/default", {"template_id": ""})
    assert_error(
        post_submission(api, token), 422, "template_not_found", "CV template not found"
    )


def test_no_template_pat_submits_without_template(api, user_web):
    _, token = user_web.new_token("Exploratory", template_choice="none")
    user_web.post("/templates/default", {"template_id": ""})
    response = post_submission(api, token)
    assert response.status_code == 201 and response.get_json()["template"] is None


@pytest.mark.parametrize(
    "body, field, text",
    [
        ({}, "url", "required"),
        ({"url": ""}, "url", "required"),
        ({"url": 42}, "url", "must be a string"),
        ({"url": "ftp://x.example/file"}, "url", "http"),
        ({"url": "/relative/path"}, "url", "absolute"),
        ({"url": "https://"}, "url", "absolute"),
        ({"url": "https://x.example/a b"}, "url", "spaces"),
        ({"url": "https://x.example:99999/"}, "url", "not a valid"),
        ({"url": "https://x.example/" + "a" * 2048}, "url", "2048"),
        ({"url": "https://x.example", "title": "t" * 301}, "title", "300"),
        ({"url": "https://x.example", "company": ["Acme"]}, "company", "string"),
        ({"url": "https://x.example", "notes": "n" * 5001}, "notes", "5000"),
    ],
)
def test_validation_errors_name_each_field(api, token, body, field, text):
    data = assert_error(post_submission(api, token, body), 422, "validation_error")
    assert text in data["fields"][field]


def test_non_object_json_is_a_validation_error(api, token):
    data = assert_error(post_submission(api, token, [1, 2]), 422, "validation_error")
    assert "JSON object" in data["fields"]["body"]


def test_malformed_json_is_400(api, token):
    response = api.post(
        "/api/v1/submissions",
        data="{not json",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_error(response, 400, "malformed_json")
    response = api.post(
        "/api/v1/submissions",
        data=b"\xff\xfe",
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_error(response, 400, "malformed_json")


def test_not_json_is_415(api, token):
    response = api.post(
        "/api/v1/submissions",
        data="url=https://x.example",
        headers={**bearer(token), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "unsupported_media_type")
    response = api.post("/api/v1/submissions", data="{}", headers=bearer(token))
    assert_error(response, 415, "unsupported_media_type")


def test_body_over_64k_is_413(api, token):
    body = json.dumps({"url": "https://x.example", "notes": "n" * (70 * 1024)})
    response = api.post(
        "/api/v1/submissions",
        data=body,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")


def test_wrong_method_is_405_json(api, token):
    response = api.delete("/api/v1/submissions", headers=bearer(token))
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_unknown_api_path_is_json_404(api, token):
    assert_error(api.get("/api/v1/nope", headers=bearer(token)), 404, "not_found")


def test_cors_preflight_without_auth_for_extensions(api):
    origin = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
    response = api.options(
        "/api/v1/submissions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == origin
    allowed = response.headers["Access-Control-Allow-Headers"]
    assert "Authorization" in allowed and "Content-Type" in allowed
    # A retried post carries its key; the extension reads the wait and the replay.
    assert "Idempotency-Key" in allowed
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "Retry-After" in exposed and "Idempotent-Replayed" in exposed
    firefox = api.options(
        "/api/v1/token", headers={"Origin": "moz-extension://1234-abcd"}
    )
    assert firefox.headers["Access-Control-Allow-Origin"] == "moz-extension://1234-abcd"


def test_cors_not_granted_to_web_origins(api, token):
    response = api.get(
        "/api/v1/token", headers={**bearer(token), "Origin": "https://evil.example"}
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_api_never_answers_html_even_on_crash(app, api, token, monkeypatch):
    from pat_manager import submissions

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(submissions, "insert", boom)
    response = post_submission(api, token)
    data = assert_error(response, 500, "internal_error")
    assert "disk on fire" not in json.dumps(data)


def test_expired_pat_does_not_count_as_use(api, user_web, db, clock):
    _, token = user_web.new_token("Short", expiry="30")
    clock.advance(days=31)
    post_submission(api, token)
    assert (
        db.execute("SELECT last_used_at FROM pats WHERE name = 'Short'").fetchone()[0]
        is None
    )
