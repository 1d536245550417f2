"""need → proposal → approval → acceptance → contacts → completion → feedback, through the pages."""

import re

import pytest
from sqlalchemy import func, select
from support import post_form

from matching import matches
from matching.errors import PermissionDenied, TransitionError
from matching.models import AuditEntry, Match, MatchStatus, Need, NeedStatus, Role, utcnow


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    volunteer = make_volunteer("vera@example.org", first_name="Vera")
    volunteer.user.phone = "0711 555"
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Katrin")
    initiative, member = make_initiative()
    need = make_need(initiative, title="Leute finden")
    db.session.commit()
    return volunteer, coordinator, member, need


def test_whole_chain(client, db, auth, mailbox, scene):
    _volunteer, _coordinator, member, need = scene

    # The volunteer offers help; GET only asks.
    auth.login("vera@example.org")
    assert "Ich kann helfen" in client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert client.get(f"/anfragen/{need.id}/helfen").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Match)) == 0
    post_form(client, f"/anfragen/{need.id}/helfen", {})
    match = db.session.scalar(select(Match))
    assert match.status == MatchStatus.PROPOSED and match.origin == "offer"
    assert match.score is not None
    [offer_mail] = [m for m in mailbox if m.to == "koo@example.org" and "Hilfsangebot" in m.subject]
    # Needs share titles: the mail says whose need it is, where, and links to it.
    assert f"Initiative: {need.initiative.name}" in offer_mail.text
    assert f"http://localhost/anfragen/{need.id}" in offer_mail.text
    auth.logout()

    # The initiative sees no contact yet.
    auth.login(member.email)
    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "vera@example.org" not in page and "0711 555" not in page
    auth.logout()

    # The coordinator approves from the queue.
    auth.login("koo@example.org")
    queue = client.get("/koordination/vorschlaege").get_data(as_text=True)
    assert "Leute finden" in queue and "Vera Muster" in queue
    post_form(
        client,
        f"/koordination/vorschlaege/{match.id}/freigeben",
        {},
        token_from="/koordination/vorschlaege",
    )
    db.session.refresh(match)
    assert match.status == MatchStatus.APPROVED
    asked = [m for m in mailbox if m.to == "vera@example.org"]
    assert asked and f"/vermittlungen/{match.id}" in asked[-1].text
    auth.logout()

    # The volunteer accepts; both sides get each other's contact.
    auth.login("vera@example.org")
    mailbox.clear()
    post_form(
        client, f"/vermittlungen/{match.id}/zusagen", {}, token_from=f"/vermittlungen/{match.id}"
    )
    db.session.refresh(match)
    assert match.status == MatchStatus.ACCEPTED
    db.session.refresh(need)
    assert need.status == NeedStatus.MATCHED
    to_volunteer = next(m for m in mailbox if m.to == "vera@example.org")
    to_initiative = next(m for m in mailbox if m.to == member.email)
    assert member.email in to_volunteer.text
    assert "vera@example.org" in to_initiative.text and "0711 555" in to_initiative.text
    auth.logout()

    auth.login(member.email)
    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "vera@example.org" in page and "0711 555" in page
    auth.logout()

    # Done, then feedback.
    auth.login("vera@example.org")
    post_form(
        client,
        f"/vermittlungen/{match.id}/abschliessen",
        {},
        token_from=f"/vermittlungen/{match.id}",
    )
    db.session.refresh(match)
    assert match.status == MatchStatus.COMPLETED
    auth.logout()
    auth.login(member.email)
    response = post_form(
        client, f"/vermittlungen/{match.id}/rueckmeldung", {"rating": "9", "comment": ""}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte wählen Sie eine Bewertung von 1 bis 5." in html
    post_form(
        client,
        f"/vermittlungen/{match.id}/rueckmeldung",
        {"rating": "5", "comment": "Sehr hilfreich"},
    )
    db.session.refresh(match)
    assert match.feedback_rating == 5 and match.feedback_comment == "Sehr hilfreich"
    post_form(client, f"/anfragen/{need.id}/abschliessen", {})
    db.session.refresh(need)
    assert need.status == NeedStatus.CLOSED
    auth.logout()

    # The coordinator reads the history.
    auth.login("koo@example.org")
    history = client.get(f"/koordination/anfragen/{need.id}/verlauf").get_data(as_text=True)
    for text in (
        "Vorschlag gemacht",
        "Vorschlag freigegeben",
        "Expert:in hat zugesagt",
        "Beratung abgeschlossen",
        "Rückmeldung gegeben",
        "Anfrage abgeschlossen",
        "Katrin",
    ):
        assert text in history
    # Every entry about the match names its expert ("Vera Muster"), the need's own do not.
    rows = re.findall(r"<tr>(.*?)</tr>", history, re.S)[1:]
    about_match = [r for r in rows if "Vorschlag" in r or "Expert:in hat" in r]
    assert about_match and all("Vera Muster" in r for r in about_match)
    assert all("Vera Muster" not in r for r in rows if "Anfrage abgeschlossen" in r)


def test_accepted_need_cancels_other_open_proposals(db, scene, make_volunteer):
    volunteer, coordinator, _member, need = scene
    other = make_volunteer("paul@example.org")
    now = utcnow()
    first = matches.create_match(db.session, coordinator, need, volunteer, origin="manual", now=now)
    second = matches.create_match(db.session, coordinator, need, other, origin="manual", now=now)
    matches.change_status(db.session, coordinator, first, "approve", now=now)
    matches.change_status(db.session, volunteer.user, first, "accept", now=now)
    db.session.commit()
    assert second.status == MatchStatus.CANCELLED
    assert need.status == NeedStatus.MATCHED


def test_refusals_change_nothing(db, scene, make_volunteer, make_user):
    volunteer, coordinator, _member, need = scene
    now = utcnow()
    match = matches.create_match(db.session, coordinator, need, volunteer, origin="manual", now=now)
    db.session.commit()
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    stranger = make_user("fremd@example.org", roles=(Role.VOLUNTEER,))
    with pytest.raises(TransitionError):
        matches.change_status(
            db.session, volunteer.user, match, "complete", now=now
        )  # never accepted
    with pytest.raises(PermissionDenied):
        matches.change_status(db.session, stranger, match, "approve", now=now)
    matches.change_status(db.session, coordinator, match, "approve", now=now)
    with pytest.raises(TransitionError):
        matches.change_status(db.session, coordinator, match, "approve", now=now)  # double click
    with pytest.raises(PermissionDenied):
        matches.change_status(
            db.session, stranger, match, "accept", now=now
        )  # someone else's match
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == entries
    db.session.refresh(match)
    assert match.status == MatchStatus.PROPOSED


def test_volunteer_at_capacity_gets_no_new_approval(db, scene, make_initiative, make_need):
    volunteer, coordinator, _member, need = scene
    volunteer.capacity = 1
    other_initiative, _ = make_initiative("Zweite Initiative")
    other_need = make_need(other_initiative)
    now = utcnow()
    first = matches.create_match(db.session, coordinator, need, volunteer, origin="manual", now=now)
    second = matches.create_match(
        db.session, coordinator, other_need, volunteer, origin="manual", now=now
    )
    matches.change_status(db.session, coordinator, first, "approve", now=now)
    db.session.commit()
    with pytest.raises(TransitionError, match="so viele Initiativen"):
        matches.change_status(db.session, coordinator, second, "approve", now=now)
    db.session.rollback()
    db.session.refresh(second)
    assert second.status == MatchStatus.PROPOSED


def test_pages_refuse_bad_actions_clearly(client, db, auth, scene):
    volunteer, coordinator, member, need = scene
    match = matches.create_match(
        db.session, coordinator, need, volunteer, origin="manual", now=utcnow()
    )
    db.session.commit()
    auth.login("vera@example.org")
    # Accepting a match that was not approved yet.
    response = post_form(
        client,
        f"/vermittlungen/{match.id}/zusagen",
        {},
        token_from=f"/vermittlungen/{match.id}",
        follow_redirects=True,
    )
    assert "wartet nicht (mehr) auf Ihre Zusage" in response.get_data(as_text=True)
    # A forged id.
    assert client.get("/vermittlungen/999999").status_code == 404
    auth.logout()
    auth.login(member.email)
    # The initiative cannot accept on the volunteer's behalf: a proposal the coordination has
    # not approved is not even shown to it (tests/test_initiative_knows.py).
    response = post_form(
        client,
        f"/vermittlungen/{match.id}/zusagen",
        {},
        token_from="/meine-anfragen",
        follow_redirects=True,
    )
    assert response.status_code == 404
    db.session.refresh(match)
    assert match.status == MatchStatus.PROPOSED
    assert db.session.get(Need, need.id).status == NeedStatus.OPEN


def test_the_coordinators_hear_of_a_no_without_being_told_to_search_by_hand(db, scene):
    """After a "no" the proposals are worked out again by themselves (a new one often waits
    in the queue in the same second); the mail said "Bitte suchen Sie jemand anderen"."""
    from matching.models import MatchOrigin, OutboxMessage

    volunteer, coordinator, _member, need = scene
    match = matches.create_match(
        db.session, coordinator, need, volunteer, origin=MatchOrigin.MANUAL, now=utcnow()
    )
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    matches.change_status(db.session, volunteer.user, match, "decline", now=utcnow())
    db.session.commit()
    [row] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "match_declined")
    ).all()
    assert "von selbst neu berechnet" in row.text_body
    assert "Bitte suchen Sie jemand anderen" not in row.text_body
