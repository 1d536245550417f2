"""Engine settings that make SQLite behave like the PostgreSQL we run in production."""

from __future__ import annotations

import sqlite3

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin,
    # so SAVEPOINTs and rollbacks work as documented.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


def configure_engine(app: Flask) -> None:
    """Make sure the folder of a SQLite database file exists."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite://":
        from pathlib import Path

        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def render_migration_item(type_, obj, autogen_context):
    """Write our UTCDateTime as a plain timezone-aware DateTime in migration scripts."""
    from matching.models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def lock_row(session, obj, attribute_names=None) -> None:
    """Re-read ``obj`` under a row lock (``SELECT … FOR UPDATE``), keeping this transaction's edits.

    ``Session.refresh`` does not flush: changes a request made to the object before locking it
    would be overwritten by the stored values (an edit lost on "Veröffentlichen"). Flushing first
    writes them, so the re-read returns them and the lock covers them. Every row lock on an
    object goes through here.
    """
    session.flush()
    session.refresh(obj, attribute_names, with_for_update=True)
