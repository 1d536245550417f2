"""Command-line commands: ``flask --app wsgi <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from matching.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(demo_data)


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
    from matching.auth import accounts
    from matching.auth.passwords import password_problem
    from matching.models import Role, utcnow
    from matching.services import audit

    email = accounts.normalise_email(email)
    if "@" not in email or len(email) > 254 or " " in email:
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
