"""Meine Daten: export everything, erase the account, and a new privacy text asked once."""

import json

from sqlalchemy import func, select
from support import DEFAULT_PASSWORD, post_form

from matching import matches
from matching.models import (
    AuditEntry,
    ConsentRecord,
    Match,
    MatchStatus,
    OutboxMessage,
    OutboxStatus,
    User,
    utcnow,
)


def test_download_contains_profile_matches_and_mails(
    client, db, auth, make_volunteer, make_initiative, make_need, make_user
):
    volunteer = make_volunteer("vera@example.org")
    initiative, _ = make_initiative()
    need = make_need(initiative, title="Leute finden")
    coordinator = make_user("koo@example.org", roles=("coordinator",))
    matches.create_match(db.session, coordinator, need, volunteer, origin="manual", now=utcnow())
    db.session.commit()
    auth.login("vera@example.org")
    response = client.get("/konto/meine-daten.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "vera@example.org"
    assert data["volunteer_profile"]["levels"]["start"] == 3
    assert data["matches"][0]["need"] == "Leute finden"
    assert any(a["action"] == "account.login" for a in data["activity"])


def test_erase_removes_the_person_and_keeps_history(
    client, db, auth, make_volunteer, make_initiative, make_need, make_user
):
    volunteer = make_volunteer("vera@example.org")
    volunteer.bio = "Ich wohne in der Hauptstraße 5."
    volunteer.user.phone = "0711 999"
    initiative, _ = make_initiative()
    need = make_need(initiative)
    coordinator = make_user("koo@example.org", roles=("coordinator",))
    match = matches.create_match(
        db.session, coordinator, need, volunteer, origin="manual", now=utcnow()
    )
    db.session.add(
        OutboxMessage(
            idempotency_key="x",
            kind="digest",
            recipient="vera@example.org",
            user_id=volunteer.user_id,
            subject="Hallo Vera",
            text_body="Hallo Vera",
            html_body="<p>Hallo Vera</p>",
            status=OutboxStatus.PENDING,
        )
    )
    db.session.commit()
    user_id = volunteer.user_id
    auth.login("vera@example.org")

    # Wrong password or no confirmation: nothing happens.
    response = post_form(
        client,
        "/konto/loeschen",
        {"password": "falsch falsch falsch", "sure": "y"},
        token_from="/konto/meine-daten",
    )
    assert response.status_code == 400 and "Das Passwort stimmt nicht." in response.get_data(
        as_text=True
    )
    response = post_form(
        client, "/konto/loeschen", {"password": DEFAULT_PASSWORD}, token_from="/konto/meine-daten"
    )
    assert response.status_code == 400
    assert db.session.get(User, user_id).email == "vera@example.org"

    response = post_form(
        client,
        "/konto/loeschen",
        {"password": DEFAULT_PASSWORD, "sure": "y"},
        token_from="/konto/meine-daten",
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert "vera" not in user.email and user.first_name == "Gelöschtes Konto"
    assert user.phone == "" and user.volunteer_profile.bio == ""
    assert user.disabled_at is not None
    assert (
        db.session.get(Match, match.id).status == MatchStatus.CANCELLED
    )  # kept, without the person
    assert (
        db.session.scalar(
            select(func.count()).select_from(ConsentRecord).where(ConsentRecord.user_id == user_id)
        )
        == 0
    )
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "x"))
    assert (
        mail.status == OutboxStatus.DROPPED
        and mail.recipient == ""
        and "Vera" not in mail.text_body
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "match.propose")
        )
        == 1
    )
    # The old log-in no longer works, and the session is over.
    assert client.get("/konto").status_code == 302
    assert auth.login("vera@example.org").status_code == 422


def test_new_privacy_text_is_asked_once(client, db, auth, make_user, app):
    make_user("erika@example.org")
    app.config["PRIVACY_VERSION"] = "2027-01"
    try:
        auth.login("erika@example.org")
        response = client.get("/konto")
        assert (
            response.status_code == 302 and "/datenschutz/zustimmen" in response.headers["Location"]
        )
        assert client.get("/datenschutz").status_code == 200  # the text itself stays readable
        response = post_form(
            client, "/datenschutz/zustimmen?next=/konto", {}, token_from="/datenschutz/zustimmen"
        )
        assert "Bitte stimmen Sie der Datenschutzerklärung zu." in response.get_data(as_text=True)
        response = post_form(
            client,
            "/datenschutz/zustimmen?next=/konto",
            {"agree": "y"},
            token_from="/datenschutz/zustimmen",
        )
        assert response.headers["Location"].endswith("/konto")
        assert client.get("/konto").status_code == 200
        versions = db.session.scalars(select(ConsentRecord.version)).all()
        assert "2027-01" in versions
    finally:
        app.config["PRIVACY_VERSION"] = "test"


def test_coordinator_views_of_contact_data_are_logged(client, db, auth, make_volunteer, make_user):
    volunteer = make_volunteer("vera@example.org", status="pending")
    make_user("koo@example.org", roles=("coordinator",))
    auth.login("koo@example.org")
    page = client.get(f"/koordination/profile/{volunteer.id}").get_data(as_text=True)
    assert "vera@example.org" in page
    views = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contact.view")).all()
    assert [(v.object_type, v.object_id, v.actor.email) for v in views] == [
        ("volunteer_profile", volunteer.id, "koo@example.org")
    ]


def test_without_agreeing_to_a_new_text_one_can_still_take_ones_data_and_leave(
    client, db, auth, make_user, app
):
    """GDPR: access, portability and erasure do not depend on agreeing to a new text."""
    make_user("erika@example.org")
    app.config["PRIVACY_VERSION"] = "2027-01"
    try:
        auth.login("erika@example.org")
        consent_page = client.get("/datenschutz/zustimmen").get_data(as_text=True)
        assert 'href="/konto/meine-daten"' in consent_page
        for path in ("/konto/meine-daten", "/konto/meine-daten/ansehen", "/konto/meine-daten.json"):
            assert client.get(path).status_code == 200, path
        response = post_form(
            client,
            "/konto/loeschen",
            {"password": DEFAULT_PASSWORD, "sure": "y"},
            token_from="/konto/meine-daten",
        )
        assert response.status_code == 302
        assert "/datenschutz/zustimmen" not in response.headers["Location"]
        user = db.session.scalar(select(User).where(User.id.is_not(None)))
        assert user.email != "erika@example.org"  # erased
    finally:
        app.config["PRIVACY_VERSION"] = "test"
