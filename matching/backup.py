"""Back up and restore the database: ``flask --app wsgi backup create|restore FILE``.

SQLite is copied with its online backup API (consistent while the service runs);
PostgreSQL is dumped with ``pg_dump --format=custom`` and restored with
``pg_restore --clean --if-exists`` into the same database, in one transaction.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from matching.extensions import db
from matching.matches import volunteer_pool


class BackupError(Exception):
    """A backup or restore could not be done; the message says why."""


def _pg_env(url) -> tuple[list[str], dict[str, str]]:
    args = ["--dbname", url.database or "postgres"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} fehlt; bitte das PostgreSQL-Client-Paket installieren.")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(done.stderr.strip() or f"{cmd[0]} ist fehlgeschlagen.")


def _target(path: Path) -> None:
    """Refuse a backup target that cannot hold one: nothing named, or not a plain file."""
    if not str(path).strip() or path.name in ("", ".", ".."):
        raise BackupError("Bitte geben Sie den Namen der Sicherungsdatei an.")
    if path.exists() and not path.is_file():
        raise BackupError(f"{path} ist keine gewöhnliche Datei; bitte eine andere wählen.")
    if path.parent.exists() and not path.parent.is_dir():
        raise BackupError(f"{path.parent} ist kein Verzeichnis.")


def create(path: Path) -> Path:
    """Write a consistent copy of the database to ``path``."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    _target(path)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("Eine Datenbank im Arbeitsspeicher lässt sich nicht sichern.")
        if path.exists() and path.resolve() == Path(url.database).resolve():
            # Copying a file onto itself would wait for its own lock for ever.
            raise BackupError(f"{path} ist die Datenbank selbst; bitte eine andere Datei wählen.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(url.database) as source, sqlite3.connect(path) as target:
                source.backup(target)
        except (sqlite3.Error, OSError) as exc:
            raise BackupError(f"In {path} lässt sich keine Sicherung schreiben: {exc}") from exc
        return path
    if url.get_backend_name() == "postgresql":
        args, env = _pg_env(url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(f"In {path} lässt sich keine Sicherung schreiben: {exc}") from exc
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(path), *args], env)
        return path
    raise BackupError(f"Sicherung für {url.get_backend_name()} wird nicht unterstützt.")


def restore(path: Path) -> None:
    """Replace the database's content with the backup in ``path``."""
    _restore(path)
    # Whatever the web processes keep of the old content goes (the volunteers' pool).
    current_app.extensions["volunteer_pool"].changed(volunteer_pool.Change(everything=True))


def _restore(path: Path) -> None:
    if not str(path).strip() or path.name in ("", ".", ".."):
        raise BackupError("Bitte geben Sie die Sicherungsdatei an.")
    if not path.exists():
        raise BackupError(f"Die Datei {path} gibt es nicht.")
    if not path.is_file():
        raise BackupError(f"{path} ist keine gewöhnliche Datei und damit keine Sicherung.")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the old database open
    if url.get_backend_name() == "sqlite":
        if url.database and path.resolve() == Path(url.database).resolve():
            raise BackupError(f"{path} ist die Datenbank selbst, keine Sicherung.")
        try:
            with sqlite3.connect(path) as source:
                source.execute("PRAGMA schema_version").fetchone()
                with sqlite3.connect(url.database) as target:
                    source.backup(target)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} ist keine SQLite-Sicherung: {exc}") from exc
        return
    if url.get_backend_name() == "postgresql":
        args, env = _pg_env(url)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                str(path),
            ],
            env,
        )
        return
    raise BackupError(f"Wiederherstellen für {url.get_backend_name()} wird nicht unterstützt.")


@click.group("backup")
def backup_group() -> None:
    """Back up or restore the database."""


@backup_group.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def create_command(file: Path) -> None:
    """Write a backup of the database to FILE."""
    try:
        create(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Sicherung geschrieben: {file} ({file.stat().st_size} Bytes)")


@backup_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Ohne Rückfrage wiederherstellen.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database's content with the backup in FILE."""
    if not yes:
        click.confirm("Alle jetzigen Daten werden ersetzt. Fortfahren?", abort=True)
    try:
        restore(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wiederhergestellt aus {file}.")
