"""gunicorn settings for Vernetzerbörse: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_WORKERS", max(2, multiprocessing.cpu_count() * 2)))
# One thread per worker (gunicorn's sync worker): a request here is Python work between short
# database round trips, so two threads in one worker only take turns at the interpreter lock
# and each request takes longer; processes use the cores. nginx buffers slow clients. Under
# bench/load.py this lowered every page's p95 by a sixth (log-in 53 -> 36-49 ms).
threads = int(os.environ.get("WEB_THREADS", 1))
# The app is loaded, warmed up and its volunteers' pool built once, in the master, before it
# forks the workers (matching/warmup.py): each worker starts with all of it (copy-on-write)
# instead of doing it again four times at once on a busy machine. The price: a HUP reloads the
# settings and workers but not the code; restart the service after an upgrade.
preload_app = os.environ.get("WEB_PRELOAD", "on") != "off"
timeout = 30
graceful_timeout = 20
max_requests = 2000  # recycle workers now and then; keeps memory flat over weeks
# Workers share the requests evenly, so with a narrow jitter all four reached their limit
# within the same half minute under load (bench/load.py, 200 people); a wide one spreads
# the replacements (each new worker brings its inherited pool up to date first).
max_requests_jitter = 1000
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# One JSON line per request, next to the app's JSON log lines.
access_log_format = (
    '{"ts":"%(t)s","level":"info","logger":"access","method":"%(m)s","path":"%(U)s",'
    '"status":%(s)s,"bytes":"%(B)s","ms":%(M)s,"request_id":"%({x-request-id}i)s"}'
)


def on_starting(server):
    """Check every setting once in the master, before any worker starts: a wrong one stops
    gunicorn here with one line naming it (each worker would print it again)."""
    from config import ConfigError, config_from_env, stop_the_start

    try:
        config_from_env().validate()
    except ConfigError as error:
        stop_the_start(error)


def _freeze():
    """Leave what start-up built out of the garbage collector's full passes: modules, templates,
    mappers and the volunteers' pool live as long as the process, and scanning them made every
    full collection a 100-ms pause in the middle of some request (and, after a fork, would copy
    the master's pages into each worker)."""
    import gc

    gc.collect()
    gc.freeze()


def when_ready(server):
    """In the master, with the app preloaded, before any worker is forked: warm the app up and
    build the volunteers' pool once, then close every connection (none may cross a fork)."""
    if not server.cfg.preload_app:
        return
    from matching.warmup import before_fork, warm_up

    app = server.app.wsgi()
    warm_up(app, build_pool=True, who="master")
    before_fork(app)
    _freeze()


def post_worker_init(worker):
    """Get a new worker ready before it accepts requests: forked from a warmed-up master it
    only brings the inherited pool up to date; without preloading it does the whole warm-up."""
    from matching.warmup import after_fork, warm_up

    if worker.cfg.preload_app:
        after_fork(worker.wsgi)
    else:
        warm_up(worker.wsgi)
    _freeze()
