"""Each answer says what is true for the person reading it.

A volunteer is not told "your offer" for a proposal the engine made; an old reject form
after the decision sends the coordinator to the match instead of a form that can only be
refused; a draft is "not published yet", not "no longer open"; changing one's address to
someone else's does not mail that person a link with one's name; the API asks for the
description the web form asks for.
"""

from __future__ import annotations

import pytest
from api_support import NEED_BODY, bearer, token_for
from html_reader import Page
from sqlalchemy import select
from support import DEFAULT_PASSWORD, post_form

from matching import matches, needs
from matching.models import MatchOrigin, MatchStatus, Need, NeedStatus, OutboxMessage, Role, utcnow

ENGINE_WORDS = "Die Koordination schaut sich den Vorschlag an"
OFFER_WORDS = "Ihr Angebot liegt"


@pytest.fixture()
def scene(db, make_user, make_volunteer, make_initiative, make_need):
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    initiative, member = make_initiative()
    volunteer = make_volunteer("vera@example.org", first_name="Vera")
    need = make_need(initiative, title="Leute finden")
    db.session.commit()
    return coordinator, member, volunteer, need


@pytest.mark.parametrize(
    ("origin", "shown", "hidden"),
    [(MatchOrigin.ENGINE, ENGINE_WORDS, OFFER_WORDS), (MatchOrigin.OFFER, OFFER_WORDS, None)],
)
def test_a_proposal_is_called_an_offer_only_when_it_was_one(
    client, db, auth, scene, origin, shown, hidden
):
    _coordinator, _member, volunteer, need = scene
    actor = volunteer.user if origin == MatchOrigin.OFFER else None
    matches.create_match(db.session, actor, need, volunteer, origin=origin, now=utcnow())
    db.session.commit()
    auth.login("vera@example.org")
    page = client.get("/uebersicht").get_data(as_text=True)
    assert shown in page
    if hidden:
        assert hidden not in page


def test_an_old_reject_form_sends_the_coordinator_to_the_decided_match(client, db, auth, scene):
    coordinator, _member, volunteer, need = scene
    match = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    db.session.commit()
    auth.login(coordinator.email)
    assert client.get(f"/koordination/vorschlaege/{match.id}/ablehnen").status_code == 200
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    db.session.commit()
    answer = client.get(f"/koordination/vorschlaege/{match.id}/ablehnen")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/vermittlungen/{match.id}"
    page = Page.of(client.get(answer.headers["Location"]))
    assert "Dieser Vorschlag wurde schon entschieden." in page.flashes()
    db.session.refresh(match)
    assert match.status == MatchStatus.APPROVED


def test_assigning_to_a_draft_says_it_is_not_published_yet(client, db, auth, scene, make_need):
    coordinator, _member, volunteer, need = scene
    draft = make_need(need.initiative, status=NeedStatus.DRAFT, title="Noch nicht fertig")
    auth.login(coordinator.email)
    response = post_form(
        client,
        f"/koordination/anfragen/{draft.id}/zuordnen",
        {"volunteer_id": str(volunteer.id)},
    )
    html = (
        client.get(response.headers["Location"]).get_data(as_text=True)
        if (response.status_code == 302)
        else response.get_data(as_text=True)
    )
    assert "Diese Anfrage ist noch nicht veröffentlicht." in html
    assert "nicht mehr offen" not in html


def test_changing_to_someone_elses_address_mails_them_no_link_and_no_name(
    client, db, auth, make_user
):
    asking = make_user("anna@example.org", first_name="Anna")
    owner = make_user("owner@example.org", first_name="Olga")
    auth.login(asking.email)
    response = post_form(
        client, "/konto/email", {"email": owner.email, "current_password": DEFAULT_PASSWORD}
    )
    # The page answers as for any address: it tells nobody whether one has an account.
    assert response.status_code == 302
    assert Page.of(client.get("/konto")).flashes() == [
        "Wir haben einen Bestätigungslink an owner@example.org geschickt."
    ]
    queued = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient == owner.email)
    ).all()
    assert [row.kind for row in queued] == ["email_in_use"]
    assert "Anna" not in queued[0].text_body and "/konto/email/" not in queued[0].text_body
    db.session.refresh(asking)
    assert asking.email == "anna@example.org" and asking.email_change_key is None


