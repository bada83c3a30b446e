"""Screenshots of the main pages for the README: `make screenshots`.

Starts the real app on a free loopback port with a temporary instance folder, fills
a demo account (`pat-manager seed-demo`, a PAT about to expire, the reminder job, a
revoked PAT), logs in with Debian's Chromium and saves PNGs at 375 and 1280 pixels
wide into docs/screenshots/.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from tests.browser.support import Account, launch_chromium, log_in
from tests.servers import Server

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
WIDTHS = (375, 1280)
EMAIL = "sam@example.com"
PAGES = [
    ("pats", "/pats/"),
    ("new-pat", "/pats/new"),
    ("usage", "/usage"),
    ("history", "/history/"),
    ("alerts", "/alerts/"),
    ("templates", "/templates/"),
    ("settings", "/settings/"),
    ("audit", "/audit/"),
]


def seed(server: Server, password: str) -> None:
    """A demo account as a few weeks of real use leave it."""
    server.cli("create-user", EMAIL, input=password + "\n")
    server.cli(
        "create-template",
        EMAIL,
        "Technical roles",
        "--default",
        "--content",
        "Product manager with eight years in B2B software.",
    )
    server.cli("create-template", EMAIL, "Leadership", "--content", "Head of product.")
    server.cli("seed-demo", EMAIL, "--events", "2500", "--days", "90", "--seed", "7")
    server.cli("grant-slots", EMAIL, "2")
    token = server.cli(
        "create-pat", EMAIL, "--name", "Contract roles", "--expires-in", "5"
    ).strip()
    for n, company in enumerate(["Hooli", "Initech"]):
        requests.post(
            server.base + "/api/v1/submissions",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "url": f"https://jobs.lever.co/hooli/{n}",
                "title": "Interim Product Lead",
                "company": company,
            },
            timeout=10,
        ).raise_for_status()
    server.cli("jobs", "run", "expiry_reminders")
    server.cli("create-pat", EMAIL, "--name", "Old laptop", "--no-template")


def revoke_old_laptop(page) -> None:
    page.goto("/pats/")
    card = page.locator("article.pat", has_text="Old laptop")
    card.locator("text=Revoke…").click()
    card.locator("button:has-text('Revoke “Old laptop”')").click()
    card.locator(".badge--revoked").wait_for()


def shoot(page, target: Path, max_height: int = 3000) -> None:
    """The whole page, cut at max_height (a long history need not be all there)."""
    width, height = page.evaluate(
        "[document.documentElement.clientWidth, document.documentElement.scrollHeight]"
    )
    clip = {"x": 0, "y": 0, "width": width, "height": min(height, max_height)}
    page.screenshot(path=target, full_page=True, clip=clip)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    account = Account(EMAIL, "a long demo passphrase")
    with tempfile.TemporaryDirectory() as folder:
        server = Server(
            Path(folder) / "instance",
            Path(folder) / "server.log",
            PAT_MANAGER_SCHEDULER="0",
        ).start()
        try:
            seed(server, account.password)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for width in WIDTHS:
                    context = browser.new_context(
                        base_url=server.base,
                        viewport={"width": width, "height": 900},
                        color_scheme="light",
                    )
                    page = context.new_page()
                    log_in(page, account)
                    if width == WIDTHS[0]:
                        revoke_old_laptop(page)
                    for name, path in PAGES:
                        page.goto(path)
                        target = OUT / f"{name}-{width}.png"
                        shoot(page, target)
                        print(f"wrote {target.relative_to(ROOT)}")
                    context.close()
                dark = browser.new_context(
                    base_url=server.base,
                    viewport={"width": 1280, "height": 900},
                    color_scheme="dark",
                )
                page = dark.new_page()
                log_in(page, account)
                for name, path in (("pats", "/pats/"), ("usage", "/usage")):
                    page.goto(path)
                    target = OUT / f"{name}-dark-1280.png"
                    shoot(page, target)
                    print(f"wrote {target.relative_to(ROOT)}")
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
