"""An edit of a need settles its waiting proposals without ending what the edit did not touch.

Found in review: every edit (a typo fixed) ended an offer the engine would not have made and a
proposal for a volunteer on a short break, as "no longer fits"; an edit that ended two
proposals at once was refused as a whole; lowering the places to an advice already done left
the need "matched" for good; stale-form checks tripped over a job's bookkeeping; "Meine Daten"
gave a colleague's rating to the need's creator; mails for a later meeting spoke of the first.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from matching import matches, needs
from matching.matches import proposals
from matching.models import MatchOrigin, MatchStatus, OutboxMessage, utcnow


def _same(need, **changes) -> needs.NeedInput:
    data = needs.NeedInput(
        title=need.title,
        description=need.description or "Wir brauchen Rat.",
        phases=list(need.phases),
        district=need.district,
        language=need.language,
        formats=sorted(need.formats),
        urgency=need.urgency,
        experts_wanted=need.experts_wanted,
        expires_on=need.expires_on,
    )
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def test_typo_fix_keeps_an_offer_the_engine_would_not_have_made(
    db, make_volunteer, make_initiative, make_need
):
    """An offer may be made for any open need (score None when the engine would not pick the
    pair). Fixing a typo in the description must not end it as "passt nicht mehr"."""
    initiative, member = make_initiative(district="ost")
    need = make_need(initiative, district="ost")
    need.accepts_phone = need.accepts_video = False
    need.accepts_in_person = True
    far = make_volunteer("far@example.org", districts=("zuffenhausen",))
    db.session.commit()
    offer = proposals.offer_help(db.session, far.user, need, far, utcnow())
    db.session.commit()
    assert offer.status == MatchStatus.PROPOSED and offer.score is None

    needs.update_need(
        db.session,
        member,
        need,
        _same(need, description="Beschreibung (Tippfehler weg)"),
        now=utcnow(),
    )
    db.session.commit()
    db.session.refresh(offer)
    assert offer.status == MatchStatus.PROPOSED, (offer.status, offer.reason)


def test_typo_fix_keeps_a_proposal_for_a_volunteer_on_a_short_break(
    db, make_volunteer, make_initiative, make_need
):
    """806d5eb/399db18: a proposal for a volunteer on a break waits in the queue with a badge.
    An unrelated edit of the need must not end it."""
    initiative, member = make_initiative(district="ost")
    need = make_need(initiative, district="ost")
    volunteer = make_volunteer("pause@example.org", districts=("ost",))
    db.session.commit()
    proposal = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    db.session.commit()
    volunteer.paused_until = utcnow().date() + timedelta(days=3)
    db.session.commit()

    needs.update_need(db.session, member, need, _same(need, title=need.title + "!"), now=utcnow())
    db.session.commit()
    db.session.refresh(proposal)
    assert proposal.status == MatchStatus.PROPOSED, (proposal.status, proposal.reason)


def test_an_offer_is_never_ended_by_an_edit_the_coordinators_decide(
    db, make_volunteer, make_initiative, make_need
):
    """A volunteer's own offer stays for the coordinators to decide, with fresh reasons where
    the engine can give them; only engine proposals the edited need excludes end."""
    initiative, member = make_initiative(district="ost")
    need = make_need(initiative, district="ost")
    need.accepts_phone = need.accepts_video = False
    need.accepts_in_person = True
    ost = make_volunteer("ostv@example.org", districts=("ost",))
    engine_pick = make_volunteer("ostw@example.org", districts=("ost",))
    db.session.commit()
    offer = proposals.offer_help(db.session, ost.user, need, ost, utcnow())
    proposal = matches.create_match(
        db.session, None, need, engine_pick, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    db.session.commit()
    needs.update_need(db.session, member, need, _same(need, district="zuffenhausen"), now=utcnow())
    db.session.commit()
    db.session.refresh(offer)
    db.session.refresh(proposal)
    assert offer.status == MatchStatus.PROPOSED
    assert proposal.status == MatchStatus.CANCELLED


def test_the_nightly_uncovered_check_does_not_make_an_open_edit_form_stale(
    client, db, auth, make_initiative, make_need
):
    """Need.updated_at has onupdate=utcnow: the job that notes "no candidate since" writes the
    need row, and the initiative's edit form is refused as "changed by another person"."""
    import re

    from support import NEED_FORM, csrf_token

    from jobs import tasks

    initiative, member = make_initiative()
    need = make_need(initiative, title="Alter Titel")
    db.session.commit()
    auth.login(member.email)
    path = f"/anfragen/{need.id}/bearbeiten"
    page = client.get(path).get_data(as_text=True)
    seen = re.search(r'name="seen"[^>]*value="([^"]*)"', page).group(1)
    token = csrf_token(client, path)

    tasks.alert_uncovered_needs(db.session, utcnow())  # nobody fits: no_candidate_since set
    db.session.commit()
    db.session.refresh(need)
    assert need.no_candidate_since is not None

    answer = client.post(path, data={**NEED_FORM, "csrf_token": token, "seen": seen})
    assert answer.status_code == 302, answer.status_code


