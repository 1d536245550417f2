"""A need taken down by phone: the coordinator carries it on until the initiative takes over,
and a name we already know is offered instead of becoming a second initiative."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from db_state import changed_tables, snapshot
from sqlalchemy import func, select
from support import NEED_FORM, post_form

from matching.models import AuditEntry, Initiative, InitiativeMember, Need, NeedStatus, Role

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
    "action": "draft",
}
EDIT = {**NEED_FORM, "title": "Mitstreiter:innen für den Seniorentreff", "action": "draft"}
PHONE_PAGE = "/koordination/anfrage-aufnehmen"


@pytest.fixture()
def coordinator(make_user, auth):
    user = make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kim")
    auth.login("koo@example.org")
    return user


def record(client, db, **changes):
    response = post_form(client, PHONE_PAGE, {**PHONE_FORM, **changes})
    assert response.status_code in (200, 302, 422)
    return response


def latest_need(db) -> Need | None:
    return db.session.scalar(select(Need).order_by(Need.id.desc()))


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the coordinator carries the need on ---------------------------------------------------------


def test_the_coordinator_edits_and_publishes_the_draft_taken_down_by_phone(client, db, coordinator):
    record(client, db)
    need = latest_need(db)
    assert need.status == NeedStatus.DRAFT
    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert f'href="/anfragen/{need.id}/bearbeiten"' in page
    assert f'action="/anfragen/{need.id}/veroeffentlichen"' in page

    assert client.get(f"/anfragen/{need.id}/bearbeiten").status_code == 200
    saved = post_form(client, f"/anfragen/{need.id}/bearbeiten", EDIT)
    assert saved.status_code == 302
    published = post_form(
        client, f"/anfragen/{need.id}/veroeffentlichen", {}, token_from=f"/anfragen/{need.id}"
    )
    assert published.status_code == 302

    db.session.refresh(need)
    assert (need.title, need.status) == (EDIT["title"], NeedStatus.OPEN)
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "need").order_by(AuditEntry.id)
    ).all()
    assert actions[-2:] == ["need.update", "need.publish"]


def test_the_coordinator_publishes_from_the_edit_form(client, db, coordinator):
    record(client, db)
    need = latest_need(db)
    post_form(client, f"/anfragen/{need.id}/bearbeiten", {**EDIT, "action": "publish"})
    db.session.refresh(need)
    assert (need.title, need.status) == (EDIT["title"], NeedStatus.OPEN)


def test_the_coordinator_withdraws_and_closes_needs_taken_down_by_phone(client, db, coordinator):
    record(client, db)
    draft = latest_need(db)
    choice = str(draft.initiative_id)
    record(client, db, action="publish", initiative_choice=choice, submission="zweite-anfrage")
    opened = latest_need(db)
    assert opened.id != draft.id and opened.status == NeedStatus.OPEN

    assert client.get(f"/anfragen/{draft.id}/zurueckziehen").status_code == 200
    post_form(client, f"/anfragen/{draft.id}/zurueckziehen", {"reason": "Hat sich erledigt"})
    assert client.get(f"/anfragen/{opened.id}/abschliessen").status_code == 200
    post_form(client, f"/anfragen/{opened.id}/abschliessen", {})

    db.session.refresh(draft)
    db.session.refresh(opened)
    assert (draft.status, draft.status_reason) == (NeedStatus.WITHDRAWN, "Hat sich erledigt")
    assert opened.status == NeedStatus.CLOSED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"expires_on": "9999-12-31"}, "mehr als zwei Jahre voraus"),
        ({"title": ""}, "Bitte geben Sie einen kurzen Titel an."),
        # Refused by the service, not the form: the form comes back all the same.
        ({"consent_on": "2999-01-01"}, "Einwilligung darf nicht in der Zukunft"),
    ],
    ids=["far-end-date", "no-title", "consent-ahead"],
)
def test_refused_phone_intake_comes_back_with_422(client, db, coordinator, changes, message):
    before = snapshot(db.session)
    response = post_form(client, PHONE_PAGE, {**PHONE_FORM, **changes})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert changed_tables(before, snapshot(db.session)) == []


def test_bad_input_on_the_coordinators_edit_changes_nothing(client, db, coordinator):
    record(client, db)
    need = latest_need(db)
    before = snapshot(db.session)
    response = post_form(client, f"/anfragen/{need.id}/bearbeiten", {**EDIT, "title": ""})
    assert response.status_code == 422
    assert "Bitte geben Sie einen kurzen Titel an." in response.get_data(as_text=True)
    assert changed_tables(before, snapshot(db.session)) == []


def test_after_the_take_over_the_initiative_manages_the_need_itself(
    client, db, auth, coordinator, make_user
):
    record(client, db)
    need = latest_need(db)
    person = make_user("ayse@example.org", roles=(Role.INITIATIVE,), first_name="Ayşe")
    db.session.add(InitiativeMember(initiative_id=need.initiative_id, user_id=person.id))
    db.session.commit()

    page = client.get(f"/anfragen/{need.id}").get_data(as_text=True)
    assert "/bearbeiten" not in page and "/veroeffentlichen" not in page
    assert client.get(f"/anfragen/{need.id}/bearbeiten").status_code == 403
    before = snapshot(db.session)
    refused = post_form(
        client, f"/anfragen/{need.id}/veroeffentlichen", {}, token_from=f"/anfragen/{need.id}"
    )
    assert refused.status_code == 403
    assert changed_tables(before, snapshot(db.session)) == []

    auth.logout()
    auth.login("ayse@example.org")
    post_form(client, f"/anfragen/{need.id}/bearbeiten", {**EDIT, "action": "publish"})
    db.session.refresh(need)
    assert need.status == NeedStatus.OPEN


def test_another_coordinator_of_the_team_can_carry_on(client, db, auth, coordinator, make_user):
    record(client, db)
    need = latest_need(db)
    make_user("kai@example.org", roles=(Role.COORDINATOR,), first_name="Kai")
    auth.logout()
    auth.login("kai@example.org")
    post_form(client, f"/anfragen/{need.id}/bearbeiten", {**EDIT, "action": "publish"})
    db.session.refresh(need)
    assert need.status == NeedStatus.OPEN


# --- a name we already know ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["seniorentreff hallschlag", "  Seniorentreff   HALLSCHLAG ", "SeniorenTreff Hallschlag"],
)
def test_a_known_name_is_offered_instead_of_a_silent_duplicate(client, db, coordinator, typed):
    record(client, db)
    [known] = db.session.scalars(select(Initiative)).all()
    needs_before = count(db, Need)
    before = snapshot(db.session)

    response = record(client, db, initiative_name=typed, submission="zweiter-anruf")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Eine Initiative mit diesem Namen gibt es schon" in html
    assert f'value="{known.id}"' in html and "Seniorentreff Hallschlag (Bad Cannstatt)" in html
    assert "Eine andere, neue Initiative mit diesem Namen anlegen" in html
    assert changed_tables(before, snapshot(db.session)) == []
    assert count(db, Need) == needs_before


def test_choosing_the_known_initiative_adds_the_need_to_it(client, db, coordinator):
    record(client, db)
    [known] = db.session.scalars(select(Initiative)).all()
    record(
        client,
        db,
        initiative_name="seniorentreff hallschlag",
        initiative_choice=str(known.id),
        contact_name="Herr Weber",
        title="Wie kommen wir an Räume?",
        submission="zweiter-anruf",
    )
    assert count(db, Initiative) == 1
    need = latest_need(db)
    assert (need.initiative_id, need.title) == (known.id, "Wie kommen wir an Räume?")
    db.session.refresh(known)
    assert known.name == "Seniorentreff Hallschlag"  # the name as first recorded
    assert known.contact_name == "Herr Weber"  # the latest contact, with its consent


def test_confirming_a_new_one_creates_a_second_initiative(client, db, coordinator):
    record(client, db)
    record(client, db, initiative_choice="neu", district="ost", submission="zweiter-anruf")
    assert count(db, Initiative) == 2


@pytest.mark.parametrize("choice", ["999999", "abc", ""])
def test_a_stale_or_made_up_choice_asks_again(client, db, coordinator, make_initiative, choice):
    record(client, db)
    other, _ = make_initiative("Garten West", district="west")
    before = snapshot(db.session)
    response = record(
        client, db, initiative_choice=choice or str(other.id), submission="zweiter-anruf"
    )
    assert "Eine Initiative mit diesem Namen gibt es schon" in response.get_data(as_text=True)
    assert changed_tables(before, snapshot(db.session)) == []


def test_umlauts_are_compared_without_case(client, db, coordinator):
    record(client, db, initiative_name="Bürgertreff Ökumene")
    response = record(client, db, initiative_name="BÜRGERTREFF ÖKUMENE", submission="zwei")
    assert "Eine Initiative mit diesem Namen gibt es schon" in response.get_data(as_text=True)
    assert count(db, Initiative) == 1


def test_a_known_initiative_with_an_account_gets_the_need_without_a_phone_contact(
    client, db, coordinator, make_initiative
):
    initiative, _ = make_initiative("Nachbarschaft Ost")
    response = record(client, db, initiative_name="nachbarschaft ost", submission="erster")
    assert "hat ein eigenes Konto" in response.get_data(as_text=True)
    record(
        client,
        db,
        initiative_name="nachbarschaft ost",
        initiative_choice=str(initiative.id),
        submission="erster",
    )
    need = latest_need(db)
    assert need.initiative_id == initiative.id
    db.session.refresh(initiative)
    assert (initiative.contact_name, initiative.contact_phone, initiative.contact_consent_on) == (
        "",
        "",
        None,
    )
    # The initiative manages it; the coordinator is not offered its edit page.
    assert client.get(f"/anfragen/{need.id}/bearbeiten").status_code == 403
