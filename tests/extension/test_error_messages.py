"""extension/api.js, the one place errors become messages, loaded into a plain
web page (no extension APIs) and fed the app's real answers, plus the answers of
codes whose exact wording matters to the extension."""

from __future__ import annotations

import json

import pytest
import requests

from tests.extension.conftest import CHROMIUM, EXTENSION
from tests.servers import free_port

pytestmark = pytest.mark.slow

INTERPRET = """async ({status, headers, body, server, now}) => {
    const response = new Response(body, {status, headers});
    return PatApi.interpret(response, server, now);
}"""


@pytest.fixture
def plain_page(playwright_driver, job_site):
    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    page = browser.new_page()
    page.goto(job_site.base + "/blank.html")
    page.add_script_tag(path=str(EXTENSION / "api.js"))
    assert page.evaluate("typeof chrome === 'undefined' || !chrome.storage")
    yield page
    browser.close()


def explain(page, server, response=None, *, status=None, headers=None, body=None):
    """What api.js makes of an answer: a real requests.Response, or given parts."""
    if response is not None:
        status, headers, body = (
            response.status_code,
            [[k, v] for k, v in response.headers.items()],
            response.text,
        )
    result = page.evaluate(
        INTERPRET,
        {
            "status": status,
            "headers": headers or [],
            "body": body,
            "server": server,
            "now": "2026-03-02T12:00:00Z",
        },
    )
    return result


def problem_of(result) -> dict:
    assert result["ok"] is False, result
    problem = result["problem"]
    assert problem["title"] and problem["message"] and problem["action"], problem
    return problem