def test_my_data_holds_the_ratings_a_person_gave_not_those_of_a_colleague(
    db, make_user, make_volunteer, make_initiative, make_need
):
    from matching.models import InitiativeMember, Role
    from matching.privacy.data import export

    creator = make_user("creator@example.org", roles=(Role.INITIATIVE,))
    colleague = make_user("colleague@example.org", roles=(Role.INITIATIVE,))
    initiative, _ = make_initiative(member=creator)
    initiative.member_rows.append(InitiativeMember(user=colleague))
    need = make_need(initiative)
    need.created_by_id = creator.id
    volunteer = make_volunteer("v@example.org")
    coordinator = make_user("k@example.org", roles=(Role.COORDINATOR,))
    db.session.commit()
    match = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    matches.change_status(db.session, volunteer.user, match, "accept", now=utcnow())
    matches.change_status(db.session, volunteer.user, match, "complete", now=utcnow())
    matches.give_feedback(
        db.session, colleague, match, 2, "Meine eigene Meinung (Kollegin)", now=utcnow()
    )
    db.session.commit()

    theirs = export(db.session, colleague)["feedback_given"]
    creators = export(db.session, creator)["feedback_given"]
    assert [f["comment"] for f in theirs] == ["Meine eigene Meinung (Kollegin)"], theirs
    assert creators == [], creators


def test_a_meeting_after_one_that_took_place_is_not_called_the_first_in_mail(
    db, make_user, make_volunteer, make_initiative, make_need
):
    """abca684 made the match page offer "Weiteres Treffen vorschlagen" once a meeting was
    held; the mail that proposal sends still says "ein erstes Treffen"."""
    from after_match import build_scene

    from matching.matches import meetings

    scene = build_scene(db, make_user, make_volunteer, make_initiative, make_need, "accepted")
    now = utcnow()
    first = meetings.propose(
        db.session,
        scene.volunteer.user,
        scene.match,
        [meetings.ProposedTime(now + timedelta(hours=2), now + timedelta(hours=3))],
        "phone",
        "",
        now=now,
    )
    meetings.pick(db.session, scene.member, first, first.options[0].id, now=now)
    later = now + timedelta(hours=4)
    meetings.record_outcome(db.session, scene.member, first, "held", now=later)
    db.session.commit()
    meetings.propose(
        db.session,
        scene.member,
        scene.match,
        [meetings.ProposedTime(later + timedelta(days=3), later + timedelta(days=3, hours=1))],
        "phone",
        "",
        now=later,
    )
    db.session.commit()
    second = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.kind == "meeting_proposed")
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert "erstes Treffen" not in second.text_body, second.text_body


