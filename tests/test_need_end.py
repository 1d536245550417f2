"""A need that ends takes its live matches with it, and written reasons reach only their readers.

Withdrawn, closed or expired: nobody is still asked, says yes or swaps contacts for a need
that is gone, and the experts who knew of a match hear so. An initiative whose last member
deletes the account withdraws its needs. A reason written to the coordination (a
rejection's, a "no"'s) is read by the coordinators, by the volunteer only where it is
theirs to read, and never by the initiative: on the match page and through the API.
"""

from __future__ import annotations

import pytest
from api_support import bearer, token_for
from sqlalchemy import select
from support import post_form

from matching import matches, needs, privacy
from matching.errors import PermissionDenied
from matching.matches import participants
from matching.models import (
    AuditEntry,
    InitiativeMember,
    MatchOrigin,
    MatchStatus,
    NeedStatus,
    OutboxMessage,
    Role,
    utcnow,
)

SECRET = "INTERN: war bei der letzten Beratung unzuverlässig"


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Katrin")
    initiative, member = make_initiative()
    need = make_need(initiative, title="Leute finden")
    need.experts_wanted = 3
    people = {
        "proposed": make_volunteer("pia@example.org", first_name="Pia"),
        "offered": make_volunteer("otto@example.org", first_name="Otto"),
        "approved": make_volunteer("anna@example.org", first_name="Anna"),
        "accepted": make_volunteer("aki@example.org", first_name="Aki"),
    }
    db.session.commit()
    now = utcnow()
    made = {}
    for key, profile in people.items():
        origin = MatchOrigin.OFFER if key == "offered" else MatchOrigin.ENGINE
        actor = profile.user if key == "offered" else None
        made[key] = matches.create_match(
            db.session, actor, need, profile, origin=origin, now=now, score=0.8
        )
    for key in ("approved", "accepted"):
        matches.change_status(db.session, coordinator, made[key], "approve", now=now)
    matches.change_status(db.session, people["accepted"].user, made["accepted"], "accept", now=now)
    db.session.commit()
    return coordinator, member, need, made


def _statuses(db, made) -> dict[str, str]:
    for match in made.values():
        db.session.refresh(match)
    return {key: match.status for key, match in made.items()}


def _mails(db, kind: str, email: str) -> list[str]:
    """The texts of the mails of a kind queued for an address (sent or still waiting)."""
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.recipient == email)
    ).all()
    return [row.text_body for row in rows]


def _told(db, email: str) -> list[str]:
    return _mails(db, "need_ended", email)


def test_withdrawing_ends_every_live_match_and_tells_who_knew(client, db, auth, scene):
    _coordinator, member, need, made = scene
    auth.login(member.email)
    response = post_form(client, f"/anfragen/{need.id}/zurueckziehen", {"reason": "Erledigt"})
    assert response.status_code == 302
    db.session.refresh(need)
    assert need.status == NeedStatus.WITHDRAWN
    assert set(_statuses(db, made).values()) == {MatchStatus.CANCELLED}
    # Asked, advising or offered: told. Only proposed by the engine: never knew, not mailed.
    for email in ("anna@example.org", "aki@example.org", "otto@example.org"):
        [text] = _told(db, email)
        assert "zurückgezogen" in text and "Leute finden" in text
    assert not _told(db, "pia@example.org")
    auth.logout()

    # The old accept link of the approved match no longer takes a yes.
    auth.login("anna@example.org")
    page = client.get(f"/vermittlungen/{made['approved'].id}").get_data(as_text=True)
    assert "Die Initiative hat die Anfrage zurückgezogen." in page
    response = post_form(
        client,
        f"/vermittlungen/{made['approved'].id}/zusagen",
        {},
        token_from=f"/vermittlungen/{made['approved'].id}",
    )
    db.session.refresh(made["approved"])
    assert made["approved"].status == MatchStatus.CANCELLED
    assert response.status_code in (302, 409)
    auth.logout()

    # Nothing of it waits in the coordinators' queue.
    auth.login("koo@example.org")
    assert "Leute finden" not in client.get("/koordination/vorschlaege").get_data(as_text=True)


