"""Walk every route as a second account: the first account's objects are 404."""

from tests.conftest import bearer

MARKERS = [
    "Ada's secret search",
    "SecretCorp",
    "Ada-only template",
    "ada@example.com",
    "Ada-only notice body",
]


def test_every_route_hides_another_accounts_objects(app, user_web, other_web, db):
    user_web.create_template(MARKERS[2], default=False)
    pat_id, token = user_web.new_token(MARKERS[0])
    app.test_client().post(
        "/api/v1/submissions",
        json={"url": "https://x.example/1", "company": MARKERS[1]},
        headers=bearer(token),
    )
    template_id = db.execute(
        "SELECT id FROM cv_templates WHERE name = ?", (MARKERS[2],)
    ).fetchone()[0]
    db.execute(
        "INSERT INTO notifications (id, user_id, pat_id, kind, title, body, dedupe_key, created_at)"
        " VALUES (77, 1, ?, 'expired', 'Ada notice', 'Ada-only notice body', 'k', '2026-03-02T12:00:00.000000Z')",
        (pat_id,),
    )
    db.execute(
        "INSERT INTO slot_requests (id, user_id, slots, reason, created_at)"
        " VALUES (5, 1, 2, 'Ada wants more', '2026-03-02T12:00:00.000000Z')"
    )
    ids = {
        "pat_id": pat_id,
        "template_id": template_id,
        "notice_id": 77,
        "request_id": 5,
    }

    other_web.register("bob@example.com")
    other_web.create_template("Bob's template")
    _, bob_token = other_web.new_token("Bob's search")

    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("auth."):
            continue  # no objects there, and logging out would end the walk
        args = {name: ids[name] for name in rule.arguments if name in ids}
        assert set(rule.arguments) == set(args), f"unknown argument in {rule.rule}"
        url = rule.rule
        for name, value in args.items():
            url = url.replace(f"<id:{name}>", str(value))
        for method in sorted(rule.methods - {"OPTIONS"}):
            for htmx in (False, True):
                if rule.rule.startswith("/api/"):
                    response = other_web.client.open(
                        url,
                        method=method,
                        headers=bearer(bob_token),
                        json={"url": "https://x.example/b"},
                    )
                elif method == "GET":
                    response = other_web.get(url, htmx=htmx)
                elif method == "HEAD":
                    response = other_web.client.head(url)
                else:
                    # Ada's ids in the body too, for the forms that name
                    # objects there (bulk actions, history, clean up).
                    response = other_web.post(
                        url,
                        {
                            "template_choice": "none",
                            "password": "x",
                            "ids": str(pat_id),
                            "action": "revoke",
                            "confirm": "1",
                            "template_id": str(template_id),
                            "decision": "approve",
                            "granted": "3",
                        },
                        htmx=htmx,
                    )
                body = response.get_data(as_text=True)
                if args:
                    assert response.status_code == 404, (
                        method,
                        url,
                        htmx,
                        response.status_code,
                    )
                for marker in MARKERS:
                    assert marker not in body, (method, url, marker)
                walked += 1
    assert walked > 40
    ada = db.execute(
        "SELECT revoked_at, reviewed_at, template_choice, paused_at, name,"
        " public_id FROM pats WHERE id = ?",
        (pat_id,),
    ).fetchone()
    assert ada[:5] == (None, None, "default", None, MARKERS[0])
    assert token.startswith("cvf_" + ada[5])  # not rotated
    assert db.execute("SELECT status FROM slot_requests").fetchone()[0] == "open"
    assert (
        db.execute("SELECT extra_pat_slots FROM users WHERE id = 1").fetchone()[0] == 0
    )
    assert (
        db.execute("SELECT COUNT(*) FROM cv_templates WHERE user_id = 1").fetchone()[0]
        == 2
    )
    assert db.execute("SELECT COUNT(*) FROM pat_reveals").fetchone()[0] == 0
    assert (
        db.execute("SELECT read_at FROM notifications WHERE id = 77").fetchone()[0]
        is None
    )
