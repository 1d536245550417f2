"""Benchmark of the weekly digests: build and queue all of them, then drain to a local SMTP sink.

    .venv/bin/python bench/digests.py [--volunteers 10000] [--needs 2000]
        [--coordinators 50] [--initiatives 1000] [--no-scale-check] [--no-drain]

Fills a fresh SQLite file (or the empty PostgreSQL database named by
DATABASE_URL) through bulk inserts, runs ``queue_digests`` once while counting
every SQL statement (a ``before_cursor_execute`` listener), then sends the outbox
with ``matching.mail.drain`` to an aiosmtpd server on 127.0.0.1 that only counts.

Prints one JSON object: digests_queued, build_s, queries_total,
queries_per_digest, drain_messages_per_s, peak_rss_mb, and ``scale_check``: the
same build on a tenth of the data in a child process, so that the statements per
digest can be compared (a fixed number per batch means they do not grow).
Data come from a fixed seed: volunteers mostly serve one district in person, a
few by phone or video; needs are open, opened up to 40 days ago, so some are stale.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from aiosmtpd.controller import Controller  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from smtp import free_port  # noqa: E402
from sqlalchemy import event, insert, inspect  # noqa: E402

from config import BaseConfig  # noqa: E402
from matching import create_app, mail  # noqa: E402
from matching.digests import queue_digests  # noqa: E402
from matching.extensions import db  # noqa: E402
from matching.models import (  # noqa: E402
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
from matching.reference import DISTRICTS, LANGUAGE_CODES, NEIGHBOURS, PHASE_CODES  # noqa: E402

SEED = 20260302
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # Monday 07:00 in Stuttgart
OTHER_LANGUAGES = [code for code in LANGUAGE_CODES if code != "de"]
DISTRICT_WEIGHTS = [1.6 if d.ring == "inner" else 1.0 for d in DISTRICTS]


class BenchConfig(BaseConfig):
    ENV_NAME = "bench"
    SECRET_KEY = "bench-secret"
    BASE_URL = "https://vernetzerboerse.example.org"
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "127.0.0.1"
    OUTBOX_SEND_AFTER_COMMIT = False

    def __init__(self, database_uri: str, smtp_port: int) -> None:
        super().__init__()
        if not os.environ.get("DATABASE_URL"):
            self.SQLALCHEMY_DATABASE_URI = database_uri
        self.MAIL_BACKEND = "smtp"
        self.MAIL_PORT = smtp_port


# ---------------------------------------------------------------------------
# Data


def _district(rnd: random.Random) -> str:
    return rnd.choices(DISTRICTS, DISTRICT_WEIGHTS)[0].code


def _user(uid: int, role: str, rnd: random.Random) -> dict:
    return {
        "id": uid,
        "email": f"{role}{uid}@bench.example.org",
        "password_hash": "not-used",
        "first_name": f"{role.title()}{uid}",
        "last_name": "Bench",
        "phone": "",
        "locale": "en" if rnd.random() < 0.1 else "de",
        "created_at": NOW - timedelta(days=90),
        "confirmed_at": NOW - timedelta(days=89),
        "session_version": 1,
        "privacy_version": "bench",
    }


def populate(n_volunteers: int, n_needs: int, n_coordinators: int, n_initiatives: int) -> None:
    """Bulk-insert the people, profiles, initiatives, open needs and some matches."""
    rnd = random.Random(SEED)
    rows: dict[type, list[dict]] = {
        model: []
        for model in (
            User,
            UserRole,
            VolunteerProfile,
            VolunteerPhaseLevel,
            VolunteerDistrict,
            VolunteerLanguage,
            Initiative,
            InitiativeMember,
            Need,
            NeedPhase,
            Match,
        )
    }
    uid = 0
    for pid in range(1, n_volunteers + 1):
        uid += 1
        rows[User].append(_user(uid, "volunteer", rnd))
        rows[UserRole].append({"user_id": uid, "role": "volunteer", "granted_at": NOW})
        home = _district(rnd)
        districts = {home}
        if rnd.random() < 0.1:
            districts.add(rnd.choice(sorted(NEIGHBOURS[home])))
        rows[VolunteerProfile].append(
            {
                "id": pid,
                "user_id": uid,
                "status": "approved" if rnd.random() < 0.92 else "pending",
                "review_reason": "",
                "whole_city": rnd.random() < 0.01,
                "capacity": rnd.choice((1, 2, 2, 3)),
                "bio": "",
                "offers_in_person": rnd.random() < 0.97,
                "offers_phone": rnd.random() < 0.08,
                "offers_video": rnd.random() < 0.06,
                "created_at": NOW - timedelta(days=80),
                "updated_at": NOW - timedelta(days=80),
            }
        )
        known = rnd.sample(PHASE_CODES, rnd.choice((1, 1, 2, 2, 3)))
        rows[VolunteerPhaseLevel].extend(
            {"profile_id": pid, "phase": p, "level": rnd.choice((1, 2, 3)) if p in known else 0}
            for p in PHASE_CODES
        )
        rows[VolunteerDistrict].extend({"profile_id": pid, "district": d} for d in districts)
        languages = {"de"} if rnd.random() < 0.95 else {rnd.choice(OTHER_LANGUAGES)}
        if rnd.random() < 0.2:
            languages.add(rnd.choice(OTHER_LANGUAGES))
        rows[VolunteerLanguage].extend({"profile_id": pid, "language": lang} for lang in languages)
    for _ in range(n_coordinators):
        uid += 1
        rows[User].append(_user(uid, "coordinator", rnd))
        rows[UserRole].append({"user_id": uid, "role": "coordinator", "granted_at": NOW})
    initiative_district = {}
    for iid in range(1, n_initiatives + 1):
        uid += 1
        rows[User].append(_user(uid, "initiative", rnd))
        rows[UserRole].append({"user_id": uid, "role": "initiative", "granted_at": NOW})
        initiative_district[iid] = _district(rnd)
        rows[Initiative].append(
            {
                "id": iid,
                "name": f"Initiative {iid}",
                "district": initiative_district[iid],
                "sub_district": "",
                "description": "",
                "website": "",
                "created_at": NOW - timedelta(days=60),
                "updated_at": NOW - timedelta(days=60),
            }
        )
        rows[InitiativeMember].append({"initiative_id": iid, "user_id": uid, "joined_at": NOW})
    for nid in range(1, n_needs + 1):
        iid = (nid - 1) % n_initiatives + 1
        opened = NOW - timedelta(days=rnd.uniform(0, 40))
        formats = rnd.choices(
            (("in_person",), ("in_person", "phone"), ("in_person", "video"), ("video",)),
            (0.8, 0.08, 0.08, 0.04),
        )[0]
        rows[Need].append(
            {
                "id": nid,
                "initiative_id": iid,
                "title": f"Anfrage {nid}",
                "description": "Wir suchen Rat.",
                "district": initiative_district[iid],
                "language": "de" if rnd.random() < 0.9 else rnd.choice(OTHER_LANGUAGES),
                "accepts_in_person": "in_person" in formats,
                "accepts_phone": "phone" in formats,
                "accepts_video": "video" in formats,
                "urgency": rnd.choices(("normal", "soon", "urgent"), (0.7, 0.2, 0.1))[0],
                "experts_wanted": rnd.choice((1, 1, 1, 2)),
                "status": "open",
                "status_reason": "",
                "created_at": opened,
                "updated_at": opened,
                "published_at": opened,
            }
        )
        for phase in rnd.sample(PHASE_CODES, rnd.choice((1, 1, 1, 2))):
            rows[NeedPhase].append({"need_id": nid, "phase": phase})
    # Some proposals waiting and some approved matches left unanswered, for the coordinators.
    pairs = set()
    while len(pairs) < min(n_needs, n_volunteers) // 5:
        pairs.add((rnd.randint(1, n_needs), rnd.randint(1, n_volunteers)))
    for mid, (nid, pid) in enumerate(sorted(pairs), 1):
        status = "approved" if mid % 4 == 0 else "proposed"
        created = NOW - timedelta(days=rnd.uniform(1, 20))
        rows[Match].append(
            {
                "id": mid,
                "need_id": nid,
                "volunteer_id": pid,
                "status": status,
                "origin": "engine",
                "reason": "",
                "created_at": created,
                "updated_at": created,
                "decided_at": created if status == "approved" else None,
                "feedback_comment": "",
            }
        )
    for model, values in rows.items():
        for start in range(0, len(values), 5000):
            db.session.execute(insert(model), values[start : start + 5000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for model in (User, VolunteerProfile, Initiative, Need, Match):
            table = model.__tablename__
            db.session.execute(
                db.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        db.session.commit()


# ---------------------------------------------------------------------------
# Measuring


class _Count:
    """An SMTP handler that only counts what arrives."""

    def __init__(self) -> None:
        self.received = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received += 1
        return "250 Message accepted"


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(args: argparse.Namespace) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        config = BenchConfig(f"sqlite:///{tmp}/bench.db", port)
        app = create_app(config)
        with app.app_context():
            if inspect(db.engine).get_table_names():
                raise SystemExit("the database is not empty; give an empty one in DATABASE_URL")
            upgrade(directory=str(ROOT / "migrations"))
            started = time.perf_counter()
            populate(args.volunteers, args.needs, args.coordinators, args.initiatives)
            populate_s = time.perf_counter() - started

            statements = []
            event.listen(
                db.engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2])
            )
            started = time.perf_counter()
            result = queue_digests(db.session, NOW)
            db.session.commit()
            build_s = time.perf_counter() - started
            queries = len(statements)
            build_rss = _peak_rss_mb()
            figures = {
                "database": db.engine.dialect.name,
                "volunteers": args.volunteers,
                "needs": args.needs,
                "coordinators": args.coordinators,
                "initiatives": args.initiatives,
                "populate_s": round(populate_s, 2),
                "digests_queued": result.total_queued,
                "digests": result.as_dict(),
                "build_s": round(build_s, 2),
                "queries_total": queries,
                "queries_per_digest": round(queries / max(1, result.total_queued), 4),
                "build_peak_rss_mb": build_rss,
            }
            if not args.no_drain:
                figures.update(_drain(port))
            figures["peak_rss_mb"] = _peak_rss_mb()
            db.session.remove()
            db.engine.dispose()
    return figures


def _drain(port: int) -> dict:
    counter = _Count()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        started = time.perf_counter()
        result = mail.drain(db.session, batch=200)
        drain_s = time.perf_counter() - started
    finally:
        controller.stop()
    return {
        "drain_sent": result.sent,
        "drain_received": counter.received,
        "drain_failed": result.failed + result.retried,
        "drain_s": round(drain_s, 2),
        "drain_messages_per_s": round(result.sent / drain_s, 1) if drain_s else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=10_000)
    parser.add_argument("--needs", type=int, default=2_000)
    parser.add_argument("--coordinators", type=int, default=50)
    parser.add_argument("--initiatives", type=int, default=1_000)
    parser.add_argument("--no-drain", action="store_true", help="only build and queue")
    parser.add_argument(
        "--no-scale-check", action="store_true", help="skip the run on a tenth of the data"
    )
    args = parser.parse_args(argv)
    figures = run(args)
    if not args.no_scale_check:
        child = [
            sys.executable,
            __file__,
            "--no-drain",
            "--no-scale-check",
            *("--volunteers", str(max(1, args.volunteers // 10))),
            *("--needs", str(max(1, args.needs // 10))),
            *("--coordinators", str(max(1, args.coordinators // 10))),
            *("--initiatives", str(max(1, args.initiatives // 10))),
        ]
        small = json.loads(subprocess.run(child, check=True, capture_output=True).stdout)
        figures["scale_check"] = {
            key: small[key]
            for key in ("volunteers", "digests_queued", "queries_total", "queries_per_digest")
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