def test_closing_completes_the_advice_and_cancels_the_rest(client, db, auth, scene):
    _coordinator, member, need, made = scene
    auth.login(member.email)
    assert post_form(client, f"/anfragen/{need.id}/abschliessen", {}).status_code == 302
    db.session.refresh(need)
    assert need.status == NeedStatus.CLOSED
    assert _statuses(db, made) == {
        "proposed": MatchStatus.CANCELLED,
        "offered": MatchStatus.CANCELLED,
        "approved": MatchStatus.CANCELLED,
        "accepted": MatchStatus.COMPLETED,
    }
    # The advising expert is asked how it went, not told it was called off.
    assert _mails(db, "match_done_volunteer", "aki@example.org")
    assert not _told(db, "aki@example.org")
    [text] = _told(db, "anna@example.org")
    assert "abgeschlossen" in text


def test_expiry_ends_the_search_but_not_the_advice(db, scene):
    _coordinator, _member, need, made = scene
    needs.change_status(db.session, None, need, "expire", now=utcnow())
    db.session.commit()
    assert _statuses(db, made) == {
        "proposed": MatchStatus.CANCELLED,
        "offered": MatchStatus.CANCELLED,
        "approved": MatchStatus.CANCELLED,
        "accepted": MatchStatus.ACCEPTED,
    }
    [text] = _told(db, "anna@example.org")
    assert "abgelaufen" in text


def test_a_refused_step_ends_nothing(db, scene):
    """A step the actor may not take (expiry is the scheduler's) leaves the matches be."""
    coordinator, _member, need, made = scene
    with pytest.raises(PermissionDenied):
        needs.change_status(db.session, coordinator, need, "expire", now=utcnow())
    db.session.rollback()
    assert _statuses(db, made)["approved"] == MatchStatus.APPROVED


def test_last_member_erased_withdraws_the_initiatives_needs(db, scene, make_user):
    _coordinator, member, need, made = scene
    privacy.erase(db.session, member, now=utcnow())
    db.session.commit()
    db.session.refresh(need)
    assert need.status == NeedStatus.WITHDRAWN
    assert set(_statuses(db, made).values()) == {MatchStatus.CANCELLED}
    assert _told(db, "aki@example.org")


def test_an_initiative_with_members_left_keeps_its_needs(db, scene, make_user):
    _coordinator, member, need, made = scene
    other = make_user("ida@example.org", roles=(Role.INITIATIVE,))
    db.session.add(InitiativeMember(user=other, initiative_id=need.initiative_id))
    db.session.commit()
    privacy.erase(db.session, member, now=utcnow())
    db.session.commit()
    db.session.refresh(need)
    assert need.status == NeedStatus.OPEN
    assert _statuses(db, made)["accepted"] == MatchStatus.ACCEPTED


def test_erased_expert_the_initiative_hears_of_it(db, scene):
    _coordinator, member, _need, made = scene
    privacy.erase(db.session, made["accepted"].volunteer.user, now=utcnow())
    db.session.commit()
    assert _statuses(db, made)["accepted"] == MatchStatus.CANCELLED
    assert _mails(db, "match_ended_initiative", member.email)


# --- who reads a written reason --------------------------------------------------------


def _reject(client, auth, match_id: int, share: bool) -> None:
    auth.login("koo@example.org")
    data = {"reason": SECRET, **({"share": "y"} if share else {})}
    response = post_form(client, f"/koordination/vorschlaege/{match_id}/ablehnen", data)
    assert response.status_code == 302
    auth.logout()


def _page(client, auth, email: str, match_id: int) -> str:
    auth.login(email)
    html = client.get(f"/vermittlungen/{match_id}").get_data(as_text=True)
    auth.logout()
    return html


def _api_reason(client, user, match_id: int) -> str:
    answer = client.get(f"/api/v1/matches/{match_id}", headers=bearer(token_for(user)))
    assert answer.status_code == 200
    return answer.get_json()["reason"]


@pytest.mark.parametrize("share", [False, True])
def test_a_rejections_reason_reaches_the_volunteer_only_when_shared(client, db, auth, scene, share):
    coordinator, member, _need, made = scene
    match = made["offered"]  # the volunteer's own offer: the one a reason may be shared for
    _reject(client, auth, match.id, share)
    volunteer = match.volunteer.user
    shown = SECRET in _page(client, auth, volunteer.email, match.id)
    assert shown is share
    assert (_api_reason(client, volunteer, match.id) == SECRET) is share
    # The initiative never knew of the rejected proposal: not even the match is shown to it.
    assert SECRET not in _page(client, auth, member.email, match.id)
    answer = client.get(f"/api/v1/matches/{match.id}", headers=bearer(token_for(member)))
    assert answer.status_code == 404
    assert SECRET not in answer.get_data(as_text=True)
    assert SECRET in _page(client, auth, coordinator.email, match.id)
    assert _api_reason(client, coordinator, match.id) == SECRET


