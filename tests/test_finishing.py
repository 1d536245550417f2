"""Finishing well: done → "Beraten" everywhere, feedback from both sides, kind words otherwise."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from after_match import build_scene
from sqlalchemy import select
from support import post_form

from jobs import tasks
from matching import digests, matches
from matching.errors import PermissionDenied, TransitionError
from matching.matches import finishing, proposals
from matching.models import (
    Match,
    MatchOrigin,
    MatchStatus,
    NeedStatus,
    OutboxMessage,
    utcnow,
)


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    return build_scene(db, make_user, make_volunteer, make_initiative, make_need, status="accepted")


def mails(db, kind: str) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    ).all()


def test_the_initiative_marks_done_and_the_need_is_advised_everywhere(client, db, auth, scene):
    auth.login("ines@example.org")
    detail = f"/vermittlungen/{scene.match.id}"
    assert "Beratung ist abgeschlossen" in client.get(detail).get_data(as_text=True)
    post_form(client, f"{detail}/abschliessen", {})  # from the page that asks first
    db.session.refresh(scene.match)
    db.session.refresh(scene.need)
    assert scene.match.status == MatchStatus.COMPLETED
    assert scene.need.status == NeedStatus.ADVISED

    need_page = client.get(f"/anfragen/{scene.need.id}").get_data(as_text=True)
    assert "Beraten" in need_page
    my_needs = client.get("/meine-anfragen").get_data(as_text=True)
    assert "Beraten" in my_needs and "Nehmen Sie gern Kontakt auf" not in my_needs
    auth.logout()

    [to_initiative] = mails(db, "match_done_initiative")
    assert to_initiative.recipient == "ines@example.org"
    assert f"/vermittlungen/{scene.match.id}/rueckmeldung" in to_initiative.text_body
    assert "„Beraten“" in to_initiative.text_body
    [to_volunteer] = mails(db, "match_done_volunteer")
    assert to_volunteer.recipient == "vera@example.org"
    assert f"/vermittlungen/{scene.match.id}/rueckblick" in to_volunteer.text_body

    # The initiative's weekly digest says "Beraten" and no longer "Melden Sie sich".
    run = digests.queue_digests(db.session, utcnow(), kinds=["initiative"])
    assert run.queued["initiative"] == 1
    [digest] = mails(db, "digest_initiative")
    assert "Beraten" in digest.text_body and "Melden Sie sich" not in digest.text_body
    assert "Die Beratung ist abgeschlossen" in digest.text_body


def test_the_volunteers_look_back_feeds_the_next_step(client, db, auth, scene):
    matches.change_status(db.session, scene.volunteer.user, scene.match, "complete", now=utcnow())
    db.session.commit()
    url = f"/vermittlungen/{scene.match.id}/rueckblick"
    auth.login("ines@example.org")
    assert client.get(url).status_code == 404  # the volunteer's page only
    auth.logout()

    auth.login("vera@example.org")
    bad = post_form(client, url, {"helped": "x", "next_phase": "nonsense"})
    assert bad.status_code == 422 and "aus der Liste" in bad.get_data(as_text=True)
    post_form(client, url, {"helped": "Die Liste der Nachbarn", "next_phase": "cooperation"})
    auth.logout()
    db.session.refresh(scene.match)
    assert scene.match.volunteer_feedback == "Die Liste der Nachbarn"
    assert scene.match.volunteer_next_phase == "cooperation"
    with pytest.raises(TransitionError):  # once
        finishing.look_back(db.session, scene.volunteer.user, scene.match, "", "", now=utcnow())

    auth.login("ines@example.org")
    form = client.get(f"/vermittlungen/{scene.match.id}/rueckmeldung").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="cooperation"', form)


def test_a_second_visit_to_either_form_says_it_was_answered(client, db, auth, scene):
    matches.change_status(db.session, scene.volunteer.user, scene.match, "complete", now=utcnow())
    finishing.look_back(db.session, scene.volunteer.user, scene.match, "Viel", "", now=utcnow())
    matches.give_feedback(db.session, scene.member, scene.match, 5, "", now=utcnow())
    db.session.commit()
    detail = f"/vermittlungen/{scene.match.id}"
    for person, path in (("vera@example.org", "rueckblick"), ("ines@example.org", "rueckmeldung")):
        auth.login(person)
        response = client.get(f"{detail}/{path}", follow_redirects=True)
        assert response.request.path == detail
        assert "schon eine Rückmeldung" in response.get_data(as_text=True)
        auth.logout()


def test_only_the_volunteer_looks_back(db, scene):
    matches.change_status(db.session, scene.volunteer.user, scene.match, "complete", now=utcnow())
    with pytest.raises(PermissionDenied):
        finishing.look_back(db.session, scene.member, scene.match, "", "", now=utcnow())


def test_an_outsider_cannot_mark_done(db, scene):
    with pytest.raises(PermissionDenied):
        matches.change_status(db.session, scene.outsider, scene.match, "complete", now=utcnow())


def test_a_need_with_an_expert_still_advising_stays_matched(db, scene, make_volunteer):
    need = scene.need
    need.experts_wanted = 2
    need.status = NeedStatus.OPEN
    second = make_volunteer("paul@example.org", first_name="Paul")
    now = utcnow()
    other = matches.create_match(
        db.session, scene.coordinator, need, second, origin=MatchOrigin.MANUAL, now=now
    )
    matches.change_status(db.session, scene.coordinator, other, "approve", now=now)
    matches.change_status(db.session, second.user, other, "accept", now=now)
    assert need.status == NeedStatus.MATCHED
    matches.change_status(db.session, scene.volunteer.user, scene.match, "complete", now=now)
    assert need.status == NeedStatus.MATCHED
    matches.change_status(db.session, second.user, other, "complete", now=now)
    assert need.status == NeedStatus.ADVISED


def test_the_initiative_is_told_kindly_when_an_accepted_match_is_cancelled(db, scene):
    matches.change_status(
        db.session, scene.coordinator, scene.match, "cancel", now=utcnow(), reason="Umzug"
    )
    db.session.commit()
    [told] = mails(db, "match_ended_initiative")
    assert told.recipient == "ines@example.org"
    assert "kann leider nicht wie geplant weitergehen" in told.text_body
    assert "Wir suchen jetzt jemand anderen" in told.text_body
    assert "Umzug" not in told.text_body  # the coordinators' reason stays with them


def test_the_initiative_is_told_when_a_match_is_released(
    db, make_user, make_volunteer, make_initiative, make_need
):
    scene = build_scene(db, make_user, make_volunteer, make_initiative, make_need)
    scene.match.decided_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert tasks.release_unanswered(db.session, utcnow())["released"] == 1
    [told] = mails(db, "match_ended_initiative")
    assert "kann die Beratung leider nicht übernehmen" in told.text_body
    assert "Das kommt vor und liegt nicht an Ihnen." in told.text_body


def test_other_proposals_ended_by_the_system_tell_nobody(
    db, make_user, make_volunteer, make_initiative, make_need
):
    scene = build_scene(
        db, make_user, make_volunteer, make_initiative, make_need, status="proposed"
    )
    second = make_volunteer("paul@example.org", first_name="Paul")
    now = utcnow()
    other = matches.create_match(
        db.session, scene.coordinator, scene.need, second, origin=MatchOrigin.MANUAL, now=now
    )
    matches.change_status(db.session, scene.coordinator, scene.match, "approve", now=now)
    matches.change_status(db.session, scene.volunteer.user, scene.match, "accept", now=now)
    db.session.refresh(other)
    assert other.status == MatchStatus.CANCELLED
    assert mails(db, "match_ended_initiative") == []


@pytest.mark.parametrize("share", [True, False])
def test_a_rejected_offer_gets_a_kind_mail_with_two_other_needs(
    client, db, auth, make_user, make_volunteer, make_initiative, make_need, share
):
    volunteer = make_volunteer("vera@example.org", first_name="Vera")
    make_user("koo@example.org", roles=("coordinator",), first_name="Katrin")
    initiative, _member = make_initiative()
    wanted = make_need(initiative, title="Leute finden")
    for title in ("Zweite Anfrage", "Dritte Anfrage", "Vierte Anfrage"):
        make_need(initiative, title=title)
    offer = proposals.offer_help(db.session, volunteer.user, wanted, volunteer, utcnow())
    db.session.commit()

    auth.login("koo@example.org")
    url = f"/koordination/vorschlaege/{offer.id}/ablehnen"
    page = client.get(url).get_data(as_text=True)
    assert "Den Grund an die Expert:in weitergeben" in page
    data = {"reason": "Die Initiative braucht jemand aus dem Stadtteil."}
    if share:
        data["share"] = "y"
    post_form(client, url, data)
    db.session.refresh(offer)
    assert offer.status == MatchStatus.REJECTED and offer.reason_shared is share

    [kind] = mails(db, "offer_rejected")
    assert kind.recipient == "vera@example.org"
    assert ("aus dem Stadtteil" in kind.text_body) is share
    assert kind.text_body.count("Ich kann helfen:") == 2
    assert "„Leute finden“ (" not in kind.text_body  # not the need that was just rejected


def test_no_kind_mail_for_a_rejected_engine_proposal(db, scene):
    match = db.session.scalar(select(Match))
    match.status = MatchStatus.PROPOSED
    db.session.commit()
    matches.change_status(db.session, scene.coordinator, match, "reject", now=utcnow(), reason="x")
    assert mails(db, "offer_rejected") == []
