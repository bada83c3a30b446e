"""Edit, pause and resume, rotate (with overlap and by policy), recreate, audit log."""

import re

import pytest

from pat_manager import jobs
from tests.conftest import PASSWORD, bearer


def api_token(app, token, **kwargs):
    return app.test_client().get("/api/v1/token", headers=bearer(token), **kwargs)


def pat_row(db, pat_id):
    cursor = db.execute("SELECT * FROM pats WHERE id = ?", (pat_id,))
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def audit_actions(db, pat_id):
    return [
        r[0]
        for r in db.execute(
            "SELECT action FROM audit_events WHERE pat_id = ? ORDER BY id", (pat_id,)
        )
    ]


# --- Edit ------------------------------------------------------------------


def test_edit_renames_changes_template_and_extends_expiry_keeping_the_token(
    app, user_web, db
):
    user_web.create_template("Design roles", default=False)
    design = db.execute("SELECT id FROM cv_templates WHERE name = 'Design roles'")
    design_id = design.fetchone()[0]
    pat_id, token = user_web.new_token("Old name")
    page = user_web.get(f"/pats/{pat_id}/edit")
    assert page.status_code == 200 and 'value="Old name"' in page.get_data(True)

    response = user_web.post(
        f"/pats/{pat_id}/edit",
        {
            "name": "Design search",
            "template_choice": "custom",
            "template_id": str(design_id),
            "expiry": "custom",
            "expires_on": "2027-01-31",
        },
    )
    assert response.status_code == 302
    row = pat_row(db, pat_id)
    assert (row["name"], row["template_choice"], row["template_id"]) == (
        "Design search",
        "custom",
        design_id,
    )
    assert row["expires_at"].startswith("2027-02-01T00:00:00")
    assert api_token(app, token).get_json()["pat"]["name"] == "Design search"
    listing = user_web.get("/pats/").get_data(as_text=True)
    assert "name “Old name” → “Design search”" in listing
    assert audit_actions(db, pat_id) == ["create", "edit"]


def test_edit_can_shorten_the_expiry_but_never_into_the_past_or_past_a_year(
    user_web, db
):
    pat_id, _ = user_web.new_token()
    before = pat_row(db, pat_id)["expires_at"]
    for day, message in (
        ("2026-03-02", "after today"),
        ("2025-12-31", "after today"),
        ("2027-03-03", "at most one year"),
    ):
        response = user_web.post(
            f"/pats/{pat_id}/edit", {"expiry": "custom", "expires_on": day}
        )
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert pat_row(db, pat_id)["expires_at"] == before
    shorter = user_web.post(
        f"/pats/{pat_id}/edit", {"expiry": "custom", "expires_on": "2026-03-03"}
    )
    assert shorter.status_code == 302
    assert pat_row(db, pat_id)["expires_at"].startswith("2026-03-04T00:00:00")


def test_edit_refuses_a_duplicate_name_and_saves_nothing(user_web, db):
    user_web.new_token("First")
    second, _ = user_web.new_token("Second")
    response = user_web.post(
        f"/pats/{second}/edit", {"name": "first", "expiry": "never"}
    )
    assert response.status_code == 422
    assert "already have an active PAT named" in response.get_data(as_text=True)
    row = pat_row(db, second)
    assert (row["name"], row["expires_at"] is None) == ("Second", False)


def test_edit_through_htmx_and_of_expired_or_other_accounts_pats(
    user_web, other_web, db, clock
):
    pat_id, _ = user_web.new_token("Short", expiry="30")
    ok = user_web.post(f"/pats/{pat_id}/edit", {"name": "Renamed"}, htmx=True)
    assert ok.status_code == 302 and pat_row(db, pat_id)["name"] == "Renamed"

    other_web.register("bob@example.com")
    for method in ("get", "post"):
        call = getattr(other_web, method)
        for htmx in (False, True):
            assert call(f"/pats/{pat_id}/edit", htmx=htmx).status_code == 404

    clock.advance(days=31)
    # An expired PAT has no form to fill in: the list says why, and offers a new one.
    for response in (
        user_web.get(f"/pats/{pat_id}/edit", follow_redirects=True),
        user_web.post(f"/pats/{pat_id}/edit", {"expiry": "90"}, follow_redirects=True),
    ):
        page = response.get_data(as_text=True)
        assert "This PAT has expired. Create a new PAT with the same settings" in page
        assert f"/pats/new?from={pat_id}" in page
    assert pat_row(db, pat_id)["name"] == "Renamed"


