"""Engine settings that make SQLite behave like the PostgreSQL we run in production."""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import date, datetime

from flask import Flask
from sqlalchemy import (
    JSON,
    Integer,
    Text,
    any_,
    bindparam,
    cast,
    event,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
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
    """``column`` is one of ``ids``, written for the dialect at hand (see ``among``).

    It holds both forms as children, so SQLAlchemy's statement cache knows its shape and takes
    each call's ids from its bound parameters: the SQL is compiled once per statement, not per
    call (a kept pool catching up on one volunteer runs nine of these).
    """

    inherit_cache = True
    type = NullType()
    _traverse_internals = [
        ("listed", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column, ids: list[int]) -> None:
        self.listed = column.in_(ids)
        self.array = column == any_(bindparam(None, ids, type_=ARRAY(Integer)))


@compiles(_Among)
def _among_in(element: _Among, compiler, **kw) -> str:
    return compiler.process(element.listed, **kw)


@compiles(_Among, "postgresql")
def _among_any(element: _Among, compiler, **kw) -> str:
    return compiler.process(element.array, **kw)


def among(column, ids) -> ColumnElement:
    """``column`` is one of ``ids``: on PostgreSQL ``= ANY(:array)``, one parameter however many
    ids (an ``IN`` list of 50,000 ids costs the driver and the server more than the query);
    elsewhere an ordinary ``IN``. ``ids`` may also be a one-column ``select``: then
    ``IN (SELECT …)``, no ids travel at all."""
    if isinstance(ids, Select):
        return column.in_(ids)
    return _Among(column, sorted(set(ids)))


def insert_rows(session, model, rows: list[dict], returning=(), **options):
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table in one statement.

    On PostgreSQL an ``INSERT … SELECT FROM json_populate_recordset(NULL::table, :rows)``: the
    rows travel as one JSON text, so neither the driver nor the server handles thousands of
    parameters (a VALUES list of 1,000 rows cost the driver more than the insert; arrays per
    column cost it as much in escaping). The table's own column types read the values.
    Elsewhere an ordinary bulk insert. Columns left out get their defaults as in any insert;
    ``options`` are the statement's execution options (the session's listeners read them).
    Returns the result (``returning`` columns, in no particular order).
    """
    statement = insert(model)
    if returning:
        statement = statement.returning(*returning)
    statement = statement.execution_options(**options)
    if session.get_bind().dialect.name != "postgresql":
        return session.execute(statement, rows)
    keys = list(rows[0])
    table = model.__table__
    payload = json.dumps(
        [{key: row[key] for key in keys} for row in rows],
        default=_json_value,
        ensure_ascii=False,  # umlauts as they are: a third of the escapes, a smaller text
    )
    records = func.json_populate_recordset(
        literal_column(f"NULL::{table.name}"), cast(bindparam("rows", payload, type_=Text), JSON)
    ).table_valued(*keys)
    return session.execute(statement.from_select(keys, select(*(records.c[key] for key in keys))))


def _json_value(value):
    """Times and days as PostgreSQL reads them; a time without its zone is refused (see
    ``UTCDateTime``)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times with their zone (UTC)")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
