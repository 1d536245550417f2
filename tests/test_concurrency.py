"""Real concurrent approvals against PostgreSQL: exactly one wins, the data stays consistent.

These need separate connections that see each other's commits, which the rolled-back
test transaction cannot give, so they commit real rows and truncate them afterwards.
SQLite serialises whole-database writes and has no row locks: there is nothing to show.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from matching import matches
from matching.auth.passwords import hash_password
from matching.errors import TransitionError
from matching.extensions import db as _db
from matching.models import (
    Initiative,
    InitiativeMember,
    Match,
    MatchStatus,
    Need,
    NeedPhase,
    ProfileStatus,
    Role,
    User,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)
from tests.db_state import empty_every_table

pytestmark = pytest.mark.postgres


@pytest.fixture()
def committed(app):
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("row locks need PostgreSQL (set TEST_DATABASE_URL; CI does)")
        try:
            yield _db
        finally:
            _db.session.rollback()
            empty_every_table(_db.session)
            _db.session.commit()
            _db.session.remove()


def _user(email: str, role: Role) -> User:
    user = User(
        email=email,
        password_hash=hash_password("x" * 16),
        first_name=email[:4],
        confirmed_at=utcnow(),
        privacy_version="test",
    )
    user.add_role(role)
    _db.session.add(user)
    return user


def _volunteer(email: str, capacity: int = 2) -> VolunteerProfile:
    profile = VolunteerProfile(
        user=_user(email, Role.VOLUNTEER), status=ProfileStatus.APPROVED, capacity=capacity
    )
    profile.levels = [VolunteerPhaseLevel(phase="start", level=3)]
    profile.district_rows = [VolunteerDistrict(district="ost")]
    profile.language_rows = [VolunteerLanguage(language="de")]
    _db.session.add(profile)
    return profile


def _need(title: str, member: User, wanted: int = 1) -> Need:
    initiative = Initiative(name=f"Initiative {title}", district="ost")
    initiative.member_rows.append(InitiativeMember(user=member))
    need = Need(
        initiative=initiative,
        title=title,
        district="ost",
        status="open",
        experts_wanted=wanted,
        published_at=utcnow(),
    )
    need.phase_rows = [NeedPhase(phase="start")]
    _db.session.add(need)
    return need


def _race(app, coordinator_ids: list[int], match_ids: list[int]) -> list[str]:
    """Approve each match in its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(match_ids))
    results: list[str] = [""] * len(match_ids)

    def approve(index: int) -> None:
        with app.app_context():
            session = _db.session
            try:
                actor = session.get(User, coordinator_ids[index])
                match = session.get(Match, match_ids[index])
                barrier.wait(timeout=10)
                matches.change_status(session, actor, match, "approve", now=utcnow())
                session.commit()
                results[index] = "approved"
            except TransitionError as exc:
                session.rollback()
                results[index] = f"refused: {exc.message}"
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(len(match_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_coordinators_race_for_the_last_slot(app, committed):
    member = _user("ines@example.org", Role.INITIATIVE)
    coordinators = [
        _user("koo1@example.org", Role.COORDINATOR),
        _user("koo2@example.org", Role.COORDINATOR),
    ]
    need = _need("Letzter Platz", member, wanted=1)
    first, second = _volunteer("vera@example.org"), _volunteer("paul@example.org")
    _db.session.commit()
    now = utcnow()
    pair = [
        matches.create_match(_db.session, coordinators[0], need, first, origin="manual", now=now),
        matches.create_match(_db.session, coordinators[0], need, second, origin="manual", now=now),
    ]
    _db.session.commit()

    results = _race(app, [c.id for c in coordinators], [m.id for m in pair])

    assert sorted(r.split(":")[0] for r in results) == ["approved", "refused"]
    # The loser is refused: either it waited and found no room, or the winner's approval
    # had already ended it (a full need's waiting proposals end).
    assert any("genug Expert:innen" in r or "schon entschieden" in r for r in results)
    _db.session.expire_all()
    approved = _db.session.scalar(
        select(func.count())
        .select_from(Match)
        .where(Match.need_id == need.id, Match.status == MatchStatus.APPROVED)
    )
    assert approved == 1


def test_two_approvals_cannot_take_a_volunteer_past_capacity(app, committed):
    member = _user("ines@example.org", Role.INITIATIVE)
    coordinators = [
        _user("koo1@example.org", Role.COORDINATOR),
        _user("koo2@example.org", Role.COORDINATOR),
    ]
    needs = [_need("Erste", member), _need("Zweite", member)]
    volunteer = _volunteer("vera@example.org", capacity=1)
    _db.session.commit()
    now = utcnow()
    pair = [
        matches.create_match(_db.session, coordinators[0], n, volunteer, origin="manual", now=now)
        for n in needs
    ]
    _db.session.commit()

    results = _race(app, [c.id for c in coordinators], [m.id for m in pair])

    assert sorted(r.split(":")[0] for r in results) == ["approved", "refused"]
    assert any("so viele Initiativen" in r for r in results)
    _db.session.expire_all()
    engaged = _db.session.scalar(
        select(func.count())
        .select_from(Match)
        .where(Match.volunteer_id == volunteer.id, Match.status == MatchStatus.APPROVED)
    )
    assert engaged == 1


@pytest.mark.parametrize("rounds", [range(5)])
def test_a_yes_and_the_needs_withdrawal_at_once_end_consistently(app, committed, rounds):
    """The expert says yes while the initiative withdraws the need, released at once, five
    times: never a deadlock, and never an accepted match on a withdrawn need (whichever
    comes second reads the first one's outcome)."""
    from matching import needs

    for round_ in rounds:
        member = _user(f"ines{round_}@example.org", Role.INITIATIVE)
        coordinator = _user(f"koo{round_}@example.org", Role.COORDINATOR)
        need = _need(f"Zurückgezogen {round_}", member)
        expert = _volunteer(f"vera{round_}@example.org")
        _db.session.commit()
        match = matches.create_match(
            _db.session, coordinator, need, expert, origin="manual", now=utcnow()
        )
        matches.change_status(_db.session, coordinator, match, "approve", now=utcnow())
        _db.session.commit()
        ids = (member.id, expert.user_id, need.id, match.id)
        barrier = threading.Barrier(2)
        failures: list[BaseException] = []

        def act(step: str, ids: tuple, barrier: threading.Barrier, failures: list) -> None:
            with app.app_context():
                session = _db.session
                try:
                    barrier.wait(timeout=10)
                    if step == "withdraw":
                        needs.change_status(
                            session,
                            session.get(User, ids[0]),
                            session.get(Need, ids[2]),
                            "withdraw",
                            now=utcnow(),
                            reason="Erledigt",
                        )
                    else:
                        matches.change_status(
                            session,
                            session.get(User, ids[1]),
                            session.get(Match, ids[3]),
                            "accept",
                            now=utcnow(),
                        )
                    session.commit()
                except TransitionError:
                    session.rollback()
                except BaseException as exc:  # a deadlock would land here
                    session.rollback()
                    failures.append(exc)
                finally:
                    _db.session.remove()

        threads = [
            threading.Thread(target=act, args=(step, ids, barrier, failures))
            for step in ("withdraw", "accept")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not failures
        _db.session.expire_all()
        assert _db.session.get(Need, need.id).status == "withdrawn"
        assert _db.session.get(Match, match.id).status == MatchStatus.CANCELLED