def test_every_error_code_has_its_own_message_and_what_to_do(
    plain_page, app, limited_app, job_site
):
    page, base = plain_page, app.base
    app.account("codes@example.com", template=None)
    token = app.pat("codes@example.com", "Codes")  # default template, none set
    revoked = app.pat("codes@example.com", "Gone", "--no-template")
    working = app.pat("codes@example.com", "Works", "--no-template")
    app.revoke("codes@example.com", revoked)
    auth = {"Authorization": f"Bearer {token}"}
    ok_auth = {"Authorization": f"Bearer {working}"}
    api = base + "/api/v1"
    seen = {}

    def check(result, code, title, *phrases):
        problem = problem_of(result)
        assert problem["code"] == code, problem
        assert problem["title"] == title, problem
        whole = problem["message"] + " " + problem["action"]
        for phrase in phrases:
            assert phrase in whole, (phrase, problem)
        seen[code] = problem
        return problem

    # 401 invalid_token, from the app: unknown, then revoked.
    unknown = requests.get(api + "/token", headers={"Authorization": "Bearer cvf_x"})
    check(
        explain(page, base, unknown),
        "invalid_token",
        "Invalid PAT token",
        "Invalid PAT token",
        "starting with cvf_",
        "Reveal",
    )
    gone = requests.get(api + "/token", headers={"Authorization": f"Bearer {revoked}"})
    assert gone.json()["reason"] == "revoked"
    check(
        explain(page, base, gone),
        "invalid_token",
        "Invalid PAT token",
        "Invalid PAT token: it was revoked.",
        "Create a new PAT",
    )
    # Limits set on a real PAT, one at a time, each answered by the app itself.
    app.account("limits@example.com")
    limited = app.pat("limits@example.com", "Limited")
    owner = app.login("limits@example.com")
    limited_id = app.pat_id(limited)
    limited_auth = {"Authorization": f"Bearer {limited}"}
    app.act(owner, limited_id, "edit", scopes_sent="1", scopes="submissions:read")
    no_scope = requests.post(
        api + "/submissions", headers=limited_auth, json={"url": "https://j.example/9"}
    )
    assert no_scope.json()["required_scopes"] == ["submissions:write"]
    check(
        explain(page, base, no_scope),
        "insufficient_scope",
        "This PAT is not allowed to do that",
        "submissions:write",
        "give the PAT that permission",
    )
    other_extension = "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba"
    app.act(
        owner,
        limited_id,
        "edit",
        allowed_origin="chrome-extension://abcdefghijklmnopabcdefghijklmnop",
    )
    wrong_origin = requests.get(
        api + "/token", headers={**limited_auth, "Origin": other_extension}
    )
    check(
        explain(page, base, wrong_origin),
        "origin_not_allowed",
        "Not allowed from this extension",
        other_extension,
        "allowed extension",
    )
    app.act(owner, limited_id, "edit", allowed_networks="10.0.0.0/8")
    elsewhere = requests.get(api + "/token", headers=limited_auth)
    check(
        explain(page, base, elsewhere),
        "ip_not_allowed",
        "Not allowed from this network",
        "127.0.0.1",
        "allowed networks",
    )
    app.act(owner, limited_id, "edit", allowed_networks="", allowed_origin="")
    app.act(owner, limited_id, "pause")
    paused = requests.get(api + "/token", headers=limited_auth)
    assert paused.json()["reason"] == "paused"
    check(
        explain(page, base, paused),
        "invalid_token",
        "Invalid PAT token",
        "Invalid PAT token: it is paused.",
        "Resume the PAT",
    )
    app.act(owner, limited_id, "resume")
    app.rotate(owner, limited_id, "0")
    replaced = requests.get(api + "/token", headers=limited_auth)
    assert replaced.json()["reason"] == "rotated"
    check(
        explain(page, base, replaced),
        "invalid_token",
        "Invalid PAT token",
        "replaced by a new token",
        "Reveal",
    )

    # ...expired, in the same shape (no real PAT expires during a test run).
    for reason, phrase, action in [
        ("expired", "Invalid PAT token: it has expired.", "Create a new PAT"),
    ]:
        body = {
            "error": "invalid_token",
            "message": "Invalid PAT token",
            "reason": reason,
        }
        problem = check(
            explain(
                page,
                base,
                status=401,
                body=json.dumps(body),
                headers=[["Content-Type", "application/json"]],
            ),
            "invalid_token",
            "Invalid PAT token",
            phrase,
            action,
        )
        assert problem["reason"] == reason

    bare = check(
        explain(
            page,
            base,
            status=403,
            body='{"error": "ip_not_allowed"}',
            headers=[["Content-Type", "application/json"]],
        ),
        "ip_not_allowed",
        "Not allowed from this network",
    )
    assert bare["ip"] is None

    # 422 template_not_found, from the app.
    missing = requests.post(
        api + "/submissions", headers=auth, json={"url": "https://j.example/1"}
    )
    assert missing.json()["error"] == "template_not_found"
    check(
        explain(page, base, missing),
        "template_not_found",
        "CV template not found",
        "CV template not found",
        "Fix",
    )

    # 422 validation_error, from the app: one line per field.
    invalid = requests.post(
        api + "/submissions",
        headers=ok_auth,
        json={"url": "ftp://j.example/1", "title": "t" * 301},
    )
    problem = check(
        explain(page, base, invalid),
        "validation_error",
        "The server refused some fields",
        "url: ",
        "title: ",
    )
    assert {f["field"] for f in problem["fields"]} == {"url", "title"}

    # 429 rate_limited, from a server allowing two requests a minute.
    limited_app.cli("create-user", "limit@example.com", input="correct horse battery\n")
    busy = limited_app.cli(
        "create-pat", "limit@example.com", "--name", "L", "--no-template"
    ).strip()
    answers = [
        requests.get(
            limited_app.base + "/api/v1/token",
            headers={"Authorization": f"Bearer {busy}"},
        )
        for _ in range(3)
    ]
    limited = answers[-1]
    assert limited.status_code == 429 and limited.headers["Retry-After"].isdigit()
    wait = int(limited.headers["Retry-After"])
    problem = check(
        explain(page, limited_app.base, limited),
        "rate_limited",
        "Too many requests",
        f"Try again in {wait} second",
    )
    assert problem["retryAfter"] == wait
    # Without a readable Retry-After header (a CORS caller), the message says it.
    no_header = [
        [k, v] for k, v in limited.headers.items() if k.lower() != "retry-after"
    ]
    hidden = explain(
        page, limited_app.base, status=429, headers=no_header, body=limited.text
    )
    assert problem_of(hidden)["retryAfter"] == wait

    # The rest of the table in the README, from the app.
    key = {"Idempotency-Key": "double-click-1", **ok_auth}
    requests.post(
        api + "/submissions", headers=key, json={"url": "https://j.example/2"}
    )
    conflict = requests.post(
        api + "/submissions", headers=key, json={"url": "https://j.example/3"}
    )
    check(
        explain(page, base, conflict),
        "idempotency_conflict",
        "Saved differently a moment ago",
    )
    malformed = requests.post(
        api + "/submissions",
        headers={**ok_auth, "Content-Type": "application/json"},
        data="{",
    )
    check(
        explain(page, base, malformed),
        "malformed_json",
        "The server did not understand the extension",
        "malformed_json",
    )
    form = requests.post(api + "/submissions", headers=ok_auth, data={"url": "x"})
    check(
        explain(page, base, form),
        "unsupported_media_type",
        "The server did not understand the extension",
    )
    huge = requests.post(
        api + "/submissions",
        headers={**ok_auth, "Content-Type": "application/json"},
        data=b" " * (65 * 1024),
    )
    check(explain(page, base, huge), "payload_too_large", "Too much text")
    wrong_method = requests.delete(api + "/token", headers=ok_auth)
    check(
        explain(page, base, wrong_method),
        "method_not_allowed",
        "The server did not understand the extension",
    )

    # A wrong URL: the API's JSON 404, an HTML 404, an HTML page with 200.
    for response in (
        requests.get(api + "/nothing-here", headers=ok_auth),
        requests.get(base + "/pats/api/v1/token", headers=ok_auth),
        requests.get(job_site.base + "/blank.html"),
    ):
        check(
            explain(page, base, response),
            "not_pat_manager",
            "Wrong server URL",
            "not a PAT Manager server",
            "without /api/v1",
        )
    # A crash without a JSON body, and a code this version does not know.
    check(
        explain(
            page,
            base,
            status=502,
            body="<h1>Bad gateway</h1>",
            headers=[["Content-Type", "text/html"]],
        ),
        "server_error",
        "The server had a problem",
        "HTTP 502",
        "Try again",
    )
    check(
        explain(
            page,
            base,
            status=400,
            body='{"error": "brand_new", "message": "New rule."}',
            headers=[["Content-Type", "application/json"]],
        ),
        "brand_new",
        "The server refused the request",
        "New rule.",
        "brand_new",
    )

    # Nothing listening: the real fetch fails.
    closed = f"http://127.0.0.1:{free_port()}"
    result = page.evaluate(
        "(s) => PatApi.checkToken({server: s, token: 'cvf_x'})", closed
    )
    check(
        result, "unreachable", "Cannot reach the server", closed, "Check the server URL"
    )

    # Every message differs: no code falls back to a generic "connection failed".
    texts = [p["message"] + p["action"] for p in seen.values()]
    assert len(set(texts)) == len(texts)
    assert not any("connection failed" in t.lower() for t in texts)