# --- Pause and resume -------------------------------------------------------


def test_paused_pat_is_refused_with_reason_paused_and_keeps_its_slot(
    app, make_app, user_web, db
):
    pat_id, token = user_web.new_token("Pausable")
    response = user_web.post(f"/pats/{pat_id}/pause", htmx=True)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.count("<article") == 1 and f'id="pat-{pat_id}"' in fragment
    assert "badge--paused" in fragment and "Resume" in fragment

    refused = api_token(app, token)
    assert refused.status_code == 401
    assert refused.get_json() == {
        "error": "invalid_token",
        "message": "Invalid PAT token",
        "reason": "paused",
    }
    outcome = db.execute(
        "SELECT outcome FROM usage_events WHERE pat_id = ? ORDER BY id DESC", (pat_id,)
    ).fetchone()[0]
    assert outcome == "paused"

    # Still a slot: with a limit of 3, two more fill it.
    user_web.new_token("Two")
    user_web.new_token("Three")
    assert user_web.create_pat("Four").status_code == 409

    # Its token can still be revealed: it is kept, not destroyed.
    revealed = user_web.post(f"/pats/{pat_id}/reveal", htmx=True)
    assert token in revealed.get_data(as_text=True)

    resumed = user_web.post(f"/pats/{pat_id}/resume")
    assert resumed.status_code == 302
    assert api_token(app, token).status_code == 200
    assert audit_actions(db, pat_id) == ["create", "pause", "reveal", "resume"]


def test_pause_twice_and_resume_of_an_active_pat_say_why(user_web):
    pat_id, _ = user_web.new_token()
    user_web.post(f"/pats/{pat_id}/pause")
    twice = user_web.post(f"/pats/{pat_id}/pause", htmx=True)
    assert "already paused" in twice.get_data(as_text=True)
    user_web.post(f"/pats/{pat_id}/resume")
    again = user_web.post(f"/pats/{pat_id}/resume", follow_redirects=True)
    assert "This PAT is not paused." in again.get_data(as_text=True)


def test_pause_and_resume_of_another_accounts_pat_is_404(user_web, other_web, db):
    pat_id, _ = user_web.new_token()
    other_web.register("bob@example.com")
    for action in ("pause", "resume", "rotate", "end-overlap"):
        for htmx in (False, True):
            response = other_web.post(f"/pats/{pat_id}/{action}", htmx=htmx)
            assert response.status_code == 404, action
    assert pat_row(db, pat_id)["paused_at"] is None


