"""The same journeys with JavaScript switched off: every action is a plain link or
form post, and each page says where things stand."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import (
    create_pat,
    create_template,
    log_in,
    register,
    restart_browser,
)

pytestmark = pytest.mark.slow

_CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


def card_html(page, pat_id: int) -> str:
    """A card's markup without its CSRF tokens (they are re-signed on each page)."""
    html = page.locator(f"#pat-{pat_id}").evaluate("element => element.outerHTML")
    return _CSRF.sub("", html)


def test_pat_journey_without_javascript(nojs_page, nojs_context, console):
    page = nojs_page
    account = register(page)
    create_template(page, "Technical roles")
    first, token = create_pat(page, "PM Job Search 2025")
    # Copying needs the script: without it the button stays hidden and the
    # token sits in a read-only field to select.
    expect(page.locator("button[data-copy]")).to_be_hidden()
    expect(page.locator("#new-token")).to_have_attribute("readonly", "")
    second, _ = create_pat(page, "Coach Access - Sarah")

    # Reveal right after typing the password: a page with the token.
    page.goto("/pats/")
    page.locator(f"#pat-{first} button:has-text('Reveal')").click()
    expect(page).to_have_url(re.compile(rf"/pats/{first}/reveal$"))
    expect(page.locator("#token")).to_have_value(token)
    page.click("text=Back to my PATs")

    # After a browser restart the reveal page asks for the password.
    page.click("button:has-text('Log out')")
    expect(page.locator("#flashes")).to_contain_text("logged out")
    log_in(page, account, remember=True)
    restart_browser(nojs_context)
    page.goto("/pats/")
    page.locator(f"#pat-{first} button:has-text('Reveal')").click()
    expect(page.locator("#password")).to_be_visible()
    assert token not in page.content()
    # The refused password page comes with status 422, which Chromium logs.
    console.allow(r"status of 422 .*/reveal\)$")
    page.fill("#password", "not my password")
    page.click("button:has-text('Reveal')")
    expect(page.locator(".field-error")).to_contain_text("not right")
    page.fill("#password", account.password)
    page.click("button:has-text('Reveal')")
    expect(page.locator("#token")).to_have_value(token)

    # Revoke: a confirmation page, then back to the list with a message.
    page.goto("/pats/")
    other = card_html(page, second)
    page.locator(f"#pat-{first}").locator("text=Revoke…").click()
    expect(page).to_have_url(re.compile(rf"/pats/{first}/revoke$"))
    expect(page.locator("form.confirm")).to_contain_text("This cannot be undone")
    page.click("button:has-text('Revoke “PM Job Search 2025”')")
    expect(page).to_have_url(re.compile(rf"/pats/#pat-{first}$"))
    expect(page.locator("#flashes")).to_contain_text("is revoked")
    expect(page.locator(f"#pat-{first} .badge")).to_have_text("Revoked")
    expect(page.locator("#slots")).to_contain_text("1 of 3")
    assert card_html(page, second) == other


def test_alerts_and_review_without_javascript(nojs_page, live_server):
    page = nojs_page
    register(page)
    first, _ = create_pat(page, "Internship search", expires_on="soonest")
    second, _ = create_pat(page, "Temporary sharing", expires_on="soonest")
    live_server.cli("jobs", "run", "expiry_reminders")

    page.goto("/alerts/")
    expect(page.locator("#alert-count .badge")).to_have_text("2")
    target = page.locator("article.notice").filter(has_text="“Internship search”")
    target.locator("text=Revoke this PAT…").click()
    expect(page).to_have_url(re.compile(r"/alerts/\d+/revoke$"))
    page.click("button:has-text('Revoke “Internship search”')")
    expect(page).to_have_url(re.compile(r"/alerts/$"))
    expect(page.locator("#flashes")).to_contain_text("is revoked")
    expect(page.locator("article.notice--unread")).to_have_count(1)

    page.click("button:has-text('Mark all read')")
    expect(page.locator("#flashes")).to_contain_text("Marked 1 notice as read")
    expect(page.locator("article.notice--unread")).to_have_count(0)
    expect(page.locator("#alert-count .badge")).to_have_count(0)

    # The dashboard's "Mark reviewed" is a form post too; only its row changes.
    page.goto("/usage")
    row = page.locator(f"#usage-{second}")
    expect(row.locator("td[data-label='Reviewed']")).to_contain_text("Never")
    row.locator("button:has-text('Mark reviewed')").click()
    expect(page).to_have_url(re.compile(r"/usage"))
    expect(row.locator("td[data-label='Reviewed'] time")).to_be_visible()
    expect(page.locator(f"#usage-{first} td[data-label='Reviewed']")).to_contain_text(
        "Never"
    )
