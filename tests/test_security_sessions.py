"""Sessions end on the server, personal pages stay out of caches, API tokens end with them.

A copied session cookie (a shared computer, a stolen laptop) is replayed after each way a
session can end: log-out, "Überall abmelden", a new password (while logged in or from a
reset link), erasure. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from api_support import bearer, token_for
from support import DEFAULT_PASSWORD, IsolatedClient, csrf_token, post_form

from matching.models import ApiToken, Match, MatchStatus, Role, UserSession, utcnow
from matching.tokens import make_token

NEW_PASSWORD = "ein ganz neuer Satz zum Merken"
PERSONAL = ["/konto", "/konto/meine-daten", "/konto/meine-daten.json", "/konto/api-zugang"]


def copy_of(app, client) -> IsolatedClient:
    """A second browser holding the same session cookie (the replay)."""
    app.test_client_class = IsolatedClient
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def logged_in(client) -> bool:
    return client.get("/konto").status_code == 200


def second_device(app, email: str) -> IsolatedClient:
    app.test_client_class = IsolatedClient
    other = app.test_client()
    post_form(other, "/anmelden", {"email": email, "password": DEFAULT_PASSWORD})
    assert logged_in(other)
    return other


@pytest.fixture()
def erika(make_user, auth):
    user = make_user("erika@example.org")
    assert auth.login("erika@example.org").status_code == 302
    return user


def test_a_replayed_cookie_is_a_visitor_after_log_out(app, client, db, erika, auth):
    thief = copy_of(app, client)
    assert thief.get("/konto/meine-daten.json").status_code == 200

    auth.logout()

    for path in PERSONAL:
        assert thief.get(path).status_code == 302, path  # to the log-in page
    assert db.session.query(UserSession).count() == 0


def test_log_out_here_keeps_the_other_devices(app, client, db, erika, auth):
    other = second_device(app, "erika@example.org")

    auth.logout()

    assert logged_in(other)


def test_everywhere_ends_every_session_this_one_included(app, client, db, erika):
    """And every API token: one made on the lost device would keep working otherwise."""
    other = second_device(app, "erika@example.org")
    thief = copy_of(app, client)
    secret = token_for(erika)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    response = post_form(client, "/konto/ueberall-abmelden", {}, token_from="/konto")

    assert response.status_code == 302
    assert not logged_in(client) and not logged_in(other) and not logged_in(thief)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sie sind jetzt auf allen Geräten abgemeldet." in page


def test_everywhere_needs_the_form_token(app, client, db, erika):
    response = client.post("/konto/ueberall-abmelden", data={})
    assert response.status_code == 400  # no link on another site can log someone out
    assert logged_in(client)


def test_a_password_change_ends_the_other_sessions_and_tokens(app, client, db, erika, mailbox):
    other = second_device(app, "erika@example.org")
    secret = token_for(erika)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    response = post_form(
        client,
        "/konto/passwort",
        {
            "current_password": DEFAULT_PASSWORD,
            "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert logged_in(client)  # this browser goes on
    assert not logged_in(other)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    client.post("/abmelden", data={"csrf_token": csrf_token(client, "/konto")})
    assert (
        post_form(
            client, "/anmelden", {"email": "erika@example.org", "password": NEW_PASSWORD}
        ).status_code
        == 302
    )


def test_a_password_change_needs_the_current_password(app, client, db, erika):
    response = post_form(
        client,
        "/konto/passwort",
        {
            "current_password": "falsch" * 3,
            "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD,
        },
    )

    assert response.status_code == 422
    assert "Das Passwort stimmt nicht." in response.get_data(as_text=True)
    db.session.expire_all()
    assert erika.session_version == 1


def test_the_account_page_offers_the_change_and_a_section_for_developers(client, db, erika):
    html = client.get("/konto").get_data(as_text=True)
    assert 'href="/konto/passwort"' in html
    assert 'href="/passwort-vergessen"' not in html
    developers = html.split("Für Entwickler", 1)
    assert len(developers) == 2 and 'href="/konto/api-zugang"' in developers[1]
    assert 'href="/konto/api-zugang"' not in developers[0]


def test_a_reset_revokes_tokens_and_says_so(app, client, db, make_user, mailbox):
    user = make_user("erika@example.org")
    secret = token_for(user)
    post_form(client, "/passwort-vergessen", {"email": "erika@example.org"})
    assert "API-Zugangsschlüssel Ihres Kontos werden widerrufen" in mailbox[-1].text
    path = re.search(r"http://localhost(/passwort-neu/\S+)", mailbox[-1].text).group(1)

    response = post_form(client, path, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})

    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert db.session.query(ApiToken).filter(ApiToken.revoked_at.is_(None)).count() == 0


def test_erasure_ends_the_session_and_the_tokens(app, client, db, erika):
    thief = copy_of(app, client)
    secret = token_for(erika)

    response = post_form(
        client,
        "/konto/loeschen",
        {"password": DEFAULT_PASSWORD, "sure": "y"},
        token_from="/konto/meine-daten",
    )

    assert response.status_code == 302
    assert not logged_in(thief)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_a_session_runs_out_after_the_configured_days(app, client, db, erika):
    row = db.session.query(UserSession).one()
    row.created_at = utcnow() - timedelta(days=app.config["LOGIN_SESSION_MAX_DAYS"], seconds=1)
    db.session.commit()

    assert not logged_in(client)


# --- Caches -----------------------------------------------------------------------------


def test_every_page_for_a_logged_in_person_is_no_store(
    client, db, make_volunteer, auth, make_initiative, make_need
):
    profile = make_volunteer("vera@example.org")
    initiative, _member = make_initiative()
    need = make_need(initiative)
    match = Match(need_id=need.id, volunteer_id=profile.id, status=MatchStatus.ACCEPTED)
    db.session.add(match)
    db.session.commit()
    auth.login("vera@example.org")

    for path in [*PERSONAL, f"/vermittlungen/{match.id}", "/", "/anfragen", "/gibt-es-nicht"]:
        response = client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path


def test_public_pages_for_visitors_may_be_cached(client, db):
    assert "no-store" not in client.get("/anfragen").headers.get("Cache-Control", "")


def test_pages_opened_from_a_mail_link_are_no_store(client, db, make_user):
    user = make_user("neu@example.org", confirmed=False)
    token = make_token("confirm", {"uid": user.id, "email": user.email})
    assert client.get(f"/bestaetigen/{token}").headers["Cache-Control"] == "no-store"


def test_coordinator_contacts_are_no_store(client, db, make_user, auth):
    make_user("koo@example.org", roles=(Role.COORDINATOR,))
    auth.login("koo@example.org")
    assert client.get("/koordination/vorschlaege").headers["Cache-Control"] == "no-store"
