"""A person's PAT journey in a real browser, with htmx: template, PAT shown once,
copy, reveal (asking for the password again), revoke — only the card acted on
changes."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.support import (
    TOKEN,
    create_pat,
    create_template,
    log_in,
    restart_browser,
)

pytestmark = pytest.mark.slow


def card(page, pat_id: int):
    return page.locator(f"#pat-{pat_id}")


def outer_html(locator) -> str:
    return locator.evaluate("element => element.outerHTML")


def clipboard(page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def api_status(live_server, token: str) -> requests.Response:
    return requests.get(
        live_server.base + "/api/v1/token",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_template_then_pat_shown_once_and_copied(page, account, live_server):
    # Registration lands on the templates page, which says what to do first.
    expect(page.locator(".empty")).to_contain_text("No CV templates yet")
    create_template(page, "Technical roles")
    expect(page.locator("#flashes")).to_contain_text("“Technical roles” created")
    expect(page.locator(".template").first).to_contain_text("Default")

    page.goto("/pats/")
    expect(page.locator(".empty")).to_contain_text("No PATs yet")
    page.click("text=Create your first PAT")
    expect(page).to_have_url(re.compile(r"/pats/new$"))
    pat_id, token = create_pat(page, "PM Job Search 2025")

    # The copy button appears with JavaScript and puts the token on the clipboard.
    copy = page.locator("button[data-copy='#new-token']")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Copied")
    assert clipboard(page) == token

    page.click("text=Done, back to my PATs")
    expect(card(page, pat_id)).to_contain_text("PM Job Search 2025")
    expect(card(page, pat_id)).to_contain_text("Technical roles")
    expect(page.locator("#slots")).to_contain_text("1 of 3")

    # Shown once: going back to the page gives a note and no token.
    page.goto(f"/pats/{pat_id}/created")
    expect(page).to_have_url(re.compile(rf"/pats/#pat-{pat_id}$"))
    expect(page.locator("#flashes")).to_contain_text("shown only once")
    assert token not in page.content()
    assert api_status(live_server, token).status_code == 200


def test_reveal_inline_then_revoke_changes_only_that_card(page, account, live_server):
    create_template(page, "Leadership")
    first, token = create_pat(page, "Coach Access - Sarah")
    second, _ = create_pat(page, "Product roles Q3")
    page.goto("/pats/")
    other = outer_html(card(page, second))

    # The password was typed at registration a moment ago: Reveal shows the token
    # in place, without leaving the page.
    card(page, first).locator("button:has-text('Reveal')").click()
    field = card(page, first).locator(f"#token-{first}")
    expect(field).to_have_value(token)
    expect(page).to_have_url(re.compile(r"/pats/$"))
    card(page, first).locator("button:has-text('Hide token')").click()
    expect(field).to_have_count(0)
    assert token not in outer_html(card(page, first))

    # Revoke asks first, inside the card.
    card(page, first).locator("text=Revoke…").click()
    confirm = card(page, first).locator("form.confirm")
    expect(confirm).to_contain_text("Revoke “Coach Access - Sarah”?")
    confirm.locator("button:has-text('Revoke “Coach Access - Sarah”')").click()
    expect(card(page, first).locator(".badge")).to_have_text("Revoked")
    expect(page.locator("#flashes")).to_contain_text("is revoked")
    expect(page.locator("#slots")).to_contain_text("1 of 3")
    assert outer_html(card(page, second)) == other
    expect(card(page, first).locator("button:has-text('Reveal')")).to_have_count(0)

    refused = api_status(live_server, token)
    assert refused.status_code == 401 and refused.json()["reason"] == "revoked"


def test_reveal_asks_for_the_password_after_a_browser_restart(
    page, context, account, live_server, console
):
    first, token = create_pat(page, "Agency Partner")
    second, _ = create_pat(page, "Remote roles")

    # Log in again, "keep me logged in", then close and reopen the browser: still
    # signed in, but the password was not typed in this browser session.
    page.click("button:has-text('Log out')")
    log_in(page, account, remember=True)
    restart_browser(context)
    page.goto("/pats/")
    expect(page.locator("h1")).to_have_text("Personal Access Tokens")
    other = outer_html(card(page, second))

    card(page, first).locator("button:has-text('Reveal')").click()
    password = card(page, first).locator(f"#password-{first}")
    expect(password).to_be_visible()
    expect(password).to_be_focused()
    assert token not in outer_html(card(page, first))

    # A wrong password is answered 422 with the form again (the browser logs the
    # status as a console error, which is expected here).
    console.allow(r"status of 422 .*/reveal\)$")
    password.fill("not my password")
    card(page, first).locator("button:has-text('Reveal')").click()
    expect(card(page, first).locator(".field-error")).to_contain_text("not right")

    card(page, first).locator(f"#password-{first}").fill(account.password)
    card(page, first).locator("button:has-text('Reveal')").click()
    field = card(page, first).locator(f"#token-{first}")
    expect(field).to_have_value(token)
    copy = card(page, first).locator("button[data-copy]")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert clipboard(page) == token
    assert outer_html(card(page, second)) == other
    assert TOKEN.findall(page.content()) == [token]