def test_success_expiry_and_server_urls_in_a_plain_page(plain_page, app):
    page, base = plain_page, app.base
    app.account("plain@example.com")
    token = app.pat("plain@example.com", "Plain", "--expires-in", "30")
    answer = requests.get(
        base + "/api/v1/token", headers={"Authorization": f"Bearer {token}"}
    )
    result = explain(page, base, answer)
    assert result["ok"] is True and result["data"]["pat"]["name"] == "Plain"
    header = answer.headers["X-PAT-Expires-At"]
    assert result["expiry"]["expiresAt"].replace(".000Z", "Z") == header

    info = "(args) => PatApi.expiryInfo(args[0], args[1])"
    now = "2026-03-02T12:00:00Z"
    soon = page.evaluate(info, ["2026-03-05T12:00:00Z", now])
    assert (
        soon["soon"] is True
        and soon["daysLeft"] == 3
        and "expires in 3 days" in soon["text"]
    )
    assert page.evaluate(info, ["2026-03-09T12:00:00Z", now])["soon"] is True  # 7 days
    assert page.evaluate(info, ["2026-03-09T12:00:01Z", now])["soon"] is False
    assert page.evaluate(info, ["2026-03-02T11:00:00Z", now])["expired"] is True
    assert page.evaluate(info, ["none", now])["never"] is True
    assert page.evaluate(info, [None, now]) is None
    warning = page.evaluate(
        "(args) => PatApi.expiryWarning(PatApi.expiryInfo(args[0], args[1]))",
        ["2026-03-04T12:00:00Z", now],
    )
    assert "expires in 2 days" in warning and "Create a new PAT" in warning

    parse = "(text) => PatApi.parseServerUrl(text)"
    assert page.evaluate(parse, "127.0.0.1:8000") == {
        "ok": True,
        "base": "http://127.0.0.1:8000",
        "origin": "http://127.0.0.1:8000",
        "pattern": "http://127.0.0.1:8000/*",
    }
    assert page.evaluate(parse, "https://pats.example.org/team/api/v1/")["base"] == (
        "https://pats.example.org/team"
    )
    for bad in ["", "ftp://x", "http://u:p@host", "http://host/?a=1", "http://"]:
        assert page.evaluate(parse, bad)["ok"] is False, bad


