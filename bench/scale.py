"""City scale from the database: proposals, pages and the volunteer pool (issue 20).

    .venv/bin/python bench/scale.py                  # size M, a few minutes
    .venv/bin/python bench/scale.py --sizes M,L      # L takes long (fill, proposals, warm-up)
    .venv/bin/python bench/scale.py --sizes M --dense   # every volunteer in every phase

For each size it creates a throw-away PostgreSQL database ``vernetzer_scale_<size>`` (next to
DATABASE_URL, loopback only), migrates it and fills it in bulk from the generator the engine
bench uses (bench/instances.py) with EVERY volunteer available: profiles with 1-3 phases (all
eight with --dense), open needs of various ages, and a history (completed advice, live
engagements that fill part of a volunteer's capacity, declined proposals, memberships). Then it
measures through the application's own code and drops the database:

- ``match propose --dry-run``, ``match propose`` and a second ``match propose`` right after,
  each through the CLI command in its own process: seconds, statements sent (counted with a
  SQLAlchemy event), statements per proposal, peak RSS;
- the volunteer pool: a full build, and one volunteer's change applied (a real commit);
- gunicorn with deploy/gunicorn.conf.py, 4 workers and production settings, as bench/load.py
  starts it: each worker's warm-up (from its log line), the time until the first answer, every
  page a coordinator, volunteer, initiative or visitor opens (p50/p95 of the first requests
  after the start, "cold", and of later ones, "warm"; one request at a time), and the slowest
  answer right after every worker was told the whole pool changed (a full reload).

Every figure is one JSON line on stdout with its target from the issue and whether it is met;
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.instances import NOW, SIZES, generate  # noqa: E402
from bench.load import (  # noqa: E402
    analyze,
    create_database,
    database_exists,
    drop_database,
    free_port,
)

PASSWORD = "Stadt-im-Mass-2026"
DOMAIN = "scale.example.org"
PRIVACY_VERSION = "2026-11"
COORDINATORS = 3
# Targets from issue 20, per size where they differ (None: the issue sets none at this size).
PROPOSE_S = {"M": 2.0, "L": 20.0}
DENSE_PROPOSE_S = 90.0
PEAK_MB = 2048
PAGE_P95_MS = 300
WARM_UP_S = 10
SINGLE_CHANGE_MS = 50
COLD_REQUESTS = 4  # about one per worker
WARM_REQUESTS = 20


def log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


def figure(size: str, name: str, value, target=None, met=None, **extra) -> None:
    """One JSON line: a figure, its target and whether it is met (None when there is none)."""
    if met is None and target is not None and value is not None:
        met = value < target
    line = {"size": size, "figure": name, "value": value, "target": target, "met": met, **extra}
    print(json.dumps(line, ensure_ascii=False), flush=True)


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_s() -> float:
    """CPU seconds this process used so far (fairer than wall time on a busy machine)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu_s(pid: int) -> float | None:
    """CPU seconds a PostgreSQL server process on this machine used so far (its /proc entry),
    or None when it cannot be read (a server elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- filling the database


def migrate(database_url: str) -> None:
    """Bring a reused fill up to this checkout's schema (a kept copy may be older)."""
    from flask_migrate import upgrade

    from bench.load import setup_app

    with setup_app(database_url).app_context():
        upgrade()


