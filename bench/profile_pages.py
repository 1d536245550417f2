"""Profile the pages in process against a filled database (one kept by bench/scale.py --keep).

    .venv/bin/python bench/profile_pages.py --url postgresql+psycopg://postgres@127.0.0.1/DB
    .venv/bin/python bench/profile_pages.py --url ... --pages /koordination/ --profile 25

Production settings, one request at a time through Flask's test client (no gunicorn, no
network): per page the CPU milliseconds of this process per request (the database's own time
is not in it), the wall milliseconds, the statements sent and the time spent waiting for
them. ``--profile N`` prints the N costliest functions (cumulative, in CPU time: waiting for the database is not in it) of each page's warm
requests. Read-only: it only logs in and reads.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.scale import DOMAIN, PAGES, PASSWORD, PRIVACY_VERSION  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the filled database")
    parser.add_argument("--pages", help="comma-separated paths (default: every page of the bench)")
    parser.add_argument("--requests", type=int, default=10, help="warm requests per page")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (tottime, ...)")
    parser.add_argument("--slow", type=float, help="print statements slower than this (ms)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    parser.add_argument(
        "--people",
        choices=("scale", "load"),
        default="scale",
        help="whose database: bench/scale.py's (default) or bench/load.py's (kept with --keep)",
    )
    args = parser.parse_args()
    domain, password, volunteer, initiative = (
        (DOMAIN, PASSWORD, "expertin1", "initiative1")
        if args.people == "scale"
        else (load.DOMAIN, load.PASSWORD, "expertin001", "initiative01")
    )
    os.environ.update(
        {
            "VERNETZER_ENV": "production",
            "BASE_URL": "http://127.0.0.1",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": args.url,
            "RATELIMIT_STORAGE_URI": args.redis,
            "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
            "PRIVACY_VERSION": PRIVACY_VERSION,
            "LOG_LEVEL": "WARNING",
            "MAIL_SERVER": "127.0.0.1",
        }
    )
    from sqlalchemy import event

    from matching import create_app
    from matching.extensions import db

    app = create_app()
    # The test client speaks plain HTTP, as bench/scale.py's browser does: it keeps the cookies.
    app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    sql = {"statements": 0, "seconds": 0.0}
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        took = time.perf_counter() - conn.info.pop("started", time.perf_counter())
        sql["statements"] += 1
        sql["seconds"] += took
        if args.slow is not None and took * 1000 >= args.slow:
            print(f"  {took * 1000:7.1f} ms  {' '.join(statement.split())[:300]}")

    clients = {}
    for role, email in (
        ("visitor", None),
        ("coordinator", f"koordination1@{domain}"),
        ("volunteer", f"{volunteer}@{domain}"),
        ("initiative", f"{initiative}@{domain}"),
    ):
        client = app.test_client()
        if email:
            token = CSRF.search(client.get("/anmelden").get_data(as_text=True))
            answer = client.post(
                "/anmelden",
                headers={"Referer": "https://localhost/anmelden"},  # the production check
                data={
                    "csrf_token": token.group(1) if token else "",
                    "email": email,
                    "password": password,
                },
            )
            if answer.status_code != 302:
                raise SystemExit(f"log-in of {email} failed ({answer.status_code})")
        clients[role] = client
    wanted = [p.strip() for p in args.pages.split(",")] if args.pages else None
    for role, paths in PAGES.items():
        for template in paths:
            path = template.format(need=1)
            if wanted and path not in wanted and template not in wanted:
                continue
            client = clients[role]
            client.get(path)  # cold: caches, the pool
            cpu, wall, statements, waited = [], [], [], []
            profiler = cProfile.Profile(time.process_time) if args.profile else None
            for _ in range(args.requests):
                sql.update(statements=0, seconds=0.0)
                started, started_cpu = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                answer = client.get(path)
                if profiler:
                    profiler.disable()
                cpu.append((time.process_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
                statements.append(sql["statements"])
                waited.append(sql["seconds"] * 1000)
            print(
                f"{role:12} {path:28} {answer.status_code} cpu p50 {statistics.median(cpu):7.1f} ms"
                f"  wall p50 {statistics.median(wall):7.1f} ms  sql {statements[-1]:3d} stmts"
                f" {statistics.median(waited):7.1f} ms  {len(answer.data) / 1024:7.1f} KB",
                flush=True,
            )
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.profile)
                print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
