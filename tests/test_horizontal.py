"""Two gunicorn instances share nothing but PostgreSQL and Redis, and a session moves freely.

A person logs in on one instance and carries on on the other; failed log-ins counted on
both add up in Redis; what one instance changes, the other's kept pool of volunteers shows at
once. The instances run with deploy/gunicorn.conf.py (two workers each, warmed up before they
take requests). Needs the PostgreSQL leg (TEST_DATABASE_URL) and Redis on loopback.
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
from matching.matches import volunteer_pool
from matching.models import (
    Initiative,
    InitiativeMember,
    Match,
    MatchOrigin,
    MatchStatus,
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
        "BASE_URL": "http://127.0.0.1",
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
            [
                *(sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"),
                *("-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"),
            ],
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
                text(
                    "TRUNCATE audit_log, user_roles, consent_records, outbox, initiatives, users"
                    " CASCADE"
                )
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
    assert statuses[:5] == [422] * 5  # refused, the form shown again with its message
    assert statuses[5] == 429


def _person(email: str, first_name: str, role: Role) -> User:
    user = User(
        email=email,
        password_hash=hash_password(PASSWORD),
        first_name=first_name,
        confirmed_at=utcnow(),
        privacy_version="2026-11",
    )
    user.add_role(role)
    return user


def _expert(first_name: str, capacity: int = 2) -> VolunteerProfile:
    profile = VolunteerProfile(
        user=_person(f"{first_name.lower()}@example.org", first_name, Role.VOLUNTEER),
        status=ProfileStatus.APPROVED,
        capacity=capacity,
        submitted_at=utcnow(),
    )
    profile.levels = [VolunteerPhaseLevel(phase="start", level=3)]
    profile.district_rows = [VolunteerDistrict(district="ost")]
    profile.language_rows = [VolunteerLanguage(language="de")]
    return profile


def _others_on_the_queue(browser: Browser, url: str, times: int = 6) -> set[str]:
    """The other candidates the queue names, the same on every worker asked."""
    seen = set()
    for _ in range(times):  # several requests: both workers of the instance answer some
        status, page, _h = browser.request(url + "/koordination/vorschlaege")
        assert status == 200
        assert "Weitere passende Personen:" in page, page[page.find("<main") :][:3000]
        line = page.split("Weitere passende Personen:", 1)[1].split("</p>", 1)[0]
        seen.add(frozenset(n for n in ("Xaver", "Yvonne") if n in line))
    assert len(seen) == 1, seen
    return set(seen.pop())


def test_a_change_on_one_instance_shows_on_the_other_at_once(app, two_instances):
    first, second = two_instances
    with app.app_context():
        coordinator = _person("koordination@example.org", "Karla", Role.COORDINATOR)
        initiative = Initiative(name="Nachbarschaft Ost", district="ost")
        initiative.member_rows.append(
            InitiativeMember(user=_person("ines@example.org", "Ines", Role.INITIATIVE))
        )
        needs = []
        for title in ("Start im Quartier", "Noch ein Anfang"):
            need = Need(
                initiative=initiative,
                title=title,
                district="ost",
                status=NeedStatus.OPEN,
                published_at=utcnow(),
                accepts_phone=False,
            )
            need.phase_rows = [NeedPhase(phase="start")]
            needs.append(need)
        paula, xaver, yvonne = _expert("Paula"), _expert("Xaver", capacity=1), _expert("Yvonne")
        _db.session.add_all([coordinator, initiative, paula, xaver, yvonne])
        _db.session.flush()
        _db.session.add(
            Match(
                need_id=needs[0].id,
                volunteer_id=paula.id,
                status=MatchStatus.PROPOSED,
                origin=MatchOrigin.OFFER,
            )
        )
        _db.session.commit()
        other_need, xaver_id = needs[1].id, xaver.id
        touched = volunteer_pool.Change({paula.id, xaver.id, yvonne.id})
    # The test wrote through its own app, whose commits raise a counter of this process only;
    # the instances (which kept the empty pool since their warm-up) learn of it as every
    # production process would, from the shared Redis: the volunteers that commit touched.
    # (A change of "everything" would be rebuilt beside the requests, which meanwhile keep
    # the old pool for a moment.)
    volunteer_pool._store_for(REDIS).bump(touched)
    browser = Browser()
    _s, html, _h = browser.request(first + "/anmelden")
    status, _page, _h = browser.request(
        first + "/anmelden",
        {"csrf_token": _csrf(html), "email": "koordination@example.org", "password": PASSWORD},
    )
    assert status == 302
    assert _others_on_the_queue(browser, first) == {"Xaver", "Yvonne"}
    # On the other instance Xaver is given the other need: his one free place is taken.
    _s, html, _h = browser.request(f"{second}/koordination/anfragen/{other_need}/zuordnen")
    status, _page, headers = browser.request(
        f"{second}/koordination/anfragen/{other_need}/zuordnen",
        {"csrf_token": _csrf(html), "volunteer_id": str(xaver_id)},
    )
    assert status == 302, _page
    assert f"/anfragen/{other_need}" in headers["Location"]
    assert _others_on_the_queue(browser, first) == {"Yvonne"}
