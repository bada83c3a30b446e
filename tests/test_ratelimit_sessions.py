"""Rate limits (shared through SQLite) and session renewal rules."""

from pat_manager import ratelimit
from tests.conftest import PASSWORD, Web, bearer


def client_from(app, ip):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_login_is_limited_per_account(web, other_web, clock):
    web.register()
    web.logout()
    for _ in range(ratelimit.LOGIN_PER_ACCOUNT.max):
        assert web.login(password="wrong password").status_code == 401
    refused = web.login()  # even the right password waits now
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many failed log-in attempts" in refused.get_data(as_text=True)
    clock.advance(minutes=16)
    assert web.login().status_code == 302


def test_login_is_limited_per_ip_across_accounts(app, clock):
    web = Web(app.test_client())
    for n in range(ratelimit.LOGIN_PER_IP.max):
        web.login(f"user{n}@example.com", "wrong password")
    assert web.login("someone@example.com", "wrong password").status_code == 429
    other_ip = Web(client_from(app, "198.51.100.1"))
    assert other_ip.login("someone@example.com", "wrong password").status_code == 401


def test_reveal_password_is_limited(user_web, clock):
    pat_id, token = user_web.new_token()
    clock.advance(minutes=11)
    for _ in range(ratelimit.REVEAL_PASSWORD.max):
        assert (
            user_web.post(
                f"/pats/{pat_id}/reveal", {"password": "nope"}, htmx=True
            ).status_code
            == 422
        )
    refused = user_web.post(f"/pats/{pat_id}/reveal", {"password": PASSWORD}, htmx=True)
    assert refused.status_code == 429 and token not in refused.get_data(as_text=True)
    assert "<html" not in refused.get_data(as_text=True)


def test_api_is_limited_per_pat_with_json_429(make_app):
    app = make_app(API_RATE_LIMIT=5)
    web = Web(app.test_client())
    web.register()
    web.create_template()
    _, token = web.new_token()
    api = app.test_client()
    codes = [
        api.get("/api/v1/token", headers=bearer(token)).status_code for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]
    response = api.post(
        "/api/v1/submissions", json={"url": "https://x.example"}, headers=bearer(token)
    )
    assert response.status_code == 429
    assert (
        response.get_json()["error"] == "rate_limited"
        and int(response.headers["Retry-After"]) >= 1
    )
    from pat_manager.db import connect

    conn = connect(app.config["DATABASE"]).conn
    # Refused requests are counted, but a client hammering past its limit adds no
    # rows to the log (it could otherwise fill the disk).
    outcomes = [
        r[0] for r in conn.execute("SELECT outcome FROM usage_events ORDER BY id")
    ]
    assert outcomes == ["ok"] * 5
    limited = conn.execute(
        "SELECT SUM(count) FROM usage_rollups WHERE outcome = 'rate_limited'"
    ).fetchone()[0]
    assert limited == 2
    for _ in range(3):  # wrong addresses count against the same limit, and log nothing
        assert api.get("/api/v1/nothing", headers=bearer(token)).status_code == 404
    assert conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0] == 5


def test_bad_tokens_are_limited_per_ip(app, user_web, clock):
    _, token = user_web.new_token()
    api = app.test_client()
    bad = "cvf_" + "B" * 50
    for _ in range(ratelimit.BAD_TOKEN_PER_IP.max):
        assert api.get("/api/v1/token", headers=bearer(bad)).status_code == 401
    refused = api.get("/api/v1/token", headers=bearer(bad))
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"
    assert api.get("/api/v1/token").status_code == 429  # no token at all counts too
    # Someone whose PAT works, on the same network, is not locked out by the guesser.
    assert api.get("/api/v1/token", headers=bearer(token)).status_code == 200
    other = client_from(app, "198.51.100.2")
    assert other.get("/api/v1/token", headers=bearer(bad)).status_code == 401
    clock.advance(minutes=1)
    assert api.get("/api/v1/token", headers=bearer(bad)).status_code == 401


