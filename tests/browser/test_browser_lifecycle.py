"""Bulk revoke, pause and rotate in a real browser, with htmx and without
JavaScript: only the PATs acted on change."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.support import create_pat, create_template, register

pytestmark = pytest.mark.slow

_CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


def card(page, pat_id: int):
    return page.locator(f"#pat-{pat_id}")


def card_html(page, pat_id: int) -> str:
    html = card(page, pat_id).evaluate("element => element.outerHTML")
    return _CSRF.sub("", html)


def api(live_server, token: str) -> requests.Response:
    return requests.get(
        live_server.base + "/api/v1/token",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def three_pats(page):
    create_template(page, "Technical roles")
    made = [create_pat(page, name) for name in ("Row one", "Row two", "Row three")]
    page.goto("/pats/")
    return made


def test_bulk_revoke_of_rows_one_and_three_changes_only_those(
    page, account, live_server
):
    (first, t1), (second, t2), (third, t3) = three_pats(page)
    untouched = card_html(page, second)

    # Select all, then untick the middle row.
    page.check("[data-select-all]")
    for pat_id in (first, second, third):
        expect(card(page, pat_id).locator(".pat__select")).to_be_checked()
    card(page, second).locator(".pat__select").uncheck()
    expect(page.locator("[data-select-all]")).not_to_be_checked()

    page.select_option("#bulk-action", "revoke")
    page.click("button:has-text('Review changes…')")
    review = page.locator("#bulk-result")
    expect(review).to_contain_text("This will change 2 of the 2 selected PATs")
    expect(review).to_contain_text("Row one")
    expect(review).to_contain_text("Row three")
    expect(review).not_to_contain_text("Row two")
    expect(review).to_be_focused()
    # Nothing happened yet.
    expect(card(page, first).locator(".badge")).to_have_text("Active")

    review.locator("button:has-text('Revoke 2 PATs')").click()
    expect(page.locator("#bulk-result")).to_contain_text("2 PATs changed, 0 refused.")
    expect(card(page, first).locator(".badge")).to_have_text("Revoked")
    expect(card(page, third).locator(".badge")).to_have_text("Revoked")
    expect(card(page, second).locator(".badge")).to_have_text("Active")
    expect(page.locator("#slots")).to_contain_text("1 of 3")
    assert card_html(page, second) == untouched
    assert [api(live_server, t).status_code for t in (t1, t2, t3)] == [401, 200, 401]


def test_bulk_with_nothing_selected_says_so(page, account, console):
    three_pats(page)
    # The refusal comes with status 422, which Chromium logs.
    console.allow(r"status of 422 .*/pats/bulk\)$")
    page.click("button:has-text('Review changes…')")
    expect(page.locator("#bulk-panel")).to_contain_text(
        "Select at least one PAT first."
    )


def test_pause_resume_and_rotate_inline(page, account, live_server):
    (first, old), (second, _), _ = three_pats(page)
    untouched = card_html(page, second)

    card(page, first).locator("button:has-text('Pause')").click()
    expect(card(page, first).locator(".badge")).to_have_text("Paused")
    assert api(live_server, old).json()["reason"] == "paused"
    card(page, first).locator("button:has-text('Resume')").click()
    expect(card(page, first).locator(".badge")).to_have_text("Active")

    card(page, first).locator("text=Rotate…").click()
    form = card(page, first).locator("form.confirm")
    expect(form).to_contain_text("Rotate “Row one”?")
    form.locator("input[name=overlap][value='24']").check()
    form.locator("button:has-text('Rotate “Row one”')").click()
    field = card(page, first).locator(f"#token-{first}")
    expect(field).to_be_focused()
    new = field.input_value()
    assert new.startswith("cvf_") and new != old
    expect(card(page, first)).to_contain_text("The old one keeps working for 23 h")
    expect(card(page, first).locator("time[data-countdown]")).to_be_visible()
    assert api(live_server, old).json()["pat"]["old_token"] is True
    assert api(live_server, new).status_code == 200
    assert card_html(page, second) == untouched

    card(page, first).locator("button:has-text('Stop the old token now')").click()
    expect(page.locator("#flashes")).to_contain_text("no longer works")
    assert api(live_server, old).json()["reason"] == "rotated"


def test_bulk_revoke_without_javascript(nojs_page, live_server):
    page = nojs_page
    register(page)
    (first, t1), (second, t2), (third, t3) = three_pats(page)
    # Without the script, "Select all" is a link that ticks every box.
    page.click("a:has-text('Select all')")
    for pat_id in (first, second, third):
        expect(card(page, pat_id).locator(".pat__select")).to_be_checked()
    card(page, second).locator(".pat__select").uncheck()
    page.select_option("#bulk-action", "revoke")
    page.click("button:has-text('Review changes…')")
    expect(page).to_have_url(re.compile(r"/pats/bulk$"))
    expect(page.locator("#bulk-result")).to_contain_text("This will change 2 of the 2")
    page.click("button:has-text('Revoke 2 PATs')")
    expect(page.locator("#bulk-result")).to_contain_text("2 PATs changed, 0 refused.")
    assert [api(live_server, t).status_code for t in (t1, t2, t3)] == [401, 200, 401]
    page.click("text=Back to all PATs")
    expect(card(page, second).locator(".badge")).to_have_text("Active")


def test_pause_and_rotate_without_javascript(nojs_page, live_server):
    page = nojs_page
    register(page)
    (first, old), _, _ = three_pats(page)
    card(page, first).locator("button:has-text('Pause')").click()
    expect(page.locator("#flashes")).to_contain_text("is paused")
    expect(card(page, first).locator(".badge")).to_have_text("Paused")
    card(page, first).locator("button:has-text('Resume')").click()
    card(page, first).locator("text=Rotate…").click()
    expect(page).to_have_url(re.compile(rf"/pats/{first}/rotate$"))
    page.check("input[name=overlap][value='0']")
    page.click("button:has-text('Rotate “Row one”')")
    new = page.input_value("#token")
    assert new != old and api(live_server, new).status_code == 200
    assert api(live_server, old).json()["reason"] == "rotated"
    expect(page.locator(".alert--success")).to_contain_text(
        "The old one no longer works."
    )
