"""Bulk actions, clean up, moving PATs off a deleted template, and giving
"needs template" submissions a template later."""

import re

from pat_manager import bulk
from pat_manager.accounts import get_user
from tests.conftest import bearer


def states(db):
    return {
        name: (revoked is not None, paused is not None)
        for name, revoked, paused in db.execute(
            "SELECT name, revoked_at, paused_at FROM pats ORDER BY id"
        )
    }


def three(user_web):
    return [user_web.new_token(name)[0] for name in ("Row one", "Row two", "Row three")]


def test_bulk_revoke_of_rows_one_and_three_of_three_revokes_exactly_those(
    app, user_web, db
):
    ids = three(user_web)
    tokens = {}
    for pat_id in ids:
        page = user_web.post(f"/pats/{pat_id}/reveal", htmx=True).get_data(True)
        tokens[pat_id] = re.search(r'value="(cvf_[0-9A-Za-z]+)"', page).group(1)
    chosen = {"action": "revoke", "ids": [str(ids[0]), str(ids[2])]}

    review = user_web.post("/pats/bulk", chosen, htmx=True)
    assert review.status_code == 200
    text = review.get_data(as_text=True)
    assert "This will change 2 of the 2 selected PATs" in text
    assert "Row one" in text and "Row three" in text and "Row two" not in text
    assert 'name="confirm" value="1"' in text
    assert states(db) == {
        n: (False, False) for n in ("Row one", "Row two", "Row three")
    }

    done = user_web.post("/pats/bulk", {**chosen, "confirm": "1"}, htmx=True)
    result = done.get_data(as_text=True)
    assert "2 PATs changed, 0 refused." in result
    # The two revoked cards come back out of band; the middle one is untouched.
    oob_cards = re.findall(
        r'<article[^>]*id="pat-(\d+)"[^>]*hx-swap-oob="true"', result
    )
    assert oob_cards == [str(ids[0]), str(ids[2])]
    assert 'id="slots" class="slots" hx-swap-oob="true"' in result
    assert states(db) == {
        "Row one": (True, False),
        "Row two": (False, False),
        "Row three": (True, False),
    }
    client = app.test_client()
    for pat_id, expected in zip(ids, (401, 200, 401), strict=True):
        got = client.get("/api/v1/token", headers=bearer(tokens[pat_id]))
        assert got.status_code == expected


def test_bulk_pause_mixing_allowed_and_refused_rows_reports_each(user_web, db):
    ids = three(user_web)
    user_web.post(f"/pats/{ids[1]}/pause")
    user_web.post(f"/pats/{ids[2]}/revoke")
    data = {"action": "pause", "ids": [str(i) for i in ids]}
    review = user_web.post("/pats/bulk", data).get_data(as_text=True)
    assert "This will change 1 of the 3 selected PATs" in review
    assert "Refused: Already paused." in review
    assert "Refused: Already revoked." in review

    done = user_web.post("/pats/bulk", {**data, "confirm": "1"})
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "1 PAT changed, 2 refused." in text
    assert "✓ Paused: refused until resumed" in text
    assert states(db) == {
        "Row one": (False, True),
        "Row two": (False, True),
        "Row three": (True, False),
    }


def test_bulk_resume_set_template_and_set_expiration(user_web, db):
    ids = three(user_web)
    user_web.create_template("Design roles", default=False)
    design = db.execute("SELECT id FROM cv_templates WHERE name = 'Design roles'")
    design_id = design.fetchone()[0]
    user_web.post(
        "/pats/bulk", {"action": "pause", "ids": [str(i) for i in ids], "confirm": "1"}
    )
    resumed = user_web.post(
        "/pats/bulk", {"action": "resume", "ids": [str(ids[0])], "confirm": "1"}
    )
    assert "1 PAT changed" in resumed.get_data(as_text=True)
    assert states(db)["Row one"] == (False, False)

    user_web.post(
        "/pats/bulk",
        {
            "action": "set_template",
            "template_pick": str(design_id),
            "ids": [str(ids[0]), str(ids[1])],
            "confirm": "1",
        },
    )
    assert db.execute(
        "SELECT template_choice, template_id FROM pats ORDER BY id"
    ).fetchall() == [("custom", design_id), ("custom", design_id), ("default", None)]

    user_web.post(
        "/pats/bulk",
        {
            "action": "set_expiration",
            "expiry": "custom",
            "expires_on": "2026-04-30",
            "ids": [str(i) for i in ids],
            "confirm": "1",
        },
    )
    expiries = [r[0] for r in db.execute("SELECT expires_at FROM pats ORDER BY id")]
    assert all(e.startswith("2026-05-01T00:00:00") for e in expiries)


def test_bulk_with_nothing_selected_is_an_error_not_a_no_op(user_web, db):
    three(user_web)
    for htmx in (False, True):
        response = user_web.post("/pats/bulk", {"action": "revoke"}, htmx=htmx)
        assert response.status_code == 422
        assert "Select at least one PAT first." in response.get_data(as_text=True)
    assert not any(revoked for revoked, _ in states(db).values())


