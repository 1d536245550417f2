"""Load and soak benchmark: gunicorn (4 workers, production mode), PostgreSQL and Redis on this
machine, driven by locust with a realistic mix of people.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python bench/load.py                 # 50 people for 60 s
    .venv/bin/python bench/load.py --soak          # 10 minutes, worker memory sampled
    .venv/bin/python bench/load.py --users 20 --seconds 30
    .venv/bin/python bench/load.py --steps 50,100,150,200,250,300,350,400   # where p95 > 300 ms

What it does, start to end (it stops by itself and only ever talks to loopback):

1. creates a fresh PostgreSQL database next to DATABASE_URL (default
   postgresql+psycopg://postgres@127.0.0.1:5432), migrates it and fills it: 320 volunteers (300
   approved), 50 initiatives with 200 open needs and some history, 5 coordinators, 40 proposals;
2. flushes its own Redis database (--redis, default db 14) and starts gunicorn with
   deploy/gunicorn.conf.py, 4 workers, VERNETZER_ENV=production, log-in limits raised (every
   simulated person comes from 127.0.0.1);
3. runs bench/locust_mix.py (locust, in its own process): the people arrive at 5 a second
   (their log-ins spread over the ramp), then all of them stay for --seconds, each thinking
   1-4 s between pages: visitors on the open needs, their filters and the Atom feed;
   volunteers on their ranked needs, offering help; initiatives posting needs; coordinators
   approving proposals; plus one bare GET /healthz twice a second as the floor;
4. counts in the database what the run wrote and compares it with the writes the simulated
   people saw succeed ("nothing lost"), reads gunicorn's access log for 5xx answers, drops the
   database, and prints one JSON object on stdout (progress goes to stderr).

The figures include the ramp. "cpu_seconds" says where the machine's time went: gunicorn,
PostgreSQL, locust, and other processes (someone else's test run on a shared machine makes
every figure worse; compare runs only at a similar "load_average_before").

CPU per request: gunicorn runs with SERVER_TIMING, so every answer names the CPU its worker spent
on it (matching/timing.py: Python and templates, not PostgreSQL); "cpu_ms_per_request" gives
that mean for the five most visited pages, and the workers' whole CPU (log-ins' password checks
included) divided by every request.

--steps runs the people in steps against the same server and database, each step a run of
--seconds (default 30, after its ramp), and stops after the first step whose p95 over the
people's requests (the floor's /healthz left out) is over 300 ms; "p95_crosses_300_ms" names the
last step under and the first over, "steps" each step's p95, requests/s and CPU per request.

--soak runs 10 minutes with gunicorn's worker recycling switched off (--max-requests 0, so a
leak cannot hide behind it) and samples each worker's RSS every 30 s. Memory is "flat" when no
worker grew by 10 % or more from its size after the first minute (warm-up: templates, caches,
the first connections) to the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "Last-und-Dauerlauf-2026"
DOMAIN = "last.example.org"
PRIVACY_VERSION = "2026-11"
TARGET_P95_MS = 300
TARGET_FLOOR_FACTOR = 10
FLAT_GROWTH = 0.10
TOP_PAGES = 5  # the most visited pages, whose CPU per request the run reports


def log(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- database


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from config import normalise_database_url

    url = make_url(normalise_database_url(server_url))
    if url.host not in (None, "localhost") and not url.host.startswith("127."):
        raise SystemExit("the load run only uses a database on this machine (loopback)")
    admin = create_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def database_exists(server_url: str, name: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from config import normalise_database_url

    admin = create_engine(
        make_url(normalise_database_url(server_url)).set(database="postgres"), poolclass=NullPool
    )
    with admin.connect() as conn:
        found = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
    admin.dispose()
    return bool(found)


def drop_database(server_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from config import normalise_database_url

    admin = create_engine(
        make_url(normalise_database_url(server_url)).set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def setup_app(database_url: str):
    """The app in development mode against the new database, for migrating and filling it."""
    from config import DevelopmentConfig
    from matching import create_app

    config = DevelopmentConfig()
    config.SQLALCHEMY_DATABASE_URI = database_url
    config.PRIVACY_VERSION = PRIVACY_VERSION
    config.LOG_LEVEL = "WARNING"
    return create_app(config)


def fill(session, seed: int = 2026) -> dict:
    """Volunteers, initiatives, needs, coordinators and some history; returns the log-ins."""
    from matching.auth.passwords import hash_password
    from matching.demo import FIRST_NAMES, LAST_NAMES, NEED_TITLES
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
    from matching.reference import DISTRICT_CODES, NEIGHBOURS, PHASE_CODES

    rng = random.Random(seed)
    now = utcnow()
    password_hash = hash_password(PASSWORD)  # production cost: log-ins cost what they cost
    people: dict[str, list[str]] = {"volunteer": [], "initiative": [], "coordinator": []}

    def person(email: str, index: int, role: Role) -> User:
        user = User(
            email=email,
            password_hash=password_hash,
            first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
            last_name=LAST_NAMES[(index * 7) % len(LAST_NAMES)],
            phone=f"0711 {rng.randint(1000000, 9999999)}",
            confirmed_at=now - timedelta(days=rng.randint(1, 400)),
            privacy_version=PRIVACY_VERSION,
        )
        user.add_role(role)
        session.add(user)
        return user

    for i in range(5):
        person(f"koordination{i + 1}@{DOMAIN}", i, Role.COORDINATOR)
        people["coordinator"].append(f"koordination{i + 1}@{DOMAIN}")

    profiles = []
    for i in range(320):
        email = f"expertin{i + 1:03d}@{DOMAIN}"
        user = person(email, i, Role.VOLUNTEER)
        approved = i < 300
        profile = VolunteerProfile(
            user=user,
            status=ProfileStatus.APPROVED if approved else ProfileStatus.PENDING,
            capacity=rng.choice((1, 2, 2, 2, 3, 3)),
            whole_city=rng.random() < 0.05,
            offers_video=rng.random() < 0.4,
            bio="Ich engagiere mich seit Jahren in der Nachbarschaftsarbeit.",
            submitted_at=now - timedelta(days=rng.randint(1, 300)),
            reviewed_at=now if approved else None,
        )
        strong = rng.sample(PHASE_CODES, k=rng.randint(2, 4))
        profile.levels = [
            VolunteerPhaseLevel(
                phase=p, level=rng.randint(2, 3) if p in strong else rng.choice((0, 0, 1))
            )
            for p in PHASE_CODES
        ]
        home = DISTRICT_CODES[i % len(DISTRICT_CODES)]
        near = sorted(NEIGHBOURS.get(home, ()))
        districts = {home, *rng.sample(near, k=min(len(near), rng.randint(0, 2)))}
        profile.district_rows = [VolunteerDistrict(district=d) for d in sorted(districts)]
        languages = {"de", *rng.sample(("en", "tr", "it", "ru", "ar"), k=rng.randint(0, 1))}
        profile.language_rows = [VolunteerLanguage(language=lang) for lang in sorted(languages)]
        session.add(profile)
        profiles.append(profile)
        if approved:
            people["volunteer"].append(email)

    initiatives = []
    for i in range(50):
        email = f"initiative{i + 1:02d}@{DOMAIN}"
        member = person(email, i + 11, Role.INITIATIVE)
        district = DISTRICT_CODES[(i * 5) % len(DISTRICT_CODES)]
        initiative = Initiative(
            name=f"Nachbarschaftsinitiative {i + 1}",
            district=district,
            description="Wir sind Nachbar:innen, die zusammen etwas anpacken.",
        )
        initiative.member_rows.append(InitiativeMember(user=member))
        session.add(initiative)
        initiatives.append((initiative, member))
        people["initiative"].append(email)
    session.flush()

    def need(initiative, member, status, index) -> Need:
        title, phases = NEED_TITLES[index % len(NEED_TITLES)]
        age = timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
        row = Need(
            initiative=initiative,
            created_by_id=member.id,
            title=title,
            description="Wir sind eine kleine Gruppe und freuen uns über Rat aus der Praxis.",
            district=initiative.district,
            urgency=rng.choice(("normal", "normal", "soon", "urgent")),
            accepts_video=rng.random() < 0.2,
            status=status,
            created_at=now - age,
            published_at=now - age,
            closed_at=now if status == NeedStatus.CLOSED else None,
        )
        row.phase_rows = [NeedPhase(phase=p) for p in phases]
        session.add(row)
        return row

    approved = [p for p in profiles if p.status == ProfileStatus.APPROVED]
    open_needs = [need(*initiatives[i % 50], NeedStatus.OPEN, i) for i in range(200)]
    history = [need(*initiatives[i % 50], NeedStatus.CLOSED, i) for i in range(60)]
    session.flush()
    for index, row in enumerate(history):
        volunteer = approved[(index * 13) % len(approved)]
        session.add(
            Match(
                need_id=row.id,
                volunteer_id=volunteer.id,
                origin=MatchOrigin.MANUAL,
                status=MatchStatus.COMPLETED,
                decided_at=now,
                accepted_at=now,
                completed_at=now,
            )
        )
    for index, row in enumerate(rng.sample(open_needs, k=40)):
        session.add(
            Match(
                need_id=row.id,
                volunteer_id=approved[(index * 29 + 3) % len(approved)].id,
                origin=MatchOrigin.OFFER,
                status=MatchStatus.PROPOSED,
            )
        )
    session.commit()
    return people


def analyze(database_url: str) -> None:
    """Gather the planner's statistics, as autovacuum does on a live database.

    The PostgreSQL of the bench machine may run without autovacuum (this one does): a freshly
    filled database then has none, and the planner guesses one row for every condition. The
    overview's ranking query then ran as a nested loop (4.6 ms of PostgreSQL per visit at this
    size instead of 0.7 ms), which a real database never sees.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def counts(session) -> dict:
    """What the run writes: offers (matches), posted needs, approved matches; and mail waiting."""
    from sqlalchemy import func, select

    from matching.models import Match, MatchOrigin, MatchStatus, Need, OutboxMessage

    def count(statement) -> int:
        return session.scalar(statement) or 0

    return {
        "offers": count(
            select(func.count()).select_from(Match).where(Match.origin == MatchOrigin.OFFER)
        ),
        "needs": count(select(func.count()).select_from(Need)),
        "approved": count(
            select(func.count()).select_from(Match).where(Match.status == MatchStatus.APPROVED)
        ),
        "outbox_pending": count(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        ),
    }