def fill(database_url: str, size: str, dense: bool) -> None:
    """Migrate and fill the database in bulk (Core inserts in batches, ids chosen here)."""
    from flask_migrate import upgrade

    from bench.load import setup_app
    from matching.extensions import db

    app = setup_app(database_url)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        migrated = time.perf_counter()
        rows = _insert_all(db.session, size, dense)
        db.session.commit()
        for table in ("users", "volunteer_profiles", "initiatives", "needs", "matches"):
            db.session.execute(
                db.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
    figure(
        size,
        "fill_s",
        round(time.perf_counter() - migrated, 1),
        migrate_s=round(migrated - started, 1),
        rows=rows,
        dense=dense,
    )


def _insert_all(session, size: str, dense: bool) -> dict[str, int]:
    from sqlalchemy import insert

    from matching.auth.passwords import hash_password
    from matching.models import (
        Initiative,
        InitiativeMember,
        Match,
        Need,
        NeedPhase,
        User,
        UserRole,
        VolunteerDistrict,
        VolunteerLanguage,
        VolunteerPhaseLevel,
        VolunteerProfile,
    )

    volunteers, needs = generate(size, available=1.0, dense=dense)
    n_need = len(needs)
    n_initiatives = max(1, n_need // 2)
    password_hash = hash_password(PASSWORD)  # one hash: log-ins cost what they cost
    now = NOW
    tables: dict = {}

    def add(model, row: dict) -> None:
        tables.setdefault(model, []).append(row)

    def user(uid: int, email: str, first: str, role: str) -> None:
        add(
            User,
            {
                "id": uid,
                "email": email,
                "password_hash": password_hash,
                "first_name": first,
                "last_name": "Muster",
                "confirmed_at": now - timedelta(days=uid % 400 + 1),
                "privacy_version": PRIVACY_VERSION,
                "created_at": now - timedelta(days=uid % 400 + 2),
            },
        )
        add(UserRole, {"user_id": uid, "role": role})

    for i in range(COORDINATORS):
        user(i + 1, f"koordination{i + 1}@{DOMAIN}", f"Koordination{i + 1}", "coordinator")
    first_initiative_user = COORDINATORS + 1
    for i in range(n_initiatives):
        uid = first_initiative_user + i
        user(uid, f"initiative{i + 1}@{DOMAIN}", f"Initiative{i + 1}", "initiative")
        add(
            Initiative,
            {
                "id": i + 1,
                "name": f"Nachbarschaftsinitiative {i + 1}",
                "district": needs[i % n_need].district,
                "description": "Wir sind Nachbar:innen, die zusammen etwas anpacken.",
            },
        )
        add(InitiativeMember, {"initiative_id": i + 1, "user_id": uid})
    first_volunteer_user = first_initiative_user + n_initiatives
    for need in needs:
        add(
            Need,
            {
                "id": need.id,
                "initiative_id": need.initiative_id,
                "created_by_id": first_initiative_user + need.initiative_id - 1,
                "title": f"Rat gesucht ({need.id})",
                "description": "Wir sind eine kleine Gruppe und freuen uns über Rat.",
                "district": need.district,
                "language": need.language,
                "accepts_in_person": "in_person" in need.formats,
                "accepts_phone": "phone" in need.formats,
                "accepts_video": "video" in need.formats,
                "urgency": need.urgency,
                "experts_wanted": need.wanted,
                "status": "open",
                "created_at": need.opened_at,
                "published_at": need.opened_at,
            },
        )
        for phase in need.phases:
            add(NeedPhase, {"need_id": need.id, "phase": phase})
    # History: needs already advised or being advised, each with one match.
    next_need = n_need + 1
    next_match = 1

    def history(volunteer_id: int, status: str, need_status: str, days: int) -> None:
        nonlocal next_need, next_match
        initiative_id = (next_need * 7) % n_initiatives + 1
        when = now - timedelta(days=days)
        add(
            Need,
            {
                "id": next_need,
                "initiative_id": initiative_id,
                "created_by_id": first_initiative_user + initiative_id - 1,
                "title": f"Früherer Rat ({next_need})",
                "district": needs[next_need % n_need].district,
                "status": need_status,
                "created_at": when - timedelta(days=10),
                "published_at": when - timedelta(days=9),
                "closed_at": when if need_status == "closed" else None,
            },
        )
        add(NeedPhase, {"need_id": next_need, "phase": "start"})
        add(
            Match,
            {
                "id": next_match,
                "need_id": next_need,
                "volunteer_id": volunteer_id,
                "status": status,
                "origin": "engine",
                "created_at": when - timedelta(days=8),
                "decided_at": when - timedelta(days=7),
                "accepted_at": when - timedelta(days=6),
                "completed_at": when if status == "completed" else None,
            },
        )
        next_need += 1
        next_match += 1

    for v in volunteers:
        uid = first_volunteer_user + v.id - 1
        user(uid, f"expertin{v.id}@{DOMAIN}", v.first_name, "volunteer")
        add(
            VolunteerProfile,
            {
                "id": v.id,
                "user_id": uid,
                "status": "approved",
                "submitted_at": now - timedelta(days=30),
                "reviewed_at": now - timedelta(days=29),
                "whole_city": v.whole_city,
                "capacity": v.capacity,
                "offers_in_person": "in_person" in v.formats,
                "offers_phone": "phone" in v.formats,
                "offers_video": "video" in v.formats,
                "bio": "Ich engagiere mich seit Jahren in der Nachbarschaftsarbeit.",
            },
        )
        for phase, level in v.levels.items():
            add(VolunteerPhaseLevel, {"profile_id": v.id, "phase": phase, "level": level})
        for district in sorted(v.districts):
            add(VolunteerDistrict, {"profile_id": v.id, "district": district})
        for language in sorted(v.languages):
            add(VolunteerLanguage, {"profile_id": v.id, "language": language})
        for initiative_id in v.initiatives:
            add(InitiativeMember, {"initiative_id": initiative_id, "user_id": uid})
        for _ in range(v.active):  # engagements that take part of the capacity
            history(v.id, "accepted", "matched", days=5 + v.id % 20)
        if v.id % 5 == 0:  # a fifth advised before
            history(v.id, "completed", "closed", days=30 + v.id % 300)
        for need_id in sorted(v.excluded_needs):  # declined before: never proposed again
            add(
                Match,
                {
                    "id": next_match,
                    "need_id": need_id,
                    "volunteer_id": v.id,
                    "status": "declined",
                    "origin": "engine",
                    "decided_at": now - timedelta(days=3),
                },
            )
            next_match += 1
    counts = {}
    order = (
        User,
        UserRole,
        Initiative,
        InitiativeMember,
        VolunteerProfile,
        VolunteerPhaseLevel,
        VolunteerDistrict,
        VolunteerLanguage,
        Need,
        NeedPhase,
        Match,
    )
    for model in order:
        rows = tables.get(model, [])
        table = model.__table__
        shapes: dict[tuple, list[dict]] = {}  # one statement takes rows with the same keys
        for row in rows:
            shapes.setdefault(tuple(row), []).append(row)
        for same in shapes.values():
            for start in range(0, len(same), 5000):
                session.execute(insert(table), same[start : start + 5000])
        counts[table.name] = len(rows)
    return counts


# ---------------------------------------------------------------- proposals (in a child)


def propose(size: str, dense: bool, label: str, dry_run: bool) -> None:
    """``flask match propose [--dry-run] --json`` in this process, timed and counted."""
    from sqlalchemy import event

    from wsgi import app

    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    from matching.extensions import db

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    args = ["match", "propose", "--json", *(["--dry-run"] if dry_run else [])]
    runner = app.test_cli_runner()
    before, cpu_before = peak_mb(), cpu_s()
    started = time.perf_counter()
    result = runner.invoke(args=args)
    seconds = round(time.perf_counter() - started, 2)
    cpu = round(cpu_s() - cpu_before, 2)
    if result.exit_code != 0:
        raise SystemExit(f"match propose failed: {result.output}\n{result.exception!r}")
    run = json.loads(result.stdout.strip().splitlines()[-1])
    proposals = run["experts_proposed"]
    target = DENSE_PROPOSE_S if dense else PROPOSE_S.get(size)
    extra = {
        "cpu_s": cpu,
        "load_average": round(os.getloadavg()[0], 2),
        "statements": statements,
        "statements_per_proposal": round(statements / proposals, 2) if proposals else None,
        "proposals": proposals,
        "needs_open": run["needs_open"],
        "needs_without_candidate": len(run["needs_without_candidate"]),
        "peak_rss_mb": peak_mb(),
        "rss_before_mb": before,
        "peak_target_mb": PEAK_MB,
        "peak_met": peak_mb() < PEAK_MB,
        "dense": dense,
    }
    if label == "second":
        first = float(os.environ["SCALE_FIRST_S"])
        figure(size, f"propose_{label}_s", seconds, round(first * 0.1, 2), first_s=first, **extra)
    else:
        figure(size, f"propose_{label}_s", seconds, target, **extra)


# ---------------------------------------------------------------- the pool (in a child)


def pool(size: str, dense: bool) -> None:
    """A full build of the volunteer pool, and one volunteer's change applied after a commit."""
    from sqlalchemy import select

    from matching import engine
    from matching.extensions import db
    from matching.matches import volunteer_pool
    from matching.matches.proposals import approved_volunteer_records
    from matching.models import VolunteerProfile
    from wsgi import app

    with app.app_context():
        times, cpu = [], []
        for _ in range(2):
            started, cpu_before = time.perf_counter(), cpu_s()
            built = engine.Pool(v for _u, v in approved_volunteer_records(db.session))
            times.append(time.perf_counter() - started)
            cpu.append(cpu_s() - cpu_before)
            db.session.rollback()
        figure(
            size,
            "pool_full_build_s",
            round(min(times), 2),
            volunteers=len(built),
            first_s=round(times[0], 2),
            cpu_s=round(min(cpu), 2),
            load_average=round(os.getloadavg()[0], 2),
            peak_rss_mb=peak_mb(),
            note="runs beside the requests; the target is that no request waits for it",
            dense=dense,
        )
        kept = app.extensions[volunteer_pool.EXTENSION]
        volunteer_pool.pool(db.session, approved_volunteer_records)  # the kept pool, up to date
        db.session.rollback()
        samples, cpu = [], []
        for index in range(10):
            profile = db.session.scalar(select(VolunteerProfile).where(VolunteerProfile.id == 1))
            profile.bio = f"Geändert ({index})"
            profile.capacity = 2 if profile.capacity != 2 else 3
            db.session.commit()
            loads = kept.partial_loads
            started, cpu_before = time.perf_counter(), time.thread_time()
            volunteer_pool.pool(db.session, approved_volunteer_records)
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - cpu_before) * 1000)
            db.session.rollback()
            if kept.partial_loads != loads + 1:
                raise SystemExit("one volunteer's change did not load in part")
        figure(
            size,
            "single_change_ms",
            round(statistics.median(samples), 1),
            SINGLE_CHANGE_MS,
            max_ms=round(max(samples), 1),
            cpu_ms=round(statistics.median(cpu), 1),
            load_average=round(os.getloadavg()[0], 2),
            dense=dense,
        )


