"""Engine settings that make SQLite behave like the PostgreSQL we run in production."""

from __future__ import annotations

import math
import sqlite3

from flask import Flask
from sqlalchemy import Integer, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import NullType


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
    dbapi_connection.create_aggregate("percentile_cont", 2, PercentileCont)


class PercentileCont:
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY value)`` for SQLite,
    called as ``percentile_cont(value, fraction)``: NULLs are left out, and the value at
    ``fraction`` of the way through the sorted values is interpolated between the two nearest,
    computed as PostgreSQL computes it."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.0

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        position = self.fraction * (len(ordered) - 1)
        lower = math.floor(position)
        upper = math.ceil(position)
        below, above = ordered[lower], ordered[upper]
        return below + (above - below) * (position - lower) if upper > lower else below


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


class _Among(ColumnElement):
    """``column`` is one of ``ids``, written for the dialect at hand (see ``among``)."""

    inherit_cache = False
    type = NullType()

    def __init__(self, column, ids: list[int]) -> None:
        self.column = column
        self.ids = ids


@compiles(_Among)
def _among_in(element: _Among, compiler, **kw) -> str:
    return compiler.process(element.column.in_(element.ids), **kw)


@compiles(_Among, "postgresql")
def _among_any(element: _Among, compiler, **kw) -> str:
    array = bindparam(None, element.ids, type_=ARRAY(Integer))
    return compiler.process(element.column == any_(array), **kw)


def among(column, ids) -> ColumnElement:
    """``column`` is one of ``ids``: on PostgreSQL ``= ANY(:array)``, one parameter however many
    ids (an ``IN`` list of 50,000 ids costs the driver and the server more than the query);
    elsewhere an ordinary ``IN``."""
    return _Among(column, sorted(set(ids)))
