"""Faults: PostgreSQL, Redis or the SMTP server goes away, and the service answers cleanly.

- PostgreSQL: the app talks to it through a TCP relay that the test cuts and restores (restarting
  the machine's real server would disturb everything else on it). While it is cut every page is
  the German 503 page, /healthz is a 503 JSON, and afterwards the app recovers by itself.
- Redis: a real gunicorn in production mode whose rate-limit store is a closed port. Log-in
  works, and is still throttled, from each process's memory (config.py says why).
- SMTP: a request whose mail cannot be delivered answers as usual; the mail waits in the
  outbox, pending with its error, for the next drain.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from http_client import Browser
from http_client import csrf_from as _csrf
from relay import TcpRelay
from smtp import free_port
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from support import DEFAULT_PASSWORD, IsolatedClient, post_form

from config import TestingConfig
from matching import create_app
from matching.auth import sessions
from matching.auth.passwords import hash_password
from matching.extensions import db as _db
from matching.mail.backends import SmtpBackend
from matching.models import OutboxMessage, OutboxStatus, Role, User, utcnow

ROOT = Path(__file__).resolve().parents[1]
DOWN_TITLE = "Gerade nicht erreichbar"


# ---------------------------------------------------------------- PostgreSQL unreachable


@pytest.fixture()
def relayed_app(app):
    """A second app whose database connections all pass through a relay the test can cut."""
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL); CI's second leg runs it")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    with TcpRelay(url.host or "127.0.0.1", url.port or 5432) as relay:
        config = TestingConfig()
        config.SQLALCHEMY_DATABASE_URI = url.set(
            host="127.0.0.1", port=relay.port
        ).render_as_string(hide_password=False)
        relayed = create_app(config)
        relayed.test_client_class = IsolatedClient
        with relayed.app_context():
            user = User(
                email="ausfall@example.org",
                password_hash=hash_password(DEFAULT_PASSWORD),
                first_name="Paula",
                confirmed_at=utcnow(),
                privacy_version=config.PRIVACY_VERSION,
            )
            user.add_role(Role.VOLUNTEER)
            _db.session.add(user)
            _db.session.flush()
            session_key = sessions.start(_db.session, user, utcnow())
            _db.session.commit()
            user_id = user.id
            _db.session.remove()
        relayed.config["FAULTS_SESSION_KEY"] = session_key
        try:
            yield relayed, relay, user_id
        finally:
            relay.restore()
            with relayed.app_context():
                _db.session.execute(
                    text("DELETE FROM user_roles WHERE user_id = :id"), {"id": user_id}
                )
                _db.session.execute(
                    text("DELETE FROM user_sessions WHERE user_id = :id"), {"id": user_id}
                )
                _db.session.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
                _db.session.commit()
                _db.session.remove()
                _db.engine.dispose()


def _logged_in(app, user_id: int):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}.1"
        session["_fresh"] = True
        session[sessions.COOKIE_KEY] = app.config["FAULTS_SESSION_KEY"]
    return client


def _assert_down_page(response) -> None:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert DOWN_TITLE in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_database_outage_gives_the_503_page_and_recovers_by_itself(relayed_app):
    app, relay, user_id = relayed_app
    visitor = app.test_client()
    member = _logged_in(app, user_id)
    assert visitor.get("/anfragen").status_code == 200
    assert member.get("/konto").status_code == 200
    assert visitor.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    login_token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"',
        visitor.get("/anmelden").get_data(as_text=True),
    ).group(1)

    relay.cut()
    _assert_down_page(visitor.get("/anfragen"))
    _assert_down_page(visitor.get("/anfragen/1"))
    # Loading the logged-in person fails too; the page must not need them.
    _assert_down_page(member.get("/konto"))
    _assert_down_page(member.get("/"))
    _assert_down_page(
        visitor.post(
            "/anmelden",
            data={"csrf_token": login_token, "email": "ausfall@example.org", "password": "x" * 12},
        )
    )
    health = visitor.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "error", "database": "unreachable"}
    # Still logged in afterwards: an outage does not end anyone's session.
    with member.session_transaction() as session:
        assert session["_user_id"] == f"{user_id}.1"

    relay.restore()
    assert visitor.get("/healthz").status_code == 200
    assert visitor.get("/anfragen").status_code == 200
    page = member.get("/konto")
    assert page.status_code == 200
    assert "ausfall@example.org" in page.get_data(as_text=True)


def _get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode(), dict(exc.headers)


def test_gunicorn_answers_503_while_the_database_is_away_and_recovers(app, tmp_path):
    """The production server (two workers, pooled connections) through an outage and back."""
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL); CI's second leg runs it")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    with TcpRelay(url.host or "127.0.0.1", url.port or 5432) as relay:
        env = {
            **os.environ,
            "VERNETZER_ENV": "production",
            "BASE_URL": "http://127.0.0.1",
            "SECRET_KEY": "database-outage-" + "x" * 30,
            "DATABASE_URL": url.set(host="127.0.0.1", port=relay.port).render_as_string(
                hide_password=False
            ),
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOG_FORMAT": "json",
        }
        env.pop("TEST_DATABASE_URL", None)
        with _gunicorn(env, tmp_path / "server.log", workers=2) as base:
            for _ in range(8):  # every worker holds a pooled connection when the cut comes
                assert _get(base + "/anfragen")[0] == 200

            relay.cut()
            for _ in range(8):
                status, page, headers = _get(base + "/anfragen")
                assert status == 503
                assert DOWN_TITLE in page and "Traceback" not in page
                assert headers["Retry-After"] == "30"
            assert _get(base + "/healthz")[0] == 503

            relay.restore()
            deadline = time.monotonic() + 10
            while _get(base + "/healthz")[0] != 200:
                assert time.monotonic() < deadline, "did not recover within 10 s"
                time.sleep(0.1)
            assert [_get(base + "/anfragen")[0] for _ in range(8)] == [200] * 8
        log = (tmp_path / "server.log").read_text()
        assert "database unreachable on GET /anfragen" in log
        assert "Traceback" not in log and '"status":500' not in log


# ---------------------------------------------------------------- Redis down


class _FileConfig(TestingConfig):
    def __init__(self, uri: str) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = uri


@pytest.fixture()
def server_without_redis(tmp_path):
    """gunicorn in production mode (one worker) whose rate-limit store, Redis, is not there."""
    from flask_migrate import upgrade

    database = f"sqlite:///{tmp_path / 'live.db'}"
    setup = create_app(_FileConfig(database))
    with setup.app_context():
        upgrade()
        user = User(
            email="redis@example.org",
            password_hash=hash_password(DEFAULT_PASSWORD),
            first_name="Rita",
            confirmed_at=utcnow(),
            privacy_version="2026-11",
        )
        user.add_role(Role.VOLUNTEER)
        _db.session.add(user)
        _db.session.commit()
        _db.session.remove()
        _db.engine.dispose()
    env = {
        **os.environ,
        "VERNETZER_ENV": "production",
        "BASE_URL": "http://127.0.0.1",
        "SECRET_KEY": "redis-is-down-" + "x" * 30,
        "DATABASE_URL": database,
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "PRIVACY_VERSION": "2026-11",
        "LOG_FORMAT": "json",
    }
    env.pop("TEST_DATABASE_URL", None)
    log = tmp_path / "server.log"
    with _gunicorn(env, log, workers=1) as url:
        yield url, log


@contextmanager
def _gunicorn(env: dict, log: Path, *, workers: int):
    """gunicorn serving wsgi:app on a free loopback port, until the block ends."""
    port = free_port()
    with log.open("wb") as sink:
        command = [sys.executable, "-m", "gunicorn", "-w", str(workers)]
        process = subprocess.Popen(
            [*command, "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_redis_down_log_in_still_works_and_is_throttled_per_process(server_without_redis):
    url, log = server_without_redis
    browser = Browser()
    _status, html, _headers = browser.request(url + "/anmelden")
    status, page, _headers = browser.request(
        url + "/anmelden",
        {"csrf_token": _csrf(html), "email": "redis@example.org", "password": DEFAULT_PASSWORD},
    )
    assert status == 302, page
    assert browser.request(url + "/konto")[0] == 200

    statuses = []
    for _attempt in range(6):
        guesser = Browser()
        _status, html, _headers = guesser.request(url + "/anmelden")
        status, _page, _headers = guesser.request(
            url + "/anmelden",
            {"csrf_token": _csrf(html), "email": "redis@example.org", "password": "geraten" * 2},
        )
        statuses.append(status)
    # The per-account limit (5 per 15 minutes) holds, counted in the process's memory.
    assert statuses == [422] * 5 + [429]
    output = log.read_text()
    assert "falling back to in-memory storage" in output
    assert '"level": "warning"' in output and "Traceback" not in output


# ---------------------------------------------------------------- SMTP down


def test_smtp_down_the_page_answers_and_the_mail_waits_in_the_outbox(app, client, db):
    """Sign-up sends its mail right after commit; with SMTP down it waits, pending, for a retry."""
    backend = app.extensions["mail_backend"]
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=free_port(),
        MAIL_TIMEOUT=5,
        OUTBOX_SEND_AFTER_COMMIT=True,
    )
    app.extensions["mail_backend"] = SmtpBackend(app)
    try:
        response = post_form(
            client,
            "/registrieren",
            {
                "role": "volunteer",
                "first_name": "Susi",
                "email": "susi@example.org",
                "password": DEFAULT_PASSWORD,
                "privacy": "y",
            },
        )
    finally:
        app.extensions["mail_backend"] = backend
        app.config.update(MAIL_SERVER="localhost", MAIL_PORT=25, MAIL_TIMEOUT=20)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/registrieren/post")
    [row] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == "susi@example.org")
    ).all()
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at > utcnow()  # the jobs process's drain sends it later
    assert db.session.scalar(select(User.id).where(User.email == "susi@example.org"))