def test_bulk_refuses_bad_actions_and_bad_parameters(user_web, db):
    ids = three(user_web)
    for data, message in (
        ({"action": "explode"}, "Choose what to do with the selected PATs"),
        (
            {
                "action": "set_expiration",
                "expiry": "custom",
                "expires_on": "2020-01-01",
            },
            "after today",
        ),
        ({"action": "set_template", "template_pick": "99999"}, "does not exist"),
        ({"action": "revoke", "ids": ["1", "x"]}, "not a PAT"),
    ):
        payload = {"ids": [str(ids[0])], "confirm": "1", **data}
        response = user_web.post("/pats/bulk", payload)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert not any(revoked for revoked, _ in states(db).values())


def test_bulk_naming_another_accounts_pat_is_404_and_changes_nothing(
    user_web, other_web, db
):
    ada_id, _ = user_web.new_token("Ada's")
    other_web.register("bob@example.com")
    bob_id, _ = other_web.new_token("Bob's")
    for htmx in (False, True):
        for confirm in ("", "1"):
            response = other_web.post(
                "/pats/bulk",
                {
                    "action": "revoke",
                    "ids": [str(bob_id), str(ada_id)],
                    "confirm": confirm,
                },
                htmx=htmx,
            )
            assert response.status_code == 404
            assert "Ada" not in response.get_data(as_text=True)
    assert states(db) == {"Ada's": (False, False), "Bob's": (False, False)}


def test_select_all_without_javascript_ticks_every_box(user_web):
    ids = three(user_web)
    page = user_web.get("/pats/?select=all").get_data(as_text=True)
    for pat_id in ids:
        assert re.search(rf'value="{pat_id}" form="bulk"[^>]*checked', page, re.S)
    plain = user_web.get("/pats/").get_data(as_text=True)
    assert re.search(r'form="bulk"[^>]*checked', plain) is None


def test_clean_up_lists_unused_pats_then_revokes_those_still_unused(
    app, user_web, db, clock
):
    used_id, used_token = user_web.new_token("Used")
    idle_id, _ = user_web.new_token("Idle")
    clock.advance(days=20)
    app.test_client().get("/api/v1/token", headers=bearer(used_token))
    clock.advance(days=15)

    page = user_web.get("/pats/cleanup?days=30").get_data(as_text=True)
    assert "Idle" in page and "Used" not in page
    assert "never used" in page
    assert (
        "Every active or paused PAT was used within the last 60 days"
        in user_web.get("/pats/cleanup?days=60").get_data(True)
    )

    # Used between showing the list and confirming it: kept.
    both = {"days": "10", "ids": [str(used_id), str(idle_id)]}
    done = user_web.post("/pats/cleanup", both).get_data(as_text=True)
    assert "2 unused PATs revoked." in done
    assert states(db) == {"Used": (True, False), "Idle": (True, False)}


def test_clean_up_keeps_a_pat_used_after_the_list_was_shown(app, user_web, db, clock):
    pat_id, token = user_web.new_token("Came back")
    clock.advance(days=40)
    assert "Came back" in user_web.get("/pats/cleanup?days=30").get_data(True)
    app.test_client().get("/api/v1/token", headers=bearer(token))
    done = user_web.post("/pats/cleanup", {"days": "30", "ids": str(pat_id)})
    text = done.get_data(as_text=True)
    assert "0 unused PATs revoked." in text and "Used since the list was made" in text
    assert states(db) == {"Came back": (False, False)}


def test_clean_up_refuses_bad_days_and_other_accounts_pats(user_web, other_web, db):
    pat_id, _ = user_web.new_token()
    for days in ("0", "-3", "abc", "99999"):
        response = user_web.get(f"/pats/cleanup?days={days}")
        assert response.status_code == 422
        assert "Enter a number of days" in response.get_data(as_text=True)
    assert user_web.post("/pats/cleanup", {"days": "30"}).status_code == 422
    other_web.register("bob@example.com")
    response = other_web.post("/pats/cleanup", {"days": "1", "ids": str(pat_id)})
    assert response.status_code == 404
    assert states(db) == {"PM Job Search 2025": (False, False)}


def test_unused_since_counts_paused_pats_and_skips_expired_ones(
    app, user_web, db, clock
):
    paused, _ = user_web.new_token("Paused", expiry="90")
    user_web.new_token("Expiring", expiry="30")
    user_web.post(f"/pats/{paused}/pause")
    clock.advance(days=45)
    user = get_user(db, 1)
    names = [p["name"] for p in bulk.unused_since(db, user.id, 30, clock.now())]
    assert names == ["Paused"]


# --- Templates -----------------------------------------------------------------


def template_id(db, name):
    return db.execute("SELECT id FROM cv_templates WHERE name = ?", (name,)).fetchone()[
        0
    ]