# ---------------------------------------------------------------- pages through gunicorn

PAGES = {
    "coordinator": (
        "/koordination/",
        "/koordination/vorschlaege",
        "/koordination/profile",
        "/koordination/abdeckung",
    ),
    "volunteer": ("/uebersicht", "/anfragen/{need}"),
    "initiative": ("/meine-anfragen",),
    "visitor": (
        "/",
        "/anfragen",
        "/anfragen?bezirk=mitte",
        "/anfragen/{need}",
        "/feeds/needs.atom",
    ),
}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """One person's cookies; redirects not followed."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.cookies: dict[str, str] = {}

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, float]:
        from urllib.parse import urlencode

        body = urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.host + path, data=body)
        if self.cookies:
            req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        opener = urllib.request.build_opener(_NoRedirect)
        started = time.perf_counter()
        try:
            response = opener.open(req, timeout=120)
        except urllib.error.HTTPError as error:
            response = error
        text = response.read().decode(errors="replace")
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text, elapsed

    def log_in(self, email: str) -> None:
        _status, html, _ms = self.request("/anmelden")
        token = CSRF.search(html)
        status, _text, _ms = self.request(
            "/anmelden",
            {"csrf_token": token.group(1) if token else "", "email": email, "password": PASSWORD},
        )
        if status != 302:
            raise SystemExit(f"log-in of {email} failed ({status})")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def pages(database_url: str, size: str, dense: bool, redis_url: str, workers: int) -> None:
    """Gunicorn against the filled database: warm-up, pages cold and warm, a full reload."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "VERNETZER_ENV": "production",
        "BASE_URL": "http://127.0.0.1",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
        "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
        "PRIVACY_VERSION": PRIVACY_VERSION,
        "LOG_LEVEL": "INFO",
        "MAIL_SERVER": "127.0.0.1",
    }
    work = Path(tempfile.mkdtemp(prefix="vernetzer-scale-"))
    gunicorn_log = work / "gunicorn.log"
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    with gunicorn_log.open("wb") as sink:
        conf = str(ROOT / "deploy" / "gunicorn.conf.py")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                conf,
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_answer(host, server, timeout=600)
        first_answer = time.perf_counter() - started
        _wait_for_workers(gunicorn_log, workers, timeout=600)
        text = gunicorn_log.read_text()
        # Preloaded (the default): the master warms up once and builds the pool, each worker is
        # ready once it brought the inherited pool up to date; else each worker warms up.
        master = re.search(r"master warmed up in (\d+) ms, (\d+) ms CPU", text)
        ready = re.findall(
            r"worker ready in (\d+) ms, (\d+) ms CPU after its fork \(pool: ([^)]*)\)", text
        )
        warm = re.findall(r"worker warmed up in (\d+) ms, (\d+) ms CPU", text)
        workers_s = [int(ms) / 1000 for ms, *_ in ready or warm]
        steps = re.findall(r"\(templates (\d+), pages (\d+), pool (\d+), log-in (\d+) ms\)", text)
        figure(
            size,
            "worker_warm_up_s",
            max(workers_s) if workers_s else None,
            WARM_UP_S,
            measure="each worker from its fork to accepting requests",
            workers=workers_s,
            cpu_ms=[int(cpu) for _ms, cpu, *_ in ready or warm],
            pool=[found for *_t, found in ready],
            master_warm_up_s=int(master.group(1)) / 1000 if master else None,
            master_cpu_ms=int(master.group(2)) if master else None,
            steps_ms=[
                dict(zip(("templates", "pages", "pool", "log_in"), map(int, s), strict=True))
                for s in steps
            ],
            first_answer_s=round(first_answer, 1),
            load_average=round(os.getloadavg()[0], 2),
            dense=dense,
        )
        need = 1
        browsers = {"visitor": Browser(host)}
        for role, email in (
            ("coordinator", f"koordination1@{DOMAIN}"),
            ("volunteer", f"expertin1@{DOMAIN}"),
            ("initiative", f"initiative1@{DOMAIN}"),
        ):
            browsers[role] = Browser(host)
            browsers[role].log_in(email)
        for role, paths in PAGES.items():
            for template in paths:
                path = template.format(need=need)
                times, statuses, size_kb = [], set(), 0
                for _ in range(COLD_REQUESTS + WARM_REQUESTS):
                    started = time.perf_counter()
                    try:
                        status, text, ms = browsers[role].request(path)
                    except (OSError, http.client.HTTPException) as error:
                        # gunicorn's timeout (30 s) killed the worker, say: counted, not fatal
                        status, text = type(error).__name__, ""
                        ms = (time.perf_counter() - started) * 1000
                    times.append(ms)
                    statuses.add(str(status))
                    size_kb = max(size_kb, round(len(text.encode()) / 1024, 1))
                cold, warm = times[:COLD_REQUESTS], times[COLD_REQUESTS:]
                figure(
                    size,
                    f"page {role} {template}",
                    round(_p95(warm), 1),
                    PAGE_P95_MS,
                    measure="p95_ms warm",
                    warm_p50_ms=round(statistics.median(warm), 1),
                    cold_p50_ms=round(statistics.median(cold), 1),
                    cold_p95_ms=round(_p95(cold), 1),
                    cold_max_ms=round(max(cold), 1),
                    statuses=sorted(statuses),
                    kb=size_kb,
                    dense=dense,
                )
        _reload_stall(size, dense, browsers["coordinator"], redis_url, workers)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        for path in sorted(work.glob("*")):
            path.unlink()
        work.rmdir()


