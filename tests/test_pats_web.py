import re

import pytest

from tests.conftest import PASSWORD


def revoked_at(db, name):
    return db.execute("SELECT revoked_at FROM pats WHERE name = ?", (name,)).fetchone()[
        0
    ]


def test_create_shows_token_once_then_redirects(user_web):
    response = user_web.create_pat("PM Job Search 2025")
    assert response.status_code == 302
    created_url = response.headers["Location"]
    page = user_web.get(created_url)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    text = page.get_data(as_text=True)
    assert re.search(r'value="cvf_[0-9A-Za-z]{50}"', text)
    assert "password manager" in text
    again = user_web.get(created_url)
    assert again.status_code == 302
    listing = user_web.get("/pats/").get_data(as_text=True)
    assert not re.search(r"cvf_[0-9A-Za-z]{50}", listing)


@pytest.mark.parametrize(
    "fields, field_message",
    [
        ({"name": "   "}, "Give the PAT a name"),
        ({"name": "x" * 81}, "at most 80 characters"),
        ({"expiry": "forever"}, "Choose 30 days"),
        ({"expiry": "custom", "expires_on": "not-a-date"}, "YYYY-MM-DD"),
        ({"expiry": "custom", "expires_on": "2026-03-02"}, "after today"),
        ({"expiry": "custom", "expires_on": "2027-03-03"}, "at most one year"),
        ({"template_choice": "custom", "template_id": "99999"}, "does not exist"),
        ({"template_choice": "weird"}, "Choose the default template"),
    ],
)
def test_create_validation(user_web, db, fields, field_message):
    data = {
        "name": "Valid name",
        "template_choice": "default",
        "expiry": "90",
        **fields,
    }
    response = user_web.post("/pats/", data)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert db.execute("SELECT COUNT(*) FROM pats").fetchone()[0] == 0


def test_name_unique_among_active_pats_only(user_web, db, clock):
    user_web.new_token("Summer Internships")
    duplicate = user_web.create_pat("summer internships")
    assert duplicate.status_code == 422
    assert "already have an active PAT named" in duplicate.get_data(as_text=True)
    pat_id = db.execute("SELECT id FROM pats").fetchone()[0]
    user_web.post(f"/pats/{pat_id}/revoke")
    assert user_web.create_pat("Summer Internships").status_code == 302


def test_custom_date_expires_at_end_of_that_day(user_web, db):
    user_web.new_token("Event", expiry="custom", expires_on="2026-04-10")
    expires = db.execute("SELECT expires_at FROM pats").fetchone()[0]
    assert expires == "2026-04-11T00:00:00.000000Z"


def test_ninety_days_is_preselected_and_never_is_marked(user_web):
    page = user_web.get("/pats/new").get_data(as_text=True)
    assert re.search(r'value="90"\s+checked', page)
    assert "not recommended" in page
    assert "PM Job Search 2025" in page  # a descriptive name is suggested


def test_fourth_pat_hits_limit_and_grant_raises_it(user_web, db, app):
    for name in ["One search", "Two search", "Three search"]:
        user_web.new_token(name)
    fourth = user_web.create_pat("Four search")
    assert fourth.status_code == 409
    text = fourth.get_data(as_text=True)
    assert "PAT limit reached" in text and "Revoke" in text
    assert db.execute("SELECT COUNT(*) FROM pats").fetchone()[0] == 3
    db.execute("UPDATE users SET extra_pat_slots = 1")
    assert user_web.create_pat("Four search").status_code == 302


def test_expired_pats_free_their_slot(user_web, clock):
    for name in ["One search", "Two search", "Three search"]:
        user_web.new_token(name, expiry="30")
    clock.advance(days=31)
    assert user_web.create_pat("Fresh search").status_code == 302
    listing = user_web.get("/pats/").get_data(as_text=True)
    assert listing.count("badge--expired") == 3


def test_list_shows_status_template_created_expiry_last_used(user_web, clock):
    user_web.new_token("Soon", expiry="custom", expires_on="2026-03-05")
    user_web.new_token("Forever", expiry="never")
    listing = user_web.get("/pats/").get_data(as_text=True)
    assert "Account default (Technical roles)" in listing
    assert "2026-03-02" in listing  # created
    assert "in 4 days" in listing and "soon" in listing
    assert "Never (not recommended)" in listing
    assert re.search(r"Last used</dt>\s*<dd>\s*Never", listing)


