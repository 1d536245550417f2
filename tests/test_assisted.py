"""Assisted and offline: a need taken down by phone, the invitation to take it over, print
styles, and the accessibility statement with a barrier report that reaches coordinators."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from support import NEED_FORM, post_form

from matching import matches
from matching.models import (
    AuditEntry,
    BarrierReport,
    Initiative,
    Match,
    MatchStatus,
    Need,
    NeedStatus,
    OutboxMessage,
    Role,
    utcnow,
)

# A recent day: a consent is noted at once, or within days (at most 90 back).
CONSENT_DAY = date.today() - timedelta(days=3)

PHONE_FORM = {
    **NEED_FORM,
    "initiative_name": "Seniorentreff Hallschlag",
    "district": "bad-cannstatt",
    "sub_district": "Hallschlag",
    "contact_name": "Frau Özdemir",
    "contact_phone": "0711 987654",
    "contact_email": "oezdemir@example.org",
    "consent": "y",
    "consent_on": CONSENT_DAY.isoformat(),
    "action": "publish",
}


@pytest.fixture()
def coordinator(make_user, auth):
    make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kim")
    auth.login("koo@example.org")


def outbox(db, kind: str) -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()


def record(client, db, **changes) -> Need | None:
    response = post_form(client, "/koordination/anfrage-aufnehmen", {**PHONE_FORM, **changes})
    assert response.status_code in (200, 302)
    return db.session.scalar(select(Need).order_by(Need.id.desc()))


def test_a_coordinator_records_a_need_by_phone_with_the_consent_date(client, db, coordinator):
    need = record(client, db)
    assert need is not None and need.status == NeedStatus.OPEN
    initiative = need.initiative
    assert (initiative.name, initiative.district, initiative.member_rows) == (
        "Seniorentreff Hallschlag",
        "bad-cannstatt",
        [],
    )
    assert (initiative.contact_name, initiative.contact_phone) == ("Frau Özdemir", "0711 987654")
    assert initiative.contact_consent_on == CONSENT_DAY
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert {"initiative.record_by_phone", "need.record_by_phone", "need.publish"} <= set(actions)

    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "Am Telefon aufgenommen" in page and "0711 987654" in page
    assert "Einladen, die Anfrage selbst zu verwalten" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"consent": ""}, "Ohne Einwilligung können wir die Kontaktdaten nicht speichern."),
        ({"contact_phone": "", "contact_email": ""}, "Telefonnummer oder eine E-Mail-Adresse"),
        ({"contact_email": "kein-at"}, "Bitte prüfen Sie die E-Mail-Adresse"),
        ({"consent_on": "2999-01-01"}, "nicht in der Zukunft"),
        ({"consent_on": "0001-01-01"}, "höchstens 90 Tage zurückliegen"),
        ({"consent_on": "1900-01-01"}, "höchstens 90 Tage zurückliegen"),
    ],
)
def test_no_consent_no_contact_or_bad_data_is_refused(client, db, coordinator, changes, message):
    response = post_form(client, "/koordination/anfrage-aufnehmen", {**PHONE_FORM, **changes})
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Initiative)) is None


def test_the_expert_who_accepts_gets_the_phone_contact(client, db, coordinator, make_volunteer):
    need = record(client, db)
    profile = make_volunteer("vera@example.org", districts=("bad-cannstatt",))
    match = Match(
        need_id=need.id, volunteer_id=profile.id, status=MatchStatus.APPROVED, decided_at=utcnow()
    )
    db.session.add(match)
    db.session.commit()
    matches.change_status(db.session, profile.user, match, "accept", now=utcnow())
    db.session.commit()
    [intro] = outbox(db, "match_introduction_volunteer")
    assert "Frau Özdemir, 0711 987654" in intro.text_body
    assert "telefonisch angefragt" in intro.text_body


def test_the_invitation_leads_to_taking_the_initiative_over(
    client, db, auth, coordinator, make_user
):
    need = record(client, db)
    post_form(
        client,
        f"/koordination/initiativen/{need.initiative_id}/einladen",
        {"need_id": str(need.id)},
        token_from=f"/anfragen/{need.id}",
    )
    [invitation] = outbox(db, "takeover_invitation")
    assert invitation.recipient == "oezdemir@example.org"
    assert "Hallo Frau Özdemir," in invitation.text_body and need.title in invitation.text_body
    link = next(
        line
        for line in invitation.text_body.splitlines()
        if "/mail/initiative-uebernehmen/" in line
    ).removeprefix("http://localhost")
    # Inviting again the same day sends nothing new.
    post_form(
        client,
        f"/koordination/initiativen/{need.initiative_id}/einladen",
        {},
        token_from=f"/anfragen/{need.id}",
    )
    assert len(outbox(db, "takeover_invitation")) == 1

    auth.logout()
    anonymous = client.get(link).get_data(as_text=True)
    assert "Registrieren Sie sich als Initiative" in anonymous
    person = make_user("ayse@example.org", roles=(Role.VOLUNTEER,), first_name="Ayşe")
    auth.login(person.email)
    ask = client.get(link)
    assert ask.status_code == 200 and "Ja, ich übernehme" in ask.get_data(as_text=True)
    assert db.session.get(Initiative, need.initiative_id).member_rows == []  # GET is safe

    done = post_form(client, link, {})
    assert done.status_code == 302 and done.headers["Location"].endswith("/meine-anfragen")
    initiative = db.session.get(Initiative, need.initiative_id)
    db.session.refresh(initiative)
    assert [row.user_id for row in initiative.member_rows] == [person.id]
    assert (initiative.contact_name, initiative.contact_phone, initiative.contact_email) == (
        "",
        "",
        "",
    )
    db.session.refresh(person)
    assert person.has_role(Role.INITIATIVE)
    assert "Seniorentreff Hallschlag" in client.get("/meine-anfragen").get_data(as_text=True)
    assert client.get(link).status_code == 400  # used up: the contact it named is gone


def test_only_coordinators_record_or_invite(client, auth, make_volunteer):
    make_volunteer("vera@example.org")
    auth.login("vera@example.org")
    assert client.get("/koordination/anfrage-aufnehmen").status_code == 403


# --- print and accessibility -------------------------------------------------------------------


def test_every_page_links_the_print_styles_and_the_accessibility_statement(client, db):
    page = client.get("/anfragen").get_data(as_text=True)
    assert 'href="/static/css/print.css" media="print"' in page
    assert 'href="/barrierefreiheit"' in page
    with client.get("/static/css/print.css") as response:
        css = response.get_data(as_text=True)
    assert "size: A4" in css and ".site-nav" in css


def test_a_reported_barrier_reaches_the_coordinators(client, db, auth, make_user):
    make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kim")
    statement = client.get("/barrierefreiheit?seite=/anfragen")
    text = statement.get_data(as_text=True)
    assert "Erklärung zur Barrierefreiheit" in text and "BITV 2.0" in text
    assert "Schlichtungsverfahren" in text and 'value="/anfragen"' in text

    empty = post_form(client, "/barrierefreiheit", {"description": ""})
    assert "Bitte beschreiben Sie kurz" in empty.get_data(as_text=True)
    sent = post_form(
        client,
        "/barrierefreiheit",
        {
            "page": "/anfragen",
            "description": "Der Filter ist mit der Tastatur nicht erreichbar.",
            "contact": "leser@example.org",
        },
    )
    assert sent.status_code == 302
    [report] = db.session.scalars(select(BarrierReport)).all()
    assert (report.page, report.contact) == ("/anfragen", "leser@example.org")
    [mail] = outbox(db, "barrier_reported")
    assert mail.recipient == "koo@example.org"
    assert "Der Filter ist mit der Tastatur nicht erreichbar." in mail.text_body

    auth.login("koo@example.org")
    dashboard = client.get("/koordination/").get_data(as_text=True)
    assert "Gemeldete Barrieren" in dashboard and "leser@example.org" in dashboard
    post_form(
        client, f"/koordination/barrieren/{report.id}/erledigt", {}, token_from="/koordination/"
    )
    db.session.refresh(report)
    assert report.handled_at is not None
    assert "Gemeldete Barrieren" not in client.get("/koordination/").get_data(as_text=True)
