"""Account journeys beyond sign-up: password reset, e-mail change, resending the confirmation,
the password policy, throttling of log-ins, and what a log-in does to the session."""

from __future__ import annotations

import re

import pytest
from html_reader import Page, without_csrf_tokens
from sqlalchemy import select
from support import DEFAULT_PASSWORD, AuthActions, csrf_token, post_form

from matching.models import AuditEntry, User, utcnow

NEW_PASSWORD = "ein ganz neuer Satz zum Merken"
WRONG_PASSWORD = "ein falscher langer Satz"
WRONG_CREDENTIALS = (
    "E-Mail-Adresse oder Passwort stimmen nicht. Bitte versuchen Sie es noch einmal."
)
TOO_SHORT = "Das Passwort muss mindestens 12 Zeichen lang sein."
TOO_COMMON = "Dieses Passwort ist zu verbreitet. Bitte wählen Sie ein anderes."
TOO_EASY = "Dieses Passwort ist zu leicht zu erraten. Bitte wählen Sie ein anderes."
PERSONAL = "Das Passwort darf nicht Ihren Namen oder Ihre E-Mail-Adresse enthalten."
TOO_MANY = "Sie haben es in kurzer Zeit sehr oft versucht."


def mail_link(mail, prefix: str) -> str:
    """The path of the link starting with ``prefix`` in a mail's text part."""
    match = re.search(rf"http://localhost({re.escape(prefix)}\S+)", mail.text)
    assert match, mail.text
    return match.group(1)


def actions(db, user: User) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action).filter_by(object_id=user.id).order_by(AuditEntry.id)
        )
    )


def is_logged_in(client) -> bool:
    return client.get("/konto").status_code == 200


def log_in(client, email: str, password: str = DEFAULT_PASSWORD, token: str | None = None, **kw):
    """Post the log-in form; ``token`` saves fetching the page again."""
    token = token or csrf_token(client, "/anmelden")
    return client.post(
        "/anmelden", data={"csrf_token": token, "email": email, "password": password}, **kw
    )


def assert_too_many(response) -> None:
    assert response.status_code == 429
    page = Page.of(response)
    assert page.lang == "de"
    assert page.h1 == "Zu viele Versuche"
    assert TOO_MANY in page.html


# ---------------------------------------------------------------- password reset


