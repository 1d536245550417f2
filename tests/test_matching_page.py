"""The coordinators' "Vermittlung" page: last runs, a preview that writes nothing, "Übernehmen"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from jobs import tasks
from matching import matches
from matching.models import (
    AuditEntry,
    JobRun,
    Match,
    MatchingRequest,
    MatchOrigin,
    MatchStatus,
    OutboxMessage,
    Role,
    utcnow,
)
from tests.support import csrf_token

PAGE = "/koordination/vermittlung"
PREVIEW = "/koordination/vermittlung/vorschau"
APPLY = "/koordination/vermittlung/uebernehmen"


@pytest.fixture()
def coordinator(make_user, auth):
    user = make_user("koordination@example.org", roles=(Role.COORDINATOR,), first_name="Kai")
    auth.login(user.email)
    return user


def _counts(db) -> tuple:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Match, AuditEntry, JobRun, OutboxMessage, MatchingRequest)
    )


def _pairs(html: str) -> list[str]:
    return re.findall(r'name="pair" value="([^"]+)"', html)


@pytest.fixture()
def picture(make_volunteer, make_initiative, make_need):
    """Two needs in Ost, one expert with room for one: one need gets her, one is left."""
    vera = make_volunteer(capacity=1, levels={"start": 3})
    ost, _m = make_initiative()
    first = make_need(ost, title="Erste Anfrage")
    second = make_need(ost, title="Zweite Anfrage")
    stammheim, _m2 = make_initiative("Stammheim hilft", district="stammheim")
    persian = make_need(stammheim, title="Auf Persisch", language="fa")
    return vera, first, second, persian


def test_the_page_shows_the_last_run_and_the_weights(client, db, coordinator, picture):
    tasks.propose_matches(db.session, utcnow())

    html = client.get(PAGE).get_data(as_text=True)

    assert "Letzte Läufe" in html and "Regelmäßiger Lauf" in html
    assert "Vorschläge jetzt berechnen" in html
    # The load penalty in effect, in the percentage points the fit is shown in (not "0.15").
    assert "Verteilung der Arbeit" in html
    assert "bei der zweiten 15 Prozentpunkte weniger, bei der dritten 30 und so weiter" in html
    assert "0.15" not in html
    assert "Themen</dt>" not in html or "Wie gut sich die Person" in html


def test_the_preview_writes_nothing_and_says_what_it_would_do(client, db, coordinator, picture):
    vera, first, _second, _persian = picture
    before = _counts(db)

    response = client.get(PREVIEW)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _counts(db) == before
    assert "Vorschau – noch nichts gespeichert" in html
    assert "1</strong> von 3 Anfragen bekämen einen Vorschlag" in html
    assert _pairs(html) == [f"{first.id}:{vera.id}"]
    # The spread of work as a chart with its text and table twin.
    assert "<svg" in html and 'role="img"' in html
    assert "keine: 1 → 0; eine: 0 → 1" in html
    # Each need left without proposal, with its reason in plain words.
    assert "Zweite Anfrage" in html and "in diesem Vorschlag bei Anfragen eingeplant" in html
    assert "Auf Persisch" in html and "spricht niemand Persisch" in html


def test_uebernehmen_proposes_through_the_life_cycle_and_a_second_time_nothing(
    client, db, coordinator, picture
):
    vera, first, *_ = picture
    html = client.get(PREVIEW).get_data(as_text=True)
    token = csrf_token(client, PREVIEW)
    data = {"csrf_token": token, "pair": _pairs(html)}

    done = client.post(APPLY, data=data, follow_redirects=True).get_data(as_text=True)

    [match] = db.session.scalars(select(Match)).all()
    assert (match.need_id, match.volunteer_id) == (first.id, vera.id)
    assert (match.status, match.origin) == (MatchStatus.PROPOSED, MatchOrigin.ENGINE)
    assert match.explanation
    assert db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "match.propose")
    )
    assert "1 Vorschlag übernommen" in done

    again = client.post(APPLY, data=data, follow_redirects=True).get_data(as_text=True)

    assert db.session.scalar(select(func.count()).select_from(Match)) == 1
    assert "Nichts Neues übernommen" in again and "ist schon vorgeschlagen" in again


def test_uebernehmen_after_the_picture_changed_says_what_changed(
    client, db, coordinator, picture, make_need
):
    vera, _first, second, _persian = picture
    html = client.get(PREVIEW).get_data(as_text=True)
    data = {"csrf_token": csrf_token(client, PREVIEW), "pair": _pairs(html)}
    # Meanwhile the expert was proposed for the other need and approved: she is full now.
    other = matches.create_match(
        db.session, coordinator, second, vera, origin=MatchOrigin.MANUAL, now=utcnow()
    )
    matches.change_status(db.session, coordinator, other, "approve", now=utcnow())
    db.session.commit()

    page = client.post(APPLY, data=data, follow_redirects=True).get_data(as_text=True)

    assert db.session.scalars(select(Match.need_id)).all() == [second.id]
    assert "Seit der Vorschau hat sich etwas geändert" in page
    assert "Hat keine freien Kapazitäten" in page


@pytest.mark.parametrize("pairs", [["x:1"], ["1"], [], ["1:2; drop table"], ["9" * 30 + ":1"]])
def test_uebernehmen_with_bad_input_changes_nothing(client, db, coordinator, picture, pairs):
    before = _counts(db)
    token = csrf_token(client, PAGE)

    response = client.post(APPLY, data={"csrf_token": token, "pair": pairs}, follow_redirects=True)

    assert response.status_code == 200
    assert "Bitte neu berechnen" in response.get_data(as_text=True)
    assert _counts(db) == before


def test_only_coordinators_see_the_page(client, db, make_user, auth):
    volunteer = make_user("vera@example.org")
    auth.login(volunteer.email)
    assert client.get(PAGE).status_code in (403, 404)
    assert client.get(PREVIEW).status_code in (403, 404)


def test_the_initiative_and_the_coordinator_read_why_a_need_has_nobody(
    client, db, auth, make_user, make_initiative, make_need, make_volunteer
):
    make_volunteer(districts=("stammheim",), languages=("de",))
    initiative, member = make_initiative("Stammheim hilft", district="stammheim")
    need = make_need(initiative, title="Auf Persisch", language="fa")
    auth.login(member.email)

    own = client.get(f"/anfragen/{need.id}").get_data(as_text=True)

    assert "Warum es noch keinen Vorschlag gibt" in own
    assert "Von den Expert:innen, die in Frage kommen, spricht niemand Persisch." in own
    assert "Von Hand zuordnen" not in own

    auth.logout()
    coordinator = make_user("koordination@example.org", roles=(Role.COORDINATOR,))
    auth.login(coordinator.email)
    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "spricht niemand Persisch" in page
    assert "Von Hand zuordnen" in page and "Jemanden aus der ganzen Stadt fragen" in page
    assert "per Telefon oder Video" in page


def test_the_volunteer_sees_why_on_the_match_page_and_in_the_mail(
    client, db, auth, mailbox, make_user, make_initiative, make_need, make_volunteer
):
    vera = make_volunteer(levels={"cooperation": 3}, districts=("degerloch",))
    vera.offers_phone = True
    initiative, _member = make_initiative("Sillenbuch miteinander", district="sillenbuch")
    need = make_need(initiative, phases=("cooperation",))
    need.accepts_phone = True
    db.session.commit()
    tasks.propose_matches(db.session, utcnow())
    [match] = db.session.scalars(select(Match)).all()
    coordinator = make_user("koordination@example.org", roles=(Role.COORDINATOR,))
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    db.session.commit()

    from matching.models import OutboxMessage

    [mail] = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "match_approved")
    ).all()
    assert "Sie haben viel Erfahrung in Kooperation" in mail.text_body
    assert "Die Initiative ist im Nachbarbezirk Sillenbuch" in mail.text_body
    assert "Die Koordination meint" not in mail.text_body
    assert "Es passt" in mail.text_body and "Übereinstimmung" in mail.text_body

    auth.login(vera.user.email)
    page = client.get(f"/vermittlungen/{match.id}").get_data(as_text=True)
    assert "Warum Sie gut passen" in page
    assert "Sie haben viel Erfahrung in Kooperation" in page
    assert re.search(r"Passt (sehr )?gut", page)
