"""Erasure leaves no trace: a sweep over every text column of every table, the outbox included.

The person is given a name, an address and a phone number that occur nowhere else, takes
part in everything that copies them (an offer to the coordinators, an accepted match with
the introduction mail to the initiative, a barrier report with a contact, a changed
e-mail address), and is erased. Afterwards no row in any table holds any of them; a
mail naming them that was still waiting is dropped, not sent. The sweep walks the
database's own table list, so a table added later is covered without changing the test.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import JSON, String, Text, select
from support import DEFAULT_PASSWORD, post_form

from jobs import tasks
from matching import matches
from matching.extensions import db as _db
from matching.mail import outbox
from matching.models import (
    BarrierReport,
    Match,
    MatchStatus,
    OutboxMessage,
    OutboxStatus,
    Role,
    utcnow,
)

EMAIL = "zelinda.quirrenbach@example.org"
PHONE = "0711 8765432"
FIRST, LAST = "Zelinda", "Quirrenbach"


def traces_in_database(session) -> list[str]:
    """Every (table.column) whose text holds the person's address, phone or name."""
    found = []
    needles = [EMAIL.lower(), PHONE, LAST.lower(), "8765432"]
    for table in _db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
        for row in session.execute(select(*columns)) if columns else []:
            for column, value in zip(columns, row, strict=True):
                text = str(value).lower() if value is not None else ""
                if any(needle in text for needle in needles):
                    found.append(f"{table.name}.{column.name}")
    return sorted(set(found))


@pytest.fixture()
def world(app, client, db, auth, make_volunteer, make_initiative, make_need, make_user):
    """The person, with copies of their data everywhere they can get to."""
    app.config["OUTBOX_SEND_AFTER_COMMIT"] = False
    coordinator = make_user("koo@example.org", roles=(Role.COORDINATOR,), first_name="Kora")
    profile = make_volunteer(EMAIL, first_name=FIRST)
    profile.user.last_name = LAST
    profile.user.phone = PHONE
    initiative, _member = make_initiative()
    accepted_need = make_need(initiative, title="Wer hilft beim Start?")
    offered_need = make_need(initiative, title="Wer kennt sich mit Förderung aus?")
    match = matches.create_match(
        db.session, coordinator, accepted_need, profile, origin="manual", now=utcnow()
    )
    db.session.commit()
    auth.login(EMAIL)
    # The introduction mail (to the initiative) is sent; the offer mail (to the coordinator)
    # and the barrier mail wait in the outbox.
    matches.change_status(db.session, coordinator, match, "approve", now=utcnow())
    db.session.commit()
    assert post_form(client, f"/vermittlungen/{match.id}/zusagen", {}, token_from="/").status_code
    outbox.drain(db.session, now=utcnow() + timedelta(minutes=1))
    post_form(client, f"/anfragen/{offered_need.id}/helfen", {})
    post_form(
        client,
        "/barrierefreiheit",
        {"page": "Profil", "description": "Zu kleine Schrift.", "contact": f"{EMAIL}, {PHONE}"},
    )
    yield profile
    app.config["OUTBOX_SEND_AFTER_COMMIT"] = True


def test_the_world_holds_the_traces_before(db, world):
    """The sweep finds them before erasure (so finding none afterwards means something)."""
    found = traces_in_database(db.session)
    assert "users.email" in found
    assert "barrier_reports.contact" in found
    assert "outbox.text_body" in found
    kinds = {
        m.kind
        for m in db.session.scalars(select(OutboxMessage))
        if m.text_body and (LAST in m.text_body or EMAIL in m.text_body)
    }
    assert {"match_introduction_initiative", "barrier_reported"} <= kinds


def test_after_erasure_no_table_holds_the_person(app, client, db, world, mailbox):
    response = post_form(
        client,
        "/konto/loeschen",
        {"password": DEFAULT_PASSWORD, "sure": "y"},
        token_from="/konto/meine-daten",
    )
    assert response.status_code == 302

    assert traces_in_database(db.session) == []
    # What still waited is dropped, so no retry sends it later.
    mailbox.clear()
    outbox.drain(db.session, now=utcnow() + timedelta(days=1))
    assert not any(LAST in m.text or EMAIL in m.text for m in mailbox)
    waiting = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
    ).all()
    assert all(LAST not in m.text_body for m in waiting)
    # History stays: the match and the barrier report are still there, without the person.
    assert db.session.scalar(select(Match.status)) == MatchStatus.CANCELLED
    assert db.session.scalar(select(BarrierReport.description)) == "Zu kleine Schrift."


def test_other_people_are_not_scrubbed(app, client, db, world, make_user):
    other = make_user("zelinda@example.org", first_name=FIRST)  # same first name, other person
    post_form(
        client,
        "/konto/loeschen",
        {"password": DEFAULT_PASSWORD, "sure": "y"},
        token_from="/konto/meine-daten",
    )
    db.session.expire_all()
    assert (other.first_name, other.email) == (FIRST, "zelinda@example.org")


def test_barrier_reports_are_deleted_after_the_retention_period(app, db):
    now = utcnow()
    days = app.config["RETENTION_BARRIER_REPORT_DAYS"]
    db.session.add_all(
        [
            BarrierReport(
                description="alt", contact=PHONE, created_at=now - timedelta(days=days + 1)
            ),
            BarrierReport(description="neu", contact=PHONE, created_at=now - timedelta(days=1)),
        ]
    )
    db.session.commit()

    result = tasks.apply_retention(db.session, now)

    assert result["barrier_reports_deleted"] == 1
    assert db.session.scalars(select(BarrierReport.description)).all() == ["neu"]