def _wait_for_answer(host: str, server: subprocess.Popen, timeout: float) -> None:
    """Until /healthz answers (a busy machine can take a minute to warm four workers up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(host + "/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not come up; see its log")


def _wait_for_workers(gunicorn_log: Path, workers: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(re.findall(r"worker (ready|warmed up) in", gunicorn_log.read_text())) >= workers:
            return
        time.sleep(0.5)
    log("not every worker reported its warm-up")


def _reload_stall(size: str, dense: bool, browser: Browser, redis_url: str, workers: int) -> None:
    """Tell every worker the whole pool changed, then time the proposal queue right after."""
    import redis

    from matching.matches.volunteer_pool import KEPT_CHANGES, REDIS_CHANGES, REDIS_KEY

    client = redis.Redis.from_url(redis_url)
    generation = client.incr(REDIS_KEY)
    client.hset(REDIS_CHANGES, generation, "*")
    client.hdel(REDIS_CHANGES, generation - KEPT_CHANGES)
    times = [browser.request("/koordination/vorschlaege")[2] for _ in range(5 * workers)]
    figure(
        size,
        "request_after_full_change_max_ms",
        round(max(times), 1),
        PAGE_P95_MS,
        measure="slowest of the proposal queue's next requests after every volunteer changed",
        p50_ms=round(statistics.median(times), 1),
        first_ms=[round(t, 1) for t in times[: 2 * workers]],
        load_average=round(os.getloadavg()[0], 2),
        dense=dense,
    )


# ---------------------------------------------------------------- the run


def impact_report(size: str) -> None:
    """The "Wirkung" report for the year up to the bench's NOW: the figures alone, and the
    whole coordinator page (charts drawn), statements counted. Meetings and "Beraten" records
    the fill does not make are added first (one per accepted or completed match, and for every
    need with completed advice) and rolled back afterwards."""
    from flask_login import login_user
    from sqlalchemy import event, select, text

    from matching.extensions import db
    from matching.models import Role, User, UserRole
    from matching.reports import impact
    from wsgi import app

    period = impact.Period((NOW - timedelta(days=364)).date(), NOW.date())
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO meetings (match_id, uid, sequence, status, proposed_by_role, "
                "place_kind, place, starts_at, duration_minutes, created_at, updated_at) "
                "SELECT id, 'bench-' || id, 0, 'confirmed', 'volunteer', 'phone', '', "
                "accepted_at + interval '6 days', 60, accepted_at, accepted_at "
                "FROM matches WHERE accepted_at IS NOT NULL"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO audit_log (at, action, object_type, object_id, from_state, to_state) "
                "SELECT max(completed_at), 'need.mark_advised', 'need', need_id, 'matched', "
                "'advised' FROM matches WHERE completed_at IS NOT NULL GROUP BY need_id"
            )
        )
        db.session.execute(text("ANALYZE"))
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        backend = db.session.scalar(text("SELECT pg_backend_pid()"))

        def server_cpu() -> float:
            return server_cpu_s(backend) or 0.0

        times, cpu, server = [], [], []
        for _ in range(3):
            statements.clear()
            started, cpu_before, server_before = time.perf_counter(), cpu_s(), server_cpu()
            found = impact.report(db.session, period)
            times.append(time.perf_counter() - started)
            cpu.append(cpu_s() - cpu_before)
            server.append(server_cpu() - server_before)
        figure(
            size,
            "impact_report_s",
            round(min(times), 3),
            target=1.0,
            cpu_s=round(min(cpu), 3),
            server_cpu_s=round(min(server), 2),
            statements=len(statements),
            needs_posted=found.current.posted,
            needs_advised=found.current.advised,
            load_average=round(os.getloadavg()[0], 2),
        )
        coordinator = db.session.scalars(
            select(User).join(UserRole).where(UserRole.role == Role.COORDINATOR).limit(1)
        ).one()
        query = f"art=frei&von={period.start.isoformat()}&bis={period.end.isoformat()}"
        times, cpu, server = [], [], []
        for _ in range(3):
            with app.test_request_context(f"/koordination/wirkung?{query}"):
                login_user(coordinator)
                statements.clear()
                started, cpu_before, server_before = time.perf_counter(), cpu_s(), server_cpu()
                page = app.view_functions["reports.impact_report"]()
                times.append(time.perf_counter() - started)
                cpu.append(cpu_s() - cpu_before)
                server.append(server_cpu() - server_before)
        event.remove(db.engine, "before_cursor_execute", count)
        figure(
            size,
            "impact_page_s",
            round(min(times), 3),
            target=1.0,
            cpu_s=round(min(cpu), 3),
            server_cpu_s=round(min(server), 2),
            statements=len(statements),
            kb=round(len(page) / 1024),
            first_s=round(times[0], 3),
            load_average=round(os.getloadavg()[0], 2),
        )
        db.session.rollback()


def child(args: list[str], env: dict) -> None:
    subprocess.run([sys.executable, __file__, *args], cwd=ROOT, env=env, check=True)


def _proposals(flags: list[str], env: dict) -> None:
    log("proposing (dry run)")
    child(["--child", "propose-dry", *flags], env)
    log("proposing")
    out = subprocess.run(
        [sys.executable, __file__, "--child", "propose", *flags],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    sys.stdout.write(out)
    sys.stdout.flush()
    first = json.loads(out.strip().splitlines()[-1])["value"]
    log("proposing again")
    child(["--child", "propose-second", *flags], {**env, "SCALE_FIRST_S": str(first)})


def run_size(args, size: str) -> None:
    base = f"vernetzer_scale_{size.lower()}{'_dense' if args.dense else ''}"
    name = f"{base}{args.suffix}"
    # A copy of the database right after the fill, for --reuse; shared by every suffix.
    filled = f"{base}_filled"
    reuse = args.reuse and database_exists(args.database_url, filled)
    log(f"size {size}{' dense' if args.dense else ''}: database {name}")
    database_url = create_database(args.database_url, name, template=filled if reuse else None)
    flags = ["--size", size, "--url", database_url, *(["--dense"] if args.dense else [])]
    env = {
        **os.environ,
        "VERNETZER_ENV": "production",
        "BASE_URL": "http://127.0.0.1",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": args.redis,
        "PRIVACY_VERSION": PRIVACY_VERSION,
        "LOG_LEVEL": "WARNING",
        "MAIL_SERVER": "127.0.0.1",
    }
    try:
        figure(size, "load_average_before", round(os.getloadavg()[0], 2), cores=os.cpu_count())
        if reuse:
            log(f"reusing the fill kept in {filled}")
            child(["--child", "migrate", *flags], env)
        else:
            child(["--child", "fill", *flags], env)
            if args.reuse:  # keep a copy for the next --reuse run
                create_database(args.database_url, filled, template=name)
        if not args.skip_propose:
            _proposals(flags, env)
        if not args.skip_pool:
            log("pool")
            child(["--child", "pool", *flags], env)
        if not args.skip_impact:
            log("impact report")
            child(["--child", "impact", *flags], {**env, "BASE_URL": "http://127.0.0.1:5000"})
        if not args.skip_pages:
            # The proposal run wrote tens of thousands of matches: statistics as autovacuum
            # would have them by then (this machine's PostgreSQL runs without it).
            analyze(database_url)
            log("pages through gunicorn")
            pages(database_url, size, args.dense, args.redis, args.workers)
    finally:
        if not args.keep:
            drop_database(args.database_url, name)
            log(f"dropped {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="M", help="comma-separated subset of M,L (default M)")
    parser.add_argument("--dense", action="store_true", help="every volunteer in every phase")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"),
        help="the PostgreSQL server; a fresh database is created on it and dropped afterwards",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12", help="flushed first")
    parser.add_argument("--skip-propose", action="store_true", help="no match propose part")
    parser.add_argument("--skip-pool", action="store_true", help="no volunteer pool part")
    parser.add_argument("--skip-pages", action="store_true", help="no gunicorn part")
    parser.add_argument("--skip-impact", action="store_true", help="no Wirkung report part")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a copy of the filled database and start from it next time (drop it by hand)",
    )
    parser.add_argument(
        "--suffix", default="", help="appended to the database names, for runs side by side"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "fill":
            fill(args.url, args.size, args.dense)
        elif args.child == "migrate":
            migrate(args.url)
        elif args.child.startswith("propose"):
            label = {"propose-dry": "dry", "propose": "real", "propose-second": "second"}
            propose(args.size, args.dense, label[args.child], args.child == "propose-dry")
        elif args.child == "pool":
            pool(args.size, args.dense)
        elif args.child == "impact":
            impact_report(args.size)
        return 0
    if not re.match(r"redis://(127\.|localhost)", args.redis):
        parser.error("the scale run only uses a Redis on this machine (loopback)")
    if not re.fullmatch(r"[a-z0-9_]*", args.suffix):
        parser.error("--suffix: lower-case letters, digits and _ only")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES or s == "S"]
    if unknown:
        parser.error(f"unknown size(s): {', '.join(unknown)} (M or L)")
    for size in sizes:
        run_size(args, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
