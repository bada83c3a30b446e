"""Fixtures for real-browser tests: one gunicorn server and one headless Chromium per
session, a fresh browser context (and so fresh cookies) per test, a watch on the
console, and a screenshot plus the page's HTML in tests/artifacts/ when a test fails.

Another test folder reuses all of it with a conftest.py holding
``from tests.browser.conftest import *  # noqa: F403``.
"""

from __future__ import annotations

import pytest

from tests.browser.support import (
    ConsoleGuard,
    launch_chromium,
    register,
    save_artifacts,
)
from tests.servers import Server

_CONTEXTS = pytest.StashKey[list]()
_GUARD = pytest.StashKey[ConsoleGuard]()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The real app (`pat-manager run`, two gunicorn workers) on a free loopback
    port, with its own instance folder. The scheduler is off: notices appear only
    when a test runs a job through the CLI (``live_server.cli("jobs", "run", …)``),
    so what each page shows does not depend on when a tick happens."""
    folder = tmp_path_factory.mktemp("browser-server")
    server = Server(folder / "instance", folder / "server.log")
    server.env = {
        name: value
        for name, value in server.env.items()
        if not name.startswith("PAT_MANAGER_")
    }
    server.env.update(
        PAT_MANAGER_INSTANCE_PATH=str(server.instance), PAT_MANAGER_SCHEDULER="0"
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(playwright):
    """Headless Debian Chromium (/usr/bin/chromium), shared by the session."""
    launched = launch_chromium(playwright)
    yield launched
    launched.close()


@pytest.fixture
def console(request):
    """Fails the test when any watched page logs a console error or throws.

    ``console.allow(regex)`` admits an expected one (a 422 from a wrong password).
    """
    guard = ConsoleGuard()
    request.node.stash[_GUARD] = guard
    return guard


@pytest.fixture
def new_context(request, browser, live_server, console):
    """Make a browser context on the live server; every page in it is watched and
    saved on failure. Keyword arguments go to ``browser.new_context``."""
    made = []

    def _make(**options):
        options.setdefault("base_url", live_server.base)
        context = browser.new_context(**options)
        context.on("page", console.watch)
        request.node.stash.setdefault(_CONTEXTS, []).append(context)
        made.append(context)
        return context

    yield _make
    for context in made:
        context.close()


@pytest.fixture
def context(new_context, live_server):
    """A desktop-sized context that may use the clipboard."""
    made = new_context(viewport={"width": 1280, "height": 800})
    made.grant_permissions(
        ["clipboard-read", "clipboard-write"], origin=live_server.base
    )
    return made


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def nojs_context(new_context):
    """A context with JavaScript switched off: every action is a plain form post."""
    return new_context(java_script_enabled=False)


@pytest.fixture
def nojs_page(nojs_context):
    return nojs_context.new_page()


@pytest.fixture
def account(page):
    """A fresh account, registered through the form; ``page`` is logged in."""
    return register(page)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # Checked in the call phase, so a console error fails the test itself and the
    # failure hook below saves the page that showed it.
    result = yield
    guard = item.stash.get(_GUARD, None)
    if guard is not None:
        guard.check()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    contexts = item.stash.get(_CONTEXTS, [])
    if report.failed and report.when == "call" and contexts:
        saved = save_artifacts(item.nodeid, contexts)
        if saved:
            report.sections.append(
                ("browser artifacts", "\n".join(f"{p}.png / .html" for p in saved))
            )
    return report
