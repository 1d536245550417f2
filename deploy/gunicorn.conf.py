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
timeout = 30
graceful_timeout = 20
max_requests = 2000  # recycle workers now and then; keeps memory flat over weeks
max_requests_jitter = 200
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


def post_worker_init(worker):
    """Do a new worker's first-time work before it accepts requests (matching/warmup.py),
    then leave what start-up built out of the garbage collector's full passes: modules,
    templates, mappers and the volunteers' pool live as long as the worker, and scanning
    them made every full collection a 100-ms pause in the middle of some request."""
    import gc

    from matching.warmup import warm_up

    warm_up(worker.wsgi)
    gc.collect()
    gc.freeze()
