"""Get a new web process ready before it takes its first request.

A fresh worker (after a start, a reload, or gunicorn's recycling every couple of thousand
requests) compiles every template, opens its first database connection, compiles each statement
and loads the translations on first use: its first requests took several times as long as later
ones. ``warm_up`` does that work once, before the worker accepts requests
(``post_worker_init`` in deploy/gunicorn.conf.py):

- compiles every template;
- answers a few public pages through the app itself (health check, home, open needs, their feed,
  log-in form; in German and English), which reads the database and writes nothing;
- has the volunteers' pool the proposal queue ranks with (matching/matches/volunteer_pool.py)
  built by a thread of its own, so the worker accepts requests at once (at city scale the pool
  takes seconds) and the first coordinator does not wait for all of it; where pools are
  rebuilt in the request (tests), it is loaded here;
- checks a log-in form (the address validator compiles its rules and loads its domain lists on
  first use), looks up an address that cannot exist and checks a password against the dummy
  hash, as a failed log-in does, without counting as one (no request is sent, so there is no
  rate limit, no audit entry and no session).

Nothing it does may keep the worker from serving: a failure (the database still starting, say)
is logged and the worker starts cold.

Under gunicorn with ``preload_app`` (deploy/gunicorn.conf.py) the master does all of this once,
with the pool built in it (``build_pool``), closes its connections (``before_fork``) and forks
workers that have everything already; each only brings the inherited pool up to date with the
volunteers changed since (``after_fork``: a few milliseconds), or, when that cannot be told,
drops it and has one built beside its requests.
"""

from __future__ import annotations

import logging
import time

from flask import Flask

log = logging.getLogger(__name__)

PAGES = ("/healthz", "/", "/anfragen", "/feeds/needs.atom", "/anmelden")
LANGUAGES = ("de", "en")
NOBODY = "warm-up@invalid.example"  # .example never resolves: no account can have it


def warm_up(app: Flask, *, build_pool: bool = False, who: str = "worker") -> dict:
    """Do a new process's first-time work now; returns what was done, for the log and tests.

    ``build_pool``: build the volunteers' pool here and now, as gunicorn's master does before
    it forks the workers (no thread may run across a fork), instead of beside the requests.
    """
    started, cpu = time.monotonic(), time.thread_time()
    done = {"templates": 0, "pages": {}, "volunteers": 0, "log_in": False}
    steps = {"templates": 0, "pages": 0, "pool": 0, "log_in": 0}  # ms each step took
    try:
        for step, key, work in (
            ("templates", "templates", _templates),
            ("pages", "pages", _pages),
            ("pool", "volunteers", lambda app: _volunteer_pool(app, build=build_pool)),
            ("log_in", "log_in", _log_in),
        ):
            begun = time.monotonic()
            done[key] = work(app)
            steps[step] = round((time.monotonic() - begun) * 1000)
    except Exception:  # the worker must start even if this fails
        log.warning("warm-up incomplete; this worker starts cold", exc_info=True)
    done["ms"] = round((time.monotonic() - started) * 1000)
    done["cpu_ms"] = round((time.thread_time() - cpu) * 1000)  # less, when others share the CPU
    done["steps_ms"] = steps
    log.info(
        "%s warmed up in %d ms, %d ms CPU (templates %d, pages %d, pool %d, log-in %d ms): "
        "%d templates, pages %s, %d volunteers",
        who,
        done["ms"],
        done["cpu_ms"],
        *steps.values(),
        done["templates"],
        sorted(set(done["pages"].values())),
        done["volunteers"],
    )
    return done


def _templates(app: Flask) -> int:
    names = [n for n in app.jinja_env.list_templates() if n.endswith((".html", ".txt", ".xml"))]
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)


def _pages(app: Flask) -> dict[str, int]:
    client = app.test_client()
    statuses = {}
    for language in LANGUAGES:
        for path in PAGES:
            response = client.get(
                path,
                headers={"Accept-Language": language},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            )
            statuses[f"{language} {path}"] = response.status_code
            response.close()
    return statuses


def _volunteer_pool(app: Flask, build: bool = False) -> int:
    """The volunteers loaded now (0 when the pool is being built beside the requests)."""
    from matching.extensions import db
    from matching.matches import proposals, volunteer_pool

    kept = app.extensions[volunteer_pool.EXTENSION]
    if build and kept.store is not None:
        with app.app_context():
            try:
                kept.rebuild(db.session, proposals.approved_volunteer_records)
            finally:
                db.session.remove()
        return len(volunteer_pool.kept_pool(app) or ())
    if kept.rebuilder is not None and kept.store is not None:
        kept.start_rebuild(proposals.approved_volunteer_records)
        return 0
    with app.app_context():
        try:
            return len(volunteer_pool.pool(db.session, proposals.approved_volunteer_records))
        finally:
            db.session.remove()


def before_fork(app: Flask) -> None:
    """Close every database and Redis connection of a process about to fork its workers: a
    connection used by two processes mixes their statements (each worker opens its own)."""
    from matching.extensions import db
    from matching.matches import volunteer_pool

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    app.extensions[volunteer_pool.EXTENSION].release_connections()


def after_fork(app: Flask) -> dict:
    """Get a worker forked from a warmed-up master ready: it inherited the compiled templates,
    the loaded translations and the volunteers' pool, and brings only that pool up to date with
    the volunteers changed since the master built it. Returns what was done, for the log."""
    from matching.extensions import db
    from matching.matches import proposals, volunteer_pool

    started, cpu = time.monotonic(), time.thread_time()
    done: dict = {"pool": "failed"}
    try:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)  # anything inherited belongs to the master
            try:
                kept = app.extensions[volunteer_pool.EXTENSION]
                done["pool"] = kept.after_fork(db.session, proposals.approved_volunteer_records)
            finally:
                db.session.remove()
    except Exception:  # the worker must start even if this fails
        log.warning("bringing the pool up to date after fork failed", exc_info=True)
    done["ms"] = round((time.monotonic() - started) * 1000)
    done["cpu_ms"] = round((time.thread_time() - cpu) * 1000)
    log.info(
        "worker ready in %d ms, %d ms CPU after its fork (pool: %s)",
        done["ms"],
        done["cpu_ms"],
        done["pool"],
    )
    return done


def _log_in(app: Flask) -> bool:
    from matching.auth import accounts
    from matching.auth.forms import LoginForm
    from matching.auth.passwords import verify_password
    from matching.extensions import db

    form_data = {"email": NOBODY, "password": "warm-up password"}
    with app.test_request_context("/anmelden", method="POST", data=form_data):
        if not LoginForm(meta={"csrf": False}).validate():
            raise RuntimeError("the warm-up's log-in form did not validate")
    with app.app_context():
        try:
            found = accounts.find_by_email(db.session, NOBODY)
            verify_password(accounts.dummy_hash(), "warm-up password")
        finally:
            db.session.remove()
    return found is None
