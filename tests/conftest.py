"""Fixtures: an app on a temporary database, a movable clock, a web client that
handles CSRF like a browser, and helpers to make accounts, templates and PATs."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest

from pat_manager import create_app
from pat_manager.db import close, connect

PASSWORD = "correct horse battery"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


class MovableClock:
    def __init__(self, start: datetime):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> None:
        self.current += timedelta(**delta)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("PAT_MANAGER_"):
            monkeypatch.delenv(name)


@pytest.fixture
def clock():
    return MovableClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def make_app(tmp_path, clock):
    def _make(**overrides):
        config = {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE": str(tmp_path / "instance" / "test.sqlite3"),
            "SECRET_KEY": SECRET_KEY,
            "CLOCK": clock,
        }
        config.update(overrides)
        return create_app(config)

    return _make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def db(app):
    conn = connect(app.config["DATABASE"])
    yield conn
    close(conn)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Web:
    """A test client that fetches a CSRF token before each state-changing request."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self) -> str:
        page = self.client.get("/login", follow_redirects=True)
        match = _CSRF.search(page.get_data(as_text=True))
        assert match, "no CSRF token on the page"
        return match.group(1)

    def get(self, url, htmx=False, **kwargs):
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.get(url, headers=headers, **kwargs)

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        data = dict(data or {})
        headers = {}
        if csrf:
            token = self.csrf_token()
            if htmx:
                headers["X-CSRFToken"] = token
            else:
                data["csrf_token"] = token
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, data=data, headers=headers, **kwargs)

    def register(self, email="ada@example.com", password=PASSWORD):
        return self.post("/register", {"email": email, "password": password})

    def login(self, email="ada@example.com", password=PASSWORD, remember=False):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "1"
        return self.post("/login", data)

    def logout(self):
        return self.post("/logout")

    def create_template(self, name="Technical roles", content="My CV", default=True):
        data = {"name": name, "content": content}
        if default:
            data["make_default"] = "1"
        return self.post("/templates/", data)

    def create_pat(self, name="PM Job Search 2025", **fields):
        data = {"name": name, "template_choice": "default", "expiry": "90", **fields}
        return self.post("/pats/", data)

    def new_token(self, name="PM Job Search 2025", **fields) -> tuple[int, str]:
        """Create a PAT through the pages and read its token from the one-time page."""
        response = self.create_pat(name, **fields)
        assert response.status_code == 302, response.get_data(as_text=True)
        pat_id = int(
            re.search(r"/pats/(\d+)/created", response.headers["Location"]).group(1)
        )
        page = self.get(response.headers["Location"]).get_data(as_text=True)
        token = re.search(r'value="(cvf_[0-9A-Za-z]+)"', page).group(1)
        return pat_id, token


@pytest.fixture
def web(app):
    return Web(app.test_client())


@pytest.fixture
def other_web(app):
    return Web(app.test_client())


@pytest.fixture
def user_web(web):
    """Signed in as ada@example.com with a default template."""
    assert web.register().status_code == 302
    assert web.create_template().status_code == 302
    return web


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver for the whole run: the browser and the extension
    tests share it (a second sync driver cannot start inside the first's loop)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running
