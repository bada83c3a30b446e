"""Load, crashes, clean shutdown and secrecy, against the real gunicorn server."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import Counter

import pytest
import requests

from pat_manager import tokens
from tests.conftest import PASSWORD
from tests.servers import Server, csrf

pytestmark = pytest.mark.slow
UNLIMITED = {"PAT_MANAGER_API_RATE_LIMIT": "1000000"}


def make_token(server: Server) -> str:
    server.cli("create-user", "load@example.com", input=PASSWORD + "\n")
    return server.cli(
        "create-pat", "load@example.com", "--name", "Load", "--no-template"
    ).strip()


def post_many(
    base: str, token: str, clients: int, per_client: int, results: list, stop=None
):
    def client(n):
        session = requests.Session()
        for i in range(per_client):
            if stop is not None and stop.is_set():
                return
            try:
                r = session.post(
                    base + "/api/v1/submissions",
                    timeout=30,
                    json={"url": f"https://jobs.example/{n}/{i}"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                results.append(
                    (
                        r.status_code,
                        r.json().get("id") if r.status_code == 201 else None,
                    )
                )
            except requests.RequestException:
                results.append((None, None))
                if stop is not None:
                    return

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    return threads


def stored_ids(instance) -> Counter:
    conn = sqlite3.connect(instance / "pat_manager.sqlite3")
    ids = Counter(r[0] for r in conn.execute("SELECT id FROM submissions"))
    conn.close()
    return ids


def test_ten_thousand_submissions_from_eight_clients(tmp_path):
    server = Server(
        tmp_path / "instance", tmp_path / "server.log", workers=3, **UNLIMITED
    ).start()
    try:
        token = make_token(server)
        results: list = []
        for t in post_many(
            server.base, token, clients=8, per_client=1250, results=results
        ):
            t.join()
    finally:
        server.stop()
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10_000}, statuses
    created = Counter(sub_id for status, sub_id in results if status == 201)
    assert len(created) == 10_000
    assert stored_ids(tmp_path / "instance") == created  # each exactly once
    assert "database is locked" not in server.log()
    conn = sqlite3.connect(tmp_path / "instance" / "pat_manager.sqlite3")
    assert conn.execute("SELECT submission_count FROM pats").fetchone()[0] == 10_000
    assert (
        conn.execute(
            "SELECT SUM(count) FROM usage_daily WHERE outcome = 'submission'"
        ).fetchone()[0]
        == 10_000
    )


def test_kill_9_during_load_loses_no_acknowledged_submission(tmp_path):
    instance = tmp_path / "instance"
    server = Server(instance, tmp_path / "server.log", **UNLIMITED).start()
    token = make_token(server)
    results: list = []
    stop = threading.Event()
    threads = post_many(
        server.base, token, clients=8, per_client=100_000, results=results, stop=stop
    )
    while sum(1 for s, _ in results if s == 201) < 1500:
        threading.Event().wait(0.05)
    server.kill()
    stop.set()
    for t in threads:
        t.join()
    acknowledged = {sub_id for status, sub_id in results if status == 201}

    conn = sqlite3.connect(instance / "pat_manager.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    restarted = Server(instance, tmp_path / "server2.log", **UNLIMITED).start()
    try:
        assert (
            requests.get(
                restarted.base + "/api/v1/token",
                headers={"Authorization": f"Bearer {token}"},
            ).status_code
            == 200
        )
    finally:
        restarted.stop()
    stored = stored_ids(instance)
    assert acknowledged <= set(stored), len(acknowledged - set(stored))
    assert max(stored.values()) == 1


def test_clean_shutdown_checkpoints_the_wal(tmp_path):
    instance = tmp_path / "instance"
    server = Server(instance, tmp_path / "server.log").start()
    token = make_token(server)
    for n in range(20):
        requests.post(
            server.base + "/api/v1/submissions",
            json={"url": f"https://x.example/{n}"},
            headers={"Authorization": f"Bearer {token}"},
        )
    server.stop()
    wal = instance / "pat_manager.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert "WAL checkpoint complete" in server.log()


def test_tokens_stay_out_of_logs_database_and_errors_with_debug_logging(tmp_path):
    instance = tmp_path / "instance"
    server = Server(
        instance, tmp_path / "server.log", PAT_MANAGER_LOG_LEVEL="DEBUG"
    ).start()
    try:
        web = requests.Session()
        web.post(
            server.base + "/register",
            data={
                "email": "s@example.com",
                "password": PASSWORD,
                "csrf_token": csrf(web, server.base + "/register"),
            },
        )
        page = web.post(
            server.base + "/pats/",
            data={
                "name": "Secret",
                "template_choice": "none",
                "expiry": "90",
                "csrf_token": csrf(web, server.base + "/pats/new"),
            },
        )
        token = re.search(r'value="(cvf_[0-9A-Za-z]{50})"', page.text).group(1)
        shaped = "cvf_" + "Q" * 50  # token-shaped, in a query string
        auth = {"Authorization": f"Bearer {token}"}
        bodies = []
        for method, path, kwargs in [
            (
                "get",
                f"/api/v1/token?access_token={token}&x={shaped}",
                {"headers": auth},
            ),
            (
                "post",
                f"/api/v1/submissions?t={shaped}",
                {"headers": auth, "json": {"url": "https://x.example"}},
            ),
            ("post", "/api/v1/submissions", {"headers": auth, "data": "{bad json"}),
            (
                "get",
                f"/api/v1/token?t={token}",
                {"headers": {"Authorization": f"Bearer {token[:-1]}X"}},
            ),
            ("get", f"/nope?t={token}", {}),
            ("get", f"/api/v1/token/{token}", {"headers": auth}),
            ("get", "/api/v1/token", {"auth": (token, "")}),
            ("get", f"/pats/?token={shaped}", {}),
        ]:
            response = getattr(web if path.startswith("/pats") else requests, method)(
                server.base + path, **kwargs
            )
            bodies.append(response.text)
        pat_id = re.search(r"#pat-(\d+)", page.text).group(1)
        web.post(
            f"{server.base}/pats/{pat_id}/revoke",
            headers={
                "HX-Request": "true",
                "X-CSRFToken": csrf(web, server.base + "/pats/"),
            },
        )
        bodies.append(requests.get(server.base + "/api/v1/token", headers=auth).text)
    finally:
        server.stop()
    logs = server.log()
    assert "DEBUG" in logs or "INFO" in logs
    assert "GET /api/v1/token" in logs  # the access log is on
    secret = tokens.parse(token).secret
    for text in [logs, *bodies]:
        assert token not in text and secret not in text and shaped not in text
    for path in instance.glob("pat_manager.sqlite3*"):
        raw = path.read_bytes()
        assert (
            token.encode() not in raw
            and secret.encode() not in raw
            and shaped.encode() not in raw
        )
