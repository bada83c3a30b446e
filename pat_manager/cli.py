"""The `pat-manager` command: the app's Flask CLI plus admin commands."""

from __future__ import annotations

import os
import random
import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import accounts, backup, cv_templates, demo, idempotency, jobs, pats, usage
from .clock import local_today
from .config import ConfigError
from .db import get_db, transaction
from .errors import PatLimitReached, ValidationError
from .migrations import schema_version


def _now():
    return current_app.config["CLOCK"].now()


def _user(email: str) -> accounts.User:
    user = accounts.find_by_email(get_db(), email)
    if user is None:
        raise click.ClickException(
            f"No account with email {email}. Create it with create-user."
        )
    return user


def _fail(exc: ValidationError):
    raise click.ClickException(" ".join(exc.fields.values()))


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException(
            "No password on stdin: pipe one line, or run in a terminal."
        )
    return password


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or migrate the database (also done at every start-up)."""
    click.echo(
        f"Database {current_app.config['DATABASE']} is at schema version "
        f"{schema_version(get_db())}."
    )


@click.command("create-user")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Make the account an administrator.")
@with_appcontext
def create_user_command(email, admin):
    """Create an account; the password is prompted for, or read from stdin."""
    password = _read_password()
    try:
        user = accounts.create_user(get_db(), email, password, _now(), admin=admin)
    except ValidationError as exc:
        _fail(exc)
    click.echo(f"Created {'admin ' if user.is_admin else ''}account {user.email}.")


@click.command("create-template")
@click.argument("email")
@click.argument("name")
@click.option(
    "--default", "make_default", is_flag=True, help="Make it the account default."
)
@click.option("--content", default="", help="The template's text.")
@with_appcontext
def create_template_command(email, name, make_default, content):
    """Create a CV template for an account."""
    user = _user(email)
    try:
        template = cv_templates.create(
            get_db(), user.id, name, content, _now(), make_default
        )
    except ValidationError as exc:
        _fail(exc)
    suffix = " (default)" if make_default else ""
    click.echo(f"Created template “{template['name']}”{suffix} for {user.email}.")


@click.command("create-pat")
@click.argument("email")
@click.option(
    "--name", required=True, help="What the PAT is for, e.g. 'PM Job Search 2025'."
)
@click.option("--template", "template_name", help="Use this template (by name).")
@click.option("--no-template", is_flag=True, help="Submissions get no template.")
@click.option(
    "--expires-in",
    type=click.IntRange(1, pats.MAX_CUSTOM_DAYS),
    help="Days until expiry.",
)
@click.option("--no-expiry", is_flag=True, help="Never expires (not recommended).")
@with_appcontext
def create_pat_command(email, name, template_name, no_template, expires_in, no_expiry):
    """Create a PAT and print only its token, for scripts."""
    if template_name and no_template:
        raise click.UsageError("Use --template or --no-template, not both.")
    if expires_in and no_expiry:
        raise click.UsageError("Use --expires-in or --no-expiry, not both.")
    db, user = get_db(), _user(email)
    template_id, choice = None, "none" if no_template else "default"
    if template_name:
        template = cv_templates.find_by_name(db, user.id, template_name)
        if template is None:
            raise click.ClickException(
                f"{user.email} has no template named {template_name!r}."
            )
        template_id, choice = template["id"], "custom"
    expiry, expires_on = ("never" if no_expiry else "90"), None
    if expires_in in (30, 90):
        expiry = str(expires_in)
    elif expires_in:
        # Any other count is a date, like the form's custom choice: the end of that day.
        expiry = "custom"
        expires_on = (
            local_today(_now(), user.timezone) + timedelta(days=expires_in)
        ).isoformat()
    try:
        created = pats.create(
            db,
            user,
            name=name,
            template_choice=choice,
            template_id=template_id,
            expiry=expiry,
            expires_on=expires_on,
            now=_now(),
            free_tier_limit=current_app.config["FREE_TIER_PAT_LIMIT"],
            token_key=current_app.extensions["pat_manager.token_key"],
        )
    except ValidationError as exc:
        _fail(exc)
    except PatLimitReached as exc:
        raise click.ClickException(
            f"PAT limit reached: {user.email} already has {exc.limit} active PATs. Revoke one, "
            f"or raise the limit with: pat-manager grant-slots {user.email} N"
        ) from None
    click.echo(created.token)


@click.command("grant-slots")
@click.argument("email")
@click.argument("slots", type=int)
@with_appcontext
def grant_slots_command(email, slots):
    """Allow an account N more active PATs than the free tier."""
    try:
        user = accounts.grant_slots(get_db(), email, slots)
    except ValidationError as exc:
        _fail(exc)
    limit = pats.pat_limit(user, current_app.config["FREE_TIER_PAT_LIMIT"])
    click.echo(f"{user.email} may now have {limit} active PATs.")


@click.command("set-admin")
@click.argument("email")
@click.option("--remove", is_flag=True, help="Take the administrator role away.")
@with_appcontext
def set_admin_command(email, remove):
    """Make an account an administrator (it answers requests for more PATs)."""
    try:
        user = accounts.set_admin(get_db(), email, not remove)
    except ValidationError as exc:
        _fail(exc)
    click.echo(
        f"{user.email} is {'now' if user.is_admin else 'no longer'} an administrator."
    )


@click.command("prune-usage")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=None,
    help="Keep this many days (default: PAT_MANAGER_USAGE_RETENTION_DAYS).",
)
@with_appcontext
def prune_usage_command(days):
    """Delete raw usage log rows older than the retention period (rollups stay)."""
    days = days or current_app.config["USAGE_RETENTION_DAYS"]
    db = get_db()
    deleted = usage.prune(db, _now(), days)
    with transaction(db):
        keys = idempotency.prune(db, _now())
    click.echo(
        f"Deleted {deleted} usage log rows older than {days} days"
        f" and {keys} expired idempotency keys."
    )


@click.command("seed-demo")
@click.argument("email")
@click.option(
    "--events",
    type=click.IntRange(1, 10_000_000),
    default=1000,
    show_default=True,
    help="How many API requests to invent.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=90,
    show_default=True,
    help="Spread them over this many past days.",
)
@click.option(
    "--seed",
    "rng_seed",
    type=int,
    default=None,
    help="Random seed, for repeatable data.",
)
@with_appcontext
def seed_demo_command(email, events, days, rng_seed):
    """Fill an account with realistic demo PATs, submissions and usage."""
    user = _user(email)
    with click.progressbar(length=events, label="Seeding", file=sys.stderr) as bar:
        try:
            result = demo.seed(
                get_db(),
                user,
                events=events,
                days=days,
                now=_now(),
                free_tier_limit=current_app.config["FREE_TIER_PAT_LIMIT"],
                token_key=current_app.extensions["pat_manager.token_key"],
                rng=random.Random(rng_seed),
                progress=bar.update,
            )
        except ValueError as exc:
            raise click.ClickException(f"Cannot seed {user.email}: {exc}.") from None
    click.echo(
        f"Added {result['events']} requests ({result['submissions']} submissions) "
        f"to {user.email} across: {', '.join(result['pats'])}."
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(path):
    """Write a consistent copy of the database to PATH, safe while the app serves."""
    try:
        size = backup.backup(current_app.config["DATABASE"], path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Backed up {current_app.config['DATABASE']} to {path} ({size:,} bytes)."
    )
    click.echo(
        "Keep instance/secret_key safe too: without it no PAT in the backup works."
    )
    if not get_db().conn.execute("SELECT COUNT(*) FROM users").fetchone()[0]:
        click.echo(
            "Warning: this database has no accounts. Is PAT_MANAGER_INSTANCE_PATH (or"
            " PAT_MANAGER_DATABASE) set to the server's?",
            err=True,
        )


@click.group("jobs")
def jobs_group():
    """The scheduler's jobs: list them, or run one by hand."""


