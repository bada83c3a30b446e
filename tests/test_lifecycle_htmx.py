"""The lifecycle forms that are whole pages (not inline card actions) also work
when htmx sends them (HX-Request), as they do without it."""

import pytest

from tests.conftest import Web, bearer


@pytest.mark.parametrize("htmx", [False, True])
def test_page_forms_work_with_and_without_htmx(app, user_web, db, clock, htmx):
    _, exploring = user_web.new_token("Exploring", template_choice="none")
    idle_id, _ = user_web.new_token("Idle")
    app.test_client().post(
        "/api/v1/submissions",
        json={"url": "https://jobs.example/1"},
        headers=bearer(exploring),
    )
    tech = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    sub_id = db.execute("SELECT id FROM submissions").fetchone()[0]

    assigned = user_web.post(
        "/history/assign", {"ids": str(sub_id), "template_id": str(tech)}, htmx=htmx
    )
    assert assigned.status_code == 302
    assert (
        db.execute("SELECT template_name FROM submissions").fetchone()[0]
        == "Technical roles"
    )

    clock.advance(days=31)
    cleaned = user_web.post(
        "/pats/cleanup", {"days": "30", "ids": str(idle_id)}, htmx=htmx
    )
    assert cleaned.status_code == 200 and "1 unused PAT revoked." in cleaned.get_data(
        True
    )

    recreate = user_web.get(f"/pats/new?from={idle_id}", htmx=htmx)
    assert recreate.status_code == 200 and 'value="Idle"' in recreate.get_data(True)

    user_web.create_template("Design roles", default=False)
    design = db.execute(
        "SELECT id FROM cv_templates WHERE name = 'Design roles'"
    ).fetchone()[0]
    deleted = user_web.post(
        f"/templates/{design}/delete", {"move_to": "default"}, htmx=htmx
    )
    assert deleted.status_code == 302
    assert db.execute("SELECT COUNT(*) FROM cv_templates").fetchone()[0] == 1

    for n in range(2):
        user_web.new_token(f"Filler {n}")
    asked = user_web.post(
        "/pats/slots/",
        {"slots": "1", "reason": "A PAT for my coach, please."},
        htmx=htmx,
    )
    assert asked.status_code == 302
    request_id = db.execute("SELECT id FROM slot_requests").fetchone()[0]
    decided = user_web.post(
        f"/admin/requests/{request_id}",
        {"decision": "approve", "granted": "2"},
        htmx=htmx,
    )
    assert decided.status_code == 302
    assert db.execute("SELECT extra_pat_slots FROM users").fetchone()[0] == 2


def test_a_second_admin_sees_the_same_requests(app, user_web, db):
    bob = Web(app.test_client())
    bob.register("bob@example.com")
    assert bob.get("/admin/").status_code == 404
    db.execute("UPDATE users SET is_admin = 1 WHERE email = 'bob@example.com'")
    assert bob.get("/admin/").status_code == 200
