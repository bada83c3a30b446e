import re

import pytest

from pat_manager import tokens
from pat_manager.db import connect
from tests.conftest import PASSWORD


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def run(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input)


def test_init_db_reports_schema_version(runner):
    from pat_manager.migrations import LATEST

    result = run(runner, "init-db")
    assert result.exit_code == 0 and f"schema version {LATEST}." in result.output


def test_create_user_from_stdin_and_duplicate(runner, app):
    result = run(
        runner, "create-user", "cli@example.com", "--admin", input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "admin account cli@example.com" in result.output
    again = run(runner, "create-user", "cli@example.com", input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output


def test_create_user_bad_input(runner):
    assert (
        "valid email"
        in run(runner, "create-user", "nope", input=PASSWORD + "\n").output
    )
    short = run(runner, "create-user", "a@example.com", input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output


def test_create_template_and_pat_prints_only_the_token(runner, app, clock):
    run(runner, "create-user", "cli@example.com", input=PASSWORD + "\n")
    made = run(
        runner, "create-template", "cli@example.com", "Technical roles", "--default"
    )
    assert made.exit_code == 0, made.output
    result = run(
        runner,
        "create-pat",
        "cli@example.com",
        "--name",
        "Scripted search",
        "--template",
        "technical roles",
        "--expires-in",
        "45",
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert re.fullmatch(r"cvf_[0-9A-Za-z]{50}", token)
    assert tokens.parse(token) is not None
    client = app.test_client()
    info = client.get(
        "/api/v1/token", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert info["pat"]["template"]["name"] == "Technical roles"
    assert info["pat"]["expires_at"] == "2026-04-17T00:00:00Z"


def test_create_pat_errors(runner, app):
    run(runner, "create-user", "cli@example.com", input=PASSWORD + "\n")
    cases = [
        (["create-pat", "ghost@example.com", "--name", "X search"], "No account"),
        (
            ["create-pat", "cli@example.com", "--name", "X", "--template", "Nope"],
            "no template named",
        ),
        (
            [
                "create-pat",
                "cli@example.com",
                "--name",
                "X",
                "--template",
                "A",
                "--no-template",
            ],
            "not both",
        ),
        (["create-pat", "cli@example.com", "--name", "X", "--expires-in", "0"], "0"),
        (
            ["create-pat", "cli@example.com", "--name", "X", "--expires-in", "400"],
            "400",
        ),
        (["create-pat", "cli@example.com", "--name", "  "], "Give the PAT a name"),
    ]
    for args, message in cases:
        result = run(runner, *args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)


def test_limit_and_grant_slots(runner, app):
    run(runner, "create-user", "cli@example.com", input=PASSWORD + "\n")
    for n in range(3):
        assert (
            run(
                runner,
                "create-pat",
                "cli@example.com",
                "--name",
                f"S{n}",
                "--no-template",
            ).exit_code
            == 0
        )
    fourth = run(
        runner, "create-pat", "cli@example.com", "--name", "S3", "--no-template"
    )
    assert fourth.exit_code == 1 and "PAT limit reached" in fourth.output
    granted = run(runner, "grant-slots", "cli@example.com", "2")
    assert granted.exit_code == 0 and "5 active PATs" in granted.output
    assert (
        run(
            runner, "create-pat", "cli@example.com", "--name", "S3", "--no-template"
        ).exit_code
        == 0
    )
    assert run(runner, "grant-slots", "cli@example.com", "0").exit_code == 1
    assert "No account" in run(runner, "grant-slots", "x@example.com", "1").output
    assert run(runner, "grant-slots", "cli@example.com", "lots").exit_code == 2


def test_set_admin_gives_and_takes_the_role(runner, app, db):
    run(runner, "create-user", "first@example.com", input=PASSWORD + "\n")
    run(runner, "create-user", "second@example.com", input=PASSWORD + "\n")
    made = run(runner, "set-admin", "second@example.com")
    assert made.exit_code == 0 and "is now an administrator" in made.output
    taken = run(runner, "set-admin", "second@example.com", "--remove")
    assert "no longer an administrator" in taken.output
    assert (
        db.execute(
            "SELECT is_admin FROM users WHERE email = 'second@example.com'"
        ).fetchone()[0]
        == 0
    )
    missing = run(runner, "set-admin", "nobody@example.com")
    assert missing.exit_code == 1 and "No account" in missing.output


def test_no_expiry_flag(runner, app):
    run(runner, "create-user", "cli@example.com", input=PASSWORD + "\n")
    result = run(
        runner,
        "create-pat",
        "cli@example.com",
        "--name",
        "Forever",
        "--no-template",
        "--no-expiry",
    )
    assert result.exit_code == 0
    db = connect(app.config["DATABASE"])
    assert db.execute("SELECT expires_at FROM pats").fetchone()[0] is None
