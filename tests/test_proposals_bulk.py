"""A proposal run writes in bulk: a fixed number of statements per run, every check and audit
entry ``create_match`` makes, all or nothing, and a time limit (MATCHING_MAX_SECONDS)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import event, func, select

from jobs import tasks
from matching import audit, matches
from matching.errors import PermissionDenied
from matching.matches import volunteer_pool
from matching.matches.proposals import TooLong, propose_matches
from matching.models import (
    AuditEntry,
    JobRun,
    Match,
    MatchStatus,
    NeedStatus,
    ProfileStatus,
    Role,
    utcnow,
)


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _statements(db, action) -> int:
    seen = []

    def count(*_args, **_kw):
        seen.append(1)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _picture(make_volunteer, make_initiative, make_need, size: int, tag: str):
    for i in range(size):
        make_volunteer(f"{tag}{i}@example.org", capacity=1)
    initiative, _member = make_initiative(f"Initiative {tag}")
    for i in range(size):
        make_need(initiative, title=f"Anfrage {tag} {i}")


def test_statements_per_run_do_not_grow_with_the_proposals(
    db, make_volunteer, make_initiative, make_need
):
    _picture(make_volunteer, make_initiative, make_need, 2, "a")
    small = _statements(db, lambda: propose_matches(db.session, None, utcnow()))
    db.session.commit()
    assert _count(db, Match) == 2
    _picture(make_volunteer, make_initiative, make_need, 12, "b")
    large = _statements(db, lambda: propose_matches(db.session, None, utcnow()))
    db.session.commit()
    assert _count(db, Match) == 14
    assert large == small
    assert _count(db, AuditEntry, AuditEntry.action == "match.propose") == 14


def test_each_proposal_has_its_audit_entry_and_the_pool_learns_whose_records_changed(
    db, make_volunteer, make_initiative, make_need, make_user
):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    vera = make_volunteer("vera@example.org")
    initiative, _member = make_initiative()
    need = make_need(initiative)

    run = propose_matches(db.session, coordinator, utcnow())

    change = db.session.info[volunteer_pool._PENDING]
    assert not change.everything and change.profiles == {vera.id}
    db.session.commit()
    assert run.proposed == 1
    match = db.session.scalar(select(Match))
    assert match.created_by_id == coordinator.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "match.propose"))
    assert (entry.object_type, entry.object_id, entry.to_state) == (
        "match",
        match.id,
        MatchStatus.PROPOSED,
    )
    assert entry.actor_id == coordinator.id
    assert entry.detail == {"need": need.id, "volunteer": vera.id, "origin": "engine"}


def test_the_bulk_step_refuses_what_create_match_refuses(
    db, make_volunteer, make_initiative, make_need
):
    initiative, _member = make_initiative()
    good, closed, live, declined = (make_need(initiative, title=f"N{i}") for i in range(4))
    closed.status = NeedStatus.CLOSED
    vera = make_volunteer("vera@example.org", capacity=9)
    paul = make_volunteer("paul@example.org", status=ProfileStatus.PENDING)
    db.session.add_all(
        [
            Match(need_id=live.id, volunteer_id=vera.id, status=MatchStatus.PROPOSED),
            Match(need_id=declined.id, volunteer_id=vera.id, status=MatchStatus.DECLINED),
        ]
    )
    db.session.commit()
    pairs = [
        (good.id, vera.id),
        (closed.id, vera.id),
        (good.id, paul.id),
        (live.id, vera.id),
        (declined.id, vera.id),
    ]
    proposals = [matches.NewProposal(n, v, 0.5, []) for n, v in pairs]

    result = matches.propose_many(db.session, None, proposals, now=utcnow())
    db.session.commit()

    assert list(result.written) == [(good.id, vera.id)]
    refused = {pair: str(why) for pair, why in result.refused.items()}
    assert "nicht mehr offen" in refused[(closed.id, vera.id)]
    assert "nicht freigegeben" in refused[(good.id, paul.id)]
    assert "schon einen Vorschlag" in refused[(live.id, vera.id)]
    assert "abgelehnt oder hat abgesagt" in refused[(declined.id, vera.id)]
    assert _count(db, Match) == 3
    assert _count(db, AuditEntry, AuditEntry.action == "match.propose") == 1


def test_nobody_proposes_for_their_own_initiative_and_only_coordinators_propose(
    db, make_volunteer, make_initiative, make_need, make_user
):
    initiative, member = make_initiative()
    need = make_need(initiative)
    vera = make_volunteer("vera@example.org")
    initiative.member_rows.append(type(initiative.member_rows[0])(user=vera.user))
    db.session.commit()
    proposal = [matches.NewProposal(need.id, vera.id, 0.5, [])]

    result = matches.propose_many(db.session, None, proposal, now=utcnow())
    assert "eigene Initiative" in str(result.refused[(need.id, vera.id)])
    with pytest.raises(PermissionDenied):
        matches.propose_many(db.session, member, proposal, now=utcnow())
    assert _count(db, Match) == 0


def _clock(*readings):
    """A clock that reads the given seconds, then stays at the last one."""
    values = itertools.chain(readings, itertools.repeat(readings[-1]))
    return lambda: next(values)


def test_a_run_past_the_time_limit_stops_writes_nothing_and_is_recorded(
    app, db, monkeypatch, make_volunteer, make_initiative, make_need
):
    make_volunteer()
    initiative, _member = make_initiative()
    make_need(initiative)
    monkeypatch.setitem(app.config, "MATCHING_MAX_SECONDS", 60)
    # Start, loaded after 10 s, planned after 61 s: stopped before anything is written.
    with pytest.raises(TooLong) as stopped:
        tasks.propose_matches(db.session, utcnow(), clock=_clock(0, 10, 61))

    assert "länger als 60 Sekunden" in stopped.value.message
    assert _count(db, Match) == 0 and _count(db, AuditEntry) == 0
    run = db.session.scalars(select(JobRun).where(JobRun.job == "propose_matches")).one()
    assert not run.ok and "länger als 60 Sekunden" in run.summary["error"]

    assert tasks.propose_matches(db.session, utcnow())["experts_proposed"] == 1


def test_a_run_past_the_limit_after_writing_keeps_none_of_it(
    app, db, monkeypatch, make_volunteer, make_initiative, make_need
):
    make_volunteer()
    initiative, _member = make_initiative()
    make_need(initiative)
    monkeypatch.setitem(app.config, "MATCHING_MAX_SECONDS", 60)
    with pytest.raises(TooLong):
        tasks.propose_matches(db.session, utcnow(), clock=_clock(0, 1, 2, 99))
    assert _count(db, Match) == 0 and _count(db, AuditEntry) == 0


def test_a_run_failing_half_way_through_its_writes_leaves_nothing(
    db, monkeypatch, make_volunteer, make_initiative, make_need
):
    for i in range(3):
        make_volunteer(f"v{i}@example.org", capacity=1)
    initiative, _member = make_initiative()
    for i in range(3):
        make_need(initiative, title=f"Anfrage {i}")

    def broken(*args, **kwargs):
        raise RuntimeError("Verbindung verloren")

    # The matches are inserted, then writing their audit entries fails.
    monkeypatch.setattr(audit, "record_many", broken)
    with pytest.raises(RuntimeError):
        tasks.propose_matches(db.session, utcnow())
    assert _count(db, Match) == 0
    run = db.session.scalars(select(JobRun)).one()
    assert not run.ok and "Verbindung verloren" in run.summary["error"]

    monkeypatch.undo()
    assert tasks.propose_matches(db.session, utcnow())["experts_proposed"] == 3
    assert _count(db, AuditEntry, AuditEntry.action == "match.propose") == 3


def test_the_command_says_when_a_run_took_too_long(
    app, db, monkeypatch, make_volunteer, make_initiative, make_need
):
    make_volunteer()
    initiative, _member = make_initiative()
    make_need(initiative)
    monkeypatch.setitem(app.config, "MATCHING_MAX_SECONDS", 1e-9)  # any run takes longer

    result = app.test_cli_runner().invoke(args=["match", "propose"])

    assert result.exit_code == 1
    assert "länger als 1e-09 Sekunden" in result.output and "nichts gespeichert" in result.output
    assert _count(db, Match) == 0


def test_insert_rows_writes_every_value_as_the_orm_would(db, make_user):
    """The bulk insert (one JSON text on PostgreSQL) keeps types: times with their zone, JSON,
    None, and the columns left out get their defaults."""
    from datetime import timedelta

    from matching.database import insert_rows
    from matching.models import AuditEntry

    actor = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    at = utcnow() - timedelta(days=3)
    rows = [
        {
            "at": at,
            "actor_id": actor.id if i else None,
            "action": "test.bulk",
            "object_type": "match",
            "object_id": i,
            "to_state": None if i else "proposed",
            "detail": {"n": i, "text": 'an "odd" one\\', "list": [1, None]},
        }
        for i in range(3)
    ]
    result = insert_rows(db.session, AuditEntry, rows, returning=(AuditEntry.id,))
    ids = sorted(row_id for (row_id,) in result)
    assert len(ids) == 3
    stored = db.session.scalars(select(AuditEntry).order_by(AuditEntry.object_id)).all()
    assert [e.id for e in stored] == ids
    for entry, row in zip(stored, rows, strict=True):
        assert entry.at == at and entry.actor_id == row["actor_id"]
        assert (entry.to_state, entry.detail) == (row["to_state"], row["detail"])
        assert entry.from_state is None and entry.ip is None