def test_a_volunteers_no_is_read_by_the_coordination_not_the_initiative(client, db, auth, scene):
    coordinator, member, _need, made = scene
    match = made["approved"]
    auth.login("anna@example.org")
    words = "Ehrlich gesagt wirkt die Initiative chaotisch"
    response = post_form(client, f"/vermittlungen/{match.id}/absagen", {"reason": words})
    assert response.status_code == 302
    auth.logout()
    db.session.refresh(match)
    assert match.status == MatchStatus.DECLINED
    assert words not in _page(client, auth, member.email, match.id)
    assert _api_reason(client, member, match.id) == ""
    assert words in _page(client, auth, "anna@example.org", match.id)
    assert words in _page(client, auth, coordinator.email, match.id)


def test_closing_with_the_advice_running_counts_it_as_advised(
    client, db, auth, scene, make_need, make_volunteer
):
    """The need passes "Beraten" on its way to closed, as when the expert finishes: the
    report counts advice by that step."""
    coordinator, member, first, _made = scene
    need = make_need(first.initiative, title="Ein Platz")
    expert = make_volunteer("ela@example.org", first_name="Ela")
    match = matches.create_match(
        db.session, None, need, expert, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    matches.change_status(db.session, expert.user, match, "accept", now=utcnow())
    db.session.commit()
    assert need.status == NeedStatus.MATCHED
    auth.login(member.email)
    assert post_form(client, f"/anfragen/{need.id}/abschliessen", {}).status_code == 302
    steps = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "need", AuditEntry.object_id == need.id)
        .order_by(AuditEntry.id)
    ).all()
    assert steps[-2:] == ["need.mark_advised", "need.close"]
    db.session.refresh(match)
    assert match.status == MatchStatus.COMPLETED


def test_when_every_place_is_taken_waiting_proposals_end(db, scene):
    """A coordinator approves one expert for the need's last place: the proposals still
    waiting could only be refused, so they end; an offer hears so kindly."""
    coordinator, _member, need, made = scene  # three places: one approved, one accepted
    matches.change_status(db.session, coordinator, made["proposed"], "approve", now=utcnow())
    db.session.commit()
    statuses = _statuses(db, made)
    assert statuses["proposed"] == MatchStatus.APPROVED
    assert statuses["offered"] == MatchStatus.CANCELLED
    assert _mails(db, "offer_rejected", "otto@example.org")
    db.session.refresh(need)
    assert need.status == NeedStatus.OPEN  # still waiting for the approved one's yes


def test_the_close_page_says_what_closing_ends(client, auth, scene):
    _coordinator, member, need, _made = scene
    auth.login(member.email)
    page = client.get(f"/anfragen/{need.id}/abschliessen").get_data(as_text=True)
    assert "Die Beratung mit Aki gilt dann als beendet." in page
    assert "Wer noch gefragt ist, bekommt Bescheid" in page
    assert f'href="/anfragen/{need.id}/zurueckziehen"' in page


def test_a_reason_is_never_shared_about_a_proposal_the_volunteer_never_knew(db, scene):
    """The share box is offered for offers only; a forged POST for an engine proposal must
    not pass the reason (and with it the proposal) on to the volunteer."""
    coordinator, _member, _need, made = scene
    match = made["proposed"]
    assert match.origin != "offer"
    matches.change_status(
        db.session, coordinator, match, "reject", now=utcnow(), reason=SECRET, share_reason=True
    )
    db.session.commit()
    db.session.refresh(match)
    assert match.status == MatchStatus.REJECTED and not match.reason_shared
    assert participants.readable_reason(db.session, match.volunteer.user, match) == ""


def test_closing_tells_the_initiative_it_is_closed_not_advised(client, db, auth, scene):
    """The feedback mail said "Ihre Anfrage steht jetzt auf „Beraten“" while the page shown
    right after said "Abgeschlossen": closing passes "Beraten" on the way."""
    _coordinator, member, need, _made = scene
    auth.login(member.email)
    assert post_form(client, f"/anfragen/{need.id}/abschliessen", {}).status_code == 302
    [text] = _mails(db, "match_done_initiative", member.email)
    assert "Ihre Anfrage ist jetzt abgeschlossen." in text and "Beraten" not in text


