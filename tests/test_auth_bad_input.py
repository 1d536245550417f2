"""Bad input on every account form: a clear German message, the right status, nothing stored.

Each table row is one way to get a form wrong. Whatever the input, the answer is never a 500,
and the accounts, the audit log and the consent records are exactly as before.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode, urlsplit

import pytest
from flask_babel import force_locale
from html_reader import Page, without_csrf_tokens
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from support import DEFAULT_PASSWORD, csrf_token, post_form

from matching.main.errors import CSRF_MESSAGE
from matching.models import AuditEntry, ConsentRecord, User
from matching.tokens import make_token

OWNER = "konto@example.org"
NEWCOMER = "neuling@example.org"
NEW_PASSWORD = "ein ganz neuer Satz zum Merken"
LONG = "x" * 10_000
LONG_EMAIL = "a" * 10_000 + "@example.org"
FILE = object()  # stands for an uploaded file where a text field belongs

EMPTY_EMAIL = "Bitte geben Sie Ihre E-Mail-Adresse ein."
BAD_EMAIL = "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@beispiel.de."
EMAIL_TOO_LONG = "Die E-Mail-Adresse ist zu lang."
AT_MOST_80 = "Bitte höchstens 80 Zeichen."
AT_MOST_256 = "Bitte höchstens 256 Zeichen."
PASSWORD_TOO_LONG = "Das Passwort darf höchstens 256 Zeichen lang sein."
CHOOSE_PASSWORD = "Bitte wählen Sie ein Passwort."
NOT_A_CHOICE = "Keine gültige Auswahl."
LINK_BROKEN = "Der Link ist unvollständig oder wurde schon benutzt."
LINK_EXPIRED = "Der Link ist abgelaufen."
UNKNOWN_LANGUAGE = "Diese Sprache gibt es hier nicht. Bitte wählen Sie Deutsch oder Englisch."

SIGNUP = {
    "role": "volunteer",
    "first_name": "Erika",
    "last_name": "",
    "email": "neu@example.org",
    "password": DEFAULT_PASSWORD,
    "privacy": "y",
}
VALID_INPUT = {
    "signup": SIGNUP,
    "login": {"email": OWNER, "password": DEFAULT_PASSWORD},
    "resend": {"email": OWNER},
    "reset_request": {"email": OWNER},
    "reset": {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
    "change_email": {"email": "neu@example.org", "current_password": DEFAULT_PASSWORD},
}
LINK_PATHS = {"confirm": "/bestaetigen/", "reset": "/passwort-neu/", "email": "/konto/email/"}


def database_state(db) -> tuple:
    """What bad input must leave alone: every account, and the audit and consent row counts."""
    db.session.expire_all()
    users = db.session.execute(
        select(
            User.id,
            User.email,
            User.password_hash,
            User.first_name,
            User.last_name,
            User.locale,
            User.confirmed_at,
            User.last_login_at,
            User.session_version,
            User.disabled_at,
        ).order_by(User.id)
    ).all()
    audit = db.session.scalar(select(func.count()).select_from(AuditEntry))
    consent = db.session.scalar(select(func.count()).select_from(ConsentRecord))
    return users, audit, consent


def link(purpose: str, user: User, **payload) -> str:
    """The path of a correctly signed mail link for ``user`` (payload entries may be replaced)."""
    if purpose == "email" and user.email_change_key is None:
        from matching.extensions import db

        user.email_change_key = "die-neueste-anfrage"  # as if the change had been asked for
        db.session.commit()
    defaults = {
        "confirm": {"uid": user.id, "email": user.email},
        "reset": {"uid": user.id, "h": user.password_hash[-16:]},
        "email": {
            "uid": user.id,
            "email": "neu@example.org",
            "from": user.email,
            "key": user.email_change_key,
        },
    }
    return LINK_PATHS[purpose] + make_token(purpose, {**defaults[purpose], **payload})


def is_logged_in(client) -> bool:
    return client.get("/konto").status_code == 200


@pytest.fixture()
def owner(make_user):
    """A confirmed account that bad input must not touch."""
    return make_user(email=OWNER)


@pytest.fixture()
def newcomer(make_user):
    """An account whose address is not confirmed yet."""
    return make_user(email=NEWCOMER, confirmed=False)


@pytest.fixture()
def open_form(owner, auth):
    """Get a form ready (a link or a log-in where it needs one); returns its path."""

    def prepare(form: str) -> str:
        if form == "reset":
            return link("reset", owner)
        if form == "change_email":
            assert auth.login(OWNER).status_code == 302
            return "/konto/email"
        return {
            "signup": "/registrieren",
            "login": "/anmelden",
            "resend": "/bestaetigen/neu",
            "reset_request": "/passwort-vergessen",
        }[form]

    return prepare


def form_data(form: str, changes: dict) -> dict:
    """Valid input for ``form`` with ``changes`` applied; None leaves a field out."""
    data = {**VALID_INPUT[form], **changes}
    return {
        k: (io.BytesIO(b"%PDF-1.4 not text"), "lebenslauf.pdf") if v is FILE else v
        for k, v in data.items()
        if v is not None
    }


BAD_INPUT = [
    pytest.param(
        "signup",
        {"role": None, "first_name": "", "email": "", "password": "", "privacy": None},
        {
            "role": "Bitte wählen Sie aus, wie Sie mitmachen möchten.",
            "first_name": "Bitte geben Sie Ihren Vornamen ein.",
            "email": EMPTY_EMAIL,
            "password": CHOOSE_PASSWORD,
            "privacy": "Bitte stimmen Sie der Datenschutzerklärung zu.",
        },
        id="signup-empty",
    ),
    pytest.param(
        "signup",
        {"first_name": "   "},
        {"first_name": "Bitte geben Sie Ihren Vornamen ein."},
        id="signup-blank-name",
    ),
    pytest.param("signup", {"first_name": LONG}, {"first_name": AT_MOST_80}, id="signup-long-name"),
    pytest.param("signup", {"last_name": LONG}, {"last_name": AT_MOST_80}, id="signup-long-last"),
    pytest.param(
        "signup", {"email": LONG_EMAIL}, {"email": EMAIL_TOO_LONG}, id="signup-long-email"
    ),
    pytest.param(
        "signup", {"password": LONG}, {"password": PASSWORD_TOO_LONG}, id="signup-long-pw"
    ),
    pytest.param("signup", {"email": "keine-adresse"}, {"email": BAD_EMAIL}, id="signup-no-at"),
    pytest.param(
        "signup", {"email": "name@@example.org"}, {"email": BAD_EMAIL}, id="signup-two-at"
    ),
    pytest.param("signup", {"email": "name@example"}, {"email": BAD_EMAIL}, id="signup-no-tld"),
    pytest.param(
        "signup", {"email": "a@example.org<script>"}, {"email": BAD_EMAIL}, id="signup-markup-email"
    ),
    pytest.param("signup", {"role": "admin"}, {"role": NOT_A_CHOICE}, id="signup-role-admin"),
    pytest.param("signup", {"role": "coordinator"}, {"role": NOT_A_CHOICE}, id="signup-role-coord"),
    pytest.param(
        "signup",
        {"first_name": FILE},
        {"first_name": "Bitte geben Sie Ihren Vornamen ein."},
        id="signup-file",
    ),
    pytest.param(
        "login",
        {"email": "", "password": ""},
        {"email": EMPTY_EMAIL, "password": "Bitte geben Sie Ihr Passwort ein."},
        id="login-empty",
    ),
    pytest.param("login", {"email": LONG_EMAIL}, {"email": EMAIL_TOO_LONG}, id="login-long-email"),
    pytest.param("login", {"password": LONG}, {"password": AT_MOST_256}, id="login-long-pw"),
    pytest.param("login", {"email": "keine-adresse"}, {"email": BAD_EMAIL}, id="login-bad-email"),
    pytest.param(
        "login",
        {"email": FILE, "password": FILE},
        {"email": EMPTY_EMAIL, "password": "Bitte geben Sie Ihr Passwort ein."},
        id="login-files",
    ),
    pytest.param("resend", {"email": ""}, {"email": EMPTY_EMAIL}, id="resend-empty"),
    pytest.param("resend", {"email": LONG_EMAIL}, {"email": EMAIL_TOO_LONG}, id="resend-long"),
    pytest.param("resend", {"email": "kein@"}, {"email": BAD_EMAIL}, id="resend-bad"),
    pytest.param("resend", {"email": FILE}, {"email": EMPTY_EMAIL}, id="resend-file"),
    pytest.param("reset_request", {"email": None}, {"email": EMPTY_EMAIL}, id="forgot-missing"),
    pytest.param(
        "reset_request", {"email": LONG_EMAIL}, {"email": EMAIL_TOO_LONG}, id="forgot-long"
    ),
    pytest.param("reset_request", {"email": "@example.org"}, {"email": BAD_EMAIL}, id="forgot-bad"),
    pytest.param(
        "reset",
        {"password": "", "password_repeat": ""},
        {"password": CHOOSE_PASSWORD, "password_repeat": "Bitte wiederholen Sie das Passwort."},
        id="reset-empty",
    ),
    pytest.param(
        "reset",
        {"password": LONG, "password_repeat": LONG},
        {"password": PASSWORD_TOO_LONG},
        id="reset-long",
    ),
    pytest.param(
        "reset",
        {"password_repeat": "ein anderer langer Satz"},
        {"password_repeat": "Die beiden Passwörter stimmen nicht überein."},
        id="reset-mismatch",
    ),
    pytest.param(
        "reset",
        {"password": FILE, "password_repeat": FILE},
        {"password": CHOOSE_PASSWORD},
        id="reset-files",
    ),
    pytest.param(
        "change_email",
        {"email": "", "current_password": ""},
        {"email": EMPTY_EMAIL, "current_password": "Bitte geben Sie Ihr aktuelles Passwort ein."},
        id="email-empty",
    ),
    pytest.param(
        "change_email",
        {"email": LONG_EMAIL, "current_password": LONG},
        {"email": EMAIL_TOO_LONG, "current_password": AT_MOST_256},
        id="email-long",
    ),
    pytest.param("change_email", {"email": "keine-adresse"}, {"email": BAD_EMAIL}, id="email-bad"),
    pytest.param(
        "change_email",
        {"current_password": "ein falscher langer Satz"},
        {"current_password": "Das Passwort stimmt nicht."},
        id="email-wrong-password",
    ),
]


@pytest.mark.parametrize(("form", "changes", "errors"), BAD_INPUT)
def test_bad_input_gets_a_message_next_to_the_field(
    form, changes, errors, open_form, client, db, mailbox
):
    path = open_form(form)
    before = database_state(db)

    response = post_form(client, path, form_data(form, changes), token_from=path)

    assert response.status_code == 422
    page = Page.of(response)
    assert page.error_summary.startswith("Bitte prüfen Sie Ihre Angaben")
    for field_id, message in errors.items():
        assert page.field_error(field_id) == message
        assert message in page.error_summary
    assert database_state(db) == before
    assert mailbox == []


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        ("signup", {"email": EMPTY_EMAIL, "first_name": "Bitte geben Sie Ihren Vornamen ein."}),
        ("login", {"email": EMPTY_EMAIL, "password": "Bitte geben Sie Ihr Passwort ein."}),
        ("reset_request", {"email": EMPTY_EMAIL}),
    ],
)
def test_a_json_body_is_not_taken_for_the_form(form, errors, open_form, client, db, mailbox):
    """Values of the wrong type (numbers, objects) arrive as JSON; the forms read only form fields."""
    path = open_form(form)
    before = database_state(db)
    values = {"email": 5, "password": {"a": 1}, "first_name": [1, 2], "role": None, "privacy": 1}

    response = client.post(path, json=values, headers={"X-CSRFToken": csrf_token(client, path)})

    assert response.status_code == 422
    page = Page.of(response)
    for field_id, message in errors.items():
        assert page.field_error(field_id) == message
    assert database_state(db) == before
    assert mailbox == []


def test_markup_in_the_name_is_shown_as_text(client, db, mailbox, auth):
    name = '<script>alert("x")</script><b>Eri</b>'
    escaped = "&lt;script&gt;alert("

    # The form comes back with an error: the name is in the value attribute, escaped.
    response = post_form(
        client, "/registrieren", {**SIGNUP, "first_name": name, "email": "keine-adresse"}
    )
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<b>Eri" not in html
    assert escaped in html

    response = post_form(client, "/registrieren", {**SIGNUP, "first_name": name})
    assert response.status_code == 302
    user = db.session.scalars(select(User).filter_by(email="neu@example.org")).one()
    assert user.first_name == name  # stored as typed, escaped when shown
    (mail,) = mailbox
    assert "<script>alert" not in mail.html
    assert escaped in mail.html

    confirm_path = link("confirm", user)
    html = client.get(confirm_path).get_data(as_text=True)
    assert "<script>alert" not in html
    assert escaped in html

    post_form(client, confirm_path, {})
    auth.login("neu@example.org")
    html = client.get("/konto").get_data(as_text=True)
    assert "<script>alert" not in html
    assert escaped in html


def test_sign_up_with_a_taken_address_looks_like_success_and_tells_the_owner(
    client, db, mailbox, make_user
):
    owner = make_user(email="vergeben@example.org", first_name="Gudrun")
    before = database_state(db)

    taken = post_form(
        client,
        "/registrieren",
        {**SIGNUP, "first_name": "Mallory", "email": "Vergeben@Example.org"},
    )

    assert taken.status_code == 302
    assert database_state(db) == before
    (mail,) = mailbox
    assert (mail.to, mail.kind) == (owner.email, "already_registered")
    assert "Hallo Gudrun" in mail.text
    assert "Mallory" not in mail.text
    assert "http://localhost/passwort-vergessen" in mail.text
    taken_page = client.get(taken.headers["Location"])

    fresh = post_form(client, "/registrieren", SIGNUP)

    assert fresh.status_code == 302
    assert fresh.headers["Location"] == taken.headers["Location"]
    fresh_page = client.get(fresh.headers["Location"])
    assert without_csrf_tokens(fresh_page.get_data(as_text=True)) == without_csrf_tokens(
        taken_page.get_data(as_text=True)
    )
    assert db.session.scalar(select(func.count()).select_from(User)) == len(before[0]) + 1


@pytest.mark.parametrize(
    ("purpose", "setting"),
    [("confirm", "CONFIRM_MAX_AGE"), ("reset", "RESET_MAX_AGE"), ("email", "CONFIRM_MAX_AGE")],
)
def test_an_expired_link_says_so_and_changes_nothing(
    purpose, setting, client, db, app, newcomer, monkeypatch
):
    path = link(purpose, newcomer)
    assert client.get(path).status_code == 200  # the same link, still young, works
    monkeypatch.setitem(app.config, setting, -1)  # every link is now older than allowed
    before = database_state(db)

    for response in (
        client.get(path),
        post_form(client, path, VALID_INPUT["reset"], token_from="/"),
    ):
        assert response.status_code == 400
        page = Page.of(response)
        assert page.h1 == "Dieser Link funktioniert nicht mehr"
        assert LINK_EXPIRED in page.html
    assert database_state(db) == before


def _other_key(purpose: str, user: User) -> str:
    return URLSafeTimedSerializer("not-our-secret", salt=f"vernetzer.{purpose}").dumps(
        {"uid": user.id, "email": user.email, "h": user.password_hash[-16:]}
    )


def _tampered(purpose: str, user: User) -> str:
    token = link(purpose, user).rpartition("/")[2]
    return token[:-2] + ("AA" if token[-2:] != "AA" else "BB")


BROKEN_TOKENS = {
    "garbage": lambda purpose, user: "kein-gueltiger-link",
    "too-long": lambda purpose, user: "x" * 3000,
    "tampered": _tampered,
    "other-key": _other_key,
    "not-a-dict": lambda purpose, user: make_token(purpose, ["uid", user.id]),
    "uid-as-text": lambda purpose, user: link(purpose, user, uid=str(user.id)).rpartition("/")[2],
    "unknown-uid": lambda purpose, user: link(purpose, user, uid=987654).rpartition("/")[2],
}


@pytest.mark.parametrize("purpose", sorted(LINK_PATHS))
@pytest.mark.parametrize("kind", sorted(BROKEN_TOKENS))
def test_a_broken_link_is_refused(kind, purpose, client, db, newcomer):
    path = LINK_PATHS[purpose] + BROKEN_TOKENS[kind](purpose, newcomer)
    before = database_state(db)

    for response in (
        client.get(path),
        post_form(client, path, VALID_INPUT["reset"], token_from="/"),
    ):
        assert response.status_code == 400
        assert LINK_BROKEN in Page.of(response).html
    assert database_state(db) == before


@pytest.mark.parametrize(
    ("token_purpose", "used_on"),
    [
        ("reset", "confirm"),
        ("email", "confirm"),
        ("confirm", "reset"),
        ("email", "reset"),
        ("confirm", "email"),
        ("reset", "email"),
    ],
)
def test_a_link_for_another_purpose_is_refused(token_purpose, used_on, client, db, newcomer):
    token = link(token_purpose, newcomer).rpartition("/")[2]
    path = LINK_PATHS[used_on] + token
    before = database_state(db)

    for response in (
        client.get(path),
        post_form(client, path, VALID_INPUT["reset"], token_from="/"),
    ):
        assert response.status_code == 400
        assert LINK_BROKEN in Page.of(response).html
    assert database_state(db) == before


def test_a_reset_link_works_only_once(client, db, owner):
    path = link("reset", owner)
    assert post_form(client, path, VALID_INPUT["reset"]).status_code == 302
    before = database_state(db)

    get_again = client.get(path)
    post_again = post_form(
        client,
        path,
        {"password": "noch ein anderer Satz", "password_repeat": "noch ein anderer Satz"},
        token_from="/",
    )

    for response in (get_again, post_again):
        assert response.status_code == 400
        assert LINK_BROKEN in Page.of(response).html
    assert database_state(db) == before


CSRF_CASES = {
    "signup": (False, lambda owner, newcomer: "/registrieren", SIGNUP),
    "login": (False, lambda owner, newcomer: "/anmelden", VALID_INPUT["login"]),
    "logout": (True, lambda owner, newcomer: "/abmelden", {}),
    "resend": (False, lambda owner, newcomer: "/bestaetigen/neu", {"email": NEWCOMER}),
    "forgot": (False, lambda owner, newcomer: "/passwort-vergessen", {"email": OWNER}),
    "reset": (False, lambda owner, newcomer: link("reset", owner), VALID_INPUT["reset"]),
    "confirm": (False, lambda owner, newcomer: link("confirm", newcomer), {}),
    "change-email": (True, lambda owner, newcomer: "/konto/email", VALID_INPUT["change_email"]),
    "confirm-email": (True, lambda owner, newcomer: link("email", owner), {}),
    "language": (False, lambda owner, newcomer: "/sprache", {"lang": "en", "next": "/"}),
}


@pytest.mark.parametrize("token", [None, "", "gefaelscht"], ids=["missing", "empty", "forged"])
@pytest.mark.parametrize("case", sorted(CSRF_CASES))
def test_a_form_without_its_csrf_token_is_refused(
    case, token, client, db, auth, owner, newcomer, mailbox
):
    needs_login, path_for, data = CSRF_CASES[case]
    if needs_login:
        auth.login(OWNER)
    path = path_for(owner, newcomer)
    before = database_state(db)
    payload = dict(data) if token is None else {**data, "csrf_token": token}

    response = client.post(path, data=payload)

    assert response.status_code == 400
    page = Page.of(response)
    assert page.lang == "de"
    assert page.h1 == "Das hat nicht geklappt"
    with force_locale("de"):
        assert str(CSRF_MESSAGE) in page.html
    assert database_state(db) == before
    assert mailbox == []
    assert is_logged_in(client) == needs_login
    assert Page.of(client.get("/")).lang == "de"


def form_data_lang(lang: str | None, **extra) -> dict:
    return extra if lang is None else {"lang": lang, **extra}


@pytest.mark.parametrize("lang", [None, "", "xx", "EN", "de-DE", "fr", "<script>", LONG], ids=repr)
def test_an_unknown_language_is_refused_with_a_message(lang, client, db, auth, owner):
    auth.login(OWNER)
    before = database_state(db)

    response = post_form(
        client, "/sprache", form_data_lang(lang, next="/impressum"), token_from="/impressum"
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/impressum"
    page = Page.of(client.get("/impressum"))
    assert page.flashes() == [UNKNOWN_LANGUAGE]
    assert page.lang == "de"
    assert database_state(db) == before
    with client.session_transaction() as session:
        assert "lang" not in session


def assert_on_site(location: str) -> None:
    """A redirect to a path of this site, whatever the ``next`` parameter said."""
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "\\" not in location


OFF_SITE = [
    "https://evil.example",
    "http://evil.example/anmelden",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    " //evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE, ids=repr)
def test_log_in_never_redirects_off_site(target, client, db, owner):
    path = "/anmelden?" + urlencode({"next": target})

    response = post_form(client, path, VALID_INPUT["login"])

    assert response.status_code == 302
    assert_on_site(response.headers["Location"])
    assert is_logged_in(client)


@pytest.mark.parametrize("target", ["/konto", "/impressum?seite=2"])
def test_log_in_returns_to_a_page_on_the_site(target, client, db, owner):
    path = "/anmelden?" + urlencode({"next": target})

    response = post_form(client, path, VALID_INPUT["login"])

    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", OFF_SITE, ids=repr)
def test_the_language_switch_never_redirects_off_site(target, client, db):
    response = post_form(client, "/sprache", {"lang": "en", "next": target}, token_from="/")

    assert response.status_code == 302
    assert_on_site(response.headers["Location"])