HOSTILE = """async ({kind}) => {
    const settings = {server: "http://127.0.0.1:9", token: "cvf_x"};
    const json = (text, extra) => Object.assign({
        ok: true, status: 200, redirected: false, url: "http://127.0.0.1:9/api/v1/token",
        headers: new Headers({"Content-Type": "application/json"}),
        text: () => Promise.resolve(text),
    }, extra || {});
    const answers = {
        // A proxy sent the call on to another origin (the browser dropped the PAT).
        redirected: () => Promise.resolve(json('{"pat": {"id": 1, "name": "Stolen"}}',
            {redirected: true, url: "https://elsewhere.example/api/v1/token"})),
        // 200, but not the shape of PAT Manager's answer.
        empty: () => Promise.resolve(json("{}")),
        nullpat: () => Promise.resolve(json('{"pat": null}')),
        array: () => Promise.resolve(json("[1, 2]")),
        huge: () => Promise.resolve(json("{}", {headers: new Headers({
            "Content-Type": "application/json", "Content-Length": "50000000"})})),
        // Never answers: only the timeout ends it.
        silent: (url, init) => new Promise((resolve, reject) => {
            init.signal.addEventListener("abort", () => {
                const error = new Error("aborted"); error.name = "AbortError"; reject(error);
            });
        }),
    };
    const result = await PatApi.checkToken(settings, {fetch: answers[kind], timeoutSeconds: 0.2});
    return result.ok ? "ok" : result.problem.code + " | " + result.problem.message;
}"""


@pytest.mark.parametrize(
    "kind, expected",
    [
        (
            "redirected",
            "redirected | http://127.0.0.1:9 sent the request on to https://elsewhere.example",
        ),
        ("empty", "not_pat_manager"),
        ("nullpat", "not_pat_manager"),
        ("array", "not_pat_manager"),
        ("huge", "not_pat_manager"),
        ("silent", "timeout | http://127.0.0.1:9 did not answer within 0.2 seconds"),
    ],
)
def test_hostile_or_silent_servers_get_a_named_problem(plain_page, kind, expected):
    assert plain_page.evaluate(HOSTILE, {"kind": kind}).startswith(expected)


def test_the_job_address_drops_its_fragment(plain_page):
    address = plain_page.evaluate(
        "PatApi.jobAddress('https://jobs.example/1?a=b#access_token=secret')"
    )
    assert address == "https://jobs.example/1?a=b"
