"""Regression tests for what attacking the PAT lifecycle found."""

import re
import threading

import pytest

from pat_manager import pats
from pat_manager.errors import ValidationError
from pat_manager.text import parse_whole
from tests.conftest import Web, bearer


def api_reason(app, token):
    body = app.test_client().get("/api/v1/token", headers=bearer(token)).get_json()
    return body.get("reason") or ("ok" if "pat" in body else body)


def rotate(web, pat_id, overlap, **extra):
    form = web.get(f"/pats/{pat_id}/rotate", htmx=True).get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', form).group(1)
    data = {"overlap": str(overlap), "version": version, **extra}
    return web.post(f"/pats/{pat_id}/rotate", data, htmx=True), version


def token_in(response):
    return re.search(r'value="(cvf_[0-9A-Za-z]+)"', response.get_data(True)).group(1)


def test_a_later_rotation_at_once_also_stops_tokens_from_earlier_overlaps(
    app, user_web
):
    pat_id, first = user_web.new_token()
    response, _ = rotate(user_web, pat_id, 168)
    second = token_in(response)
    response, _ = rotate(user_web, pat_id, 0)
    third = token_in(response)
    assert api_reason(app, first) == "rotated"
    assert api_reason(app, second) == "rotated"
    assert api_reason(app, third) == "ok"


def test_a_shorter_later_overlap_caps_the_earlier_one(app, user_web, clock):
    pat_id, first = user_web.new_token()
    second = token_in(rotate(user_web, pat_id, 168)[0])
    rotate(user_web, pat_id, 1)
    clock.advance(minutes=61)
    assert api_reason(app, first) == "rotated"
    assert api_reason(app, second) == "rotated"


def test_a_second_click_or_reload_does_not_rotate_again(app, user_web, db):
    pat_id, _ = user_web.new_token()
    first, version = rotate(user_web, pat_id, 24)
    new = token_in(first)
    again = user_web.post(
        f"/pats/{pat_id}/rotate", {"overlap": "24", "version": version}, htmx=True
    )
    assert again.status_code == 422
    assert "rotated a moment ago" in again.get_data(as_text=True)
    plain = user_web.post(
        f"/pats/{pat_id}/rotate",
        {"overlap": "24", "version": version},
        follow_redirects=True,
    )
    assert "rotated a moment ago" in plain.get_data(as_text=True)
    assert db.execute("SELECT COUNT(*) FROM pat_retired_secrets").fetchone()[0] == 1
    assert api_reason(app, new) == "ok"


def test_concurrent_rotations_of_one_form_rotate_once(make_app, tmp_path):
    app = make_app()
    web = Web(app.test_client())
    web.register()
    web.create_template()
    pat_id, _ = web.new_token()
    form = web.get(f"/pats/{pat_id}/rotate").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', form).group(1)
    cookie = web.client.get_cookie("session").value
    csrf = web.csrf_token()
    results = []

    def click():
        client = app.test_client()
        client.set_cookie("session", cookie)
        response = client.post(
            f"/pats/{pat_id}/rotate",
            data={"overlap": "0", "version": version, "csrf_token": csrf},
            headers={"HX-Request": "true"},
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 422, 422, 422]


def test_the_show_once_page_never_shows_a_rotated_token(user_web):
    response = user_web.create_pat("Not yet seen")
    created_url = response.headers["Location"]
    pat_id = int(re.search(r"/pats/(\d+)/created", created_url).group(1))
    rotate(user_web, pat_id, 0)
    page = user_web.get(created_url, follow_redirects=True).get_data(as_text=True)
    assert not re.search(r"cvf_[0-9A-Za-z]{50}", page)
    assert "shown only once" in page


def test_a_huge_selection_is_refused_before_any_work(user_web, db):
    pat_id, _ = user_web.new_token()
    ids = [str(pat_id)] * 20_000
    for url, data in (
        ("/pats/bulk", {"action": "revoke", "ids": ids, "confirm": "1"}),
        ("/pats/cleanup", {"days": "1", "ids": ids}),
    ):
        response = user_web.post(url, data)
        assert response.status_code == 422
        assert "Select at most 500 PATs at once." in response.get_data(True)
    assigned = user_web.post(
        "/history/assign", {"ids": ids, "template_id": "1"}, follow_redirects=True
    )
    assert "Select at most 500 submissions at once." in assigned.get_data(True)
    assert db.execute("SELECT revoked_at FROM pats").fetchone()[0] is None