def test_limits_are_shared_between_app_instances(make_app, tmp_path):
    """Two app objects on one database stand for two gunicorn workers."""
    first = make_app()
    second = make_app()
    web = Web(first.test_client())
    web.register()
    web.logout()
    half = ratelimit.LOGIN_PER_ACCOUNT.max // 2
    for _ in range(half):
        web.login(password="wrong password")
    other = Web(second.test_client())
    for _ in range(ratelimit.LOGIN_PER_ACCOUNT.max - half):
        other.login(password="wrong password")
    assert web.login().status_code == 429


def test_password_change_ends_other_sessions_only(user_web, app):
    laptop = Web(app.test_client())
    laptop.login()
    assert laptop.get("/pats/").status_code == 200
    wrong = user_web.post(
        "/settings/password",
        {"current_password": "nope", "new_password": "another long one"},
    )
    assert wrong.status_code == 422 and "not your current password" in wrong.get_data(
        as_text=True
    )
    weak = user_web.post(
        "/settings/password", {"current_password": PASSWORD, "new_password": "short"}
    )
    assert weak.status_code == 422
    done = user_web.post(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "another long one"},
    )
    assert done.status_code == 302
    assert user_web.get("/pats/").status_code == 200  # this device stays in
    assert laptop.get("/pats/").status_code == 302  # the other is logged out
    user_web.logout()
    assert user_web.login(password=PASSWORD).status_code == 401
    assert user_web.login(password="another long one").status_code == 302


def test_login_renews_the_session(web, app):
    web.client.get("/login")
    before = web.client.get_cookie("session")
    web.register()
    web.logout()
    web.login()
    after = web.client.get_cookie("session")
    assert before is None or before.value != after.value


def test_tampered_login_ids_are_anonymous(user_web, app):
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    for forged in ["1", "1:", "1:nonexistent", "2:" + "x" * 30, "abc:def"]:
        cookie = serializer.dumps({"_user_id": forged, "_fresh": True})
        client = app.test_client()
        client.set_cookie("session", cookie)
        assert client.get("/pats/").status_code == 302, forged


def _at_once(count, send):
    import threading

    results, start = [], threading.Barrier(count)

    def run():
        start.wait()
        results.append(send())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results)


def test_wrong_passwords_sent_at_once_are_checked_no_more_than_the_limit(
    app, user_web, clock
):
    """Each attempt is counted before its password is checked, so simultaneous
    wrong passwords cannot all slip under the limit."""
    pat_id, _ = user_web.new_token()
    clock.advance(minutes=11)
    cookie = user_web.client.get_cookie("session").value
    csrf = user_web.csrf_token()

    def send():
        client = app.test_client()
        client.set_cookie("session", cookie)
        return client.post(
            f"/pats/{pat_id}/reveal",
            data={"password": "wrong", "csrf_token": csrf},
            headers={"HX-Request": "true"},
        ).status_code

    results = _at_once(12, send)
    assert results == [422] * ratelimit.REVEAL_PASSWORD.max + [429] * (
        12 - ratelimit.REVEAL_PASSWORD.max
    )


def test_logins_sent_at_once_are_checked_no_more_than_the_limit(app, web):
    web.register()
    web.logout()

    def send():
        return Web(app.test_client()).login(password="wrong").status_code

    results = _at_once(16, send)
    limit = ratelimit.LOGIN_PER_ACCOUNT.max
    assert results == [401] * limit + [429] * (16 - limit)


def test_right_passwords_do_not_use_up_the_budget(user_web, clock):
    pat_id, _ = user_web.new_token()
    for _ in range(ratelimit.REVEAL_PASSWORD.max + 3):
        clock.advance(minutes=11)
        response = user_web.post(
            f"/pats/{pat_id}/reveal", {"password": PASSWORD}, htmx=True
        )
        assert response.status_code == 200 and "cvf_" in response.get_data(True)
