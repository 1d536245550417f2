"""The account journey through the pages: sign up, confirm by mail, log in, log out."""

import re

from support import DEFAULT_PASSWORD, post_form

from matching.models import AuditEntry, ConsentRecord, User


def _link(mail, prefix: str) -> str:
    match = re.search(rf"http://localhost({re.escape(prefix)}\S+)", mail.text)
    assert match, mail.text
    return match.group(1)


def test_sign_up_confirm_log_in_log_out(client, db, mailbox):
    response = post_form(
        client,
        "/registrieren",
        {
            "role": "volunteer",
            "first_name": "Erika",
            "last_name": "",
            "email": "Erika@Example.org",
            "password": DEFAULT_PASSWORD,
            "privacy": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/registrieren/post")
    user = db.session.query(User).filter_by(email="erika@example.org").one()
    assert user.confirmed_at is None
    assert user.roles == {"volunteer"}
    consent = db.session.query(ConsentRecord).filter_by(user_id=user.id).one()
    assert consent.version == client.application.config["PRIVACY_VERSION"]

    # An unconfirmed account cannot log in.
    response = post_form(
        client, "/anmelden", {"email": "erika@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 403
    assert "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse" in response.get_data(as_text=True)

    assert len(mailbox) == 1
    # It says what happens without a confirmation (the purge job's rule).
    assert "Ohne Bestätigung löschen wir das Konto nach 7 Tagen wieder." in mailbox[0].text
    confirm_path = _link(mailbox[0], "/bestaetigen/")
    # GET shows a button and changes nothing (mail scanners prefetch links).
    response = client.get(confirm_path)
    assert response.status_code == 200
    assert "Ja, das ist meine Adresse" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.confirmed_at is None

    response = post_form(client, confirm_path, {})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.confirmed_at is not None

    response = post_form(
        client, "/anmelden", {"email": "erika@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert "Mein Konto" in client.get("/").get_data(as_text=True)

    response = post_form(client, "/abmelden", {}, token_from="/")
    assert response.status_code == 302
    assert "Anmelden" in client.get("/").get_data(as_text=True)
    assert client.get("/konto").status_code == 302

    actions = {a for (a,) in db.session.query(AuditEntry.action).filter_by(object_id=user.id)}
    assert {"account.register", "account.confirm", "account.login"} <= actions
