"""The CPU a request cost its worker, as a ``Server-Timing: cpu;dur=<ms>`` header.

Only with SERVER_TIMING (bench/load.py sets it): the time this thread spent computing, from
the request's first hook to its last, so the view, its queries' Python side and the template;
the database's own work and the time waiting for it are not in it. Per thread, so a worker
with several threads still measures each request alone.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g


def init_app(app: Flask) -> None:
    """Register the hooks; call it before any other hook is registered, so that they run
    inside the measured span (first before the request, last after it)."""
    if not app.config.get("SERVER_TIMING"):
        return

    @app.before_request
    def start_cpu_clock() -> None:
        g.cpu_started = time.thread_time()

    @app.after_request
    def report_cpu(response: Response) -> Response:
        started = g.get("cpu_started")
        if started is not None:
            spent = (time.thread_time() - started) * 1000
            response.headers.add("Server-Timing", f"cpu;dur={spent:.1f}")
        return response
