"""A proposal run right after a complete one, with nothing it reads changed, stops early.

Each kind of input change (whatever path wrote it: the ORM, a bulk statement, plain SQL) makes
the next run a full one; a run right after is skipped and says since when; a dry run never
records a fingerprint; a skipped run's answer is what a full run would propose: nothing.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select, text, update

from jobs import tasks
from matching.matches import proposals, unchanged
from matching.matches.proposals import propose_matches
from matching.models import (
    InitiativeMember,
    JobRun,
    Match,
    MatchStatus,
    Need,
    NeedPass,
    NeedPhase,
    NeedStatus,
    ProposalFingerprint,
    VolunteerDistrict,
    VolunteerLanguage,
    VolunteerPhaseLevel,
    VolunteerProfile,
    utcnow,
)


@pytest.fixture()
def picture(db, make_volunteer, make_initiative, make_need, make_user):
    """Two volunteers, two needs that fit, one that nobody fits; a first run has written."""
    vera = make_volunteer("vera@example.org", capacity=1)
    paul = make_volunteer("paul@example.org", capacity=3, districts=("mitte",))
    initiative, member = make_initiative()
    need = make_need(initiative, phases=("start",), title="Leute finden")
    other = make_need(initiative, phases=("cooperation",), title="Zusammen")
    lonely = make_need(initiative, phases=("conflicts",), title="Streit")
    now = utcnow()
    first = propose_matches(db.session, None, now)
    db.session.commit()
    assert first.proposed >= 1 and first.unchanged_since is None
    return SimpleNamespace(
        vera=vera,
        paul=paul,
        initiative=initiative,
        member=member,
        need=need,
        other=other,
        lonely=lonely,
        now=now,
        make_user=make_user,
        make_need=make_need,
    )


def _run(db, now, **options):
    run = propose_matches(db.session, None, now, **options)
    db.session.commit()
    return run


def _match(db):
    return db.session.scalars(select(Match).order_by(Match.id)).first()


# Every kind of change a proposal run reads. Several go around the ORM on purpose: the
# fingerprint must not depend on the write path or on ``updated_at`` being bumped.
CHANGES = {
    "need edited (district)": lambda db, p: setattr(p.other, "district", "mitte"),
    "need edited (experts wanted)": lambda db, p: setattr(p.need, "experts_wanted", 3),
    "need edited (urgency), plain SQL": lambda db, p: db.session.execute(
        text("UPDATE needs SET urgency = 'urgent' WHERE id = :id"), {"id": p.lonely.id}
    ),
    "need withdrawn, bulk statement": lambda db, p: db.session.execute(
        update(Need).where(Need.id == p.other.id).values(status=NeedStatus.WITHDRAWN)
    ),
    "need published": lambda db, p: p.make_need(p.initiative, title="Neu"),
    "need phase added": lambda db, p: db.session.add(NeedPhase(need_id=p.lonely.id, phase="start")),
    "need formats": lambda db, p: setattr(p.need, "accepts_video", not p.need.accepts_video),
    "level changed in place, plain SQL": lambda db, p: db.session.execute(
        text("UPDATE volunteer_phase_levels SET level = 3 WHERE profile_id = :id AND phase = :ph"),
        {"id": p.paul.id, "ph": "conflicts"},
    ),
    "level changed, bulk statement": lambda db, p: db.session.execute(
        update(VolunteerPhaseLevel)
        .where(VolunteerPhaseLevel.profile_id == p.vera.id, VolunteerPhaseLevel.phase == "start")
        .values(level=1)
    ),
    "district removed": lambda db, p: db.session.execute(
        delete(VolunteerDistrict).where(VolunteerDistrict.profile_id == p.paul.id)
    ),
    "district added": lambda db, p: db.session.add(
        VolunteerDistrict(profile_id=p.paul.id, district="ost")
    ),
    "language added": lambda db, p: db.session.add(
        VolunteerLanguage(profile_id=p.vera.id, language="tr")
    ),
    "paused": lambda db, p: setattr(p.paul, "paused_until", date.today() + timedelta(days=9)),
    "capacity": lambda db, p: setattr(p.vera, "capacity", 4),
    "whole city": lambda db, p: setattr(p.paul, "whole_city", True),
    "formats offered": lambda db, p: setattr(p.paul, "offers_video", True),
    "profile no longer approved": lambda db, p: setattr(p.paul, "status", "pending"),
    "field feedback reset": lambda db, p: setattr(p.vera, "field_feedback_reset_at", utcnow()),
    "user disabled, plain SQL": lambda db, p: db.session.execute(
        text("UPDATE users SET disabled_at = :now WHERE id = :id"),
        {"now": utcnow(), "id": p.paul.user_id},
    ),
    "user's first name": lambda db, p: setattr(p.vera.user, "first_name", "Veronika"),
    "user unconfirmed": lambda db, p: setattr(p.paul.user, "confirmed_at", None),
    "match declined": lambda db, p: setattr(_match(db), "status", MatchStatus.DECLINED),
    "match released": lambda db, p: setattr(_match(db), "released_at", utcnow()),
    "match deleted, plain SQL": lambda db, p: db.session.execute(
        text("DELETE FROM matches WHERE id = :id"), {"id": _match(db).id}
    ),
    "Diesmal nicht": lambda db, p: db.session.add(
        NeedPass(need_id=p.lonely.id, volunteer_id=p.paul.id, reason="no_time", phases=[])
    ),
    "membership added": lambda db, p: db.session.add(
        InitiativeMember(initiative_id=p.initiative.id, user_id=p.paul.user_id)
    ),
    "membership removed": lambda db, p: db.session.execute(
        delete(InitiativeMember).where(InitiativeMember.user_id == p.member.id)
    ),
}


def test_a_run_right_after_is_skipped_and_says_since_when(app, db, picture):
    again = _run(db, picture.now + timedelta(minutes=5))
    assert again.unchanged_since == picture.now
    assert again.proposed == 0 and again.needs_covered == 0
    assert again.needs_open == 3
    assert again.as_dict()["unchanged_since"] == again.unchanged_since_text()
    assert len(again.as_dict()["unchanged_since"]) == 5  # HH:MM


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_kind_of_change_makes_the_next_run_a_full_one(db, picture, change):
    CHANGES[change](db, picture)
    db.session.commit()
    run = _run(db, picture.now + timedelta(minutes=1))
    assert run.unchanged_since is None
    # ... and that full run recorded the picture it saw: the one after it is skipped again.
    assert _run(db, picture.now + timedelta(minutes=2)).unchanged_since is not None


def test_other_writes_leave_the_picture_as_it_was(db, picture):
    """A need's title, a profile's text, a log-in: nothing a run reads."""
    picture.need.title = "Leute finden, neu formuliert"
    picture.vera.bio = "Neu"
    picture.vera.user.last_login_at = utcnow()
    db.session.commit()
    assert _run(db, picture.now + timedelta(minutes=1)).unchanged_since == picture.now


def test_settings_the_day_and_the_age_of_the_last_run_count(app, db, picture):
    later = picture.now + timedelta(minutes=1)
    weights = dict(app.config["MATCHING_WEIGHTS"])
    app.config["MATCHING_WEIGHTS"] = {**weights, "load_penalty": weights["load_penalty"] / 2}
    try:
        assert _run(db, later).unchanged_since is None
    finally:
        app.config["MATCHING_WEIGHTS"] = weights
    assert _run(db, later).unchanged_since is None  # the weights as before: a new picture again
    assert _run(db, later).unchanged_since == later
    factor = app.config["NOT_MY_FIELD_FACTOR"]
    app.config["NOT_MY_FIELD_FACTOR"] = factor / 2
    try:
        assert _run(db, later).unchanged_since is None
    finally:
        app.config["NOT_MY_FIELD_FACTOR"] = factor
    assert _run(db, later).unchanged_since is None
    assert _run(db, later).unchanged_since == later
    # Scores grow with waiting time: after STILL_VALID a run looks again; a new day ends pauses.
    assert _run(db, later + unchanged.STILL_VALID).unchanged_since is None
    next_day = picture.now + timedelta(days=1)
    assert _run(db, next_day).unchanged_since is None
    # A clock that went back never counts as "just now".
    assert _run(db, next_day - timedelta(minutes=1)).unchanged_since is None


def test_a_dry_run_never_records_a_fingerprint(db, make_volunteer, make_initiative, make_need):
    make_volunteer()
    initiative, _member = make_initiative()
    make_need(initiative)
    now = utcnow()
    tasks.propose_matches(db.session, now, dry_run=True)
    assert db.session.scalar(select(func.count()).select_from(ProposalFingerprint)) == 0
    real = tasks.propose_matches(db.session, now)
    assert real["experts_proposed"] == 1
    recorded = db.session.scalars(select(ProposalFingerprint)).one()
    # A dry run after it reads the record (it is skipped, too) but leaves it as it was.
    dry = tasks.propose_matches(db.session, now + timedelta(minutes=3), dry_run=True)
    assert "unchanged_since" in dry
    db.session.expire_all()
    assert db.session.scalars(select(ProposalFingerprint)).one().recorded_at == recorded.recorded_at


def test_a_skipped_run_answers_what_a_full_run_would(db, picture):
    later = picture.now + timedelta(minutes=5)
    skipped = _run(db, later)
    assert skipped.unchanged_since is not None
    full = propose_matches(db.session, None, later, dry_run=True, force=True)
    db.session.rollback()
    assert full.unchanged_since is None
    assert (
        (skipped.proposed, skipped.needs_covered) == (full.proposed, full.needs_covered) == (0, 0)
    )
    assert skipped.needs_open == full.needs_open
    assert db.session.scalar(select(func.count()).select_from(Match)) == picture_matches(db)


def picture_matches(db) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Match).where(Match.status == MatchStatus.PROPOSED)
    )


def test_a_change_made_while_a_run_loads_is_not_taken_for_seen(db, picture, monkeypatch):
    """The recorded fingerprint is the one taken before loading plus the run's own matches:
    what changed after it was taken makes the next run a full one."""
    real_load = proposals.load_open_needs

    def load_after_a_change(session):
        session.execute(
            update(VolunteerProfile)
            .where(VolunteerProfile.id == picture.vera.id)
            .values(capacity=5)
        )
        return real_load(session)

    later = picture.now + timedelta(minutes=1)
    picture.paul.capacity = 2  # so this run is a full one
    db.session.commit()
    monkeypatch.setattr(proposals, "load_open_needs", load_after_a_change)
    assert _run(db, later).unchanged_since is None
    monkeypatch.undo()
    assert _run(db, later).unchanged_since is None
    assert _run(db, later).unchanged_since == later


def test_job_runs_and_the_command_say_unchanged(app, db, picture):
    summary = tasks.propose_matches(db.session, picture.now + timedelta(minutes=1))
    row = db.session.scalars(select(JobRun).order_by(JobRun.id.desc())).first()
    assert row.summary["unchanged_since"] == summary["unchanged_since"]
    assert summary["experts_proposed"] == 0
    runner = app.test_cli_runner()
    result = runner.invoke(args=["match", "propose"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Unverändert seit {summary['unchanged_since']}")
    forced = runner.invoke(args=["match", "propose", "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert "unchanged_since" not in json.loads(forced.output)


def test_the_coordinators_page_says_since_when_nothing_changed(client, auth, db, picture):
    from matching.models import Role

    picture.make_user("koo@example.org", roles=(Role.COORDINATOR,))  # a new user: a new picture
    assert "unchanged_since" not in tasks.propose_matches(db.session, picture.now)
    summary = tasks.propose_matches(db.session, picture.now + timedelta(minutes=1))
    auth.login("koo@example.org")
    html = client.get("/koordination/vermittlung").get_data(as_text=True)
    assert f"unverändert seit {summary['unchanged_since']} Uhr" in html