def test_password_reset_from_mail_to_new_log_in(app, client, db, make_user, mailbox, auth):
    user = make_user(email="erika@example.org")
    old_hash = user.password_hash
    other_browser = app.test_client()
    assert AuthActions(other_browser).login(user.email).status_code == 302
    assert is_logged_in(other_browser)

    response = post_form(client, "/passwort-vergessen", {"email": "Erika@Example.org"})
    assert response.status_code == 200
    assert Page.of(response).h1 == "Bitte schauen Sie in Ihr Postfach"
    (mail,) = mailbox
    assert (mail.to, mail.kind) == ("erika@example.org", "reset")
    path = mail_link(mail, "/passwort-neu/")

    # Opening the link shows the form and changes nothing.
    response = client.get(path)
    assert response.status_code == 200
    assert Page.of(response).h1 == "Neues Passwort wählen"
    db.session.refresh(user)
    assert (user.password_hash, user.session_version) == (old_hash, 1)

    response = post_form(client, path, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/anmelden?email=erika@example.org"
    page = Page.of(client.get(response.headers["Location"]))
    assert page.flashes() == [
        "Ihr Passwort ist geändert. Bitte melden Sie sich mit dem neuen Passwort an."
    ]
    db.session.refresh(user)
    assert user.password_hash != old_hash
    assert user.password_hash.startswith("$argon2id$")
    assert user.session_version == 2
    assert "account.password" in actions(db, user)

    # The other browser's session has ended; the old password no longer works.
    assert not is_logged_in(other_browser)
    response = auth.login(user.email, DEFAULT_PASSWORD)
    assert response.status_code == 422
    assert Page.of(response).error_summary.endswith(WRONG_CREDENTIALS)
    assert auth.login(user.email, NEW_PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_a_reset_link_also_confirms_the_address(client, db, make_user, mailbox):
    user = make_user(email="neu@example.org", confirmed=False)
    post_form(client, "/passwort-vergessen", {"email": user.email})
    path = mail_link(mailbox[0], "/passwort-neu/")

    post_form(client, path, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})

    db.session.refresh(user)
    assert user.is_confirmed


def test_reset_request_never_reveals_whether_an_address_is_registered(
    client, db, make_user, mailbox
):
    make_user(email="bekannt@example.org")
    disabled = make_user(email="gesperrt@example.org")
    disabled.disabled_at = utcnow()
    db.session.commit()

    bodies = set()
    for address in ("bekannt@example.org", "unbekannt@example.org", "gesperrt@example.org"):
        response = post_form(client, "/passwort-vergessen", {"email": address})
        assert response.status_code == 200
        bodies.add(without_csrf_tokens(response.get_data(as_text=True)))

    assert len(bodies) == 1
    assert [m.to for m in mailbox] == ["bekannt@example.org"]


def test_the_new_password_may_not_be_made_of_name_or_address(client, db, make_user):
    user = make_user(email="wiebke.muster@example.org", first_name="Wiebke")
    old_hash = user.password_hash
    post_form(client, "/passwort-vergessen", {"email": user.email})
    path = mail_link(client.application.extensions["mail_backend"].outbox[0], "/passwort-neu/")

    for password in ("Wiebke2024!!", "wiebke.muster-77"):
        response = post_form(client, path, {"password": password, "password_repeat": password})
        assert response.status_code == 422
        assert Page.of(response).field_error("password") == PERSONAL

    db.session.refresh(user)
    assert user.password_hash == old_hash


# ---------------------------------------------------------------- e-mail change


def _request_email_change(client, auth, user, new_email: str):
    assert auth.login(user.email).status_code == 302
    return post_form(
        client, "/konto/email", {"email": new_email, "current_password": DEFAULT_PASSWORD}
    )


def test_change_email_is_confirmed_from_the_new_address(client, db, make_user, mailbox, auth):
    user = make_user(email="alt@example.org")

    response = _request_email_change(client, auth, user, "Neu@Example.org")

    assert response.status_code == 302
    assert response.headers["Location"] == "/konto"
    page = Page.of(client.get("/konto"))
    assert page.flashes() == ["Wir haben einen Bestätigungslink an neu@example.org geschickt."]
    (mail,) = mailbox
    assert (mail.to, mail.kind) == ("neu@example.org", "change_email")
    db.session.refresh(user)
    assert user.email == "alt@example.org"
    path = mail_link(mail, "/konto/email/")

    # GET (a mail scanner following the link) shows a button and changes nothing.
    response = client.get(path)
    assert response.status_code == 200
    assert "Ja, neue Adresse verwenden" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.email == "alt@example.org"

    response = post_form(client, path, {})
    assert response.status_code == 302
    assert response.headers["Location"] == "/konto"
    db.session.refresh(user)
    assert user.email == "neu@example.org"
    assert "account.email" in actions(db, user)
    assert "neu@example.org" in client.get("/konto").get_data(as_text=True)

    auth.logout()
    assert auth.login("alt@example.org").status_code == 422
    assert auth.login("neu@example.org").status_code == 302


def test_change_email_to_an_address_taken_in_the_meantime(client, db, make_user, mailbox, auth):
    user = make_user(email="alt@example.org")
    _request_email_change(client, auth, user, "neu@example.org")
    path = mail_link(mailbox[0], "/konto/email/")
    make_user(email="neu@example.org")  # someone else signs up with it before the click

    response = post_form(client, path, {})

    assert response.status_code == 409
    page = Page.of(response)
    assert page.flashes() == ["Diese E-Mail-Adresse kann nicht verwendet werden."]
    db.session.refresh(user)
    assert user.email == "alt@example.org"
    assert "account.email" not in actions(db, user)


# ---------------------------------------------------------------- confirmation mail again


def test_resend_confirmation_answers_the_same_for_every_address(client, db, make_user, mailbox):
    waiting = make_user(email="wartet@example.org", confirmed=False)
    make_user(email="fertig@example.org")

    answers = set()
    for address in ("wartet@example.org", "fertig@example.org", "niemand@example.org"):
        response = post_form(client, "/bestaetigen/neu", {"email": address})
        assert response.status_code == 302
        page = client.get(response.headers["Location"])
        answers.add(
            (response.headers["Location"], without_csrf_tokens(page.get_data(as_text=True)))
        )

    assert len(answers) == 1
    (mail,) = mailbox
    assert (mail.to, mail.kind) == ("wartet@example.org", "confirm")
    post_form(client, mail_link(mail, "/bestaetigen/"), {})
    db.session.refresh(waiting)
    assert waiting.is_confirmed


# ---------------------------------------------------------------- password policy

SIGNUP = {
    "role": "initiative",
    "first_name": "Wiebke",
    "last_name": "Muster",
    "email": "wiebke.muster@example.org",
    "privacy": "y",
}


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("elf Zeichen", TOO_SHORT),
        ("passwort1234", TOO_COMMON),
        ("Passwort1234!", TOO_COMMON),
        ("aaaaaaaaaaaa", TOO_COMMON),
        ("123456789012", TOO_EASY),
        ("qwertzuiopas", TOO_EASY),
        ("abcdefghijkl", TOO_EASY),
        ("Wiebke2024!!", PERSONAL),
        ("wiebkewiebke", PERSONAL),
        ("wiebke.muster-77", PERSONAL),
    ],
)
def test_password_policy_refuses(password, message, client, db):
    response = post_form(client, "/registrieren", {**SIGNUP, "password": password})

    assert response.status_code == 422
    page = Page.of(response)
    assert page.field_error("password") == message
    assert message in page.error_summary
    assert db.session.scalar(select(User).filter_by(email=SIGNUP["email"])) is None