def test_reveal_inline_when_password_fresh(user_web, db):
    pat_id, token = user_web.new_token()
    response = user_web.post(f"/pats/{pat_id}/reveal", htmx=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<article") and "<html" not in body
    assert token in body and "data-copy" in body
    reveals = db.execute("SELECT pat_id, ip FROM pat_reveals").fetchall()
    assert reveals == [(pat_id, "127.0.0.1")]


def test_reveal_asks_password_again_after_ten_minutes(user_web, clock, db):
    pat_id, token = user_web.new_token()
    clock.advance(minutes=10, seconds=1)
    asked = user_web.post(f"/pats/{pat_id}/reveal", htmx=True)
    assert asked.status_code == 200
    body = asked.get_data(as_text=True)
    assert 'type="password"' in body and token not in body
    assert db.execute("SELECT COUNT(*) FROM pat_reveals").fetchone()[0] == 0

    wrong = user_web.post(
        f"/pats/{pat_id}/reveal", {"password": "wrong one"}, htmx=True
    )
    assert wrong.status_code == 422
    assert "not right" in wrong.get_data(as_text=True) and token not in wrong.get_data(
        as_text=True
    )

    right = user_web.post(f"/pats/{pat_id}/reveal", {"password": PASSWORD}, htmx=True)
    assert token in right.get_data(as_text=True)

    clock.advance(minutes=9)
    assert token in user_web.post(f"/pats/{pat_id}/reveal", htmx=True).get_data(
        as_text=True
    )
    clock.advance(minutes=2)
    assert token not in user_web.post(f"/pats/{pat_id}/reveal", htmx=True).get_data(
        as_text=True
    )


def test_reveal_without_javascript(user_web, clock):
    pat_id, token = user_web.new_token()
    clock.advance(minutes=11)
    form = user_web.get(f"/pats/{pat_id}/reveal")
    assert form.status_code == 200 and 'type="password"' in form.get_data(as_text=True)
    assert "<html" in form.get_data(as_text=True)
    shown = user_web.post(f"/pats/{pat_id}/reveal", {"password": PASSWORD})
    assert shown.status_code == 200 and token in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"


def test_revoke_with_htmx_confirmation(user_web, db):
    pat_id, _ = user_web.new_token()
    confirm = user_web.get(f"/pats/{pat_id}/revoke", htmx=True)
    text = confirm.get_data(as_text=True)
    assert "Revoke “PM Job Search 2025”?" in text and "<html" not in text
    assert confirm.headers["Vary"] and "HX-Request" in confirm.headers["Vary"]
    cancel = user_web.get(f"/pats/{pat_id}/row", htmx=True)
    assert "Revoke…" in cancel.get_data(as_text=True)
    revoked = user_web.post(f"/pats/{pat_id}/revoke", htmx=True)
    body = revoked.get_data(as_text=True)
    assert (
        revoked.status_code == 200 and "badge--revoked" in body and "<html" not in body
    )
    assert revoked_at(db, "PM Job Search 2025") is not None


def test_revoke_without_javascript(user_web, db):
    pat_id, _ = user_web.new_token()
    page = user_web.get(f"/pats/{pat_id}/revoke")
    assert "<html" in page.get_data(
        as_text=True
    ) and "Revoke “PM Job Search 2025”" in page.get_data(as_text=True)
    response = user_web.post(f"/pats/{pat_id}/revoke")
    assert response.status_code == 302
    assert "is revoked" in user_web.get("/pats/").get_data(as_text=True)


def test_revoked_pat_cannot_be_revealed(user_web):
    pat_id, token = user_web.new_token()
    user_web.post(f"/pats/{pat_id}/revoke")
    response = user_web.post(f"/pats/{pat_id}/reveal", htmx=True)
    assert token not in response.get_data(as_text=True)
    assert "revoked" in response.get_data(as_text=True)


def test_other_account_gets_404_for_every_pat_action(user_web, other_web, db):
    pat_id, token = user_web.new_token()
    other_web.register("bob@example.com")
    for method, url in [
        ("get", f"/pats/{pat_id}/row"),
        ("get", f"/pats/{pat_id}/reveal"),
        ("post", f"/pats/{pat_id}/reveal"),
        ("get", f"/pats/{pat_id}/revoke"),
        ("post", f"/pats/{pat_id}/revoke"),
        ("get", f"/pats/{pat_id}/created"),
    ]:
        for htmx in (False, True):
            response = getattr(other_web, method)(url, htmx=htmx)
            assert response.status_code == 404, (method, url, htmx)
            assert token not in response.get_data(as_text=True)
    assert revoked_at(db, "PM Job Search 2025") is None
    assert db.execute("SELECT COUNT(*) FROM pat_reveals").fetchone()[0] == 0


def test_htmx_request_with_expired_session_gets_hx_redirect(user_web):
    pat_id, _ = user_web.new_token()
    user_web.logout()
    for method, url in [
        ("get", f"/pats/{pat_id}/row"),
        ("post", f"/pats/{pat_id}/revoke"),
        ("post", f"/pats/{pat_id}/reveal"),
    ]:
        response = getattr(user_web, method)(url, htmx=True)
        assert response.status_code == 401
        assert response.headers["HX-Redirect"] == "/login"
        assert "<form" not in response.get_data(as_text=True)


def test_plain_request_without_session_redirects_to_login(web):
    response = web.get("/pats/")
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/login?next="
    )


def test_pages_render_for_a_new_account(web):
    web.register()
    for url in ["/pats/", "/pats/new", "/templates/", "/history/"]:
        page = web.get(url)
        assert page.status_code == 200, url
        assert "No " in page.get_data(as_text=True) or url == "/pats/new"
