"""The usage dashboard after real API traffic, and alerts raised by a real job run."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.support import create_pat, create_template

pytestmark = pytest.mark.slow


def outer_html(locator) -> str:
    return locator.evaluate("element => element.outerHTML")


def submit(live_server, token: str, **job) -> requests.Response:
    return requests.post(
        live_server.base + "/api/v1/submissions",
        headers={"Authorization": f"Bearer {token}"},
        json=job,
        timeout=10,
    )


def test_dashboard_counts_and_draws_the_extensions_traffic(page, account, live_server):
    create_template(page, "Technical roles")
    busy, token = create_pat(page, "PM Job Search 2025")
    quiet, _ = create_pat(page, "Coach Access - Sarah")
    jobs = [
        ("https://jobs.example.com/1", "Acme"),
        ("https://jobs.example.com/2", "Globex"),
        ("https://careers.example.org/3", "Acme"),
    ]
    for url, company in jobs:
        assert submit(live_server, token, url=url, company=company).status_code == 201
    assert submit(live_server, token, url="not a url").status_code == 422

    page.goto("/usage")
    row = page.locator(f"#usage-{busy}")
    expect(row.locator("td[data-label='Today']")).to_have_text("3")
    expect(row.locator("td[data-label='All time']")).to_have_text("3")
    expect(row.locator("td[data-label='Failed (7 days)']")).to_have_text("1")
    expect(row.locator("svg.spark rect")).to_have_count(1)
    expect(page.locator(f"#usage-{quiet} svg.spark rect")).to_have_count(0)

    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(1)
    assert "3 submissions over 90 days" in chart.get_attribute("aria-label")
    expect(page.locator(".legend")).to_contain_text("PM Job Search 2025")
    sites = page.locator("section:has(h2:has-text('Top job sites')) li")
    expect(sites.first).to_contain_text("jobs.example.com")
    expect(sites.first.locator(".num")).to_have_text("2")
    companies = page.locator("section:has(h2:has-text('Top companies')) li")
    expect(companies.first).to_contain_text("Acme")

    # Mark reviewed swaps its own row only.
    other = outer_html(page.locator(f"#usage-{quiet}"))
    row.locator("button:has-text('Mark reviewed')").click()
    expect(row.locator("td[data-label='Reviewed'] time")).to_be_visible()
    assert outer_html(page.locator(f"#usage-{quiet}")) == other

    # The PAT's usage log lists the refused request beside the submissions.
    row.locator("th a").click()
    expect(page.locator("h1")).to_contain_text("PM Job Search 2025")
    expect(page.locator("tbody tr")).to_have_count(4)
    expect(page.locator("tr.row--failed")).to_have_count(1)


def test_expiry_reminders_appear_as_alerts_and_revoke_from_one(
    page, account, live_server
):
    first, first_token = create_pat(page, "Internship search", expires_on="soonest")
    second, _ = create_pat(page, "Temporary sharing", expires_on="soonest")
    page.goto("/alerts/")
    expect(page.locator(".empty")).to_contain_text("No alerts")
    expect(page.locator("#alert-count .badge")).to_have_count(0)

    # The reminder job runs as the scheduler would run it.
    output = live_server.cli("jobs", "run", "expiry_reminders")
    assert "reminders" in output

    page.goto("/pats/")
    expect(page.locator("#alert-count .badge")).to_have_text("2")
    page.click("#alert-count")
    notices = page.locator("article.notice")
    expect(notices).to_have_count(2)
    expect(page.locator("article.notice--unread")).to_have_count(2)
    target = notices.filter(has_text="“Internship search” expires in 7 days")
    other = notices.filter(has_text="“Temporary sharing” expires in 7 days")
    expect(target).to_contain_text("create its replacement")
    untouched = outer_html(other)

    target.locator("text=Revoke this PAT…").click()
    target.locator("button:has-text('Revoke “Internship search”')").click()
    expect(target).to_contain_text("“Internship search” is revoked.")
    expect(target.locator("text=Revoke this PAT…")).to_have_count(0)
    assert outer_html(other) == untouched
    # Acting on a notice reads it.
    expect(page.locator("article.notice--unread")).to_have_count(1)

    other.locator("button:has-text('Mark read')").click()
    expect(page.locator("article.notice--unread")).to_have_count(0)
    expect(other.locator("button:has-text('Mark read')")).to_have_count(0)

    page.goto("/pats/")
    expect(page.locator(f"#pat-{first} .badge")).to_have_text("Revoked")
    expect(page.locator(f"#pat-{second} .badge")).to_have_text("Active")
    expect(page.locator("#alert-count .badge")).to_have_count(0)
    refused = requests.get(
        live_server.base + "/api/v1/token",
        headers={"Authorization": f"Bearer {first_token}"},
        timeout=10,
    )
    assert refused.status_code == 401
    assert re.search("revoked", refused.text)