@pytest.mark.parametrize(
    "password",
    [DEFAULT_PASSWORD, "Wiebke trinkt gern grünen Tee", "korrekt Pferd Batterie Heftklammer"],
)
def test_password_policy_accepts_a_sentence_and_stores_an_argon2id_hash(password, client, db):
    response = post_form(client, "/registrieren", {**SIGNUP, "password": password})

    assert response.status_code == 302
    user = db.session.scalars(select(User).filter_by(email=SIGNUP["email"])).one()
    assert user.password_hash.startswith("$argon2id$")
    assert password not in user.password_hash


def test_the_password_minimum_is_the_setting_where_it_is_said_and_checked(
    app, client, db, monkeypatch
):
    monkeypatch.setitem(app.config, "PASSWORD_MIN_LENGTH", 20)
    hint = "Mindestens 20 Zeichen. Ein kurzer Satz lässt sich gut merken."

    assert hint in client.get("/registrieren").get_data(as_text=True)
    # Long enough for the default of 12, too short for this deployment.
    response = post_form(client, "/registrieren", {**SIGNUP, "password": "Tee mit Zitrone"})

    page = Page.of(response)
    assert page.field_error("password") == "Das Passwort muss mindestens 20 Zeichen lang sein."
    assert hint in page.html
    assert db.session.scalar(select(User).filter_by(email=SIGNUP["email"])) is None


# ---------------------------------------------------------------- throttling


