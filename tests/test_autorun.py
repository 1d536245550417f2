"""Proposals without a command: the propose_matches job, the wish for a run after a change,
and the run right after commit when there is no jobs process."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jobs import registry, tasks
from matching import matches, needs, profiles
from matching.matches import autorun, passes
from matching.models import (
    JobRun,
    Match,
    MatchingRequest,
    MatchOrigin,
    MatchStatus,
    NeedStatus,
    Role,
    utcnow,
)
from tests.support import post_form


def _proposals(db, need=None):
    query = select(Match).where(Match.status == MatchStatus.PROPOSED)
    if need is not None:
        query = query.where(Match.need_id == need.id)
    return db.session.scalars(query.order_by(Match.id)).all()


@pytest.fixture()
def coordinator(make_user):
    return make_user("koordination@example.org", roles=(Role.COORDINATOR,), first_name="Kai")


def test_the_job_proposes_records_its_run_and_a_second_run_changes_nothing(
    db, make_volunteer, make_initiative, make_need
):
    vera = make_volunteer()
    initiative, _member = make_initiative()
    need = make_need(initiative)

    summary = tasks.propose_matches(db.session, utcnow())

    [match] = _proposals(db, need)
    assert (match.volunteer_id, match.origin) == (vera.id, MatchOrigin.ENGINE)
    assert match.explanation and all("for" in part for part in match.explanation)
    assert summary["experts_proposed"] == 1 and summary["needs_covered"] == 1
    run = db.session.scalars(select(JobRun).where(JobRun.job == "propose_matches")).one()
    assert run.ok and run.summary["experts_proposed"] == 1

    again = tasks.propose_matches(db.session, utcnow())

    assert again["experts_proposed"] == 0
    assert [m.id for m in _proposals(db)] == [match.id]


def test_a_waiting_proposal_is_never_churned_for_a_better_expert(
    db, make_volunteer, make_initiative, make_need
):
    weaker = make_volunteer(levels={"start": 1}, first_name="Wera")
    initiative, _member = make_initiative()
    need = make_need(initiative)
    tasks.propose_matches(db.session, utcnow())
    [waiting] = _proposals(db, need)
    assert waiting.volunteer_id == weaker.id

    make_volunteer(levels={"start": 3}, first_name="Stark")
    tasks.propose_matches(db.session, utcnow())

    assert [(m.id, m.volunteer_id) for m in _proposals(db, need)] == [(waiting.id, weaker.id)]


@pytest.mark.parametrize("answer", ["reject", "decline", "pass"])
def test_pairs_rejected_declined_or_passed_are_skipped(
    db, answer, coordinator, make_volunteer, make_initiative, make_need
):
    vera = make_volunteer()
    initiative, _member = make_initiative()
    need = make_need(initiative)
    now = utcnow()
    if answer == "pass":
        passes.pass_need(db.session, vera.user, need, vera, "no_time", now=now)
    else:
        match = matches.create_match(
            db.session, coordinator, need, vera, origin=MatchOrigin.MANUAL, now=now
        )
        if answer == "reject":
            matches.change_status(db.session, coordinator, match, "reject", now=now, reason="x")
        else:
            matches.change_status(db.session, coordinator, match, "approve", now=now)
            matches.change_status(db.session, vera.user, match, "decline", now=now)
    db.session.commit()

    summary = tasks.propose_matches(db.session, now)

    assert summary["experts_proposed"] == 0
    assert need.id in summary["needs_without_candidate"]


def test_changes_ask_for_a_run_and_the_run_serves_them(
    db, coordinator, make_volunteer, make_initiative, make_need
):
    make_volunteer()
    initiative, member = make_initiative()
    draft = make_need(initiative, status=NeedStatus.DRAFT)
    assert not autorun.wanted(db.session)
    now = utcnow()

    needs.change_status(db.session, member, draft, "publish", now=now)
    db.session.commit()

    assert autorun.wanted(db.session)
    assert registry.BY_NAME["propose_matches"].wanted is autorun.wanted
    summary = tasks.propose_matches(db.session, now)
    assert summary["requests"] == 1 and summary["experts_proposed"] == 1
    assert not autorun.wanted(db.session)

    # A match ended: the need wants someone again, and the job is asked to look.
    [match] = _proposals(db, draft)
    matches.change_status(db.session, coordinator, match, "reject", now=now, reason="passt nicht")
    db.session.commit()
    assert autorun.wanted(db.session)


def test_a_dry_run_writes_nothing_and_leaves_the_wish(db, make_volunteer, make_initiative):
    make_volunteer()
    initiative, member = make_initiative()
    from matching.models import Need, NeedPhase

    need = Need(initiative=initiative, title="Neu", district="ost", status=NeedStatus.DRAFT)
    need.phase_rows = [NeedPhase(phase="start")]
    db.session.add(need)
    db.session.flush()
    needs.change_status(db.session, member, need, "publish", now=utcnow())
    db.session.commit()

    summary = tasks.propose_matches(db.session, utcnow(), dry_run=True)

    assert summary["experts_proposed"] == 1
    assert _proposals(db) == []
    assert db.session.scalar(select(func.count()).select_from(MatchingRequest)) == 1


def test_approving_a_profile_and_changing_one_ask_for_a_run(db, coordinator, make_volunteer):
    waiting = make_volunteer(status="pending")
    profiles.approve_profile(db.session, coordinator, waiting, now=utcnow())
    db.session.commit()
    reasons = db.session.scalars(select(MatchingRequest.reason)).all()
    assert reasons == ["profile.approve"]


def test_a_published_need_has_a_proposal_at_once_without_a_jobs_process(
    app, client, auth, db, make_volunteer, make_initiative, make_need, monkeypatch
):
    monkeypatch.setitem(app.config, "MATCHING_AFTER_COMMIT", True)
    make_volunteer()
    initiative, member = make_initiative()
    draft = make_need(initiative, status=NeedStatus.DRAFT)
    auth.login(member.email)

    response = post_form(
        client, f"/anfragen/{draft.id}/veroeffentlichen", {}, token_from=f"/anfragen/{draft.id}"
    )

    assert response.status_code in (302, 303), response.status_code
    db.session.expire_all()
    assert db.session.get(type(draft), draft.id).status == NeedStatus.OPEN
    [match] = _proposals(db, draft)
    assert match.origin == MatchOrigin.ENGINE
    assert not autorun.wanted(db.session)


def test_without_the_setting_the_wish_waits_for_the_jobs_process(
    app, client, auth, db, make_volunteer, make_initiative, make_need
):
    assert app.config["MATCHING_AFTER_COMMIT"] is False
    make_volunteer()
    initiative, member = make_initiative()
    draft = make_need(initiative, status=NeedStatus.DRAFT)
    auth.login(member.email)

    post_form(
        client, f"/anfragen/{draft.id}/veroeffentlichen", {}, token_from=f"/anfragen/{draft.id}"
    )

    assert _proposals(db, draft) == []
    assert autorun.wanted(db.session)


def test_the_scheduler_runs_the_job_within_a_minute_when_wanted(app, db, monkeypatch):
    from jobs import scheduler

    ran = []
    monkeypatch.setattr(scheduler, "run_job", lambda app_, name: ran.append(name))
    scheduler.run_if_wanted(app, "propose_matches")
    assert ran == []
    db.session.add(MatchingRequest(reason="need.publish", requested_at=utcnow()))
    db.session.commit()
    scheduler.run_if_wanted(app, "propose_matches")
    assert ran == ["propose_matches"]


def test_proposals_follow_the_interval_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "MATCHING_INTERVAL_MINUTES", 90)
    job = registry.BY_NAME["propose_matches"]
    assert job.schedule(app.config) == {"hour": "*/1", "minute": 0}
    monkeypatch.setitem(app.config, "MATCHING_INTERVAL_MINUTES", 0)
    with pytest.raises(ValueError, match="MATCHING_INTERVAL_MINUTES"):
        job.schedule(app.config)
