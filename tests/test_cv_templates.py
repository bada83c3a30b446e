def test_create_list_rename_and_default(user_web, db):
    page = user_web.get("/templates/").get_data(as_text=True)
    assert "Technical roles" in page and "Default" in page

    user_web.create_template("Leadership", "Managing teams", default=False)
    leadership = db.execute(
        "SELECT id FROM cv_templates WHERE name = 'Leadership'"
    ).fetchone()[0]
    assert (
        user_web.post("/templates/default", {"template_id": leadership}).status_code
        == 302
    )
    assert (
        db.execute("SELECT default_template_id FROM users").fetchone()[0] == leadership
    )

    response = user_web.post(
        f"/templates/{leadership}", {"name": "Leadership roles", "content": "v2"}
    )
    assert response.status_code == 302
    assert db.execute(
        "SELECT name, content FROM cv_templates WHERE id = ?", (leadership,)
    ).fetchone() == ("Leadership roles", "v2")


def test_template_name_rules(user_web):
    assert user_web.create_template("  ").status_code == 422
    assert user_web.create_template("x" * 81).status_code == 422
    duplicate = user_web.create_template("technical ROLES")
    assert duplicate.status_code == 422
    assert "already have a template named" in duplicate.get_data(as_text=True)


def test_clearing_default(user_web, db):
    assert user_web.post("/templates/default", {"template_id": ""}).status_code == 302
    assert db.execute("SELECT default_template_id FROM users").fetchone()[0] is None


def test_delete_lists_pats_that_will_break(user_web, db):
    template_id = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    user_web.new_token("Coach Access - Sarah")
    page = user_web.get(f"/templates/{template_id}/delete").get_data(as_text=True)
    assert "Coach Access - Sarah" in page and "CV template not found" in page
    assert user_web.post(f"/templates/{template_id}/delete").status_code == 302
    assert db.execute("SELECT COUNT(*) FROM cv_templates").fetchone()[0] == 0
    pats_page = user_web.get("/pats/").get_data(as_text=True)
    assert "CV template not found" in pats_page


def test_other_accounts_templates_are_404(user_web, other_web, db):
    template_id = db.execute("SELECT id FROM cv_templates").fetchone()[0]
    other_web.register("bob@example.com")
    assert other_web.get(f"/templates/{template_id}").status_code == 404
    assert (
        other_web.post(f"/templates/{template_id}", {"name": "mine"}).status_code == 404
    )
    assert other_web.post(f"/templates/{template_id}/delete").status_code == 404
    assert (
        other_web.post("/templates/default", {"template_id": template_id}).status_code
        == 404
    )
    assert (
        db.execute("SELECT name FROM cv_templates").fetchone()[0] == "Technical roles"
    )
