"""Two gunicorn instances share nothing but PostgreSQL and Redis, and a session moves freely.

A person logs in on one instance and carries on on the other; failed log-ins counted on
both add up in Redis. Needs the PostgreSQL leg (TEST_DATABASE_URL) and Redis on loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from http_client import Browser
from http_client import csrf_from as _csrf
from smtp import free_port
from sqlalchemy import text

from matching.auth.passwords import hash_password
from matching.extensions import db as _db
from matching.models import Role, User, utcnow

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "zwei Häuser, ein Gedächtnis"
REDIS = "redis://127.0.0.1:6379/15"


@pytest.fixture()
def two_instances(app):
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (TEST_DATABASE_URL) and Redis; CI's second leg runs it")
        user = User(
            email="zwei@example.org",
            password_hash=hash_password(PASSWORD),
            first_name="Zora",
            confirmed_at=utcnow(),
            privacy_version="2026-11",
        )
        user.add_role(Role.VOLUNTEER)
        _db.session.add(user)
        _db.session.commit()
        database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    env = {
        **os.environ,
        "VERNETZER_ENV": "production",
        "SECRET_KEY": "one-secret-for-every-host-" + "x" * 20,
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": REDIS,
        "PRIVACY_VERSION": "2026-11",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("TEST_DATABASE_URL", None)
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if urllib.request.urlopen(url + "/healthz", timeout=2).status == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
            process.stderr.close()
        with app.app_context():
            _db.session.execute(
                text("TRUNCATE audit_log, user_roles, consent_records, users CASCADE")
            )
            _db.session.commit()
            _db.session.remove()


def test_session_started_on_one_instance_continues_on_the_other(two_instances):
    first, second = two_instances
    browser = Browser()
    _status, html, _headers = browser.request(first + "/anmelden")
    status, _html, _headers = browser.request(
        first + "/anmelden",
        {"csrf_token": _csrf(html), "email": "zwei@example.org", "password": PASSWORD},
    )
    assert status == 302, _html
    status, page, _headers = browser.request(second + "/konto")
    assert status == 200
    assert "zwei@example.org" in page
    # A form opened on one instance can be sent to the other.
    status, page, _ = browser.request(second + "/konto/meine-daten")
    status, _html, _headers = browser.request(first + "/abmelden", {"csrf_token": _csrf(page)})
    assert status == 302
    assert browser.request(second + "/konto")[0] == 302  # logged out everywhere


def test_failed_log_ins_are_counted_across_instances(two_instances):
    first, second = two_instances
    statuses = []
    for attempt in range(6):
        browser = Browser()
        url = (first, second)[attempt % 2]
        _s, html, _h = browser.request(url + "/anmelden")
        status, _page, _h = browser.request(
            url + "/anmelden",
            {
                "csrf_token": _csrf(html),
                "email": "zwei@example.org",
                "password": "falsch falsch falsch",
            },
        )
        statuses.append(status)
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
