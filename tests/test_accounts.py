from pat_manager import accounts
from tests.conftest import PASSWORD


def test_register_logs_in_and_first_account_is_admin(web, db):
    response = web.register("Ada@Example.com ")
    assert response.status_code == 302
    assert web.get("/pats/").status_code == 200
    row = db.execute("SELECT email, is_admin, password_hash FROM users").fetchone()
    assert row[0] == "ada@example.com" and row[1] == 1
    assert row[2].startswith("scrypt:") and PASSWORD not in row[2]


def test_second_account_is_not_admin(web, other_web, db):
    web.register("ada@example.com")
    other_web.register("bob@example.com")
    admins = db.execute("SELECT email FROM users WHERE is_admin = 1").fetchall()
    assert admins == [("ada@example.com",)]


def test_register_validation_messages(web):
    page = web.post("/register", {"email": "not-an-email", "password": "short"})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "Enter a valid email address" in text and "at least 8 characters" in text


def test_duplicate_email_is_refused(web, other_web):
    web.register("ada@example.com")
    page = other_web.register("ADA@example.com")
    assert page.status_code == 422
    assert "already exists" in page.get_data(as_text=True)


def test_login_error_does_not_reveal_whether_email_exists(web, other_web):
    web.register("ada@example.com")
    web.logout()
    wrong_password = web.login("ada@example.com", "wrong password!")
    unknown_email = other_web.login("nobody@example.com", "wrong password!")
    assert wrong_password.status_code == unknown_email.status_code == 401
    message = "That email and password do not match an account."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)


def test_logout_ends_session_and_requires_post(web):
    web.register()
    assert web.get("/logout").status_code == 405
    assert web.logout().status_code == 302
    response = web.get("/pats/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_remember_me_cookie_is_httponly_and_lax(web):
    web.register()
    web.logout()
    response = web.login(remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    session = [c for c in cookies if c.startswith("session=")]
    assert remember and session
    for cookie in remember + session:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_clears_remember_me(web):
    web.register()
    web.logout()
    web.login(remember=True)
    response = web.logout()
    cleared = [
        c
        for c in response.headers.getlist("Set-Cookie")
        if c.startswith("remember_token=")
    ]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]
    assert web.get("/pats/").status_code == 302


def test_secure_cookies_when_configured(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    from tests.conftest import Web

    web = Web(app.test_client())
    response = web.register()
    assert any("Secure" in c for c in response.headers.getlist("Set-Cookie"))


def test_registration_closed(make_app):
    app = make_app(REGISTRATION="closed")
    from tests.conftest import Web

    web = Web(app.test_client())
    assert web.get("/register").status_code == 403
    assert web.register().status_code == 403


def test_login_next_is_followed_only_for_local_paths(web):
    web.register()
    web.logout()
    token = web.csrf_token()
    ok = web.client.post(
        "/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "next": "/history/",
            "csrf_token": token,
        },
    )
    assert ok.headers["Location"].endswith("/history/")
    web.logout()
    for evil in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ]:
        token = web.csrf_token()
        response = web.client.post(
            "/login",
            data={
                "email": "ada@example.com",
                "password": PASSWORD,
                "next": evil,
                "csrf_token": token,
            },
        )
        assert response.headers["Location"] == "/pats/", evil
        web.logout()


def test_authenticate_service_directly(db, app, clock):
    accounts.create_user(db, "x@example.com", PASSWORD, clock.now())
    assert accounts.authenticate(db, "X@example.com", PASSWORD).email == "x@example.com"
    assert accounts.authenticate(db, "x@example.com", "nope") is None
    assert accounts.authenticate(db, "y@example.com", PASSWORD) is None
