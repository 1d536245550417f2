"""Fixtures: the app, a database rolled back after each test, a client, log-in helpers, factories.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import event, text
from sqlalchemy.pool import NullPool
from support import DEFAULT_PASSWORD, AuthActions, IsolatedClient

from config import TestingConfig
from matching import create_app
from matching.auth.passwords import hash_password
from matching.extensions import db as _db
from matching.extensions import limiter
from matching.matches import volunteer_pool
from matching.models import (
    Initiative,
    InitiativeMember,
    Need,
    NeedPhase,
    NeedStatus,
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)
from matching.reference import PHASE_CODES


def _admin_engine(url: str):
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def pytest_sessionstart(session) -> None:
    """On PostgreSQL, run in a database of this run's own, so parallel runs cannot collide."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql") or os.environ.get("TEST_DATABASE_SHARED") == "1":
        return
    name = f"vernetzer_test_{os.getpid()}"
    with _admin_engine(base).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    os.environ["TEST_DATABASE_URL_BASE"] = base
    os.environ["TEST_DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name


def pytest_sessionfinish(session, exitstatus) -> None:
    base = os.environ.pop("TEST_DATABASE_URL_BASE", None)
    if base is None:
        return
    own = os.environ["TEST_DATABASE_URL"]
    os.environ["TEST_DATABASE_URL"] = base
    for engines in list(_db._app_engines.values()):
        for engine in engines.values():
            engine.dispose()
    with _admin_engine(base).connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.rsplit("/", 1)[1]}" WITH (FORCE)'))


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy picks the engine per model; in a test everything uses one connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind


def _reset_schema(app: Flask) -> None:
    """Start from an empty database and build it through the migrations."""
    engine = _db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade()


@pytest.fixture(scope="session", autouse=True)
def _close_database_pools() -> Iterator[None]:
    """Close the pooled connections of every app the tests built, so none is left open."""
    yield
    for engines in list(_db._app_engines.values()):
        for engine in engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    app = create_app(TestingConfig())
    with app.app_context():
        _reset_schema(app)
    yield app


@pytest.fixture()
def db(app: Flask):
    """A session whose work is rolled back after the test, even when it commits."""
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _ConnectionBoundSession,
            }
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            connection.close()
            # The rollback took back what the test committed: no kept pool may outlive it.
            app.extensions["volunteer_pool"].changed(volunteer_pool.Change(everything=True))


@pytest.fixture(autouse=True)
def _fresh_limits_and_mail(app: Flask) -> Iterator[None]:
    with app.app_context():
        limiter.reset()
    app.extensions["mail_backend"].outbox.clear()
    yield


@pytest.fixture()
def mailbox(app: Flask) -> list:
    """The mails the app sent during this test (memory backend)."""
    return app.extensions["mail_backend"].outbox


@pytest.fixture()
def client(app: Flask, db) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture()
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


_HASHES: dict[str, str] = {}


@pytest.fixture()
def make_user(db):
    """Create a user: ``make_user(email=..., roles=(Role.VOLUNTEER,), confirmed=True)``."""
    counter = {"n": 0}

    def factory(
        email: str | None = None,
        *,
        roles=(Role.VOLUNTEER,),
        confirmed: bool = True,
        password: str = DEFAULT_PASSWORD,
        first_name: str = "Erika",
        locale: str = "de",
    ):
        counter["n"] += 1
        if password not in _HASHES:  # hashing is most of a test's time; the result is the same
            _HASHES[password] = hash_password(password)
        user = User(
            email=email or f"person{counter['n']}@example.org",
            password_hash=_HASHES[password],
            first_name=first_name,
            last_name="Muster",
            locale=locale,
            confirmed_at=utcnow() if confirmed else None,
            privacy_version="test",
        )
        for role in roles:
            user.add_role(role)
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture()
def make_volunteer(db, make_user):
    """A volunteer with a profile: ``make_volunteer(status="approved", levels={...}, ...)``."""

    def factory(
        email: str | None = None,
        *,
        status: str = ProfileStatus.APPROVED,
        levels: dict | None = None,
        districts=("ost",),
        whole_city: bool = False,
        languages=("de",),
        capacity: int = 2,
        first_name: str = "Vera",
    ):
        user = make_user(email, roles=(Role.VOLUNTEER,), first_name=first_name)
        profile = VolunteerProfile(
            user=user,
            status=status,
            whole_city=whole_city,
            capacity=capacity,
            submitted_at=utcnow(),
        )
        chosen = levels or {"start": 3, "cooperation": 2}
        profile.levels = [VolunteerPhaseLevel(phase=p, level=chosen.get(p, 0)) for p in PHASE_CODES]
        profile.district_rows = [VolunteerDistrict(district=d) for d in districts]
        profile.language_rows = [VolunteerLanguage(language=lang) for lang in languages]
        db.session.add(profile)
        db.session.commit()
        return profile

    return factory


@pytest.fixture()
def make_initiative(db, make_user):
    """An initiative with one member: ``make_initiative(name=..., district=...)`` → (initiative, user)."""

    def factory(name: str = "Nachbarschaft Ost", *, district: str = "ost", member=None):
        member = member or make_user(roles=(Role.INITIATIVE,), first_name="Ines")
        initiative = Initiative(name=name, district=district)
        initiative.member_rows.append(InitiativeMember(user=member))
        db.session.add(initiative)
        db.session.commit()
        return initiative, member

    return factory


@pytest.fixture()
def make_need(db):
    """A need of an initiative: ``make_need(initiative, status="open", phases=("start",))``."""

    def factory(
        initiative,
        *,
        status: str = NeedStatus.OPEN,
        phases=("start",),
        district: str | None = None,
        title: str = "Wir suchen Rat",
        language: str = "de",
        published_at=None,
    ):
        now = utcnow()
        need = Need(
            initiative=initiative,
            title=title,
            description="Beschreibung",
            district=district or initiative.district,
            status=status,
            language=language,
            published_at=published_at or (now if status != NeedStatus.DRAFT else None),
        )
        need.phase_rows = [NeedPhase(phase=p) for p in phases]
        db.session.add(need)
        db.session.commit()
        return need

    return factory


# Transaction control is not work a page does per row.
_BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture()
def count_queries(db):
    """``with count_queries() as statements: ...`` collects the SQL sent inside the block.

    Listens on the engine, which also hears the single connection the test session is bound to.
    """

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
            if not statement.startswith(_BOOKKEEPING):
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before_cursor_execute)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before_cursor_execute)

    return counting
