"""Command-line commands: ``flask --app wsgi <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from matching import limits
from matching.extensions import db


def register(app: Flask) -> None:
    from jobs.cli import digest_group, jobs_group, outbox_group

    app.cli.add_command(create_admin)
    app.cli.add_command(demo_data)
    app.cli.add_command(match_group)
    # The scheduler runs only as `jobs run`, its own process; the rest are single runs.
    app.cli.add_command(jobs_group)
    app.cli.add_command(digest_group)
    app.cli.add_command(outbox_group)


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Passwort", hide_input=True, confirmation_prompt="Passwort wiederholen")
    return sys.stdin.readline().rstrip("\n")


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--first-name", default="Admin", show_default=True, help="Vorname")
def create_admin(email: str, first_name: str) -> None:
    """Make EMAIL an administrator (password from a prompt, or one line on stdin)."""
    from matching import audit
    from matching.auth import accounts
    from matching.auth.passwords import password_problem
    from matching.models import Role, utcnow

    email = accounts.normalise_email(email)
    if "@" not in email or len(email) > limits.EMAIL_MAX or " " in email:
        raise click.BadParameter("keine gültige E-Mail-Adresse", param_hint="EMAIL")
    user = accounts.find_by_email(db.session, email)
    now = utcnow()
    if user is None:
        password = _read_password()
        problem = password_problem(password, email=email)
        if problem:
            raise click.ClickException(problem)
        user = accounts.register(
            db.session,
            email=email,
            password=password,
            first_name=first_name,
            last_name="",
            role=Role.ADMIN,
            locale="de",
            privacy_version=current_app.config["PRIVACY_VERSION"],
            now=now,
        )
        accounts.confirm(db.session, user, now)
    for role in (Role.ADMIN, Role.COORDINATOR):
        user.add_role(role)
    audit.record(db.session, None, "account.make_admin", "user", user.id, now=now)
    db.session.commit()
    click.echo(f"{email} ist jetzt Administrator:in und Koordinator:in.")


@click.command("demo-data")
@with_appcontext
def demo_data() -> None:
    """Load demo people, initiatives and needs (idempotent; never in production)."""
    from matching import demo

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("Demo-Daten werden in der Produktionsumgebung nicht geladen.")
    summary = demo.load(db.session)
    db.session.commit()
    click.echo(summary.report())
    # The coordinator's queue starts with the engine's proposals, as the jobs process would
    # leave it; a second load proposes nothing new.
    from jobs import registry
    from jobs.cli import summary_line
    from matching.models import utcnow

    proposed = registry.BY_NAME["propose_matches"].run(db.session, utcnow())
    click.echo(f"Vorschläge berechnet: {summary_line(proposed)}")


@click.group("match")
def match_group() -> None:
    """Run the matching engine."""


@match_group.command("propose")
@click.option("--dry-run", is_flag=True, help="Nur berechnen, nichts speichern.")
@click.option("--json", "as_json", is_flag=True, help="Ergebnis als JSON ausgeben.")
@click.option(
    "--force",
    is_flag=True,
    help="Auch rechnen, wenn sich seit dem letzten Lauf nichts geändert hat.",
)
@with_appcontext
def match_propose(dry_run: bool, as_json: bool, force: bool) -> None:
    """Propose experts for all open needs (skips pairs already proposed, rejected or declined)."""
    import json

    from matching.matches import autorun
    from matching.models import utcnow

    show_progress = sys.stderr.isatty() and not as_json

    def progress(done: int, total: int) -> None:
        if show_progress:
            click.echo(f"\rVorschläge: {done}/{total}", nl=done == total, err=True)

    from matching.matches.proposals import TooLong

    # The job's run without its record: same lock, so it never races the jobs process.
    try:
        run = autorun.run(
            db.session, None, utcnow(), dry_run=dry_run, progress=progress, force=force
        )
    except TooLong as exc:  # nothing of it is kept
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, **run.as_dict()}, ensure_ascii=False))
        return
    open_needs = _counted(run.needs_open, "offene Anfrage", "offene Anfragen")
    if run.unchanged_since is not None:
        click.echo(
            f"Unverändert seit {run.unchanged_since_text()}: {open_needs}, "
            "keine neuen Vorschläge (--force rechnet trotzdem)."
        )
        return
    verb = "würde vorschlagen" if dry_run else "vorgeschlagen"
    experts = _counted(run.proposed, "Expert:in", "Expert:innen")
    without = _counted(len(run.needs_without_candidate), "Anfrage", "Anfragen")
    click.echo(
        f"{open_needs}, {run.needs_covered} mit Vorschlag; "
        f"{experts} {verb}, mittlerer Score {run.mean_score:.2f}; "
        f"{without} ohne passende Person."
    )


def _counted(count: int, one: str, many: str) -> str:
    """ "1 Anfrage", "2 Anfragen": the command's lines are German, like its messages."""
    return f"{count} {one if count == 1 else many}"
