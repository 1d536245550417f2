"""A proposal run and "Übernehmen" at the same moment, on PostgreSQL with two real transactions:
no need gets more proposals than it wants, no pair twice."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from matching.extensions import db as _db
from matching.matches import autorun, planning
from matching.models import Match, MatchStatus, Role, User, utcnow
from tests.db_state import empty_every_table
from tests.test_concurrency import _need, _user, _volunteer

pytestmark = pytest.mark.postgres


@pytest.fixture()
def committed(app):
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("two real transactions need PostgreSQL (set TEST_DATABASE_URL; CI does)")
        try:
            yield _db
        finally:
            _db.session.rollback()
            empty_every_table(_db.session)
            _db.session.commit()
            _db.session.remove()


def _someone_waits_for_a_lock(app, timeout: float = 10.0) -> bool:
    """Whether another transaction is blocked on a lock (asked from a third connection)."""
    deadline = time.monotonic() + timeout
    with app.app_context(), _db.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()
            conn.commit()
            if waiting:
                return True
            time.sleep(0.05)  # polling another process's state, not waiting for time
    return False


def _run_and_press_at_once(app, coordinator_id: int, pair: tuple[int, int]) -> dict:
    """Thread A runs the proposal and holds its transaction open until thread B, pressing
    "Übernehmen" for another expert, is blocked; then A commits and B goes on."""
    outcome: dict = {}
    a_ready = threading.Event()

    def job() -> None:
        with app.app_context():
            try:
                run = autorun.run(_db.session, None, utcnow())
                a_ready.set()
                outcome["b_blocked"] = _someone_waits_for_a_lock(app)
                _db.session.commit()
                outcome["job"] = run.proposed
            finally:
                a_ready.set()
                _db.session.remove()

    def button() -> None:
        with app.app_context():
            try:
                a_ready.wait(10)
                actor = _db.session.get(User, coordinator_id)
                result = planning.apply(_db.session, actor, [pair], utcnow())
                _db.session.commit()
                outcome["button"] = result
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=job), threading.Thread(target=button)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcome


def test_a_button_press_during_a_job_run_never_adds_a_second_proposal(app, committed):
    member = _user("ines@example.org", Role.INITIATIVE)
    coordinator = _user("koo@example.org", Role.COORDINATOR)
    need = _need("Eine Person gesucht", member, wanted=1)
    first, second = _volunteer("vera@example.org"), _volunteer("paul@example.org")
    _db.session.commit()
    # The coordinator's preview (taken earlier) chose the other expert for the same need.
    chosen = {p.volunteer_id for p in planning.preview(_db.session, utcnow()).pairs}
    other = second.id if first.id in chosen else first.id
    _db.session.rollback()

    outcome = _run_and_press_at_once(app, coordinator.id, (need.id, other))

    assert outcome["b_blocked"] and outcome["job"] == 1
    assert outcome["button"].proposed == 0
    assert "genug Vorschläge" in outcome["button"].refused[0]
    _db.session.expire_all()
    live = _db.session.scalar(
        select(func.count())
        .select_from(Match)
        .where(Match.need_id == need.id, Match.status == MatchStatus.PROPOSED)
    )
    assert live == 1


def test_two_runs_at_once_propose_each_pair_once(app, committed):
    member = _user("ines@example.org", Role.INITIATIVE)
    needs = [_need(f"Anfrage {i}", member) for i in range(3)]
    for i in range(3):
        _volunteer(f"v{i}@example.org", capacity=1)
    _db.session.commit()
    barrier = threading.Barrier(2)
    proposed: list[int] = []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait(10)
                proposed.append(autorun.run(_db.session, None, utcnow()).proposed)
                _db.session.commit()
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(proposed) == [0, 3]
    pairs = _db.session.execute(select(Match.need_id, Match.volunteer_id)).all()
    assert len(pairs) == len(set(pairs)) == 3
    assert {n for n, _v in pairs} == {n.id for n in needs}
    assert len({v for _n, v in pairs}) == 3  # capacity 1 each: nobody twice