@jobs_group.command("list")
@with_appcontext
def jobs_list_command():
    """Each job, how often it runs, and its last run."""
    db = get_db()
    for name, job in jobs.JOBS.items():
        row = db.conn.execute(
            "SELECT last_started_at, last_error FROM job_runs WHERE name = ?", (name,)
        ).fetchone()
        last = row[0] if row and row[0] else "never"
        error = f"  last error: {row[1]}" if row and row[1] else ""
        click.echo(
            f"{name:<18} every {job.every}  last run {last}  {job.description}{error}"
        )


@jobs_group.command("run")
@click.argument("name", type=click.Choice(sorted(jobs.JOBS)))
@with_appcontext
def jobs_run_command(name):
    """Run one job now (safe while the scheduler runs: jobs are idempotent)."""
    try:
        result = jobs.run_job(get_db(), name, _now(), current_app.config)
    except Exception as exc:
        raise click.ClickException(f"{name} failed: {exc}") from None
    click.echo(f"{name}: {result}")


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=lambda: os.environ.get("PORT", 8000),
    show_default="PORT or 8000",
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@with_appcontext
def run_command(host, port, workers):
    """Serve the app with gunicorn (what `make run` does)."""
    from .server import serve

    serve(current_app._get_current_object(), host=host, port=port, workers=workers)


def register_commands(app) -> None:
    for command in (
        init_db_command,
        create_user_command,
        create_template_command,
        create_pat_command,
        grant_slots_command,
        set_admin_command,
        prune_usage_command,
        seed_demo_command,
        backup_command,
        jobs_group,
    ):
        app.cli.add_command(command)


def _create_app(*_args, **_kwargs):
    from . import create_app

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


class _Cli(FlaskGroup):
    def __init__(self, **kwargs):
        super().__init__(
            create_app=_create_app,
            add_default_commands=False,
            add_version_option=False,
            load_dotenv=False,
            set_debug_flag=False,
            **kwargs,
        )
        # Flask's --app, --env-file and --debug would only confuse here: the app
        # is always ours and configured by PAT_MANAGER_* variables.
        self.params = [
            p for p in self.params if p.name not in ("app", "env_file", "debug")
        ]
        self.add_command(run_command)


cli = _Cli(
    help="Manage pat-manager: serve it, set up its database, add users, PATs and slots."
)


def main():
    cli.main(prog_name="pat-manager")
