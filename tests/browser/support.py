"""Helpers for tests that drive Debian's Chromium through Playwright.

Plain functions and classes, so the fixtures in this folder's conftest.py (and any
other test folder that imports them) share one way to start the browser, make an
account and keep watch on the console.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# No sandbox (the tests run as root in a container), no GPU, and nothing that
# phones home: the browser talks only to the server the test started.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def launch_chromium(playwright):
    """Headless Debian Chromium; Playwright never downloads a browser of its own."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )


@dataclass
class Account:
    email: str
    password: str = PASSWORD


def fresh_email(prefix: str = "browser") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


def register(page, email: str | None = None, password: str = PASSWORD) -> Account:
    """Register through the form, as a person does; the page ends logged in."""
    account = Account(email or fresh_email(), password)
    page.goto("/register")
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    page.click("button:has-text('Create account')")
    page.wait_for_url("**/templates/")
    if "Welcome" not in page.inner_text("#flashes"):
        raise AssertionError("registration did not welcome the new account")
    return account


def log_in(page, account: Account, remember: bool = False) -> None:
    """Log in through the form."""
    page.goto("/login")
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    if remember:
        page.check("input[name=remember]")
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/pats/")


def create_template(page, name: str, content: str = "Curriculum vitae") -> None:
    """Add a CV template through the templates page (the first becomes the default)."""
    page.goto("/templates/")
    page.fill("#name", name)
    page.fill("#content", content)
    page.click("button:has-text('Add template')")
    page.wait_for_url("**/templates/")


TOKEN = re.compile(r"cvf_[0-9A-Za-z]{50}")


def create_pat(page, name: str, expires_on: str | None = None) -> tuple[int, str]:
    """Create a PAT through the form; returns its id and the token shown once.

    Without ``expires_on`` the form's default expiry (90 days) is kept; with
    ``"soonest"`` the earliest date the form allows (tomorrow) is chosen.
    """
    page.goto("/pats/new")
    page.fill("#name", name)
    if expires_on:
        page.check("input[name=expiry][value=custom]")
        date_field = page.locator("input[name=expires_on]")
        if expires_on == "soonest":
            expires_on = date_field.get_attribute("min")
        date_field.fill(expires_on)
    page.click("button:has-text('Create PAT')")
    page.wait_for_url(re.compile(r".*/pats/\d+/created$"))
    pat_id = int(re.search(r"/pats/(\d+)/created", page.url).group(1))
    token = page.input_value("#new-token")
    if not TOKEN.fullmatch(token):
        raise AssertionError(f"the new-token page shows no token: {token!r}")
    return pat_id, token


def restart_browser(context) -> None:
    """What closing and reopening the browser does: the session cookie goes, the
    remember-me cookie stays (so the password counts as not typed recently)."""
    context.clear_cookies(name="session")


@dataclass
class ConsoleGuard:
    """Collects console errors and uncaught page errors from every watched page."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = f"console: {message.text} ({message.location.get('url', '')})"
        if not any(pattern.search(text) for pattern in self.allowed):
            self.errors.append(text)

    def allow(self, pattern: str) -> None:
        """Expect one kind of console error, e.g. the 422 of a wrong password."""
        self.allowed.append(re.compile(pattern))

    def check(self) -> None:
        if self.errors:
            raise AssertionError(
                "the browser reported errors:\n" + "\n".join(self.errors)
            )


def save_artifacts(name: str, contexts) -> list[Path]:
    """A screenshot and the HTML of every open page, for a failed test."""
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name)[-120:]
    saved = []
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            base = ARTIFACTS / f"{stem}-{c}{p}"
            try:
                page.screenshot(path=f"{base}.png", full_page=True)
                Path(f"{base}.html").write_text(page.content())
            except Exception as exc:  # a crashed page must not hide the real failure
                Path(f"{base}.txt").write_text(f"could not save: {exc}\n")
            saved.append(base)
    return saved
