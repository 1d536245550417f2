"""Advice follows the phases: the next step's draft from the feedback form, the continuity
bonus for the expert who advised before, and the initiative's path through the phases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from support import post_form

from matching.matches import proposals
from matching.models import AuditEntry, Match, MatchStatus, Need, NeedStatus, utcnow


@pytest.fixture()
def completed(db, make_initiative, make_need, make_volunteer):
    """A completed match: Vera advised "Nachbarschaft Ost" on starting out."""
    initiative, member = make_initiative()
    need = make_need(initiative, phases=("start",), title="Wie fangen wir an?")
    need.status = NeedStatus.MATCHED
    profile = make_volunteer("vera@example.org", levels={"start": 3, "planning": 2})
    done = utcnow() - timedelta(days=3)
    match = Match(
        need_id=need.id,
        volunteer_id=profile.id,
        status=MatchStatus.COMPLETED,
        accepted_at=done - timedelta(days=20),
        completed_at=done,
    )
    db.session.add(match)
    db.session.commit()
    return match, member


def test_the_feedback_form_drafts_the_next_step_which_publishes_in_one_step(
    client, db, auth, completed
):
    match, member = completed
    auth.login(member.email)
    form = client.get(f"/vermittlungen/{match.id}/rueckmeldung").get_data(as_text=True)
    assert "Was steht als Nächstes an? (freiwillig)" in form
    assert "Konzeption / Planung" in form
    # The hint follows the question it explains and is read out with it.
    group = re.search(
        r'<fieldset[^>]*aria-describedby="next_phase-hint"[^>]*>(.*?)</fieldset>', form, re.S
    )
    assert group, "the next-phase group names its hint"
    legend_at = group.group(1).index("Was steht als Nächstes an?")
    assert legend_at < group.group(1).index('id="next_phase-hint"')

    answer = post_form(
        client,
        f"/vermittlungen/{match.id}/rueckmeldung",
        {"rating": "5", "comment": "Sehr gut", "next_phase": "planning"},
    )
    draft = db.session.scalar(select(Need).where(Need.follows_need_id == match.need_id))
    # The initiative lands on the draft's form, asked to say what the advice is for.
    assert answer.headers["Location"].endswith(f"/anfragen/{draft.id}/bearbeiten")
    assert (draft.status, draft.phases, draft.district) == (NeedStatus.DRAFT, ("planning",), "ost")
    assert draft.title == "Nächster Schritt: Konzeption / Planung"
    assert "„Wie fangen wir an?“" in draft.description
    # Nothing in the text speaks to the initiative: it goes public as it stands.
    assert "Bitte" not in draft.description
    db.session.refresh(match)
    assert match.feedback_rating == 5
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "need.follow_up"))

    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Für Ihren nächsten Schritt haben wir eine Anfrage als Entwurf vorbereitet." in page
    assert "ergänzen Sie in der Beschreibung, wobei Sie Rat brauchen" in page
    post_form(
        client, f"/anfragen/{draft.id}/veroeffentlichen", {}, token_from=f"/anfragen/{draft.id}"
    )
    db.session.refresh(draft)
    assert draft.status == NeedStatus.OPEN


def test_feedback_without_a_next_step_drafts_nothing(client, db, auth, completed):
    match, member = completed
    auth.login(member.email)
    post_form(client, f"/vermittlungen/{match.id}/rueckmeldung", {"rating": "4", "next_phase": ""})
    assert db.session.scalar(select(Need).where(Need.follows_need_id.is_not(None))) is None
    # The form itself now leads to the match page: a feedback was given.
    bad = post_form(
        client,
        f"/vermittlungen/{match.id}/rueckmeldung",
        {"rating": "4", "next_phase": "mond"},
        token_from=f"/vermittlungen/{match.id}",
    )
    assert bad.status_code == 422
    assert "Bitte wählen Sie ein Thema aus der Liste" in bad.get_data(as_text=True)


def test_the_expert_who_advised_before_gets_the_continuity_bonus(
    db, completed, make_need, make_volunteer
):
    match, _member = completed
    stranger = make_volunteer("sam@example.org", levels={"start": 3, "planning": 2})
    follow_up = make_need(match.need.initiative, phases=("planning",), title="Weiter geht's")
    ranked = proposals.candidates_for(db.session, follow_up, utcnow())
    assert [p.user.email for p, _s in ranked] == ["vera@example.org", "sam@example.org"]
    vera_score, sam_score = ranked[0][1], ranked[1][1]
    assert "Hat Ihre Initiative schon beraten" in vera_score.explain("de")
    assert "Has advised your initiative before" in vera_score.explain("en")
    assert "Hat Ihre Initiative schon beraten" not in sam_score.explain("de")
    assert vera_score.value == pytest.approx(sam_score.value + 0.10)
    assert stranger.id != match.volunteer_id


def test_the_initiative_sees_its_path_through_the_phases(client, db, auth, completed):
    _match, member = completed
    auth.login(member.email)
    page = client.get("/meine-anfragen").get_data(as_text=True)
    assert "Ihr Weg durch die Themen" in page
    path = page[page.index("Ihr Weg durch die Themen") :]
    assert "Start / Akquise" in path and "beraten bis" in path and "Wie fangen wir an?" in path
    assert path.count("noch keine Beratung") == 7
