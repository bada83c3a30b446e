"""The reference browser extension (extension/) loaded unpacked into Debian's
Chromium, headless, driven by Playwright; against the real app under gunicorn.

Only loopback servers this suite starts itself are ever reached.
"""

from __future__ import annotations

import html
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.browser.support import save_artifacts
from tests.conftest import PASSWORD
from tests.servers import Server, csrf

EXTENSION = Path(__file__).resolve().parents[2] / "extension"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def playwright_driver(playwright):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install -y chromium (make test does)"
        )
    return playwright


class Browser:
    """A fresh Chromium profile with the extension loaded unpacked."""

    def __init__(self, driver, profile: Path):
        self.context = driver.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                f"--disable-extensions-except={EXTENSION}",
                f"--load-extension={EXTENSION}",
            ],
        )
        self.context.set_default_timeout(15_000)
        workers = self.context.service_workers
        worker = workers[0] if workers else self.context.wait_for_event("serviceworker")
        self.worker = worker
        self.id = worker.url.split("/")[2]
        self.base = f"chrome-extension://{self.id}"

    def page(self, path: str):
        page = self.context.new_page()
        page.goto(f"{self.base}/{path}")
        return page

    def configure(self, server: str, token: str):
        """Fill in and save the options; returns the options page after its check."""
        page = self.page("options.html")
        page.fill("#server", server)
        page.fill("#token", token)
        page.click("#save")  # marks the form busy until saved and checked
        page.wait_for_selector("#settings[aria-busy=false]")
        return page

    def badge(self, page, pattern: str) -> str:
        """The toolbar badge once it matches pattern (the service worker sets it
        when storage changes), or as it is after a bounded wait."""
        return page.evaluate(
            """async (pattern) => {
                const wanted = new RegExp(pattern);
                for (let i = 0; i < 200; i++) {
                    const text = await chrome.action.getBadgeText({});
                    if (wanted.test(text)) return text;
                    await new Promise((done) => setTimeout(done, 50));
                }
                return chrome.action.getBadgeText({});
            }""",
            pattern,
        )

    def tab_id(self, url: str) -> int:
        """The id of the tab showing url, asked from an extension page."""
        page = self.page("options.html")
        try:
            return page.evaluate(
                "async (url) => (await chrome.tabs.query({})).find(t => t.url === url).id",
                url,
            )
        finally:
            page.close()

    def popup_for(self, url: str):
        """Opens url in a tab, then the popup aimed at that tab (?tab=<id>)."""
        job = self.context.new_page()
        job.goto(url)
        popup = self.page(f"popup.html?tab={self.tab_id(url)}")
        popup.wait_for_selector("#job:not([hidden]), #problem:not([hidden])")
        return popup

    def close(self):
        self.context.close()


_BROWSERS = pytest.StashKey[list]()


@pytest.fixture
def browser(request, playwright_driver, tmp_path):
    opened = Browser(playwright_driver, tmp_path / "profile")
    request.node.stash.setdefault(_BROWSERS, []).append(opened.context)
    yield opened
    opened.close()
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


class App:
    """The real app under gunicorn, plus the CLI and a web login."""

    def __init__(self, server: Server):
        self.server = server
        self.base = server.base

    def account(self, email: str, template: str | None = "Technical roles") -> None:
        self.server.cli("create-user", email, input=PASSWORD + "\n")
        if template:
            self.server.cli("create-template", email, template, "--default")

    def pat(self, email: str, name: str, *options: str) -> str:
        return self.server.cli("create-pat", email, "--name", name, *options).strip()

    def login(self, email: str) -> requests.Session:
        web = requests.Session()
        response = web.post(
            self.base + "/login",
            data={
                "email": email,
                "password": PASSWORD,
                "csrf_token": csrf(web, self.base + "/login"),
            },
        )
        assert response.status_code == 200 and "Log out" in response.text, (
            response.text[:500]
        )
        return web

    def pat_id(self, token: str) -> int:
        answer = requests.get(
            self.base + "/api/v1/token", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["pat"]["id"]

    def act(self, web: requests.Session, token_or_id, action: str, **data):
        """POST one of a PAT's forms (edit, pause, rotate…) as its owner."""
        pat_id = (
            token_or_id if isinstance(token_or_id, int) else self.pat_id(token_or_id)
        )
        response = web.post(
            f"{self.base}/pats/{pat_id}/{action}",
            data={"csrf_token": csrf(web, self.base + "/pats/"), **data},
        )
        assert response.status_code == 200, response.text[:500]
        return response

    def rotate(self, web: requests.Session, pat_id: int, overlap: str):
        """Rotate as the card's form does: it names the secret it replaces."""
        form = web.get(f"{self.base}/pats/{pat_id}/rotate").text
        version = re.search(r'name="version" value="([^"]+)"', form).group(1)
        return self.act(web, pat_id, "rotate", overlap=overlap, version=version)

    def revoke(self, email: str, token: str) -> None:
        pat_id = self.pat_id(token)
        web = self.login(email)
        response = web.post(
            f"{self.base}/pats/{pat_id}/revoke",
            data={"csrf_token": csrf(web, self.base + "/pats/")},
        )
        assert response.status_code == 200 and "is revoked" in response.text


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ext-server")
    running = Server(
        folder / "instance", folder / "server.log", PAT_MANAGER_SCHEDULER="0"
    ).start()
    yield App(running)
    running.stop()


@pytest.fixture
def limited_app(tmp_path):
    """A server that allows two API requests per PAT a minute."""
    running = Server(
        tmp_path / "instance",
        tmp_path / "server.log",
        PAT_MANAGER_SCHEDULER="0",
        PAT_MANAGER_API_RATE_LIMIT="2",
    ).start()
    yield running
    running.stop()


class JobSite:
    """Tiny job pages on loopback, standing in for a job board."""

    def __init__(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                title = site.titles.get(self.path.split("?")[0])
                if title is None:
                    self.send_error(404)
                    return
                body = (
                    f"<!doctype html><html><head><meta charset='utf-8'>"
                    f"<title>{html.escape(title)}</title></head>"
                    f"<body><h1>{html.escape(title)}</h1><p>Apply now.</p></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.titles: dict[str, str] = {"/blank.html": "A plain page"}
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def job(self, path: str, title: str) -> str:
        self.titles[path.split("?")[0]] = title
        return self.base + path

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def job_site():
    site = JobSite()
    yield site
    site.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Like the browser tests: a failed test leaves a screenshot and the HTML of
    every extension page and tab under tests/artifacts/."""
    report = yield
    contexts = item.stash.get(_BROWSERS, [])
    if report.failed and report.when == "call" and contexts:
        saved = save_artifacts(item.nodeid, contexts)
        if saved:
            report.sections.append(
                ("browser artifacts", "\n".join(f"{p}.png / .html" for p in saved))
            )
    return report