def test_an_offer_can_be_taken_back_before_the_coordinators_decide(client, db, auth, scene):
    """ "Diesmal nicht" after "Ich kann helfen" sent the volunteer to the match page, which
    offered no way to take the offer back."""
    _coordinator, member, _need, made = scene
    offer = made["offered"]
    auth.login("otto@example.org")
    page = client.get(f"/vermittlungen/{offer.id}").get_data(as_text=True)
    assert f'href="/vermittlungen/{offer.id}/absagen"' in page and "Angebot zurückziehen" in page
    ask = client.get(f"/vermittlungen/{offer.id}/absagen")
    assert ask.status_code == 200 and "Angebot zurückziehen" in ask.get_data(as_text=True)
    done = post_form(client, f"/vermittlungen/{offer.id}/absagen", {"reason": ""})
    assert done.status_code == 302
    assert _statuses(db, made)["offered"] == MatchStatus.DECLINED
    assert not _mails(db, "match_ended_initiative", member.email)  # it never knew of it
    [told] = _mails(db, "match_declined", "koo@example.org")
    assert "Otto" in told and "hat das Hilfsangebot" in told and "zurückgezogen" in told
    auth.logout()
    # An engine's waiting proposal is not the volunteer's to decline.
    proposal = made["proposed"]
    auth.login("pia@example.org")
    assert client.get(f"/vermittlungen/{proposal.id}/absagen").status_code == 302
    refused = post_form(
        client,
        f"/vermittlungen/{proposal.id}/absagen",
        {"reason": ""},
        token_from=f"/vermittlungen/{proposal.id}",
    )
    assert refused.status_code in (302, 409)
    assert _statuses(db, made)["proposed"] == MatchStatus.PROPOSED


def test_a_mail_link_to_an_ended_or_draft_need_leads_a_visitor_on(client, db, scene, make_need):
    """Logged out, a digest's link to the initiative's "Beraten" need or its draft was a bare
    404: the first now says what became of it (410, with the way to log in); the second, like
    every missing page (nothing tells that a draft is there), offers the log-in."""
    _coordinator, _member, need, _made = scene
    need.status = NeedStatus.ADVISED
    draft = make_need(need.initiative, status=NeedStatus.DRAFT, title="Noch nicht fertig")
    db.session.commit()
    advised = client.get(f"/anfragen/{need.id}")
    assert advised.status_code == 410
    assert "Anmelden" in advised.get_data(as_text=True)
    drafted = client.get(f"/anfragen/{draft.id}")
    assert drafted.status_code == 404
    text = drafted.get_data(as_text=True)
    assert "Noch nicht fertig" not in text
    assert f'href="/anmelden?next=/anfragen/{draft.id}"' in text.replace("%2F", "/")


def test_an_expired_need_tells_the_initiative_at_once_and_truly(client, db, auth, scene):
    """The initiative learned of the expiry only from the next weekly digest (never, when it
    had switched digests off), and read "Abgelaufen – stellen Sie gern eine neue Anfrage"
    while its expert went on advising."""
    _coordinator, member, need, _made = scene
    need.expires_on = utcnow().date()
    db.session.commit()
    needs.change_status(db.session, None, need, "expire", now=utcnow())
    db.session.commit()
    [text] = _mails(db, "need_expired", member.email)
    assert "ist jetzt abgelaufen" in text
    assert "Die Beratung mit Aki läuft weiter" in text and "neue Anfrage" not in text
    auth.login(member.email)
    page = client.get("/meine-anfragen").get_data(as_text=True)
    assert "Die Beratung mit Ihrer Expert:in läuft weiter" in page
    assert "Stellen Sie gern eine neue Anfrage" not in page


def test_an_expired_need_without_advice_invites_a_new_one(db, make_initiative, make_need):
    initiative, member = make_initiative()
    need = make_need(initiative, title="Abgelaufen ohne Rat")
    db.session.commit()
    needs.change_status(db.session, None, need, "expire", now=utcnow())
    db.session.commit()
    [text] = _mails(db, "need_expired", member.email)
    assert "stellen Sie gern eine neue Anfrage" in text and "/meine-anfragen/neu" in text