def test_five_failed_log_ins_lock_the_account_even_for_the_right_password(client, db, make_user):
    make_user(email="konto@example.org")
    token = csrf_token(client, "/anmelden")
    for spelling in ("konto@example.org", "KONTO@example.org", "Konto@Example.org") + (
        "konto@example.org",
    ) * 2:
        response = log_in(client, spelling, WRONG_PASSWORD, token)
        assert response.status_code == 422
        assert Page.of(response).error_summary.endswith(WRONG_CREDENTIALS)

    assert_too_many(log_in(client, "konto@example.org", DEFAULT_PASSWORD, token))
    # The limit is per account, so another address does not help ...
    response = log_in(
        client, "konto@example.org", token=token, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert_too_many(response)
    assert not is_logged_in(client)
    # ... and other accounts can still log in from here.
    make_user(email="andere@example.org")
    assert log_in(client, "andere@example.org", token=token).status_code == 302


def test_successful_log_ins_do_not_count_against_the_limit(client, db, make_user, auth):
    make_user(email="konto@example.org")
    for _ in range(6):
        assert auth.login("konto@example.org").status_code == 302
        auth.logout()

    token = csrf_token(client, "/anmelden")
    for _ in range(4):
        assert log_in(client, "konto@example.org", WRONG_PASSWORD, token).status_code == 422
    assert log_in(client, "konto@example.org", token=token).status_code == 302
    auth.logout()
    token = csrf_token(client, "/anmelden")
    assert log_in(client, "konto@example.org", WRONG_PASSWORD, token).status_code == 422

    assert_too_many(log_in(client, "konto@example.org", token=token))


def test_twenty_failed_log_ins_from_one_address_block_that_address(client, db, make_user):
    make_user(email="konto@example.org")
    token = csrf_token(client, "/anmelden")
    for n in range(20):
        assert log_in(client, f"niemand{n}@example.org", WRONG_PASSWORD, token).status_code == 422

    assert_too_many(log_in(client, "konto@example.org", token=token))
    elsewhere = {"REMOTE_ADDR": "192.0.2.7"}
    assert (
        log_in(client, "konto@example.org", token=token, environ_base=elsewhere).status_code == 302
    )


def test_mail_requests_are_limited_per_recipient(client, db, make_user, mailbox):
    make_user(email="konto@example.org")
    token = csrf_token(client, "/passwort-vergessen")
    for _ in range(3):
        response = client.post(
            "/passwort-vergessen", data={"csrf_token": token, "email": "konto@example.org"}
        )
        assert response.status_code == 200

    response = client.post(
        "/passwort-vergessen", data={"csrf_token": token, "email": "Konto@example.org "}
    )

    assert_too_many(response)
    assert len(mailbox) == 3
    # The page says truthfully how long to wait: the rest of the hour's window.
    assert 3500 <= int(response.headers["Retry-After"]) <= 3600
    assert "Bitte warten Sie 60 Minuten" in response.get_data(as_text=True)


def test_mail_requests_are_limited_per_address(client, db, make_user, mailbox):
    token = csrf_token(client, "/passwort-vergessen")
    for n in range(30):
        response = client.post(
            "/passwort-vergessen", data={"csrf_token": token, "email": f"p{n}@example.org"}
        )
        assert response.status_code == 200

    response = client.post(
        "/passwort-vergessen", data={"csrf_token": token, "email": "noch@example.org"}
    )

    assert_too_many(response)


# ---------------------------------------------------------------- log-in and the session


def test_log_in_starts_a_fresh_session_but_keeps_the_language(client, db, make_user, auth):
    make_user(email="konto@example.org")
    post_form(client, "/sprache", {"lang": "en", "next": "/"}, token_from="/")
    token_before = csrf_token(client, "/anmelden")
    with client.session_transaction() as session:
        session["untergeschoben"] = "vor der Anmeldung"

    assert auth.login("konto@example.org").status_code == 302

    with client.session_transaction() as session:
        assert "untergeschoben" not in session
        assert session["lang"] == "en"
        assert session.get("csrf_token") != token_before
    assert Page.of(client.get("/")).lang == "en"
    assert is_logged_in(client)


def test_log_out_ends_the_session_but_keeps_the_language(client, db, make_user, auth):
    make_user(email="konto@example.org")
    post_form(client, "/sprache", {"lang": "en", "next": "/"}, token_from="/")
    auth.login("konto@example.org")

    response = auth.logout()

    assert response.status_code == 302
    assert not is_logged_in(client)
    with client.session_transaction() as session:
        assert session["lang"] == "en"
        assert "_user_id" not in session
    assert Page.of(client.get("/")).lang == "en"


def test_a_disabled_account_cannot_log_in(client, db, make_user, auth):
    user = make_user(email="gesperrt@example.org")
    user.disabled_at = utcnow()
    db.session.commit()

    response = auth.login("gesperrt@example.org")

    assert response.status_code == 422
    assert Page.of(response).error_summary.endswith(WRONG_CREDENTIALS)
    assert not is_logged_in(client)
    assert "account.login" not in actions(db, user)


def test_disabling_an_account_ends_its_sessions(client, db, make_user, auth):
    user = make_user(email="konto@example.org")
    auth.login("konto@example.org")
    assert is_logged_in(client)

    user.disabled_at = utcnow()
    db.session.commit()

    assert not is_logged_in(client)


@pytest.mark.parametrize(
    ("password", "status", "message"),
    [
        (DEFAULT_PASSWORD, 403, "Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse"),
        (WRONG_PASSWORD, 422, WRONG_CREDENTIALS),
    ],
)
def test_an_unconfirmed_account_cannot_log_in(password, status, message, client, db, make_user):
    user = make_user(email="neu@example.org", confirmed=False)

    response = log_in(client, "neu@example.org", password)

    assert response.status_code == status
    assert message in Page.of(response).html
    assert not is_logged_in(client)
    assert "account.login" not in actions(db, user)
