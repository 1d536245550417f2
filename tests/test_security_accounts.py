"""Every password check is throttled like the log-in; mail links and tokens do what they say.

- the password pages (log-in, erasure, e-mail change, password change) share one budget
  of failures per account and per address;
- a sign-up evening: thirty people on one Wi-Fi sign up within the hour, and the limit
  that stops a script says truthfully how long to wait;
- "Passwort vergessen" does the same work for known and unknown addresses;
- an e-mail change link works only for the newest request and the current address, and
  the old address hears of every change;
- API tokens run out after a year by default and can be read-only.
"""

from __future__ import annotations

import re

import pytest
from api_support import bearer
from flask_babel import force_locale
from sqlalchemy import select
from support import DEFAULT_PASSWORD, csrf_token, post_form

from matching import mail as mail_module
from matching.models import ApiToken, OutboxMessage, Role

TOO_MANY = "Sie haben es in kurzer Zeit sehr oft versucht."
WRONG = "falsch falsch falsch"


@pytest.fixture()
def erika(make_user, auth):
    user = make_user("erika@example.org")
    assert auth.login("erika@example.org").status_code == 302
    return user


# form → (path, page the token comes from, the data with a wrong password)
PASSWORD_PAGES = {
    "erase": ("/konto/loeschen", "/konto/meine-daten", {"password": WRONG, "sure": "y"}),
    "change_email": (
        "/konto/email",
        "/konto/email",
        {"email": "neu@example.org", "current_password": WRONG},
    ),
    "change_password": (
        "/konto/passwort",
        "/konto/passwort",
        {
            "current_password": WRONG,
            "password": "ein ganz neuer Satz zum Merken",
            "password_repeat": "ein ganz neuer Satz zum Merken",
        },
    ),
}


@pytest.mark.parametrize("page", list(PASSWORD_PAGES))
def test_wrong_passwords_are_throttled_on_every_page_that_checks_one(app, client, db, erika, page):
    path, token_from, data = PASSWORD_PAGES[page]
    token = csrf_token(client, token_from)
    allowed = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    statuses = [
        client.post(path, data={"csrf_token": token, **data}).status_code for _ in range(40)
    ]

    assert 429 not in statuses[:allowed]
    assert set(statuses[allowed:]) == {429}
    page_html = client.post(path, data={"csrf_token": token, **data}).get_data(as_text=True)
    assert TOO_MANY in page_html and re.search(r"Bitte warten Sie \d+ Minuten?", page_html)


# form → what a careless person or a script posts that checks no password at all
NO_PASSWORD_CHECKED = {
    "no-csrf-token": lambda token, data: dict(data),
    "field-left-empty": lambda token, data: {"csrf_token": token, **dict.fromkeys(data, "")},
    "json-body": None,
}


@pytest.mark.parametrize("mistake", list(NO_PASSWORD_CHECKED))
@pytest.mark.parametrize("page", list(PASSWORD_PAGES))
def test_mistakes_that_check_no_password_use_no_budget(app, client, db, erika, page, mistake):
    """Ten posts without a token or with empty fields, then the right password still works."""
    path, token_from, data = PASSWORD_PAGES[page]
    token = csrf_token(client, token_from)
    body = NO_PASSWORD_CHECKED[mistake]
    for _ in range(10):
        if body is None:
            response = client.post(
                path, json={"csrf_token": token, **data}, headers={"X-CSRFToken": token}
            )
        else:
            response = client.post(path, data=body(token, data))
        assert response.status_code in (400, 422), response.status_code

    checked = "password" if page == "erase" else "current_password"
    response = client.post(path, data={"csrf_token": token, **data, checked: DEFAULT_PASSWORD})
    assert response.status_code == 302


def test_log_in_posts_that_check_no_password_lock_nobody_out(client, db, make_user):
    """Without a CSRF token (a script) or with the password left empty (a careless tap)."""
    make_user("opfer@example.org")
    token = csrf_token(client, "/anmelden")
    for _ in range(5):
        response = client.post("/anmelden", data={"email": "opfer@example.org", "password": WRONG})
        assert response.status_code == 400
        response = client.post(
            "/anmelden", data={"csrf_token": token, "email": "opfer@example.org", "password": ""}
        )
        assert response.status_code == 422

    right = {"email": "opfer@example.org", "password": DEFAULT_PASSWORD}
    assert post_form(client, "/anmelden", right).status_code == 302


def test_two_new_passwords_that_differ_do_not_lock_the_account(app, client, db, erika):
    for _ in range(10):
        response = post_form(
            client,
            "/konto/passwort",
            {
                "current_password": DEFAULT_PASSWORD,
                "password": "ein ganz neuer Satz zum Merken",
                "password_repeat": "ein ganz neuer Satz zum Merke",
            },
        )
        assert response.status_code == 422

    right = {"email": "neu@example.org", "current_password": DEFAULT_PASSWORD}
    assert post_form(client, "/konto/email", right).status_code == 302


