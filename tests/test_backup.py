"""A backup restores: on a SQLite file here, and on PostgreSQL when the suite runs against it."""

import os
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from config import TestingConfig
from matching import create_app
from matching.backup import BackupError, create, restore
from matching.extensions import db
from matching.matches import proposals, volunteer_pool
from matching.models import Need, User

OWN_DB = f"vernetzer_backup_{os.getpid()}"


class FileConfig(TestingConfig):
    def __init__(self, uri: str) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = uri


def _round_trip(app, tmp_path: Path) -> None:
    with app.app_context():
        runner = app.test_cli_runner()
        assert runner.invoke(args=["demo-data"]).exit_code == 0
        users = db.session.scalar(select(func.count()).select_from(User))
        backup = tmp_path / "sicherung.bin"
        result = runner.invoke(args=["backup", "create", str(backup)])
        assert result.exit_code == 0, result.output
        db.session.execute(text("DELETE FROM need_phases"))
        db.session.execute(text("DELETE FROM matches"))
        db.session.execute(text("DELETE FROM needs"))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Need)) == 0
        kept = app.extensions["volunteer_pool"]
        volunteer_pool.pool(db.session, proposals.approved_volunteer_records)
        loads = kept.full_loads
        db.session.remove()
        result = runner.invoke(args=["backup", "restore", "--yes", str(backup)])
        assert result.exit_code == 0, result.output
        assert db.session.scalar(select(func.count()).select_from(Need)) == 20
        assert db.session.scalar(select(func.count()).select_from(User)) == users
        # What processes kept of the old content is not used after a restore.
        volunteer_pool.pool(db.session, proposals.approved_volunteer_records)
        assert kept.full_loads == loads + 1


def test_sqlite_backup_restores(tmp_path):
    app = create_app(FileConfig(f"sqlite:///{tmp_path / 'live.db'}"))
    with app.app_context():
        upgrade()
    _round_trip(app, tmp_path)


def test_postgresql_backup_restores(app, tmp_path):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL); CI's second leg runs it")
        uri = app.config["SQLALCHEMY_DATABASE_URI"]
    # A database of its own, so the shared test database is not touched.
    admin = create_app(FileConfig(uri))
    with admin.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {OWN_DB}"))
            conn.execute(text(f"CREATE DATABASE {OWN_DB}"))
        db.engine.dispose()
    own = uri.rsplit("/", 1)[0] + "/" + OWN_DB
    app2 = create_app(FileConfig(own))
    try:
        with app2.app_context():
            upgrade()
        _round_trip(app2, tmp_path)
    finally:
        with app2.app_context():
            db.engine.dispose()
        with admin.app_context():
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {OWN_DB}"))
            db.engine.dispose()


def test_restore_refuses_a_missing_or_foreign_file(tmp_path):
    app = create_app(FileConfig(f"sqlite:///{tmp_path / 'live.db'}"))
    with app.app_context():
        upgrade()
        with pytest.raises(BackupError, match="gibt es nicht"):
            restore(tmp_path / "fehlt.bin")
        junk = tmp_path / "kaputt.bin"
        junk.write_text("keine Datenbank")
        with pytest.raises(BackupError, match="keine SQLite-Sicherung"):
            restore(junk)
        result = app.test_cli_runner().invoke(args=["backup", "restore", "--yes", str(junk)])
        assert result.exit_code == 1 and "keine SQLite-Sicherung" in result.output
        assert create(tmp_path / "ok.bin").stat().st_size > 0
        db.engine.dispose()


def test_backup_refuses_targets_that_cannot_hold_one_with_a_sentence(tmp_path):
    """The database itself (which waited for its own lock for ever), a directory, a file that
    is no database, no name at all: a one-line message and exit 1, never a traceback or a hang;
    the database and the file are left as they were."""
    live = tmp_path / "live.db"
    app = create_app(FileConfig(f"sqlite:///{live}"))
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        text_file = tmp_path / "notiz.txt"
        text_file.write_text("keine Datenbank")
        cases = {  # a directory is refused by the command line itself (exit 2, usage error)
            str(live): (1, "die Datenbank selbst"),
            str(tmp_path): (2, "is a directory"),
            str(text_file): (1, "lässt sich keine Sicherung schreiben"),
            "": (1, "Bitte geben Sie den Namen der Sicherungsdatei an"),
        }
        before = live.read_bytes()
        for target, (code, words) in cases.items():
            result = runner.invoke(args=["backup", "create", target])
            assert result.exit_code == code, (target, result.output)
            assert words in result.output, (target, result.output)
            assert "Traceback" not in result.output
        assert live.read_bytes() == before
        assert text_file.read_text() == "keine Datenbank"
        for target, (code, words) in {
            str(live): (1, "die Datenbank selbst"),
            str(tmp_path): (2, "is a directory"),
            "/dev/null": (1, "keine gewöhnliche Datei"),
            "": (1, "Bitte geben Sie die Sicherungsdatei an"),
        }.items():
            result = runner.invoke(args=["backup", "restore", "--yes", target])
            assert result.exit_code == code, (target, result.output)
            assert words in result.output, (target, result.output)
        db.engine.dispose()