def test_lowering_the_places_to_an_advice_already_done_makes_the_need_advised(
    db, make_user, make_volunteer, make_initiative, make_need
):
    """Two places, one expert has completed the advice, nobody else advises: lowering to one
    place leaves the need "matched" (Expert:in gefunden) with nobody advising, a state no
    later match step will ever move on (_follow_need's if/elif stops after mark_matched)."""
    from matching.models import Role

    coordinator = make_user("k2@example.org", roles=(Role.COORDINATOR,))
    initiative, member = make_initiative()
    need = make_need(initiative)
    need.experts_wanted = 2
    volunteer = make_volunteer("done@example.org")
    db.session.commit()
    match = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    matches.change_status(db.session, volunteer.user, match, "accept", now=utcnow())
    matches.change_status(db.session, volunteer.user, match, "complete", now=utcnow())
    db.session.commit()
    db.session.refresh(need)
    assert need.status == "open"

    needs.update_need(db.session, member, need, _same(need, experts_wanted=1), now=utcnow())
    db.session.commit()
    db.session.refresh(need)
    assert need.status == "advised", need.status


def test_an_edit_that_ends_two_waiting_offers_of_a_need_whose_place_is_taken_goes_through(
    db, make_user, make_volunteer, make_initiative, make_need
):
    """One place, asked (approved) for A; B and C offered meanwhile. The need moves to another
    district: rescore_waiting cancels B, whose step ends the outrun proposals (C) as well; the
    loop then cancels C a second time and the whole edit is refused."""
    from matching.models import Role

    coordinator = make_user("k3@example.org", roles=(Role.COORDINATOR,))
    initiative, member = make_initiative(district="ost")
    need = make_need(initiative, district="ost")
    need.accepts_phone = need.accepts_video = False
    need.accepts_in_person = True
    a, b, c = (make_volunteer(f"{n}@example.org", districts=("ost",)) for n in "abc")
    db.session.commit()
    asked = matches.create_match(db.session, None, need, a, origin=MatchOrigin.ENGINE, now=utcnow())
    matches.change_status(db.session, coordinator, asked, "approve", now=utcnow())
    db.session.commit()
    offers = [proposals.offer_help(db.session, p.user, need, p, utcnow()) for p in (b, c)]
    db.session.commit()
    assert all(o.status == MatchStatus.PROPOSED for o in offers)

    needs.update_need(db.session, member, need, _same(need, district="zuffenhausen"), now=utcnow())
    db.session.commit()
    db.session.refresh(need)
    assert need.district == "zuffenhausen"


def test_a_pause_ends_the_engines_waiting_proposals_and_keeps_the_own_offers(
    db, make_volunteer, make_initiative, make_need
):
    """A proposal of a volunteer who has begun a pause cannot be approved until it is over,
    and its need waited for nobody: the proposal run the saved pause wants ends the engine's
    proposals first (the pair is not excluded later). An offer the volunteer made stays for
    the coordinators, whose queue shows the pause. Not ended while the pause is saved: that
    would take the profile's lock before the needs' (see ``end_paused_proposals``)."""
    from dataclasses import replace

    from test_need_services import profile_input

    from matching import profiles, sentences

    initiative, _member = make_initiative(district="ost")
    asked, offered = make_need(initiative, district="ost"), make_need(initiative, district="ost")
    volunteer = make_volunteer("pause@example.org", districts=("ost",), capacity=3)
    db.session.commit()
    proposal = matches.create_match(
        db.session, None, asked, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    offer = proposals.offer_help(db.session, volunteer.user, offered, volunteer, utcnow())
    db.session.commit()
    mails_before = db.session.query(OutboxMessage).count()
    current = profile_input(volunteer, paused_until=None)

    profiles.save_profile(db.session, volunteer.user, current, now=utcnow())  # no pause
    db.session.commit()
    proposals.propose_matches(db.session, None, utcnow(), force=True)
    db.session.commit()
    assert proposal.status == MatchStatus.PROPOSED

    pause = replace(current, paused_until=utcnow().date() + timedelta(days=14))
    profiles.save_profile(db.session, volunteer.user, pause, now=utcnow())
    db.session.commit()
    db.session.refresh(proposal)
    assert proposal.status == MatchStatus.PROPOSED  # the save itself locks no match
    proposals.propose_matches(db.session, None, utcnow())
    db.session.commit()
    db.session.refresh(proposal)
    db.session.refresh(offer)
    assert proposal.status == MatchStatus.CANCELLED
    assert proposal.reason == sentences.VOLUNTEER_PAUSED
    assert offer.status == MatchStatus.PROPOSED
    assert db.session.query(OutboxMessage).count() == mails_before  # nobody knew of it