@pytest.mark.parametrize("description", [None, "", "   "])
def test_the_api_asks_for_a_description_as_the_form_does(client, db, make_initiative, description):
    _initiative, member = make_initiative()
    secret = token_for(member)
    body = {**NEED_BODY, "publish": True}
    if description is None:
        body.pop("description")
    else:
        body["description"] = description
    before = db.session.scalar(select(Need.id).order_by(Need.id.desc()).limit(1))
    answer = client.post("/api/v1/initiative/needs", json=body, headers=bearer(secret))
    assert answer.status_code == 422
    problem = answer.get_json()
    assert "Bitte beschreiben Sie kurz, wobei Sie Rat brauchen." in str(problem)
    assert db.session.scalar(select(Need.id).order_by(Need.id.desc()).limit(1)) == before

    created = client.post("/api/v1/initiative/needs", json=NEED_BODY, headers=bearer(secret))
    assert created.status_code == 201
    url = f"/api/v1/initiative/needs/{created.get_json()['id']}"
    blanked = client.put(url, json={**NEED_BODY, "description": " "}, headers=bearer(secret))
    assert blanked.status_code == 422
    assert client.get(url, headers=bearer(secret)).get_json()["description"] == "Wir sind zu dritt."


@pytest.mark.parametrize("typed", ["vera@example.org", "VERA@Example.org"])
def test_changing_to_ones_own_address_says_so_and_sends_nothing(
    client, db, auth, scene, typed, mailbox
):
    auth.login("vera@example.org")
    response = post_form(
        client, "/konto/email", {"email": typed, "current_password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 422
    page = Page.of(response)
    assert "Das ist schon Ihre E-Mail-Adresse." in page.error_summary
    assert "Bestätigungslink" not in response.get_data(as_text=True)
    assert mailbox == []


def test_a_need_names_the_initiatives_quarter_only_in_the_initiatives_own_district(
    client, db, make_initiative, make_need
):
    initiative, _member = make_initiative(district="bad-cannstatt")
    initiative.sub_district = "Hallschlag"
    at_home = make_need(initiative, title="Im Quartier", district="bad-cannstatt")
    elsewhere = make_need(initiative, title="In der Stadtmitte", district="mitte")
    db.session.commit()
    home_page = client.get(f"/anfragen/{at_home.id}").get_data(as_text=True)
    assert "Bad Cannstatt (Hallschlag)" in home_page
    away_page = client.get(f"/anfragen/{elsewhere.id}").get_data(as_text=True)
    assert "Hallschlag" not in away_page
    assert "Mitte" in away_page


@pytest.mark.parametrize("page", ["zurueckziehen", "abschliessen"])
def test_an_ended_need_offers_no_form_to_end_it_again(client, db, auth, scene, page):
    _coordinator, member, _volunteer, need = scene
    needs.change_status(db.session, member, need, "withdraw", now=utcnow(), reason="erledigt")
    db.session.commit()
    auth.login(member.email)
    answer = client.get(f"/anfragen/{need.id}/{page}")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/anfragen/{need.id}"
    shown = Page.of(client.get(answer.headers["Location"]))
    assert any("Anfrage" in note for note in shown.flashes())
    db.session.refresh(need)
    assert need.status == NeedStatus.WITHDRAWN


def test_the_proposal_queue_past_its_end_shows_its_last_page(client, db, auth, scene, make_need):
    """After deciding the last item of the last page, the page is not "nothing waits"."""
    coordinator, _member, volunteer, need = scene
    matches.create_match(db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow())
    db.session.commit()
    auth.login(coordinator.email)
    for page in ("2", "99", "10000000"):
        text = client.get(f"/koordination/vorschlaege?seite={page}").get_data(as_text=True)
        assert "Gerade wartet kein Vorschlag" not in text
        assert "1 Vorschlag wartet" in text
        assert "Leute finden" in text


def test_offers_that_fill_the_places_are_said_to_fill_them(
    client, db, auth, scene, make_need, make_initiative
):
    """Offers waiting for the coordination hold places as the engine counts them: with all
    places held the overview says so, not "no open need fits" next to "0 running"."""
    _coordinator, _member, volunteer, need = scene
    volunteer.capacity = 1
    other_initiative, _ = make_initiative("Zweite Initiative")
    make_need(other_initiative, title="Noch eine Anfrage")
    matches.create_match(
        db.session, volunteer.user, need, volunteer, origin=MatchOrigin.OFFER, now=utcnow()
    )
    db.session.commit()
    auth.login("vera@example.org")
    page = client.get("/uebersicht").get_data(as_text=True)
    assert "Ihre Plätze sind gerade alle belegt" in page
    assert "1 Angebot oder Vorschlag" in page
    assert "Gerade gibt es keine offene Anfrage, die zu Ihrem Profil passt" not in page


def test_a_proposals_page_lets_the_coordinator_decide_it(client, db, auth, scene):
    coordinator, _member, volunteer, need = scene
    match = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    db.session.commit()
    auth.login(coordinator.email)
    page = client.get(f"/vermittlungen/{match.id}").get_data(as_text=True)
    assert f'action="/koordination/vorschlaege/{match.id}/freigeben"' in page
    assert f'href="/koordination/vorschlaege/{match.id}/ablehnen"' in page
    sent = post_form(
        client,
        f"/koordination/vorschlaege/{match.id}/freigeben",
        {},
        token_from=f"/vermittlungen/{match.id}",
    )
    assert sent.status_code == 302
    db.session.refresh(match)
    assert match.status == MatchStatus.APPROVED


def test_completing_advice_asks_first_and_changes_nothing_until_sent(
    client, db, auth, scene, mailbox
):
    coordinator, member, volunteer, need = scene
    match = matches.create_match(
        db.session, None, need, volunteer, origin=MatchOrigin.ENGINE, now=utcnow()
    )
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    matches.change_status(db.session, volunteer.user, match, "accept", now=utcnow())
    db.session.commit()
    auth.login(member.email)
    detail = client.get(f"/vermittlungen/{match.id}").get_data(as_text=True)
    assert f'action="/vermittlungen/{match.id}/abschliessen"' in detail
    sent_before = len(mailbox)
    ask = client.get(f"/vermittlungen/{match.id}/abschliessen")
    assert ask.status_code == 200
    assert "Ja, die Beratung ist abgeschlossen" in ask.get_data(as_text=True)
    db.session.refresh(match)
    assert match.status == MatchStatus.ACCEPTED and len(mailbox) == sent_before
    done = post_form(client, f"/vermittlungen/{match.id}/abschliessen", {})
    assert done.status_code == 302
    db.session.refresh(match)
    assert match.status == MatchStatus.COMPLETED
    # Asked again after the end, the page says so instead of offering the form.
    again = client.get(f"/vermittlungen/{match.id}/abschliessen")
    assert again.status_code == 302 and again.headers["Location"] == f"/vermittlungen/{match.id}"


def test_a_new_initiative_chooses_its_district_rather_than_getting_the_first(
    client, db, auth, make_user
):
    make_user("neu@example.org", roles=(Role.INITIATIVE,))
    auth.login("neu@example.org")
    page = client.get("/initiative").get_data(as_text=True)
    # The request to choose comes first and nothing is chosen: the browser shows it.
    assert '<option value="">Bitte wählen Sie Ihren Stadtbezirk</option><option' in page
    assert "<option selected" not in page
    skipped = post_form(client, "/initiative", {"name": "Repair-Café", "district": ""})
    assert skipped.status_code == 422
    assert "Bitte wählen Sie einen Stadtbezirk." in Page.of(skipped).error_summary


def test_the_fit_has_one_name_everywhere():
    """Pages, mails and job summaries call a pair's fit "Übereinstimmung"; the summary of a
    proposal run still said "mittlere Passung"."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    from jobs import cli

    root = Path(__file__).resolve().parents[1]
    with open(root / "matching/translations/messages.pot", "rb") as catalog:
        said = [str(m.id) for m in read_po(catalog) if m.id]
    said += [str(label) for label in cli.LABELS.values()]
    assert said and not [text for text in said if "Passung" in text]
    assert "waiting" in cli.LABELS  # the message mail job's summary, in German too
