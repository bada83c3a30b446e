"""The whole journey against a real gunicorn process (two workers) on a free port."""

from __future__ import annotations

import os
import re
import socket
import subprocess

import pytest
import requests

from tests.conftest import PASSWORD
from tests.servers import CLI, Server
from tests.servers import csrf as server_csrf

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path / "instance", tmp_path / "server.log").start()
    yield {
        "base": running.base,
        "env": running.env,
        "log": running.log_path,
        "instance": running.instance,
    }
    running.stop()


def csrf(session, base, path="/login"):
    return server_csrf(session, base + path)


def test_register_to_revoke_through_gunicorn(server):
    base = server["base"]
    web = requests.Session()

    # Register
    response = web.post(
        base + "/register",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": csrf(web, base, "/register"),
        },
    )
    assert response.status_code == 200 and "Welcome" in response.text
    cookie = next(c for c in web.cookies if c.name == "session")
    assert cookie.has_nonstandard_attr("HttpOnly")

    # Create a template, then a PAT
    response = web.post(
        base + "/templates/",
        data={
            "name": "Technical roles",
            "content": "CV",
            "make_default": "1",
            "csrf_token": csrf(web, base, "/templates/"),
        },
    )
    assert "Technical roles" in response.text
    response = web.post(
        base + "/pats/",
        data={
            "name": "PM Job Search 2025",
            "template_choice": "default",
            "expiry": "90",
            "csrf_token": csrf(web, base, "/pats/new"),
        },
    )
    token = re.search(r'value="(cvf_[0-9A-Za-z]{50})"', response.text).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    pat_id = re.search(r"#pat-(\d+)", response.text).group(1)

    # Reveal inline (the password form's request) gives the same token
    revealed = web.post(
        f"{base}/pats/{pat_id}/reveal",
        data={"password": PASSWORD},
        headers={"HX-Request": "true", "X-CSRFToken": csrf(web, base, "/pats/")},
    )
    assert revealed.status_code == 200 and token in revealed.text
    assert "<html" not in revealed.text

    # The extension posts a submission
    api = requests.Session()
    auth = {"Authorization": f"Bearer {token}"}
    created = api.post(
        base + "/api/v1/submissions",
        headers=auth,
        json={
            "url": "https://jobs.example.com/42",
            "title": "Product Manager",
            "company": "Acme",
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["template"]["name"] == "Technical roles"

    # It is in the history
    history = web.get(base + "/history/").text
    assert "Product Manager" in history and "Acme" in history

    # Revoke inline; every later request fails, whichever worker serves it
    revoked = web.post(
        f"{base}/pats/{pat_id}/revoke",
        headers={"HX-Request": "true", "X-CSRFToken": csrf(web, base, "/pats/")},
    )
    assert revoked.status_code == 200 and "Revoked" in revoked.text
    for _ in range(10):
        refused = requests.post(
            base + "/api/v1/submissions",
            headers=auth,
            json={"url": "https://x.example"},
        )
        assert refused.status_code == 401
        assert refused.json() == {
            "error": "invalid_token",
            "message": "Invalid PAT token",
            "reason": "revoked",
        }

    logs = server["log"].read_text()
    assert token not in logs
    assert "POST /api/v1/submissions" in logs  # access log is on


def raw_request(base: str, payload: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(payload)
        chunks = []
        while True:
            data = conn.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def cli(env, *args, stdin=None) -> str:
    return subprocess.run(
        [CLI, *args], input=stdin, env=env, check=True, capture_output=True, text=True
    ).stdout


def test_chunked_bodies_through_gunicorn(server):
    env = server["env"]
    cli(env, "create-user", "chunk@example.com", stdin=PASSWORD + "\n")
    token = cli(
        env, "create-pat", "chunk@example.com", "--name", "Chunky", "--no-template"
    ).strip()
    head = (
        f"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    body = b'{"url": "https://x.example/1"}' + b" " * (200 * 1024)
    chunked = (
        b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 8192]), body[i : i + 8192])
            for i in range(0, len(body), 8192)
        )
        + b"0\r\n\r\n"
    )
    too_large = raw_request(server["base"], head.encode() + chunked)
    assert too_large.startswith(b"HTTP/1.1 413"), too_large[:200]
    small = b'{"url": "https://x.example/2"}'
    ok = raw_request(
        server["base"], head.encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small)
    )
    assert ok.startswith(b"HTTP/1.1 201"), ok[:300]
    broken = raw_request(server["base"], head.encode() + b"zz\r\nabc\r\n0\r\n\r\n")
    assert broken.split(b" ")[1].startswith(b"4"), broken[:300]


def test_cli_create_pat_prints_only_the_token(server):
    env = server["env"]
    cli(env, "create-user", "cli@example.com", stdin=PASSWORD + "\n")
    printed = cli(
        env, "create-pat", "cli@example.com", "--name", "Scripted", "--no-template"
    )
    token = printed.strip()
    assert re.fullmatch(r"cvf_[0-9A-Za-z]{50}", token), printed
    response = requests.get(
        server["base"] + "/api/v1/token", headers={"Authorization": f"token {token}"}
    )
    assert response.status_code == 200 and response.json()["pat"]["name"] == "Scripted"
    bad = subprocess.run(
        [CLI, "create-pat", "nobody@example.com", "--name", "X"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert (
        bad.returncode == 1
        and "No account" in bad.stderr
        and "Traceback" not in bad.stderr
    )


def test_bad_config_fails_cleanly(tmp_path):
    env = {
        **os.environ,
        "PAT_MANAGER_INSTANCE_PATH": str(tmp_path),
        "PAT_MANAGER_REGISTRATION": "sometimes",
    }
    result = subprocess.run(
        [CLI, "run"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "PAT_MANAGER_REGISTRATION must be one of open, closed" in result.stderr
    assert "Traceback" not in result.stderr
