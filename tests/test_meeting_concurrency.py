"""Two people pick different times for the same meeting at once: one wins, the other is told.

Real rows and two real transactions on PostgreSQL, as in test_concurrency.py.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from test_concurrency import _need, _user, _volunteer

from matching import matches
from matching.errors import TransitionError
from matching.extensions import db as _db
from matching.matches import meetings
from matching.models import InitiativeMember, Meeting, MeetingStatus, Role, User, utcnow
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


def _accepted(coordinator: User, need, volunteer, now):
    """A match the volunteer said yes to, ready for a meeting."""
    match = matches.create_match(
        _db.session, coordinator, need, volunteer, origin="manual", now=now
    )
    matches.change_status(_db.session, coordinator, match, "approve", now=now)
    matches.change_status(_db.session, volunteer.user, match, "accept", now=now)
    return match


def _in_own_session(app, out: dict, name: str, step) -> None:
    """``step(session)`` in a transaction of its own (a thread: another request); ``out[name]``
    says "ok" or the error that rolled it back."""
    with app.app_context():
        session = _db.session
        try:
            step(session)
            session.commit()
            out[name] = "ok"
        except Exception as exc:
            session.rollback()
            out[name] = repr(exc)
        finally:
            _db.session.remove()


def test_two_members_pick_different_times_at_once(app, committed):
    first_member = _user("ines@example.org", Role.INITIATIVE)
    second_member = _user("ida@example.org", Role.INITIATIVE)
    coordinator = _user("koo@example.org", Role.COORDINATOR)
    need = _need("Zwei wählen", first_member)
    volunteer = _volunteer("vera@example.org")
    _db.session.flush()
    need.initiative.member_rows.append(InitiativeMember(user=second_member))
    _db.session.commit()
    now = utcnow()
    match = _accepted(coordinator, need, volunteer, now)
    times = [
        meetings.ProposedTime(now + timedelta(days=d), now + timedelta(days=d, hours=1))
        for d in (2, 3)
    ]
    meeting = meetings.propose(_db.session, volunteer.user, match, times, "phone", "", now=now)
    _db.session.commit()
    picks = [(first_member.id, meeting.options[0].id), (second_member.id, meeting.options[1].id)]
    meeting_id = meeting.id
    _db.session.remove()

    barrier = threading.Barrier(2)
    results = [""] * 2

    def pick(index: int) -> None:
        with app.app_context():
            session = _db.session
            try:
                person = session.get(User, picks[index][0])
                chosen = session.get(Meeting, meeting_id)
                assert chosen.options  # loaded before the race, as a page would have them
                barrier.wait(timeout=10)
                meetings.pick(session, person, chosen, picks[index][1], now=utcnow())
                session.commit()
                results[index] = "picked"
            except TransitionError as exc:
                session.rollback()
                results[index] = f"refused: {exc.message}"
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=pick, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(r.split(":")[0] for r in results) == ["picked", "refused"]
    assert any("schon eine Zeit gewählt" in r for r in results)
    winner = picks[results.index("picked")][1]
    stored = _db.session.scalar(select(Meeting).where(Meeting.id == meeting_id))
    assert stored.status == MeetingStatus.CONFIRMED
    assert stored.starts_at == next(o.starts_at for o in stored.options if o.id == winner)
    confirmed = _db.session.scalar(
        text("SELECT count(*) FROM outbox WHERE kind = 'meeting_confirmed'")
    )
    assert confirmed == 3  # one invitation per person, once: the volunteer and both members


def test_a_meeting_proposed_while_its_match_ends_is_called_off_with_it(app, committed, monkeypatch):
    """``propose`` read the match's status without its lock, and the match's end could not
    see the meeting not yet committed: a proposed meeting outlived its cancelled match (its
    "Terminvorschläge" mail already sent). Now the proposal holds the need's and the match's
    locks, so the end waits for it and calls the meeting off. (From a review's test.)"""
    from matching.models import Match, MatchStatus

    member = _user("ines@example.org", Role.INITIATIVE)
    coordinator = _user("koo@example.org", Role.COORDINATOR)
    need = _need("Treffen", member)
    volunteer = _volunteer("vera@example.org")
    _db.session.commit()
    match = _accepted(coordinator, need, volunteer, utcnow())
    _db.session.commit()
    ids = (coordinator.id, volunteer.user.id, match.id)

    checked = threading.Event()
    real_current = meetings.current

    def current(session, the_match):  # right after propose checked the match's status
        checked.set()
        threading.Event().wait(0.5)  # the cancel now runs, or waits for the locks
        return real_current(session, the_match)

    monkeypatch.setattr(meetings, "current", current)
    out = {}

    def propose(session):
        at = utcnow() + timedelta(days=3)
        times = [meetings.ProposedTime(at, at + timedelta(hours=1))]
        meetings.propose(
            session,
            session.get(User, ids[1]),
            session.get(Match, ids[2]),
            times,
            "phone",
            "",
            now=utcnow(),
        )

    def cancel(session):
        checked.wait(10)
        matches.change_status(
            session,
            session.get(User, ids[0]),
            session.get(Match, ids[2]),
            "cancel",
            now=utcnow(),
            reason="Passt nicht mehr.",
        )

    threads = [
        threading.Thread(target=_in_own_session, args=(app, out, name, step))
        for name, step in (("propose", propose), ("cancel", cancel))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    _db.session.expire_all()
    assert out == {"propose": "ok", "cancel": "ok"}
    assert _db.session.get(Match, ids[2]).status == MatchStatus.CANCELLED
    live = _db.session.scalars(select(Meeting.status).where(Meeting.match_id == ids[2])).all()
    assert live == [MeetingStatus.CANCELLED]