def test_htmx_pause_without_the_csrf_header_is_refused(app, user_web, db):
    pat_id, _ = user_web.new_token()
    response = user_web.client.post(
        f"/pats/{pat_id}/pause", headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert pat_row(db, pat_id)["paused_at"] is None


# --- Rotation -----------------------------------------------------------------


def rotate(web, pat_id, overlap, htmx=True, **extra):
    """Submit the rotate form as shown (it names the secret it replaces)."""
    form = web.get(f"/pats/{pat_id}/rotate", htmx=True).get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', form).group(1)
    data = {"overlap": str(overlap), "version": version, **extra}
    return web.post(f"/pats/{pat_id}/rotate", data, htmx=htmx)


def new_token_in(response) -> str:
    return re.search(
        r'value="(cvf_[0-9A-Za-z]+)"', response.get_data(as_text=True)
    ).group(1)


def test_rotation_with_an_overlap_keeps_the_old_token_until_the_clock_passes_it(
    app, user_web, db, clock
):
    pat_id, old = user_web.new_token("Rotating")
    form = user_web.get(f"/pats/{pat_id}/rotate", htmx=True).get_data(as_text=True)
    assert "Rotate “Rotating”?" in form and 'value="168"' in form

    response = rotate(user_web, pat_id, 1)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    new = new_token_in(response)
    assert new != old
    fragment = response.get_data(as_text=True)
    assert "The old one keeps working for 1 h 0 min" in fragment
    assert "data-countdown" in fragment

    assert api_token(app, new).status_code == 200
    during = api_token(app, old)
    assert during.status_code == 200
    assert during.get_json()["pat"]["old_token"] is True
    flags = db.execute(
        "SELECT old_secret FROM usage_events WHERE pat_id = ? ORDER BY id", (pat_id,)
    ).fetchall()
    assert flags == [(0,), (1,)]
    assert "old token" in user_web.get(f"/pats/{pat_id}/usage").get_data(as_text=True)

    clock.advance(minutes=59)
    assert api_token(app, old).status_code == 200
    clock.advance(minutes=2)
    after = api_token(app, old)
    assert after.status_code == 401
    assert after.get_json()["reason"] == "rotated"
    assert api_token(app, new).status_code == 200
    listing = user_web.get("/pats/").get_data(as_text=True)
    assert "old token still works" not in listing
    assert audit_actions(db, pat_id)[-1] == "rotate"


def test_rotation_without_overlap_stops_the_old_token_at_once(app, user_web):
    pat_id, old = user_web.new_token()
    new = new_token_in(rotate(user_web, pat_id, 0, htmx=False))
    assert api_token(app, old).get_json()["reason"] == "rotated"
    assert api_token(app, new).status_code == 200


def test_stop_the_old_token_now_and_revoke_both_end_the_overlap(app, user_web, db):
    pat_id, old = user_web.new_token()
    new = new_token_in(rotate(user_web, pat_id, 168))
    stopped = user_web.post(f"/pats/{pat_id}/end-overlap", htmx=True)
    assert "no longer works" in stopped.get_data(as_text=True)
    assert api_token(app, old).get_json()["reason"] == "rotated"

    second = new_token_in(rotate(user_web, pat_id, 24))
    assert api_token(app, new).status_code == 200
    user_web.post(f"/pats/{pat_id}/revoke")
    assert api_token(app, new).get_json()["reason"] == "revoked"
    assert api_token(app, second).get_json()["reason"] == "revoked"


def test_rotation_asks_for_the_password_when_it_is_not_fresh(app, user_web, clock):
    pat_id, old = user_web.new_token()
    clock.advance(minutes=11)
    asked = rotate(user_web, pat_id, 24)
    assert asked.status_code == 422
    assert "Enter your password" in asked.get_data(as_text=True)
    wrong = rotate(user_web, pat_id, 24, password="nope")
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    assert api_token(app, old).get_json().get("pat", {}).get("old_token") is False
    done = rotate(user_web, pat_id, 24, password=PASSWORD)
    assert done.status_code == 200 and new_token_in(done) != old


@pytest.mark.parametrize("overlap", ["2", "abc", ""])
def test_rotation_refuses_an_overlap_it_does_not_offer(app, user_web, overlap):
    pat_id, old = user_web.new_token()
    response = rotate(user_web, pat_id, overlap)
    assert response.status_code == 422
    assert "Choose how long the old token keeps working" in response.get_data(True)
    assert api_token(app, old).get_json()["pat"]["old_token"] is False


def test_a_paused_pat_is_resumed_before_rotating(user_web):
    pat_id, _ = user_web.new_token()
    user_web.post(f"/pats/{pat_id}/pause")
    response = rotate(user_web, pat_id, 24)
    assert response.status_code == 422
    assert "Resume this PAT before rotating it." in response.get_data(True)


def test_rotation_policy_rotates_from_the_scheduler_and_tells_the_owner(
    app, user_web, db, clock
):
    pat_id, old = user_web.new_token("Policy", rotation_days="30")
    user_web.post(f"/pats/{pat_id}/edit", {"rotation_overlap_hours": "168"})
    first_public_id = pat_row(db, pat_id)["public_id"]

    clock.advance(days=29)
    assert jobs.run_job(db, "rotate_due", clock.now(), app.config) == "0 PATs rotated"
    clock.advance(days=1, minutes=1)
    assert jobs.run_job(db, "rotate_due", clock.now(), app.config) == "1 PATs rotated"
    assert jobs.run_job(db, "rotate_due", clock.now(), app.config) == "0 PATs rotated"
    row = pat_row(db, pat_id)
    assert row["public_id"] != first_public_id
    assert api_token(app, old).get_json()["pat"]["old_token"] is True
    clock.advance(days=7, minutes=1)
    assert api_token(app, old).get_json()["reason"] == "rotated"

    notice = db.execute(
        "SELECT kind, title, body FROM notifications WHERE pat_id = ?", (pat_id,)
    ).fetchone()
    assert notice[0] == "rotated" and "“Policy” has a new token" in notice[1]
    assert "7 days" in notice[2]
    entry = db.execute(
        "SELECT ip, detail FROM audit_events WHERE pat_id = ? AND action = 'rotate'",
        (pat_id,),
    ).fetchone()
    assert entry[0] is None and "rotation policy: every 30 days" in entry[1]
    # The next rotation counts from this one.
    clock.advance(days=22)
    assert jobs.run_job(db, "rotate_due", clock.now(), app.config) == "0 PATs rotated"


def test_rotation_policy_skips_paused_and_revoked_pats(app, user_web, db, clock):
    paused, _ = user_web.new_token("Paused", rotation_days="30")
    revoked, _ = user_web.new_token("Revoked", rotation_days="30")
    user_web.post(f"/pats/{paused}/pause")
    user_web.post(f"/pats/{revoked}/revoke")
    clock.advance(days=31)
    assert jobs.run_job(db, "rotate_due", clock.now(), app.config) == "0 PATs rotated"


# --- Recreate ---------------------------------------------------------------


def test_a_revoked_pat_offers_a_new_one_with_the_same_settings(user_web, db):
    user_web.create_template("Design roles", default=False)
    design_id = db.execute(
        "SELECT id FROM cv_templates WHERE name = 'Design roles'"
    ).fetchone()[0]
    pat_id, _ = user_web.new_token(
        "Coach Access - Sarah",
        template_choice="custom",
        template_id=str(design_id),
        expiry="30",
        scopes_sent="1",
        scopes=["submissions:write", "submissions:read"],
        allowed_networks="203.0.113.0/24",
        rotation_days="60",
    )
    active_card = user_web.get("/pats/").get_data(as_text=True)
    assert f"/pats/new?from={pat_id}" not in active_card
    assert user_web.get(f"/pats/new?from={pat_id}").status_code == 302

    user_web.post(f"/pats/{pat_id}/revoke")
    assert f"/pats/new?from={pat_id}" in user_web.get("/pats/").get_data(True)
    form = user_web.get(f"/pats/new?from={pat_id}").get_data(as_text=True)
    assert 'value="Coach Access - Sarah"' in form
    assert re.search(rf'<option value="{design_id}" selected>', form)
    assert re.search(r'value="30" checked', form)
    assert "203.0.113.0/24</textarea>" in form
    assert re.search(r'value="submissions:read" checked', form)
    assert re.search(r'<option value="60" selected>', form)


def test_recreate_of_another_accounts_pat_is_404(user_web, other_web):
    pat_id, _ = user_web.new_token()
    user_web.post(f"/pats/{pat_id}/revoke")
    other_web.register("bob@example.com")
    assert other_web.get(f"/pats/new?from={pat_id}").status_code == 404


# --- Audit log --------------------------------------------------------------


def test_audit_log_lists_every_change_in_the_owners_timezone(user_web, other_web, db):
    user_web.post("/settings/", {"timezone": "Asia/Tokyo"})
    pat_id, _ = user_web.new_token("Audited")
    user_web.post(f"/pats/{pat_id}/reveal")
    user_web.post(f"/pats/{pat_id}/edit", {"name": "Audited 2"})
    user_web.post(f"/pats/{pat_id}/pause")
    user_web.post(f"/pats/{pat_id}/resume")
    rotate(user_web, pat_id, 0)
    user_web.post(
        "/pats/bulk", {"action": "revoke", "ids": str(pat_id), "confirm": "1"}
    )
    page = user_web.get("/audit/").get_data(as_text=True)
    for label in (
        "Created",
        "Revealed",
        "Edited",
        "Paused",
        "Resumed",
        "Rotated",
        "Revoked",
    ):
        assert label in page
    assert "bulk revoke of 1" in page
    # 12:00 UTC is 21:00 in Tokyo.
    assert "2026-03-02 21:00" in page
    assert "127.0.0.1" in page

    other_web.register("bob@example.com")
    assert "Audited" not in other_web.get("/audit/").get_data(as_text=True)
    assert other_web.get(f"/audit/?pat={pat_id}").status_code == 404
