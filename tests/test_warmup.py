"""The worker warm-up (matching/warmup.py): does its work, writes nothing, never stops a worker."""

from __future__ import annotations

import contextvars
import gc
import logging
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from support import post_form

from matching import warmup
from matching.extensions import db as _db
from matching.matches import volunteer_pool
from matching.models import ProfileStatus

GUNICORN_CONF = Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py"


def _warm_up_as_worker(app) -> dict:
    """Run ``warm_up`` outside the test's app context, as gunicorn's post_worker_init does."""
    return contextvars.Context().run(warmup.warm_up, app)


def _row_counts(db) -> dict[str, int]:
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in _db.metadata.sorted_tables
    }


def _cached_template_names(app) -> set[str]:
    # Jinja keys its cache by (weakref to the loader, template name).
    loader = app.jinja_env.loader
    return {name for ref, name in app.jinja_env.cache if ref() is loader}


@pytest.fixture()
def some_data(make_volunteer, make_initiative, make_need) -> int:
    """Three approved volunteers, one waiting for approval and an open need; the approved count."""
    for n in range(3):
        make_volunteer(f"approved{n}@example.org")
    make_volunteer("waiting@example.org", status=ProfileStatus.PENDING)
    initiative, _member = make_initiative()
    make_need(initiative, title="Wir suchen Rat beim Start")
    return 3


def test_warm_up_compiles_templates_answers_pages_and_loads_the_pool(app, db, some_data):
    app.jinja_env.cache.clear()  # other tests rendered templates already
    names = [n for n in app.jinja_env.list_templates() if n.endswith((".html", ".txt", ".xml"))]

    done = _warm_up_as_worker(app)

    assert done["templates"] == len(names)
    assert done["templates"] > 50
    assert set(names) <= _cached_template_names(app)
    assert "base.html" in _cached_template_names(app)
    expected_pages = {f"{lang} {path}" for lang in warmup.LANGUAGES for path in warmup.PAGES}
    assert set(warmup.LANGUAGES) == {"de", "en"}
    assert set(done["pages"]) == expected_pages
    assert set(done["pages"].values()) == {200}, done["pages"]
    assert done["volunteers"] == some_data
    assert done["log_in"] is True
    assert isinstance(done["ms"], int)
    assert set(done["steps_ms"]) == {"templates", "pages", "pool", "log_in"}
    assert sum(done["steps_ms"].values()) <= done["ms"] + 4  # each rounded to the ms


def test_warm_up_writes_nothing_and_sends_no_mail(app, db, some_data, mailbox):
    before = _row_counts(db)
    assert before["volunteer_profiles"] == 4  # the counts see the test's own rows
    assert {"audit_log", "outbox"} <= set(before)  # log-ins' and mails' traces are counted

    done = _warm_up_as_worker(app)

    assert set(done["pages"].values()) == {200}  # it did its work
    db.session.expire_all()
    assert _row_counts(db) == before
    assert mailbox == []


def test_warm_up_is_no_failed_log_in(app, db, client, make_user, monkeypatch):
    make_user("erika@example.org")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "1 per minute")

    done = _warm_up_as_worker(app)
    assert done["log_in"] is True

    # The one failed log-in this address may have per minute is still there after the warm-up.
    wrong = {"email": "erika@example.org", "password": "nicht das richtige Passwort"}
    first = post_form(client, "/anmelden", wrong)
    assert first.status_code == 422
    assert "stimmen nicht" in first.get_data(as_text=True)
    # And the limit is in force, so a warm-up that had used it up would have been seen above.
    assert post_form(client, "/anmelden", wrong).status_code == 429