# ---------------------------------------------------------------- gunicorn and memory


def start_gunicorn(env: dict, port: int, workers: int, soak: bool, logfile) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
    ]
    if soak:
        command += ["--max-requests", "0"]  # no recycling: a leak must show
    command.append("wsgi:app")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("gunicorn did not come up; see its log")
        time.sleep(0.3)


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return sorted(int(pid) for pid in children.read_text().split())
    except OSError:
        return []


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class MemorySampler(threading.Thread):
    """RSS of each gunicorn worker every ``interval`` seconds, until stopped."""

    def __init__(self, master: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.interval = interval
        self.samples: list[tuple[float, dict[int, float]]] = []
        self.halt = threading.Event()
        self.started_at = time.monotonic()

    def sample(self) -> None:
        sizes = {pid: rss_mib(pid) for pid in worker_pids(self.master)}
        self.samples.append(
            (round(time.monotonic() - self.started_at), {k: v for k, v in sizes.items() if v})
        )

    def run(self) -> None:
        self.sample()
        while not self.halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self.halt.set()
        self.join()
        self.sample()

    def report(self, warm_up: float) -> dict:
        per_worker: dict[int, list[tuple[float, float]]] = {}
        for at, sizes in self.samples:
            for pid, size in sizes.items():
                per_worker.setdefault(pid, []).append((at, size))
        workers = {}
        for pid, series in per_worker.items():
            warm = [size for at, size in series if at >= warm_up] or [series[-1][1]]
            baseline, end = warm[0], series[-1][1]
            workers[str(pid)] = {
                "first_mib": series[0][1],
                "after_warm_up_mib": baseline,
                "end_mib": end,
                "max_mib": max(size for _at, size in series),
                "growth_after_warm_up": round((end - baseline) / baseline, 3),
                "samples": len(series),
            }
        flat = bool(workers) and all(
            w["growth_after_warm_up"] < FLAT_GROWTH for w in workers.values()
        )
        return {
            "interval_s": self.interval,
            "warm_up_s": warm_up,
            "workers": workers,
            "verdict": "flat" if flat else "growing",
            "series": [{"t_s": at, "rss_mib": list(sizes.values())} for at, sizes in self.samples],
        }


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds spent by the gunicorn workers and PostgreSQL between start() and stop().

    A process's CPU can only be read while it lives, and gunicorn replaces a worker after
    ``max_requests`` (so does PostgreSQL's backend of that worker): a thread reads every
    process's CPU twice a second and keeps the last reading, so a worker that ended during
    the run counts up to its last half second instead of showing as "other processes".
    """

    INTERVAL_S = 0.5

    def __init__(self, master: int) -> None:
        self.master = master
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _now(self) -> dict[str, dict[int, float]]:
        return {
            "gunicorn": {p: cpu_seconds(p) for p in [self.master, *worker_pids(self.master)]},
            "postgres": {p: cpu_seconds(p) for p in postgres_pids()},
        }

    def _read(self) -> None:
        for kind, by_pid in self._now().items():
            for pid, seconds in by_pid.items():
                if seconds:  # 0.0: the process ended between listing and reading it
                    self.last[kind][pid] = max(seconds, self.last[kind].get(pid, 0.0))

    def _sample(self) -> None:
        while not self._stop.wait(self.INTERVAL_S):
            self._read()

    @staticmethod
    def _machine_busy() -> float:
        """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self.before = self._now()
        self.last: dict[str, dict[int, float]] = {kind: {} for kind in self.before}
        self.busy_before = self._machine_busy()
        self.load_before = os.getloadavg()[0]
        self._thread = threading.Thread(target=self._sample, name="cpu-meter", daemon=True)
        self._thread.start()

    def stop(self, locust: float) -> dict[str, float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._read()
        used: dict[str, float] = {
            kind: round(
                sum(t - self.before[kind].get(pid, 0.0) for pid, t in self.last[kind].items()), 1
            )
            for kind in self.last
        }
        used["locust"] = round(locust, 1)
        busy = self._machine_busy() - self.busy_before
        # Everything else on the machine meanwhile (other people's test runs, say).
        used["other_processes"] = round(max(0.0, busy - sum(used.values())), 1)
        used["load_average_before"] = round(self.load_before, 2)
        return used


def access_log_statuses(path: Path) -> dict[str, int]:
    statuses: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        match = re.search(r'"logger":"access".*"status":(\d{3})', line)
        if match:
            statuses[match.group(1)] += 1
    return dict(sorted(statuses.items()))


# ---------------------------------------------------------------- the run


def verdicts(result: dict) -> dict:
    floor_p95 = (result["floor"] or {}).get("p95_ms") or 0
    limit = min(TARGET_P95_MS, TARGET_FLOOR_FACTOR * floor_p95) if floor_p95 else TARGET_P95_MS
    slow = {
        page: figures["p95_ms"]
        for page, figures in result["pages"].items()
        if figures["p95_ms"] > limit
    }
    return {
        "zero_errors": result["total"]["errors"] == 0,
        "p95_limit_ms": limit,
        "pages_over_limit": slow,
        "nothing_lost": result["nothing_lost"]["ok"],
    }


def top_pages_cpu(result: dict, count: int = TOP_PAGES) -> dict:
    """CPU milliseconds per request of the ``count`` most visited pages (the app's own
    Server-Timing figure: Python and templates, not PostgreSQL), most visited first."""
    cpu = result.get("server_cpu_ms", {})
    visited = sorted(result["pages"].items(), key=lambda item: -item[1]["requests"])[:count]
    return {
        page: {
            "requests": figures["requests"],
            "cpu_ms_per_request": cpu.get(page, {}).get("cpu_ms_mean"),
            "p95_ms": figures["p95_ms"],
        }
        for page, figures in visited
    }


def run_people(
    host: str, people_file: Path, feed: str, users: int, seconds: int, work: Path, master: int
) -> dict:
    """One locust run of ``users`` people for ``seconds`` (after their ramp): its figures, the
    CPU the machine spent on it, and the CPU milliseconds per request."""
    cpu = CpuMeter(master)
    cpu.start()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = work / f"locust-{users}.json"
    log(f"{users} people for {seconds} s against {host}")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "locust_mix.py"),
            "--host",
            host,
            "--people",
            str(people_file),
            "--users",
            str(users),
            "--seconds",
            str(seconds),
            "--feed",
            feed,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        timeout=seconds + users + 300,
    )
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    used = cpu.stop(locust=locust_cpu)
    result = json.loads(out.read_text())
    ramp = result.pop("ramp_s")
    requests = result["total"]["requests"]
    result["run"] = {
        "users": users,
        "seconds": seconds,
        "ramp_s": ramp,
        "people_by_kind": result.pop("users"),
        "cpu_seconds": used,
    }
    result["requests_per_s"] = round(requests / (seconds + ramp), 1)
    result["cpu_ms_per_request"] = {
        # Everything the workers did (log-ins' password checks included) over every answer.
        "workers_all_requests": round(used["gunicorn"] * 1000 / requests, 1) if requests else None,
        "top_pages": top_pages_cpu(result),
    }
    return result


def step_summary(result: dict) -> dict:
    people = result["people_total"]
    return {
        "users": result["run"]["users"],
        "requests_per_s": result["requests_per_s"],
        "p50_ms": people["p50_ms"],
        "p95_ms": people["p95_ms"],
        "errors": people["errors"],
        "workers_cpu_ms_per_request": result["cpu_ms_per_request"]["workers_all_requests"],
        "top_pages_cpu_ms": {
            page: figures["cpu_ms_per_request"]
            for page, figures in result["cpu_ms_per_request"]["top_pages"].items()
        },
        "cpu_seconds": result["run"]["cpu_seconds"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated people (default 50)")
    parser.add_argument("--seconds", type=int, help="length of the run (60, or 600 with --soak)")
    parser.add_argument("--soak", action="store_true", help="10 minutes, worker memory sampled")
    parser.add_argument(
        "--steps",
        help="stepped run: comma-separated numbers of people (e.g. 50,100,150,...), each a run "
        "of --seconds (default 30) against the same server, until the people's p95 crosses "
        f"{TARGET_P95_MS} ms",
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432"),
        help="the PostgreSQL server; a fresh database is created on it and dropped afterwards",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="flushed first")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args()
    steps = [int(n) for n in args.steps.split(",")] if args.steps else []
    if args.steps and (args.soak or not steps or min(steps) < 1):
        parser.error("--steps: positive numbers of people, and not with --soak")
    seconds = args.seconds or (600 if args.soak else 30 if steps else 60)
    if not re.match(r"redis://(127\.|localhost)", args.redis):
        parser.error("the load run only uses a Redis on this machine (loopback)")

    name = f"vernetzer_load_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="vernetzer-load-"))
    log(f"database {name}, logs in {work}")
    database_url = create_database(args.database_url, name)
    gunicorn = None
    try:
        app = setup_app(database_url)
        from flask_migrate import upgrade

        from matching.extensions import db

        with app.app_context():
            upgrade()
            started = time.monotonic()
            people = fill(db.session)
            log(f"filled in {time.monotonic() - started:.1f} s")
            analyze(database_url)
            before = counts(db.session)
            db.session.remove()
            db.engine.dispose()
        people_file = work / "people.json"
        people_file.write_text(json.dumps({"password": PASSWORD, **people}))

        import redis

        redis.Redis.from_url(args.redis).flushdb()
        port = free_port()
        env = {
            **os.environ,
            "VERNETZER_ENV": "production",
            "BASE_URL": "http://127.0.0.1",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": args.redis,
            "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
            "PRIVACY_VERSION": PRIVACY_VERSION,
            "LOG_LEVEL": "WARNING",
            "MAIL_SERVER": "127.0.0.1",  # never reached: production leaves mail in the outbox
            "SERVER_TIMING": "true",  # each answer names its CPU time: CPU per request per page
        }
        gunicorn_log = work / "gunicorn.log"
        with gunicorn_log.open("wb") as sink:
            gunicorn = start_gunicorn(env, port, args.workers, args.soak, sink)
        host = f"http://127.0.0.1:{port}"
        feed = "/feeds/needs.atom"
        try:
            urllib.request.urlopen(host + feed, timeout=5).close()
        except OSError:
            feed = "/anfragen?seite=2"
            log("no /feeds/needs.atom on this version: the feed's share goes to /anfragen?seite=2")
        sampler = MemorySampler(gunicorn.pid, 30 if args.soak else 10)
        sampler.start()
        runs = []
        for users in steps or [args.users]:
            analyze(database_url)  # each step's posts and offers, as autovacuum would
            runs.append(run_people(host, people_file, feed, users, seconds, work, gunicorn.pid))
            if steps:
                summary = step_summary(runs[-1])
                log(
                    f"{users} people: p95 {summary['p95_ms']} ms, "
                    f"{summary['requests_per_s']} requests/s, "
                    f"workers {summary['workers_cpu_ms_per_request']} ms CPU per request"
                )
                if summary["p95_ms"] > TARGET_P95_MS:
                    break
        sampler.stop()
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(30)
        gunicorn = None
        with app.app_context():
            after = counts(db.session)
            db.session.remove()
            db.engine.dispose()
        writes = {key: sum(run["writes"][key] for run in runs) for key in runs[0]["writes"]}
        for run in runs:
            run.pop("writes")
        made = {key: after[key] - before[key] for key in ("offers", "needs", "approved")}
        seen = {
            "offers": writes["offers_done"],
            "needs": writes["posts_done"],
            "approved": writes["approvals_done"],
        }
        result = {key: value for key, value in runs[-1].items() if key != "run"}
        run_info = runs[-1]["run"]
        report = {
            "run": {
                **run_info,
                "workers": args.workers,
                "machine_cores": os.cpu_count(),
                "feed": feed,
            },
            "requests": result["total"]["requests"],
            "errors": result["total"]["errors"],
            **result,
        }
        if steps:
            summaries = [step_summary(run) for run in runs]
            crossed = [s["users"] for s in summaries if s["p95_ms"] > TARGET_P95_MS]
            below = [s["users"] for s in summaries if s["p95_ms"] <= TARGET_P95_MS]
            report["steps"] = summaries
            report["p95_crosses_300_ms"] = {
                "last_people_under": max(below) if below else None,
                "first_people_over": crossed[0] if crossed else None,
                "note": None if crossed else "never crossed: add larger steps",
            }
            report["load_average_before_steps"] = [
                s["cpu_seconds"]["load_average_before"] for s in summaries
            ]
        report["writes_seen_by_people"] = writes
        report["nothing_lost"] = {
            "database_delta": made,
            "successful_writes": seen,
            "ok": made == seen,
            "mail_waiting_in_outbox": after["outbox_pending"],
        }
        report["server_statuses"] = access_log_statuses(gunicorn_log)
        memory = sampler.report(warm_up=60 if args.soak else 0)
        if not args.soak:
            # A minute is mostly warm-up (templates, caches, connections): only --soak judges.
            memory.pop("series")
            memory["verdict"] = "not judged: run --soak"
        report["memory"] = memory
        report["verdict"] = verdicts(report)
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    finally:
        if gunicorn is not None:
            gunicorn.kill()
            gunicorn.wait(10)
        if not args.keep:
            drop_database(args.database_url, name)
            for path in sorted(work.glob("*")):
                path.unlink()
            work.rmdir()


if __name__ == "__main__":
    sys.exit(main())
