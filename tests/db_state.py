"""Every row of every table, to show that a refused request changed nothing."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from matching.extensions import db


def snapshot(session: Session) -> dict[str, list[tuple]]:
    """All rows of all tables, in primary-key order (the test database is small)."""
    return {
        table.name: [
            tuple(row)
            for row in session.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for table in db.metadata.sorted_tables
    }


def changed_tables(before: dict, after: dict) -> list[str]:
    """The names of the tables whose rows differ between two snapshots."""
    return sorted(name for name in before if before[name] != after[name])


def empty_every_table(session: Session) -> None:
    """After a test that committed for real: every table empty again, ids from 1 (PostgreSQL).

    Naming the tables one by one forgot those added later (a proposal run's fingerprint
    outlived its test and made the next one see a run that never happened there).
    """
    names = ", ".join(table.name for table in db.metadata.sorted_tables)
    session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