def test_a_failing_warm_up_lets_the_worker_start_cold(app, db, monkeypatch, caplog):
    def database_starting(_app):
        raise OperationalError("SELECT 1", {}, Exception("database starting"))

    monkeypatch.setattr(warmup, "_pages", database_starting)

    # pytest also listens on loggers that do not propagate, as "matching" does once any test
    # configured the app's logging (logs.configure), so caplog sees these in any test order.
    with caplog.at_level(logging.INFO, logger=warmup.__name__):
        done = _warm_up_as_worker(app)
    records = [r for r in caplog.records if r.name == warmup.__name__]

    assert done["pages"] == {}
    assert done["volunteers"] == 0
    assert done["log_in"] is False
    assert done["templates"] > 50  # the part before the failure was done
    warnings = [r for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "starts cold" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None
    assert warnings[0].exc_info[0] is OperationalError
    assert any(r.levelno == logging.INFO and "warmed up" in r.getMessage() for r in records)


def _gunicorn(preload: bool):
    settings = runpy.run_path(str(GUNICORN_CONF))
    cfg = SimpleNamespace(preload_app=preload)
    return settings, cfg


def test_without_preloading_gunicorn_warms_up_each_worker(app, monkeypatch):
    calls = []
    monkeypatch.setattr(warmup, "warm_up", calls.append)
    settings, cfg = _gunicorn(preload=False)
    frozen = gc.get_freeze_count()
    try:
        settings["when_ready"](SimpleNamespace(cfg=cfg))  # nothing to do in the master
        settings["post_worker_init"](SimpleNamespace(wsgi=app, cfg=cfg))
        # What start-up built is left out of the collector's passes from then on.
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()

    assert len(calls) == 1
    assert calls[0] is app


def test_preloading_gunicorn_warms_up_once_in_the_master_and_workers_only_catch_up(
    app, monkeypatch
):
    calls = []
    monkeypatch.setattr(warmup, "warm_up", lambda app, **kw: calls.append(("warm_up", app, kw)))
    monkeypatch.setattr(warmup, "before_fork", lambda app: calls.append(("before_fork", app)))
    monkeypatch.setattr(warmup, "after_fork", lambda app: calls.append(("after_fork", app)))
    settings, cfg = _gunicorn(preload=True)
    assert settings["preload_app"] is True
    master = SimpleNamespace(cfg=cfg, app=SimpleNamespace(wsgi=lambda: app))
    try:
        settings["when_ready"](master)
        settings["post_worker_init"](SimpleNamespace(wsgi=app, cfg=cfg))
    finally:
        gc.unfreeze()
    assert calls == [
        ("warm_up", app, {"build_pool": True, "who": "master"}),
        ("before_fork", app),
        ("after_fork", app),
    ]


def _kept(app):
    return app.extensions[volunteer_pool.EXTENSION]


def test_the_master_builds_the_pool_and_closes_its_connections_before_the_fork(
    app, db, some_data, monkeypatch, disposed
):
    done = contextvars.Context().run(warmup.warm_up, app, build_pool=True, who="master")
    assert done["volunteers"] == some_data
    assert len(volunteer_pool.kept_pool(app)) == some_data

    monkeypatch.setattr(_kept(app), "release_connections", lambda: disposed.append("store"))
    contextvars.Context().run(warmup.before_fork, app)
    assert len(disposed) > 1 and all(close is True for _e, close in disposed[:-1])
    assert disposed[-1] == "store"  # no connection left to share with a worker


@pytest.fixture()
def disposed(app, monkeypatch) -> list:
    """The engines ``dispose`` was called on (the tests' database must outlive it)."""
    calls: list = []
    with app.app_context():
        engines = list(_db.engines.values())
    for engine in engines:
        monkeypatch.setattr(
            engine, "dispose", lambda close=True, e=engine: calls.append((e, close))
        )
    return calls


def test_a_forked_worker_brings_the_masters_pool_up_to_date_in_part(
    app, db, some_data, make_volunteer, disposed
):
    contextvars.Context().run(warmup.warm_up, app, build_pool=True, who="master")
    loads = (_kept(app).full_loads, _kept(app).partial_loads)
    assert contextvars.Context().run(warmup.after_fork, app)["pool"] == "current"
    make_volunteer("new@example.org")  # committed after the master built its pool

    done = contextvars.Context().run(warmup.after_fork, app)

    assert done["pool"] == "caught up"
    assert disposed and all(close is False for _e, close in disposed)  # the master's, if any
    assert (_kept(app).full_loads, _kept(app).partial_loads) == (loads[0], loads[1] + 1)
    assert len(volunteer_pool.kept_pool(app)) == some_data + 1


def test_a_forked_worker_drops_a_pool_it_cannot_bring_up_to_date(app, db, some_data, disposed):
    contextvars.Context().run(warmup.warm_up, app, build_pool=True, who="master")
    _kept(app).changed(volunteer_pool.Change(everything=True))

    done = contextvars.Context().run(warmup.after_fork, app)

    assert done["pool"] == "building"
    assert volunteer_pool.kept_pool(app) is None  # the next request loads (or waits for) one