def test_moving_to_a_template_with_none_chosen_is_refused(user_web, db):
    user_web.create_template("Design roles", default=False)
    tech = db.execute("SELECT id FROM cv_templates WHERE name = 'Technical roles'")
    tech = tech.fetchone()[0]
    user_web.new_token("Uses tech", template_choice="custom", template_id=str(tech))
    response = user_web.post(
        f"/templates/{tech}/delete", {"move_to": "template", "move_template_id": ""}
    )
    assert response.status_code == 422
    assert "Choose the template to move them to." in response.get_data(True)
    assert db.execute("SELECT COUNT(*) FROM cv_templates").fetchone()[0] == 2


def test_leaving_pats_without_a_template_is_audited(user_web, db):
    tech = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    pat_id, _ = user_web.new_token(
        "Left", template_choice="custom", template_id=str(tech)
    )
    user_web.post(f"/templates/{tech}/delete", {"move_to": "leave"})
    detail = db.execute(
        "SELECT detail FROM audit_events WHERE pat_id = ? AND action = 'template'",
        (pat_id,),
    ).fetchone()[0]
    assert "left with none" in detail


def test_a_template_id_reused_by_another_account_is_never_taken(
    user_web, other_web, db
):
    other_web.register("eve@example.com")
    other_web.create_template("Eve's private template")
    eve_template = db.execute(
        "SELECT id FROM cv_templates WHERE name = 'Eve''s private template'"
    ).fetchone()[0]
    pat_id, _ = user_web.new_token()
    pat = pats.get_owned(db, 1, pat_id)
    with pytest.raises(ValidationError):
        pats.require_template(db, 1, eve_template)
    with pytest.raises(ValidationError):
        pats.set_template_within(db, pat, "custom", eve_template, None, None, "")
    assert pats.get_owned(db, 1, pat_id)["template_id"] is None


@pytest.mark.parametrize(
    "url", ["/audit/?pat=abc", "/audit/?pat=0", "/pats/new?from=x"]
)
def test_malformed_object_ids_in_query_strings_are_404(user_web, url):
    assert user_web.get(url).status_code == 404


@pytest.mark.parametrize("text", ["١", "١٠", "²", "1.5", "", " ", "1e3"])
def test_whole_numbers_are_ascii_digits_only(text):
    assert parse_whole(text) is None


def test_only_ascii_digits_count_for_days_and_limits(app, user_web):
    assert user_web.get("/pats/cleanup?days=١").status_code == 422
    _, token = user_web.new_token(scopes_sent="1", scopes="submissions:read")
    listed = app.test_client().get(
        "/api/v1/submissions?limit=١٠", headers=bearer(token)
    )
    assert listed.status_code == 422


def test_a_rotation_without_the_forms_version_rotates_nothing(app, user_web, db):
    pat_id, token = user_web.new_token()
    for data in ({"overlap": "24"}, {"overlap": "24", "version": ""}):
        response = user_web.post(f"/pats/{pat_id}/rotate", data, htmx=True)
        assert response.status_code == 422
        assert "Reload the page and rotate again" in response.get_data(True)
    assert db.execute("SELECT COUNT(*) FROM pat_retired_secrets").fetchone()[0] == 0
    assert api_reason(app, token) == "ok"


def test_a_stale_form_is_refused_before_the_password_is_asked(app, user_web, db, clock):
    pat_id, _ = user_web.new_token()
    form = user_web.get(f"/pats/{pat_id}/rotate", htmx=True).get_data(as_text=True)
    stale = re.search(r'name="version" value="([^"]+)"', form).group(1)
    rotate(user_web, pat_id, 24)  # another tab
    clock.advance(minutes=11)  # the password is no longer fresh
    response = user_web.post(
        f"/pats/{pat_id}/rotate",
        {"overlap": "0", "version": stale, "password": "wrong"},
        htmx=True,
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "rotated a moment ago" in text and "not right" not in text
    assert db.execute("SELECT COUNT(*) FROM pat_retired_secrets").fetchone()[0] == 1


@pytest.mark.parametrize(
    "url, data",
    [
        ("/pats/bulk", {"action": "pause", "ids": "9" * 5000}),
        ("/pats/cleanup", {"days": "1", "ids": "9" * 5000}),
        (
            "/pats/",
            {"name": "x", "template_choice": "custom", "template_id": "9" * 5000},
        ),
    ],
)
def test_ids_with_thousands_of_digits_are_refused_not_crashed(user_web, url, data):
    assert user_web.post(url, data).status_code == 422


def test_an_idempotency_key_that_holds_a_token_is_refused(app, user_web, db):
    _, token = user_web.new_token()
    response = app.test_client().post(
        "/api/v1/submissions",
        json={"url": "https://jobs.example/1"},
        headers={**bearer(token), "Idempotency-Key": token},
    )
    assert response.status_code == 422
    assert "must not contain a PAT" in response.get_json()["fields"]["Idempotency-Key"]
    assert db.execute("SELECT COUNT(*) FROM idempotency_keys").fetchone()[0] == 0
