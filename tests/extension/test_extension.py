"""The reference extension in a real (headless) Chromium against the real app."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.servers import free_port

pytestmark = pytest.mark.slow


def text(page, selector: str) -> str:
    return page.inner_text(selector)


def wait_done(popup) -> None:
    """Until the popup has an outcome: saved, a problem, or the duplicate warning."""
    popup.wait_for_selector(
        "#status.message--ok, #problem:not([hidden]), #duplicate:not([hidden])"
    )


def history_rows(app, email: str) -> list[str]:
    page = app.login(email).get(app.base + "/history/").text
    return re.findall(r"<tr>.*?</tr>", page, re.S)[1:]  # less the header row


def test_options_check_then_save_job_and_see_it_in_history(app, browser, job_site):
    app.account("ada@example.com")
    token = app.pat("ada@example.com", "PM Job Search 2025", "--expires-in", "90")

    options = browser.configure(app.base + "/", token)
    assert "Saved, and the PAT works" in text(options, "#status")
    assert text(options, "#pat-name") == "PM Job Search 2025"
    assert text(options, "#pat-template") == "Technical roles (your default)"
    assert re.match(r"expires in 9[01] days, on ", text(options, "#pat-expiry"))
    assert text(options, "#pat-account") == "ada@example.com"
    assert options.is_hidden("#expiry-warning") and options.is_hidden("#problem")
    # Stored without the trailing slash, in the extension's own storage.
    stored = options.evaluate("chrome.storage.local.get(['server', 'token'])")
    assert stored == {"server": app.base, "token": token}
    # Reopened, the options show what was saved.
    again = browser.page("options.html")
    expect(again.locator("#server")).to_have_value(app.base)
    expect(again.locator("#token")).to_have_value(token)

    url = job_site.job("/jobs/101?utm_source=feed", "Product Manager at Acme")
    popup = browser.popup_for(url)
    assert text(popup, "#job-url") == url
    assert popup.input_value("#title") == "Product Manager at Acme"
    assert popup.evaluate("document.activeElement.id") == "save"
    popup.fill("#company", "Acme")
    # A double click stores one submission; the post carries an Idempotency-Key.
    with popup.expect_request(lambda r: r.method == "POST") as posted:
        popup.dblclick("#save")
    assert re.fullmatch(r"[0-9a-f-]{36}", posted.value.headers["idempotency-key"])
    wait_done(popup)
    assert "Saved to PAT Manager" in text(popup, "#status")
    assert "Technical roles" in text(popup, "#status")
    assert popup.is_disabled("#save")

    rows = history_rows(app, "ada@example.com")
    assert len(rows) == 1
    assert "Product Manager at Acme" in rows[0] and "Acme" in rows[0]
    assert "PM Job Search 2025" in rows[0] and "Technical roles" in rows[0]

    # The web app, logged into in the browser, shows it in the history too.
    web = browser.context.new_page()
    web.goto(app.base + "/login")
    web.fill("#email", "ada@example.com")
    web.fill("#password", "correct horse battery")
    web.click("button[type=submit]:has-text('Log in')")
    web.goto(app.base + "/history/")
    assert web.locator("table >> text=Product Manager at Acme").is_visible()


def test_second_save_warns_of_the_duplicate_first(app, browser, job_site):
    app.account("dup@example.com")
    token = app.pat("dup@example.com", "Coach Access - Sarah")
    browser.configure(app.base, token)
    url = job_site.job("/jobs/202", "Data Analyst")

    first = browser.popup_for(url)
    first.click("#save")
    wait_done(first)
    assert "Saved to PAT Manager" in text(first, "#status")

    # Same job (tracking parameters do not make it another): warned, then cancelled.
    second = browser.popup_for(job_site.job("/jobs/202?utm_campaign=x", "Data Analyst"))
    second.click("#save")
    wait_done(second)
    warning = text(second, "#duplicate")
    assert "You already saved this job on " in warning
    assert "with the PAT \u201cCoach Access - Sarah\u201d" in warning
    assert second.evaluate("document.activeElement.id") == "save-anyway"
    second.keyboard.press("Escape")
    assert second.is_hidden("#duplicate")
    assert "Not saved." in text(second, "#status")
    assert len(history_rows(app, "dup@example.com")) == 1

    # Warned again, and saved anyway.
    second.click("#save")
    second.wait_for_selector("#duplicate:not([hidden])")
    second.click("#save-anyway")
    second.wait_for_selector("#status.message--ok")
    assert len(history_rows(app, "dup@example.com")) == 2


def test_revoked_pat_says_invalid_pat_token_it_was_revoked(app, browser, job_site):
    app.account("rev@example.com")
    token = app.pat("rev@example.com", "Soon revoked")
    browser.configure(app.base, token)
    app.revoke("rev@example.com", token)

    popup = browser.popup_for(job_site.job("/jobs/303", "Designer"))
    popup.click("#save")
    wait_done(popup)
    problem = text(popup, "#problem")
    assert "Invalid PAT token" in problem and "it was revoked" in problem
    assert "Create a new PAT" in problem
    assert popup.get_attribute("#problem", "data-code") == "invalid_token"
    assert history_rows(app, "rev@example.com") == []
    # The service worker marks the toolbar button.
    assert browser.badge(popup, "^!$") == "!"

    options = browser.page("options.html")
    expect(options.locator("#token")).to_have_value(token)
    options.click("#check")
    options.wait_for_selector("#problem:not([hidden])")
    assert "Invalid PAT token: it was revoked." in text(options, "#problem")
    assert options.is_hidden("#pat-info")


def test_mistyped_token_says_invalid_pat_token(app, browser):
    app.account("typo@example.com", template=None)
    token = app.pat("typo@example.com", "Typo", "--no-template")
    options = browser.configure(
        app.base, token[:-1] + ("A" if token[-1] != "A" else "B")
    )
    problem = text(options, "#problem")
    assert "Invalid PAT token" in problem and "pasted the whole token" in problem
    assert "revoked" not in problem and "expired" not in problem


def test_wrong_server_urls_say_what_to_fix(app, browser, job_site):
    app.account("wrong@example.com")
    token = app.pat("wrong@example.com", "Wrong URL")

    # Nothing listens on this loopback port.
    closed = f"http://127.0.0.1:{free_port()}"
    options = browser.configure(closed, token)
    problem = text(options, "#problem")
    assert "Cannot reach the server" in problem and closed in problem
    assert "Check the server URL" in problem
    assert options.get_attribute("#problem", "data-code") == "unreachable"

    # Something answers, but it is not PAT Manager (an HTML page)...
    options = browser.configure(job_site.base, token)
    assert "Wrong server URL" in text(options, "#problem")
    assert "not a PAT Manager server" in text(options, "#problem")
    # ...or PAT Manager behind a wrong path (an HTML 404).
    options = browser.configure(app.base + "/pats", token)
    assert options.get_attribute("#problem", "data-code") == "not_pat_manager"
    # A pasted API address is understood.
    options = browser.configure(app.base + "/api/v1", token)
    assert text(options, "#pat-name") == "Wrong URL"

    # The popup says the same when the saved server is unreachable.
    browser.configure(closed, token)
    popup = browser.popup_for(job_site.job("/jobs/404", "Ghost job"))
    popup.click("#save")
    wait_done(popup)
    assert "Cannot reach the server" in text(popup, "#problem")
    assert popup.is_enabled("#save")  # can try again

    # And refuses what is not a server address at all.
    options = browser.page("options.html")
    options.fill("#server", "ftp://127.0.0.1/")
    options.fill("#token", token)
    options.click("#save")
    assert options.get_attribute("#server", "aria-invalid") == "true"
    assert "must start with http:// or https://" in text(options, "#server-error")


def test_template_not_found_is_named(app, browser, job_site):
    # The PAT uses the account default, and the account has none.
    app.account("tpl@example.com", template=None)
    token = app.pat("tpl@example.com", "No default")
    options = browser.configure(app.base, token)
    assert text(options, "#pat-template") == "CV template not found"
    assert "CV template not found" in text(options, "#expiry-warning")
    assert "use Fix" in text(options, "#expiry-warning")

    popup = browser.popup_for(job_site.job("/jobs/505", "Engineer"))
    popup.click("#save")
    wait_done(popup)
    problem = text(popup, "#problem")
    assert "CV template not found" in problem and "Fix" in problem
    assert popup.get_attribute("#problem", "data-code") == "template_not_found"


def test_pat_expiring_within_seven_days_is_flagged(app, browser):
    app.account("soon@example.com")
    token = app.pat("soon@example.com", "Short lived", "--expires-in", "3")
    options = browser.configure(app.base, token)
    warning = text(options, "#expiry-warning")
    assert "Expires soon" in warning and re.search(r"expires in [34] days", warning)
    assert "Create a new PAT" in warning
    assert re.fullmatch(r"[34]d", browser.badge(options, "^[34]d$"))


def test_rate_limited_says_when_to_retry(limited_app, browser, job_site):
    from tests.conftest import PASSWORD

    limited_app.cli("create-user", "busy@example.com", input=PASSWORD + "\n")
    token = limited_app.cli(
        "create-pat", "busy@example.com", "--name", "Busy", "--no-template"
    ).strip()
    browser.configure(limited_app.base, token)  # one request of the two
    popup = browser.popup_for(job_site.job("/jobs/606", "Busy job"))
    popup.click("#save")  # the duplicate check is the second; the post the third
    wait_done(popup)
    problem = text(popup, "#problem")
    assert "Too many requests" in problem
    assert re.search(r"Try again in \d+ seconds? \(after ", problem), problem
    assert popup.get_attribute("#problem", "data-code") == "rate_limited"
    assert (
        requests.get(
            limited_app.base + "/api/v1/token",
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 429
    )


def test_a_repeated_post_with_the_same_key_is_stored_once(app, browser):
    app.account("idem@example.com")
    token = app.pat("idem@example.com", "Twice")
    page = browser.page("popup.html")  # any extension page has api.js
    results = page.evaluate(
        """async ([server, token]) => {
            const job = {url: "https://jobs.example.com/twice", title: "Twice"};
            const key = PatApi.newIdempotencyKey();
            return Promise.all([
                PatApi.submit({server, token}, job, key),
                PatApi.submit({server, token}, job, key),
            ]);
        }""",
        [app.base, token],
    )
    assert [r["ok"] for r in results] == [True, True]
    assert results[0]["data"]["id"] == results[1]["data"]["id"]
    assert sorted(r["replayed"] for r in results) == [False, True]
    assert len(history_rows(app, "idem@example.com")) == 1
