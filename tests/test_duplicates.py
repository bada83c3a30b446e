"""Duplicate submissions, the pre-post check, and Idempotency-Key replays."""

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pat_manager.urls import normalise
from tests.conftest import bearer


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def token(user_web):
    return user_web.new_token()[1]


def submit(api, token, url, key=None, **extra):
    headers = bearer(token)
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.post("/api/v1/submissions", json={"url": url, **extra}, headers=headers)


@pytest.mark.parametrize(
    "a, b",
    [
        ("HTTPS://Jobs.Example.com/view/42", "https://jobs.example.com/view/42/"),
        (
            "https://jobs.example.com:443/view/42#apply",
            "https://jobs.example.com/view/42",
        ),
        ("http://x.example:80/a?b=2&a=1", "http://x.example/a?a=1&b=2"),
        (
            "https://x.example/a?utm_source=li&gclid=9&id=7&fbclid=1",
            "https://x.example/a?id=7",
        ),
    ],
)
def test_the_same_job_normalises_alike(a, b):
    assert normalise(a) == normalise(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("https://x.example/jobs/1", "https://x.example/jobs/2"),
        (
            "https://x.example/Jobs/1",
            "https://x.example/jobs/1",
        ),  # paths keep their case
        ("https://x.example:8443/a", "https://x.example/a"),
        ("http://x.example/a", "https://x.example/a"),
        ("https://x.example/a?id=1", "https://x.example/a?id=2"),
    ],
)
def test_different_jobs_stay_different(a, b):
    assert normalise(a) != normalise(b)


@given(
    st.sampled_from(["http", "https", "HTTPS"]),
    st.from_regex(r"[a-z]{1,10}\.(com|org|io)", fullmatch=True),
    st.lists(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True), max_size=4),
    st.dictionaries(
        st.from_regex(r"[a-z]{1,6}", fullmatch=True),
        st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True),
        max_size=4,
    ),
)
def test_normalising_is_stable_and_ignores_order_and_tracking(
    scheme, host, path, query
):
    base = f"{scheme}://{host.upper()}/{'/'.join(path)}"
    items = list(query.items())
    forward = (
        base + "?" + "&".join(f"{k}={v}" for k, v in items + [("utm_medium", "x")])
    )
    backward = base + "/?" + "&".join(f"{k}={v}" for k, v in reversed(items)) + "#frag"
    assert normalise(forward) == normalise(backward)
    assert normalise(normalise(forward)) == normalise(forward)
    assert "utm_" not in normalise(forward)


def test_201_names_the_earlier_submission_within_30_days(api, token, clock):
    first = submit(
        api, token, "https://jobs.example.com/view/42?utm_source=x"
    ).get_json()
    assert first["duplicate_of"] is None
    clock.advance(days=10)
    second = submit(api, token, "https://JOBS.example.com/view/42/").get_json()
    assert second["duplicate_of"] == first["id"]
    clock.advance(days=31)
    third = submit(api, token, "https://jobs.example.com/view/42").get_json()
    assert third["duplicate_of"] is None


def test_duplicates_are_per_account(api, token, other_web, app):
    submit(api, token, "https://jobs.example.com/view/42")
    other_web.register("bob@example.com")
    other_web.create_template()
    _, bob = other_web.new_token()
    assert (
        submit(api, bob, "https://jobs.example.com/view/42").get_json()["duplicate_of"]
        is None
    )
    check = api.get(
        "/api/v1/submissions/check?url=https://jobs.example.com/view/42",
        headers=bearer(bob),
    )
    assert check.get_json()["count"] == 1


def test_check_says_whether_when_and_with_which_pat(api, token, clock):
    url = "https://jobs.example.com/view/7"
    empty = api.get(
        f"/api/v1/submissions/check?url={url}", headers=bearer(token)
    ).get_json()
    assert empty == {
        "submitted": False,
        "count": 0,
        "normalized_url": url,
        "last": None,
    }
    submit(api, token, url + "?utm_campaign=spring")
    clock.advance(hours=1)
    latest = submit(api, token, url + "/").get_json()
    found = api.get(
        f"/api/v1/submissions/check?url={url}#x", headers=bearer(token)
    ).get_json()
    assert found["submitted"] is True and found["count"] == 2
    assert found["last"]["id"] == latest["id"]
    assert found["last"]["created_at"] == "2026-03-02T13:00:00Z"
    assert found["last"]["pat"]["name"] == "PM Job Search 2025"


def test_check_validates_the_url(api, token):
    for query in ["", "?url=", "?url=ftp://x.example/a", "?url=notaurl"]:
        response = api.get(f"/api/v1/submissions/check{query}", headers=bearer(token))
        assert (
            response.status_code == 422
            and response.get_json()["error"] == "validation_error"
        )


def test_idempotent_repeat_returns_the_first_answer_and_stores_nothing(api, token, db):
    first = submit(api, token, "https://x.example/1", key="abc-123", title="PM")
    again = submit(api, token, "https://x.example/1", key="abc-123", title="PM")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
    outcomes = [
        r[0] for r in db.execute("SELECT outcome FROM usage_events ORDER BY id")
    ]
    assert outcomes == ["submission", "ok"]


def test_same_key_other_body_is_409(api, token, db):
    submit(api, token, "https://x.example/1", key="k1")
    conflict = submit(api, token, "https://x.example/2", key="k1")
    assert (
        conflict.status_code == 409
        and conflict.get_json()["error"] == "idempotency_conflict"
    )
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1


def test_keys_expire_after_24_hours_and_belong_to_one_account(
    api, token, clock, other_web, db
):
    submit(api, token, "https://x.example/1", key="k1")
    clock.advance(hours=25)
    assert submit(api, token, "https://x.example/2", key="k1").status_code == 201
    other_web.register("bob@example.com")
    other_web.create_template()
    _, bob = other_web.new_token()
    assert submit(api, bob, "https://x.example/3", key="k1").status_code == 201
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 3


def test_bad_keys_are_422(api, token):
    for key in ["", "   ", "x" * 256, "clé"]:
        response = submit(api, token, "https://x.example/1", key=key)
        assert response.status_code == 422, key
        assert "Idempotency-Key" in response.get_json()["fields"]


def test_two_identical_requests_at_once_store_one_submission(app, token, db):
    results = []

    def post():
        client = app.test_client()
        results.append(
            submit(client, token, "https://x.example/race", key="race-1").get_json()
        )

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 1
    assert len({r["id"] for r in results}) == 1


def test_key_order_and_spacing_do_not_make_another_body(app, token, db):
    client = app.test_client()
    headers = {
        **bearer(token),
        "Idempotency-Key": "k9",
        "Content-Type": "application/json",
    }
    a = client.post(
        "/api/v1/submissions",
        data='{"url": "https://x.example/1", "title": "PM"}',
        headers=headers,
    )
    b = client.post(
        "/api/v1/submissions",
        data='{"title":"PM","url":"https://x.example/1"}',
        headers=headers,
    )
    assert a.status_code == b.status_code == 201 and a.get_json() == b.get_json()


def test_duplicate_lookup_uses_the_jobs_own_index(db):
    """A plan regression made every submission scan the last 30 days of history."""
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM submissions INDEXED BY submissions_user_normalized"
        " WHERE user_id = 1 AND normalized_url = 'x' AND created_at >= 'a'"
        " ORDER BY id DESC LIMIT 1"
    ).fetchall()
    assert "submissions_user_normalized" in str(plan) and "TEMP B-TREE" not in str(plan)
    import inspect

    from pat_manager import submissions

    assert "INDEXED BY submissions_user_normalized" in inspect.getsource(
        submissions.duplicate_of
    )