def test_the_budget_is_shared_between_the_pages_and_the_log_in(app, client, db, erika):
    allowed = int(app.config["LOGIN_LIMIT_PER_ACCOUNT"].split()[0])
    path, token_from, data = PASSWORD_PAGES["erase"]
    token = csrf_token(client, token_from)
    for _ in range(allowed):
        client.post(path, data={"csrf_token": token, **data})

    # The right password does not help now, on this page or another.
    response = post_form(
        client,
        "/konto/email",
        {"email": "neu@example.org", "current_password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 429


# --- A sign-up evening --------------------------------------------------------------------


def _sign_up(client, token, n: int, email: str | None = None):
    return client.post(
        "/registrieren",
        data={
            "csrf_token": token,
            "role": "volunteer",
            "first_name": f"Person {n}",
            "email": email or f"person{n}@example.org",
            "password": DEFAULT_PASSWORD,
            "privacy": "y",
        },
    )


def test_thirty_people_sign_up_on_one_wifi_in_an_evening(app, client, db, mailbox):
    token = csrf_token(client, "/registrieren")
    # Mistakes on the form (here a missing consent) do not use the evening up.
    for n in range(20):
        response = client.post("/registrieren", data={"csrf_token": token, "email": f"x{n}@x.de"})
        assert response.status_code == 422

    statuses = [_sign_up(client, token, n).status_code for n in range(30)]

    assert statuses == [302] * 30
    assert len(mailbox) == 30


def test_the_sign_up_limit_says_how_long_to_wait(app, client, db):
    limit = int(app.config["SIGNUP_LIMIT_PER_ADDRESS"].split()[0])
    token = csrf_token(client, "/registrieren")
    for n in range(limit):
        assert _sign_up(client, token, n).status_code == 302

    response = _sign_up(client, token, limit)

    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 3600
    minutes = -(-wait // 60)
    assert f"Bitte warten Sie {minutes} Minute" in response.get_data(as_text=True)


def test_one_mailbox_gets_at_most_three_mails_an_hour(app, client, db, mailbox):
    token = csrf_token(client, "/registrieren")
    statuses = [_sign_up(client, token, n, email="opfer@example.org").status_code for n in range(5)]
    assert statuses[:3] == [302] * 3 and statuses[3:] == [429, 429]
    assert len(mailbox) <= 3


# --- Passwort vergessen: the same work either way -----------------------------------------


def test_a_known_and_an_unknown_address_cost_the_same_work(app, client, db, make_user, monkeypatch):
    make_user("erika@example.org")
    built = []
    original = mail_module.build

    def counting_build(to, kind, *args, **kwargs):
        built.append(kind)
        return original(to, kind, *args, **kwargs)

    monkeypatch.setattr(mail_module, "build", counting_build)
    post_form(client, "/passwort-vergessen", {"email": "erika@example.org"})
    post_form(client, "/passwort-vergessen", {"email": "niemand@example.org"})

    assert built == ["reset", "reset"]  # the unknown one is rendered too, then not sent
    recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert recipients == ["erika@example.org"]


# --- E-mail change ------------------------------------------------------------------------


def _ask_for(client, email: str, mailbox) -> str:
    response = post_form(
        client, "/konto/email", {"email": email, "current_password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    return re.search(r"http://localhost(/konto/email/\S+)", mailbox[-1].text).group(1)


def test_only_the_newest_change_request_works(client, db, erika, mailbox):
    link_a = _ask_for(client, "a@example.org", mailbox)
    link_b = _ask_for(client, "b@example.org", mailbox)

    assert client.get(link_a).status_code == 400
    assert post_form(client, link_a, {}, token_from="/konto").status_code == 400
    assert post_form(client, link_b, {}).status_code == 302
    db.session.expire_all()
    assert erika.email == "b@example.org"
    # Used once, it is dead; so is the older one, for good.
    assert client.get(link_b).status_code in (302, 400)
    assert client.get(link_a).status_code == 400
    db.session.expire_all()
    assert erika.email == "b@example.org"


def test_a_link_from_before_another_change_is_dead(client, db, erika, mailbox):
    link = _ask_for(client, "a@example.org", mailbox)
    erika.email = "anders@example.org"  # changed meanwhile (e.g. by an admin)
    db.session.commit()

    assert client.get(link).status_code == 400


def test_the_old_address_hears_of_the_change(client, db, erika, mailbox):
    link = _ask_for(client, "neu@example.org", mailbox)

    post_form(client, link, {})

    notice = mailbox[-1]
    assert notice.to == "erika@example.org"
    assert "neu@example.org" in notice.text
    assert "/passwort-vergessen" in notice.text


# --- API tokens ---------------------------------------------------------------------------


def test_a_new_token_runs_out_after_a_year_by_default(client, db, erika):
    html = client.get("/konto/api-zugang").get_data(as_text=True)
    assert re.search(r'value="365"[^>]*checked|checked[^>]*value="365"', html)
    assert 'value="never"' not in html

    post_form(client, "/konto/api-zugang", {"name": "Webseite", "expires": "365"})

    token = db.session.scalar(select(ApiToken))
    assert (token.expires_at - token.created_at).days == 365
    assert token.read_only is False


def test_a_read_only_token_reads_but_changes_nothing(client, db, make_user, auth):
    user = make_user("koo@example.org", roles=(Role.COORDINATOR,))
    auth.login("koo@example.org")
    html = post_form(
        client, "/konto/api-zugang", {"name": "Statistik", "expires": "30", "read_only": "y"}
    ).get_data(as_text=True)
    secret = re.search(r"vb_[A-Za-z0-9_-]{43}", html).group(0)

    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    response = client.post("/api/v1/matches/1/approve", headers=bearer(secret))

    assert response.status_code == 403
    with force_locale("de"):
        assert "darf nur lesen" in response.get_json()["detail"]
    assert user.id
