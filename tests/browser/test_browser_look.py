"""The look, checked in the browser: pages fit a 375 px phone, follow the system's
dark mode, show keyboard focus, and empty pages say what to do next."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import create_pat, create_template, register

pytestmark = pytest.mark.slow

PAGES = [
    "/pats/",
    "/pats/new",
    "/templates/",
    "/usage",
    "/history/",
    "/alerts/",
    "/settings/",
]


def luminance(css_color: str) -> float:
    """Relative brightness (0 black … 1 white) of an "rgb(r, g, b)" colour."""
    r, g, b = (int(part) for part in css_color[4:-1].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def colours(page) -> tuple[float, float]:
    background, text = page.evaluate(
        "[getComputedStyle(document.body).backgroundColor,"
        " getComputedStyle(document.body).color]"
    )
    return luminance(background), luminance(text)


def test_every_page_fits_a_phone_screen(new_context):
    phone = new_context(viewport={"width": 375, "height": 740})
    page = phone.new_page()
    register(page)
    create_template(page, "Technical roles")
    create_pat(page, "A rather long name for a PAT used by a coach")
    for path in PAGES + ["/login"]:
        page.goto(path)
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{path} scrolls sideways at 375 px: {widths}"
        # The navigation and the way out stay on screen.
        if path != "/login":
            expect(
                page.locator("nav[aria-label=Main] a[href='/settings/']")
            ).to_be_in_viewport()
            expect(page.locator("button:has-text('Log out')")).to_be_in_viewport()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colours_follow_the_system_scheme(new_context, scheme):
    page = new_context(color_scheme=scheme).new_page()
    register(page)
    page.goto("/pats/")
    background, text = colours(page)
    if scheme == "dark":
        assert background < 0.2 and text > 0.7
    else:
        assert background > 0.8 and text < 0.3
    badge_colour = page.evaluate(
        "getComputedStyle(document.querySelector('.button--primary')).backgroundColor"
    )
    assert badge_colour != "rgba(0, 0, 0, 0)"


def test_keyboard_focus_is_visible(page, account):
    page.goto("/pats/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    expect(page.locator(".skip-link")).to_be_in_viewport()
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert outline[0] != "none" and outline[1] >= 2, outline


def test_empty_pages_say_what_to_do_next(page, account):
    expectations = {
        "/templates/": "Add your first template",
        "/pats/": "Create your first PAT",
        "/usage": "Create a PAT",
        "/history/": "When your extension saves a job",
        "/alerts/": "you will find it here",
    }
    for path, next_step in expectations.items():
        page.goto(path)
        empty = page.locator(".empty")
        expect(empty).to_be_visible()
        expect(empty).to_contain_text(next_step)