def test_deleting_a_template_moves_its_pats_to_another_template(app, user_web, db):
    user_web.create_template("Design roles", default=False)
    tech, design = template_id(db, "Technical roles"), template_id(db, "Design roles")
    custom_id, token = user_web.new_token(
        "Custom", template_choice="custom", template_id=str(tech)
    )
    user_web.new_token("Follows default")
    page = user_web.get(f"/templates/{tech}/delete").get_data(as_text=True)
    assert "Custom" in page and "Follows default (through the account default)" in page
    assert "it also becomes the account default" in page

    response = user_web.post(
        f"/templates/{tech}/delete",
        {"move_to": "template", "move_template_id": str(design)},
    )
    assert response.status_code == 302
    assert db.execute(
        "SELECT template_choice, template_id FROM pats ORDER BY id"
    ).fetchall() == [
        ("custom", design),
        ("default", None),
    ]
    assert db.execute("SELECT default_template_id FROM users").fetchone()[0] == design
    submitted = app.test_client().post(
        "/api/v1/submissions",
        json={"url": "https://jobs.example/1"},
        headers=bearer(token),
    )
    assert submitted.get_json()["template"]["name"] == "Design roles"
    detail = db.execute(
        "SELECT detail FROM audit_events WHERE pat_id = ? AND action = 'template'",
        (custom_id,),
    ).fetchone()[0]
    assert "moved to “Design roles”" in detail


def test_deleting_a_template_can_move_pats_to_the_account_default_or_leave_them(
    app, user_web, db
):
    user_web.create_template("Design roles", default=False)
    tech, design = template_id(db, "Technical roles"), template_id(db, "Design roles")
    pat_id, token = user_web.new_token(
        "On design", template_choice="custom", template_id=str(design)
    )
    user_web.post(f"/templates/{design}/delete", {"move_to": "default"})
    assert db.execute("SELECT template_choice FROM pats").fetchone()[0] == "default"

    # The account default itself cannot be the target when it is the one going.
    refused = user_web.post(f"/templates/{tech}/delete", {"move_to": "default"})
    assert refused.status_code == 422
    assert "no other default" in refused.get_data(as_text=True)
    user_web.post(f"/templates/{tech}/delete", {"move_to": "leave"})
    info = app.test_client().get("/api/v1/token", headers=bearer(token)).get_json()
    assert info["pat"]["template_status"] == "not_found"
    assert "CV template not found" in user_web.get("/pats/").get_data(True)
    assert "CV template not found" in user_web.get("/usage").get_data(True)


def test_moving_to_another_accounts_template_is_refused(user_web, other_web, db):
    other_web.register("bob@example.com")
    other_web.create_template("Bob's")
    user_web.new_token("Mine")
    tech = template_id(db, "Technical roles")
    response = user_web.post(
        f"/templates/{tech}/delete",
        {"move_to": "template", "move_template_id": str(template_id(db, "Bob's"))},
    )
    assert response.status_code == 422
    assert db.execute("SELECT COUNT(*) FROM cv_templates").fetchone()[0] == 2


def test_needs_template_submissions_get_one_later_one_by_one_or_in_bulk(
    app, user_web, other_web, db
):
    _, token = user_web.new_token("Exploring", template_choice="none")
    client = app.test_client()
    for n in range(3):
        client.post(
            "/api/v1/submissions",
            json={"url": f"https://jobs.example/{n}", "title": f"Job {n}"},
            headers=bearer(token),
        )
    page = user_web.get("/history/").get_data(as_text=True)
    assert page.count("Needs template</span>") == 3
    assert "3 submissions were made with no template" in page
    tech = template_id(db, "Technical roles")
    ids = [r[0] for r in db.execute("SELECT id FROM submissions ORDER BY id")]

    one = user_web.post(
        "/history/assign", {"ids": str(ids[0]), "template_id": str(tech)}
    )
    assert one.status_code == 302
    many = user_web.post(
        "/history/assign",
        {"ids": [str(i) for i in ids], "template_id": str(tech)},
        follow_redirects=True,
    )
    text = many.get_data(as_text=True)
    assert "2 submissions now use “Technical roles”." in text
    assert "1 submission already had a template and kept it." in text
    assert db.execute("SELECT DISTINCT template_name FROM submissions").fetchall() == [
        ("Technical roles",)
    ]
    listed = client.get("/api/v1/token", headers=bearer(token))
    assert listed.status_code == 200

    nothing = user_web.post(
        "/history/assign", {"template_id": str(tech)}, follow_redirects=True
    )
    assert "Select at least one submission first." in nothing.get_data(as_text=True)

    other_web.register("bob@example.com")
    other_web.create_template("Bob's")
    bob_template = template_id(db, "Bob's")
    for data in (
        {"ids": str(ids[0]), "template_id": str(bob_template)},
        {"ids": str(ids[0]), "template_id": str(tech)},
    ):
        assert other_web.post("/history/assign", data).status_code == 404
    assert db.execute("SELECT DISTINCT template_name FROM submissions").fetchall() == [
        ("Technical roles",)
    ]
